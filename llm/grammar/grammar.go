// Package grammar constrains generation to a JSON Schema, a regular
// expression, a GBNF-style EBNF grammar or a structural tag.
//
// Every constraint compiles to one byte-level pushdown automaton: a DFA over
// bytes per rule, whose states may call other rules (recursion for JSON and
// EBNF). Working on bytes means tokens that span grammar elements, or end
// inside a UTF-8 character, need no special handling.
//
// Token masks are computed against a Vocab prepared once per tokenizer (the
// token byte strings in a trie). For every automaton position the grammar
// caches which tokens are allowed whatever the stack holds, and which
// depend on it (XGrammar's adaptive token mask cache); a mask is then the
// cached set plus a check of the few context-dependent tokens.
//
// Use: compile once per (kind, source), with a Compiler's cache, then per
// sequence create a Matcher and, per decoding step, FillMask, sample, and
// Accept the sampled token. EOS is the engine's business: it is allowed
// exactly when Done reports true.
package grammar

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Sentinel errors.
var (
	// ErrInvalid reports a schema, regex, grammar or structural tag that
	// cannot be compiled (syntax, unsupported feature, or too large).
	ErrInvalid = errors.New("grammar: invalid constraint")
	// ErrRejected reports a token the grammar does not allow.
	ErrRejected = errors.New("grammar: token not allowed")
	// ErrDeadEnd reports a matcher with no allowed token that is not done
	// (a vocabulary that cannot spell what the grammar needs).
	ErrDeadEnd = errors.New("grammar: no token can continue the output")
)

// Kind selects the constraint language.
type Kind string

// Constraint kinds: the sampling_params keys of docs/api.md §3.3.
const (
	JSONSchema    Kind = "json_schema"
	Regex         Kind = "regex"
	EBNF          Kind = "ebnf"
	StructuralTag Kind = "structural_tag"
)

// JSONObjectSchema is the schema of OpenAI's response_format json_object.
const JSONObjectSchema = `{"type":"object"}`

// Whitespace is the JSON whitespace policy.
type Whitespace int

const (
	// WhitespaceFlexible allows, wherever JSON allows whitespace, a run of
	// at most Options.MaxWhitespace characters from " \t\n\r" (so a model
	// cannot loop on spaces); the default.
	WhitespaceFlexible Whitespace = iota
	// WhitespaceCompact allows no whitespace except one space after ':'
	// and ',' (Python json.dumps' default separators).
	WhitespaceCompact
)

// Options tune compilation. The zero value is the default.
type Options struct {
	Whitespace    Whitespace
	MaxWhitespace int // per run with WhitespaceFlexible; 0 means 12
}

func (o Options) maxWS() int {
	if o.MaxWhitespace <= 0 {
		return 12
	}
	return min(o.MaxWhitespace, 64)
}

// Grammar is a compiled constraint bound to a vocabulary, with its token
// mask cache. Safe for concurrent use; create one Matcher per sequence.
type Grammar struct {
	kind   Kind
	a      *automaton
	v      *Vocab
	masks  []atomic.Pointer[posMask]
	locks  [64]sync.Mutex
	rootAt int32
}

// Compile compiles source of the given kind for vocabulary v. Errors wrap
// ErrInvalid and say where the problem is.
func Compile(v *Vocab, kind Kind, source string, o Options) (*Grammar, error) {
	var defs []ruleDef
	var err error
	switch kind {
	case JSONSchema:
		defs, err = jsonSchemaRules(source, o)
	case Regex:
		defs, err = regexRules(source)
	case EBNF:
		defs, err = ebnfRules(source)
	case StructuralTag:
		defs, err = structuralTagRules(source, o)
	default:
		return nil, fmt.Errorf("%w: unknown constraint kind %q", ErrInvalid, kind)
	}
	if err != nil {
		return nil, err
	}
	a, err := compileRules(defs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return newGrammar(kind, a, v), nil
}

func newGrammar(kind Kind, a *automaton, v *Vocab) *Grammar {
	return &Grammar{kind: kind, a: a, v: v, masks: make([]atomic.Pointer[posMask], len(a.pos)), rootAt: a.rules[0].start}
}

// Kind is the constraint language g was compiled from.
func (g *Grammar) Kind() Kind { return g.kind }

// Vocab is the vocabulary g is bound to.
func (g *Grammar) Vocab() *Vocab { return g.v }

// States is the number of automaton positions (a size measure).
func (g *Grammar) States() int { return len(g.a.pos) }

// mask returns the cached classification of position p, computing it once.
func (g *Grammar) mask(p int32) *posMask {
	if m := g.masks[p].Load(); m != nil {
		return m
	}
	l := &g.locks[p&63]
	l.Lock()
	defer l.Unlock()
	if m := g.masks[p].Load(); m != nil {
		return m
	}
	m := computeMask(g.a, g.v, p)
	g.masks[p].Store(m)
	return m
}

// Precompute fills the token mask cache for every position, on up to
// workers goroutines (0: GOMAXPROCS). Optional: masks are otherwise
// computed on first use, which makes the first steps over a new grammar
// slower (milliseconds for positions that allow most tokens). An engine
// may run it in the background after compiling. It stops early, returning
// ctx's error, when ctx is done.
func (g *Grammar) Precompute(ctx context.Context, workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p := next.Add(1) - 1
				if int(p) >= len(g.a.pos) {
					return
				}
				if g.a.pos[p].hasBytes {
					g.mask(p)
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}
