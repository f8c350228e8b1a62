// Package chat renders Hugging Face chat templates (Jinja2) the way
// transformers does: Python jinja2 in an ImmutableSandboxedEnvironment with
// trim_blocks and lstrip_blocks, HF's tojson, raise_exception and
// strftime_now, and the {% generation %} tag.
//
// gonja/v2 provides the template structure (block nesting, bodies, scopes,
// the render walk). Tag contents are parsed and evaluated here with Python
// semantics, because gonja's own expression language differs from jinja2
// where chat templates depend on it: conditional expressions inside
// parentheses or arguments do not parse, backslashes in string literals
// are mangled, and None, integers, dict order, str.split/replace, string
// iteration and tojson all behave differently.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// Template is a parsed chat template; Render is safe for concurrent use.
type Template struct {
	tpl    *exec.Template
	limits Limits
	now    func() time.Time
}

// Limits bound one Render. Zero fields take the defaults.
type Limits struct {
	// MaxOutputBytes caps the rendered prompt and every intermediate string
	// or buffer. Default: 4 MiB plus 4× the size of the JSON input.
	MaxOutputBytes int
	// MaxAllocBytes caps the bytes of all strings and lists built while
	// rendering. Default: 32× MaxOutputBytes.
	MaxAllocBytes int
	// MaxSteps caps loop iterations plus macro calls. Default: 1<<20.
	MaxSteps int
	// MaxDepth caps macro and caller nesting. Default: 64.
	MaxDepth int
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
	tpl, err := safeCompile(normalizeSource(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	t.tpl = tpl
	return t, nil
}

func safeCompile(src string) (tpl *exec.Template, err error) {
	defer func() {
		if p := recover(); p != nil {
			tpl, err = nil, fmt.Errorf("internal parser error: %v", p)
		}
	}()
	return compile(src)
}

// stateKey is where the render state lives in the root scope; it is not
// an identifier, so templates cannot name it.
const stateKey = "\x00render"

// renderState is the per-render budget and clock.
type renderState struct {
	ctx   context.Context
	lim   Limits
	steps int
	depth int
	alloc int
	now   func() time.Time
}

func (st *renderState) step() error {
	st.steps++
	if st.steps > st.lim.MaxSteps {
		return &limitError{msg: fmt.Sprintf("more than %d loop iterations and macro calls", st.lim.MaxSteps)}
	}
	if err := st.ctx.Err(); err != nil {
		return fmt.Errorf("render stopped: %w", err)
	}
	return nil
}

func (st *renderState) enter() error {
	st.depth++
	if st.depth > st.lim.MaxDepth {
		return &limitError{msg: fmt.Sprintf("macro calls nested deeper than %d", st.lim.MaxDepth)}
	}
	return st.step()
}

func (st *renderState) leave() { st.depth-- }

// charge accounts for a new string or list of about n bytes.
func (st *renderState) charge(n int) error {
	if n > st.lim.MaxOutputBytes {
		return st.tooBig()
	}
	st.alloc += n
	if st.alloc > st.lim.MaxAllocBytes {
		return &limitError{msg: fmt.Sprintf("rendering built more than %d bytes of values", st.lim.MaxAllocBytes)}
	}
	return nil
}

// chargeValue charges a string or list a filter returned.
func (st *renderState) chargeValue(v any) error {
	switch x := v.(type) {
	case string:
		return st.charge(len(x))
	case []any:
		return st.charge(16 * len(x))
	case tuple:
		return st.charge(16 * len(x))
	}
	return nil
}

func (st *renderState) tooBig() error {
	return &limitError{msg: fmt.Sprintf("a value or output exceeds %d bytes", st.lim.MaxOutputBytes)}
}

// boundedBuffer is an output buffer capped at MaxOutputBytes.
type boundedBuffer struct {
	b  strings.Builder
	st *renderState
}

func (st *renderState) newBuffer() *boundedBuffer { return &boundedBuffer{st: st} }

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.st.lim.MaxOutputBytes {
		return 0, w.st.tooBig()
	}
	return w.b.Write(p)
}

func (w *boundedBuffer) WriteString(s string) (int, error) {
	if w.b.Len()+len(s) > w.st.lim.MaxOutputBytes {
		return 0, w.st.tooBig()
	}
	return w.b.WriteString(s)
}

func (w *boundedBuffer) String() string { return w.b.String() }

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

func (t *Template) limitsFor(inputBytes int) Limits {
	l := t.limits
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = 4<<20 + 4*inputBytes
	}
	if l.MaxAllocBytes <= 0 {
		l.MaxAllocBytes = 32 * l.MaxOutputBytes
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = 1 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	return l
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
	data := exec.NewContext(vars)
	data.Set(stateKey, st)
	buf := st.newBuffer()
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("%w: internal error: %v", ErrTemplate, p)
		}
	}()
	if err := t.tpl.Execute(buf, data); err != nil {
		return "", renderError(err)
	}
	return buf.String(), nil
}

// renderError strips gonja's wrapping and keeps the cause.
func renderError(err error) error {
	var raised *raisedError
	var lim *limitError
	var ee *evalError
	switch {
	case errors.As(err, &raised):
		return fmt.Errorf("%w: %s", ErrTemplate, raised.msg)
	case errors.As(err, &lim):
		return fmt.Errorf("%w: %w: %s", ErrTemplate, ErrLimit, lim.msg)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrTemplate, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTemplate, context.DeadlineExceeded)
	case errors.As(err, &ee):
		return fmt.Errorf("%w: %s", ErrTemplate, ee.Error())
	}
	return fmt.Errorf("%w: %v", ErrTemplate, err)
}

var _ io.StringWriter = (*boundedBuffer)(nil)
