package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// LogitProcessor is a native custom logit processor (docs/api.md §3.10) bound
// to one sequence and its custom_params. The Sampler calls Process on the
// logits row ([vocab], after penalties and logit_bias, before the grammar
// mask is re-applied and before temperature) and Accept with every token
// the sequence takes.
type LogitProcessor interface {
	Process(logits []float32)
	Accept(tok int32)
}

// ThinkTokens are a reasoning model's thinking-section markers.
type ThinkTokens struct {
	End     int32 // end-of-thinking token, required
	Start   int32 // start-of-thinking token, or -1
	Newline int32 // forced before End when ≥ 0 (SGLang closes on its own line), or -1
}

// LogitProcessorEnv is what a processor may need from the model.
type LogitProcessorEnv struct {
	Vocab int
	Think *ThinkTokens // nil: the model has no thinking markers
}

// LogitProcessorFactory binds a processor to one sequence. custom is the
// request's custom_params object (may be nil); errors should wrap
// ErrInvalid (the request is answered 400).
type LogitProcessorFactory func(custom json.RawMessage, env LogitProcessorEnv) (LogitProcessor, error)

// LogitProcessors maps processor names to factories. Build it at startup and only
// read it afterwards (reads are safe from many goroutines).
type LogitProcessors struct {
	m map[string]LogitProcessorFactory
}

var builtinProcessors = map[string]LogitProcessorFactory{
	"disallowed_tokens": newDisallowedTokens,
	"force_token":       newForceToken,
	"thinking_budget":   newThinkingBudget,
}

// NewLogitProcessors returns a registry holding the built-ins disallowed_tokens,
// force_token and thinking_budget.
func NewLogitProcessors() *LogitProcessors {
	r := &LogitProcessors{m: make(map[string]LogitProcessorFactory, len(builtinProcessors))}
	for k, f := range builtinProcessors {
		r.m[k] = f
	}
	return r
}

// Register adds a processor; the name must be new and non-empty.
func (r *LogitProcessors) Register(name string, f LogitProcessorFactory) error {
	if name == "" || f == nil {
		return fmt.Errorf("sample: register processor: empty name or nil factory")
	}
	if _, ok := r.m[name]; ok {
		return fmt.Errorf("sample: processor %q already registered", name)
	}
	r.m[name] = f
	return nil
}

// Names lists the registered processors, sorted.
func (r *LogitProcessors) Names() []string {
	names := make([]string, 0, len(r.m))
	for k := range r.m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Resolve implements the §3.10 Decision: spec is a bare registered name, or
// a JSON object whose "name" is registered. Anything else, notably SGLang's
// {"callable": "<dill hex>"}, fails with `custom logit processor <...> is
// not available in this runtime` (wrapping ErrInvalid).
func (r *LogitProcessors) Resolve(spec string) (string, error) {
	return resolve(r.m, spec)
}

// ResolveLogitProcessor is Resolve against the built-in processors only.
func ResolveLogitProcessor(spec string) (string, error) {
	return resolve(builtinProcessors, spec)
}

// New resolves spec and binds the processor to custom_params.
func (r *LogitProcessors) New(spec string, custom json.RawMessage, env LogitProcessorEnv) (LogitProcessor, error) {
	name, err := r.Resolve(spec)
	if err != nil {
		return nil, err
	}
	return r.m[name](custom, env)
}

func resolve(m map[string]LogitProcessorFactory, spec string) (string, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return "", invalidf("custom_logit_processor is empty")
	}
	name := s
	if s[0] == '{' {
		var obj struct {
			Name *string `json:"name"`
		}
		if json.Unmarshal([]byte(s), &obj) != nil || obj.Name == nil {
			return "", unavailable(s)
		}
		name = *obj.Name
	}
	if _, ok := m[name]; !ok {
		return "", unavailable(name)
	}
	return name, nil
}

func unavailable(what string) error {
	const maxShown = 64
	if len(what) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(what[cut]) {
			cut--
		}
		what = what[:cut] + "…"
	}
	return invalidf("custom logit processor %s is not available in this runtime", what)
}

// decodeCustom reads custom_params into dst (nil custom = empty object).
func decodeCustom(name string, custom json.RawMessage, dst any) error {
	c := bytes.TrimSpace(custom)
	if len(c) == 0 || string(c) == "null" {
		c = []byte("{}")
	}
	if err := json.Unmarshal(c, dst); err != nil {
		return invalidf("custom_params for %s: %v", name, err)
	}
	return nil
}

