// Package chat renders Hugging Face chat templates (Jinja2) the way
// transformers does: Python jinja2 in an ImmutableSandboxedEnvironment with
// trim_blocks and lstrip_blocks, HF's tojson, raise_exception and
// strftime_now, and the {% generation %} tag.
//
// The engine is one lexer, one parser and one evaluator:
//
//	lex.go         source → tokens: text (whitespace control applied, comments
//	               and raw blocks resolved) and the tokens of each tag
//	parse.go       tokens → AST (ast.go): block structure and statements
//	parse_expr.go  the expressions inside tags, with jinja2's grammar
//	render.go      the render walk: statements, scopes, macros, loops
//	eval.go        expressions, with Python semantics from value.go,
//	               operators.go, filters.go, predicates.go (Jinja tests),
//	               methods.go, globals.go, format.go and json.go
//
// The engine owns its block parser rather than using a Go Jinja library
// because expressions had to be ours anyway: gonja/v2's expression
// language differs from jinja2 where chat templates depend on it
// (conditional expressions inside parentheses or arguments do not parse,
// backslashes in string literals are mangled, and None, integers, dict
// order, str.split/replace, string iteration and tojson all behave
// differently). Given our own expressions, jinja2's block grammar is
// small (a dozen tags), and owning it is simpler than handing gonja a
// placeholder per tag and learning two lexers, two parsers and gonja's
// render walk.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Template is a parsed chat template; Render is safe for concurrent use.
type Template struct {
	root   body
	limits Limits
	now    func() time.Time
}

// Option configures Parse, Load and LoadFile.
type Option func(*Template)

// WithLimits sets the render limits.
func WithLimits(l Limits) Option { return func(t *Template) { t.limits = l } }

// WithClock sets the clock strftime_now reads (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(t *Template) {
		if now != nil {
			t.now = now
		}
	}
}

// RenderContext is the input of one render.
type RenderContext struct {
	// Messages is the OpenAI/HF messages array exactly as received; object key order is kept.
	Messages json.RawMessage
	// Tools is the tools array, or nil for none (the template sees None).
	Tools json.RawMessage
	// AddGenerationPrompt is add_generation_prompt.
	AddGenerationPrompt bool
	// Special holds the special-token strings: bos_token, eos_token, ...
	Special map[string]string
	// Extra is the chat_template_kwargs object, merged into the top-level
	// variables (it may override Special but not messages, tools,
	// documents or add_generation_prompt).
	Extra json.RawMessage
}

// Parse parses template source.
func Parse(src string, opts ...Option) (*Template, error) {
	t := &Template{now: time.Now}
	for _, o := range opts {
		o(t)
	}
	if len(src) > maxTemplateBytes {
		return nil, fmt.Errorf("%w: template is %d bytes, more than %d", ErrSyntax, len(src), maxTemplateBytes)
	}
	if !utf8.ValidString(src) {
		return nil, fmt.Errorf("%w: template is not valid UTF-8", ErrSyntax)
	}
	root, err := safeParse(normalizeSource(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	t.root = root
	return t, nil
}

func safeParse(src string) (b body, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("internal parser error: %v", p)
		}
	}()
	return parse(src)
}

var reservedVars = map[string]bool{"messages": true, "tools": true, "documents": true, "add_generation_prompt": true}

func isJSONNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// vars builds the top-level template variables the way transformers'
// apply_chat_template does.
func (rc *RenderContext) vars() (map[string]any, error) {
	vars := map[string]any{
		"messages":              []any{},
		"tools":                 pyNone{},
		"documents":             pyNone{},
		"add_generation_prompt": rc.AddGenerationPrompt,
	}
	if !isJSONNull(rc.Messages) {
		v, err := decodeJSON(rc.Messages)
		if err != nil {
			return nil, fmt.Errorf("%w: messages: %v", ErrInput, err)
		}
		if _, ok := v.([]any); !ok {
			return nil, fmt.Errorf("%w: messages must be a JSON array", ErrInput)
		}
		vars["messages"] = v
	}
	if !isJSONNull(rc.Tools) {
		v, err := decodeJSON(rc.Tools)
		if err != nil {
			return nil, fmt.Errorf("%w: tools: %v", ErrInput, err)
		}
		vars["tools"] = v
	}
	for k, v := range rc.Special {
		if reservedVars[k] {
			return nil, fmt.Errorf("%w: special token name %q is reserved", ErrInput, k)
		}
		vars[k] = v
	}
	if !isJSONNull(rc.Extra) {
		v, err := decodeJSON(rc.Extra)
		if err != nil {
			return nil, fmt.Errorf("%w: chat_template_kwargs: %v", ErrInput, err)
		}
		d, ok := v.(*pyDict)
		if !ok {
			return nil, fmt.Errorf("%w: chat_template_kwargs must be a JSON object", ErrInput)
		}
		for i, k := range d.keys {
			name := k.(string)
			if reservedVars[name] {
				return nil, fmt.Errorf("%w: chat_template_kwargs may not set %q", ErrInput, name)
			}
			vars[name] = d.vals[i]
		}
	}
	return vars, nil
}

// Render renders the template. Errors wrap ErrInput (bad JSON input) or
// ErrTemplate (raise_exception, a runtime error, a limit, or ctx ending).
func (t *Template) Render(ctx context.Context, rc RenderContext) (out string, err error) {
	vars, err := rc.vars()
	if err != nil {
		return "", err
	}
	st := &renderState{
		ctx: ctx,
		lim: t.limitsFor(len(rc.Messages) + len(rc.Tools) + len(rc.Extra)),
		now: t.now,
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	f := &frame{st: st, scope: &scope{vars: vars}, out: st.newBuffer()}
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("%w: internal error: %v", ErrTemplate, p)
		}
	}()
	if err := t.root.render(f); err != nil {
		return "", renderError(err)
	}
	return f.out.String(), nil
}

// renderError wraps a render error in ErrTemplate (and ErrLimit for limits).
func renderError(err error) error {
	var raised *raisedError
	var lim *limitError
	switch {
	case errors.As(err, &raised):
		return fmt.Errorf("%w: %s", ErrTemplate, raised.msg)
	case errors.As(err, &lim):
		return fmt.Errorf("%w: %w: %s", ErrTemplate, ErrLimit, lim.msg)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrTemplate, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTemplate, context.DeadlineExceeded)
	}
	return fmt.Errorf("%w: %v", ErrTemplate, err)
}