func checkID(name, field string, id int64, vocab int) error {
	if id < 0 || id >= int64(vocab) {
		return invalidf("custom_params.%s for %s must be a token id in [0, %d), got %d", field, name, vocab, id)
	}
	return nil
}

// disallowed_tokens: custom_params.token_ids are never sampled.
type disallowedTokens struct{ ids []int32 }

func newDisallowedTokens(custom json.RawMessage, env LogitProcessorEnv) (LogitProcessor, error) {
	var c struct {
		TokenIDs *[]int64 `json:"token_ids"`
	}
	if err := decodeCustom("disallowed_tokens", custom, &c); err != nil {
		return nil, err
	}
	if c.TokenIDs == nil {
		return nil, invalidf("disallowed_tokens needs custom_params.token_ids")
	}
	p := &disallowedTokens{}
	for _, id := range *c.TokenIDs {
		if err := checkID("disallowed_tokens", "token_ids", id, env.Vocab); err != nil {
			return nil, err
		}
		p.ids = append(p.ids, int32(id))
	}
	return p, nil
}

func (p *disallowedTokens) Process(x []float32) {
	for _, id := range p.ids {
		x[id] = negInf
	}
}

func (p *disallowedTokens) Accept(int32) {}

// force_token: only custom_params.token_id can be sampled (logit 0).
type forceToken struct{ id int32 }

func newForceToken(custom json.RawMessage, env LogitProcessorEnv) (LogitProcessor, error) {
	var c struct {
		TokenID *int64 `json:"token_id"`
	}
	if err := decodeCustom("force_token", custom, &c); err != nil {
		return nil, err
	}
	if c.TokenID == nil {
		return nil, invalidf("force_token needs custom_params.token_id")
	}
	if err := checkID("force_token", "token_id", *c.TokenID, env.Vocab); err != nil {
		return nil, err
	}
	return &forceToken{id: int32(*c.TokenID)}, nil
}

func (p *forceToken) Process(x []float32) { forceOnly(x, p.id) }

func (p *forceToken) Accept(int32) {}

func forceOnly(x []float32, id int32) {
	for i := range x {
		x[i] = negInf
	}
	x[id] = 0
}

// thinking_budget: once custom_params.thinking_budget tokens were generated
// in the thinking section without its end marker, force the end marker
// (after a newline when ThinkTokens.Newline ≥ 0). The section starts at the
// first output token, and restarts after an output Start marker.
type thinkingBudget struct {
	budget int
	t      ThinkTokens
	count  int   // tokens in the open section
	last   int32 // last accepted token
	ended  bool
}

func newThinkingBudget(custom json.RawMessage, env LogitProcessorEnv) (LogitProcessor, error) {
	var c struct {
		Budget *int64 `json:"thinking_budget"`
	}
	if err := decodeCustom("thinking_budget", custom, &c); err != nil {
		return nil, err
	}
	if c.Budget == nil || *c.Budget < 0 {
		return nil, invalidf("thinking_budget needs custom_params.thinking_budget ≥ 0")
	}
	if env.Think == nil {
		return nil, invalidf("thinking_budget: the model has no end-of-thinking token")
	}
	t := *env.Think
	if err := checkID("thinking_budget", "end-of-thinking token", int64(t.End), env.Vocab); err != nil {
		return nil, err
	}
	if t.Newline >= int32(env.Vocab) {
		t.Newline = -1
	}
	b := int(min(*c.Budget, 1<<31-1))
	return &thinkingBudget{budget: b, t: t, last: -1}, nil
}

func (p *thinkingBudget) Process(x []float32) {
	if p.ended || p.count < p.budget {
		return
	}
	if p.t.Newline >= 0 && p.last != p.t.Newline {
		forceOnly(x, p.t.Newline)
		return
	}
	forceOnly(x, p.t.End)
}

func (p *thinkingBudget) Accept(tok int32) {
	p.last = tok
	switch {
	case tok == p.t.End:
		p.ended = true
	case p.t.Start >= 0 && tok == p.t.Start:
		p.ended, p.count = false, 0
	case !p.ended:
		p.count++
	}
}
