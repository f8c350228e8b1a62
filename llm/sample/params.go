package sample

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
)

// ErrInvalid matches (errors.Is) every parse and validation error of this
// package: the server answers it with 400. Those errors' text is the bare
// message (SGLang's exact wording where one exists), without this prefix.
var ErrInvalid = errors.New("invalid sampling parameters")

// invalidError is a 400 message that matches ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalidf(format string, a ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, a...)}
}

// GreedyEps: a temperature below it means greedy (argmax).
const GreedyEps = 1e-6

// Params is one request's sampling_params (docs/api.md §3.3). JSON names are the
// wire names; json.Marshal gives the wire form, json.Unmarshal applies
// ParseParams over Defaults().
type Params struct {
	// MaxNewTokens: nil = no limit except the context window (wire null).
	MaxNewTokens      *int     `json:"max_new_tokens"`
	MinNewTokens      int      `json:"min_new_tokens"`
	Temperature       float64  `json:"temperature"`
	TopP              float64  `json:"top_p"`
	TopK              int      `json:"top_k"` // -1 = whole vocabulary
	MinP              float64  `json:"min_p"`
	FrequencyPenalty  float64  `json:"frequency_penalty"`
	PresencePenalty   float64  `json:"presence_penalty"`
	RepetitionPenalty float64  `json:"repetition_penalty"`
	Stop              []string `json:"stop"`           // wire: string or list
	StopTokenIDs      []int32  `json:"stop_token_ids"` // wire nulls dropped
	StopRegex         []string `json:"stop_regex"`     // wire: string or list
	N                 int      `json:"n"`
	// Grammars: nil = unset; at most one of JSONSchema, Regex, EBNF.
	JSONSchema                 *string `json:"json_schema"`
	Regex                      *string `json:"regex"`
	EBNF                       *string `json:"ebnf"`
	StructuralTag              *string `json:"structural_tag"`
	IgnoreEOS                  bool    `json:"ignore_eos"`
	SkipSpecialTokens          bool    `json:"skip_special_tokens"`
	SpacesBetweenSpecialTokens bool    `json:"spaces_between_special_tokens"`
	NoStopTrim                 bool    `json:"no_stop_trim"`
	// CustomParams is a JSON object (or nil) for custom logit processors.
	CustomParams json.RawMessage `json:"custom_params"`
	// StreamInterval: nil = the server's --stream-interval.
	StreamInterval *int `json:"stream_interval"`
	// LogitBias keys are token ids as decimal strings (checked by Validate).
	LogitBias map[string]float64 `json:"logit_bias"`
	// SamplingSeed: nil = the engine supplies a seed.
	SamplingSeed *int64 `json:"sampling_seed"`
	// BeamWidth: nil or ≤ 1; beam search is not implemented.
	BeamWidth *int `json:"beam_width"`

	// intLit marks float fields that arrived as JSON integer literals, so
	// error messages print them as Python would ("2", not "2.0").
	intLit uint8
}

const (
	litTemperature uint8 = 1 << iota
	litTopP
	litMinP
	litFrequency
	litPresence
	litRepetition
)

// Defaults returns the built-in defaults of docs/api.md §3.3.
func Defaults() Params {
	maxNew := 128
	return Params{
		MaxNewTokens:               &maxNew,
		Temperature:                1,
		TopP:                       1,
		TopK:                       -1,
		RepetitionPenalty:          1,
		N:                          1,
		SkipSpecialTokens:          true,
		SpacesBetweenSpecialTokens: true,
	}
}

// Clone returns a deep copy: no slice, map or pointer is shared with p.
func (p Params) Clone() Params {
	q := p
	q.MaxNewTokens = clonePtr(p.MaxNewTokens)
	q.StreamInterval = clonePtr(p.StreamInterval)
	q.SamplingSeed = clonePtr(p.SamplingSeed)
	q.BeamWidth = clonePtr(p.BeamWidth)
	q.JSONSchema = clonePtr(p.JSONSchema)
	q.Regex = clonePtr(p.Regex)
	q.EBNF = clonePtr(p.EBNF)
	q.StructuralTag = clonePtr(p.StructuralTag)
	q.Stop = slices.Clone(p.Stop)
	q.StopTokenIDs = slices.Clone(p.StopTokenIDs)
	q.StopRegex = slices.Clone(p.StopRegex)
	q.CustomParams = bytes.Clone(p.CustomParams)
	q.LogitBias = maps.Clone(p.LogitBias)
	return q
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// MaxNew returns max_new_tokens, and false when there is no limit.
func (p *Params) MaxNew() (n int, limited bool) {
	if p.MaxNewTokens == nil {
		return 0, false
	}
	return *p.MaxNewTokens, true
}

// Greedy reports whether the request decodes by argmax.
func (p *Params) Greedy() bool { return p.Temperature >= 0 && p.Temperature < GreedyEps }

// LogprobTemperature is the temperature of the distribution whose logprobs
// are reported (1 for greedy). Use it for prompt positions too, so that
// rescoring prompt+output reproduces the output logprobs (§3.7).
func (p *Params) LogprobTemperature() float64 {
	if p.Greedy() {
		return 1
	}
	return p.Temperature
}

// UnmarshalJSON is ParseParams over Defaults().
func (p *Params) UnmarshalJSON(b []byte) error {
	q, err := ParseParams(b, Defaults())
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParseParams decodes a sampling_params JSON object over base: an absent
// key keeps base's value, and so does a null value, except max_new_tokens
// where null means "no limit". Empty input or JSON null gives base. Unknown
// keys are rejected ("unknown field"), as are wrong JSON types. Ranges are
// checked by Validate, not here. All errors match ErrInvalid (and come
// with zero Params). The result shares nothing with base.
//
// Use it where a null request value falls back to the next default layer:
// chat completions over GenerationDefaults (§6).
func ParseParams(raw json.RawMessage, base Params) (Params, error) {
	return parse(raw, base, &base)
}

// ParseGenerateParams applies /generate precedence (§3.3, §6): an absent
// key takes preferred's value (--preferred-sampling-params over the
// built-in defaults, itself parsed with ParseParams(raw, Defaults())); a key
// present with null takes the built-in default, not preferred's.
func ParseGenerateParams(raw json.RawMessage, preferred Params) (Params, error) {
	d := Defaults()
	return parse(raw, preferred, &d)
}

type fieldSpec struct {
	name string
	// set decodes a non-null value into p.
	set func(p *Params, v json.RawMessage) error
	// null applies a JSON null, copying from the null layer d.
	null func(p, d *Params)
}

var fieldSpecs = []fieldSpec{
	{"max_new_tokens", func(p *Params, v json.RawMessage) error {
		n, err := decInt(v)
		if err != nil {
			return err
		}
		p.MaxNewTokens = &n
		return nil
	}, func(p, _ *Params) { p.MaxNewTokens = nil }},
	{"min_new_tokens", func(p *Params, v json.RawMessage) (err error) {
		p.MinNewTokens, err = decInt(v)
		return err
	}, func(p, d *Params) { p.MinNewTokens = d.MinNewTokens }},
	floatField("temperature", litTemperature, func(p *Params) *float64 { return &p.Temperature }),
	floatField("top_p", litTopP, func(p *Params) *float64 { return &p.TopP }),
	{"top_k", func(p *Params, v json.RawMessage) (err error) {
		p.TopK, err = decInt(v)
		return err
	}, func(p, d *Params) { p.TopK = d.TopK }},
	floatField("min_p", litMinP, func(p *Params) *float64 { return &p.MinP }),
	floatField("frequency_penalty", litFrequency, func(p *Params) *float64 { return &p.FrequencyPenalty }),
	floatField("presence_penalty", litPresence, func(p *Params) *float64 { return &p.PresencePenalty }),
	floatField("repetition_penalty", litRepetition, func(p *Params) *float64 { return &p.RepetitionPenalty }),
	{"stop", func(p *Params, v json.RawMessage) (err error) {
		p.Stop, err = decStrings(v)
		return err
	}, func(p, d *Params) { p.Stop = slices.Clone(d.Stop) }},
	{"stop_token_ids", func(p *Params, v json.RawMessage) (err error) {
		p.StopTokenIDs, err = decIDs(v)
		return err
	}, func(p, d *Params) { p.StopTokenIDs = slices.Clone(d.StopTokenIDs) }},
	{"stop_regex", func(p *Params, v json.RawMessage) (err error) {
		p.StopRegex, err = decStrings(v)
		return err
	}, func(p, d *Params) { p.StopRegex = slices.Clone(d.StopRegex) }},
	{"n", func(p *Params, v json.RawMessage) (err error) {
		p.N, err = decInt(v)
		return err
	}, func(p, d *Params) { p.N = d.N }},
	strPtrField("json_schema", func(p *Params) **string { return &p.JSONSchema }),
	strPtrField("regex", func(p *Params) **string { return &p.Regex }),
	strPtrField("ebnf", func(p *Params) **string { return &p.EBNF }),
	strPtrField("structural_tag", func(p *Params) **string { return &p.StructuralTag }),
	boolField("ignore_eos", func(p *Params) *bool { return &p.IgnoreEOS }),
	boolField("skip_special_tokens", func(p *Params) *bool { return &p.SkipSpecialTokens }),
	boolField("spaces_between_special_tokens", func(p *Params) *bool { return &p.SpacesBetweenSpecialTokens }),
	boolField("no_stop_trim", func(p *Params) *bool { return &p.NoStopTrim }),
	{"custom_params", func(p *Params, v json.RawMessage) error {
		if kindOf(v) != "object" {
			return fmt.Errorf("expected an object, got %s", kindOf(v))
		}
		p.CustomParams = bytes.Clone(v)
		return nil
	}, func(p, d *Params) { p.CustomParams = bytes.Clone(d.CustomParams) }},
	{"stream_interval", func(p *Params, v json.RawMessage) error {
		n, err := decInt(v)
		if err == nil {
			p.StreamInterval = &n
		}
		return err
	}, func(p, d *Params) { p.StreamInterval = clonePtr(d.StreamInterval) }},
	{"logit_bias", func(p *Params, v json.RawMessage) (err error) {
		p.LogitBias, err = decBias(v)
		return err
	}, func(p, d *Params) { p.LogitBias = maps.Clone(d.LogitBias) }},
	{"sampling_seed", func(p *Params, v json.RawMessage) error {
		n, err := decInt64(v)
		if err == nil {
			p.SamplingSeed = &n
		}
		return err
	}, func(p, d *Params) { p.SamplingSeed = clonePtr(d.SamplingSeed) }},
	{"beam_width", func(p *Params, v json.RawMessage) error {
		n, err := decInt(v)
		if err == nil {
			p.BeamWidth = &n
		}
		return err
	}, func(p, d *Params) { p.BeamWidth = clonePtr(d.BeamWidth) }},
}

func floatField(name string, lit uint8, f func(*Params) *float64) fieldSpec {
	return fieldSpec{name, func(p *Params, v json.RawMessage) error {
		x, isInt, err := decFloat(v)
		if err != nil {
			return err
		}
		*f(p) = x
		p.intLit &^= lit
		if isInt {
			p.intLit |= lit
		}
		return nil
	}, func(p, d *Params) {
		*f(p) = *f(d)
		p.intLit = p.intLit&^lit | d.intLit&lit
	}}
}

func strPtrField(name string, f func(*Params) **string) fieldSpec {
	return fieldSpec{name, func(p *Params, v json.RawMessage) error {
		var s string
		if kindOf(v) != "string" {
			return fmt.Errorf("expected a string, got %s", kindOf(v))
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		*f(p) = &s
		return nil
	}, func(p, d *Params) { *f(p) = clonePtr(*f(d)) }}
}

func boolField(name string, f func(*Params) *bool) fieldSpec {
	return fieldSpec{name, func(p *Params, v json.RawMessage) error {
		switch string(v) {
		case "true":
			*f(p) = true
		case "false":
			*f(p) = false
		default:
			return fmt.Errorf("expected a boolean, got %s", kindOf(v))
		}
		return nil
	}, func(p, d *Params) { *f(p) = *f(d) }}
}

var knownFields = func() map[string]int {
	m := make(map[string]int, len(fieldSpecs))
	for i, f := range fieldSpecs {
		m[f.name] = i
	}
	return m
}()

func parse(raw json.RawMessage, base Params, nullLayer *Params) (Params, error) {
	p := base.Clone()
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return p, nil
	}
	if kindOf(raw) != "object" {
		return Params{}, invalidf("sampling_params must be a JSON object, got %s", kindOf(raw))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Params{}, invalidf("sampling_params: %v", err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if _, ok := knownFields[k]; !ok {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		return Params{}, invalidf("sampling_params: unknown field %q", keys[0])
	}
	for _, f := range fieldSpecs {
		v, ok := obj[f.name]
		if !ok {
			continue
		}
		if string(v) == "null" {
			f.null(&p, nullLayer)
			continue
		}
		if err := f.set(&p, v); err != nil {
			return Params{}, invalidf("sampling_params.%s: %v", f.name, err)
		}
	}
	return p, nil
}

// kindOf names the JSON type of a syntactically valid value.
func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// decFloat parses a JSON number; out-of-range literals become ±Inf as in
// Python's json (Validate rejects them).
func decFloat(v json.RawMessage) (x float64, isInt bool, err error) {
	if kindOf(v) != "number" {
		return 0, false, fmt.Errorf("expected a number, got %s", kindOf(v))
	}
	s := string(v)
	x, err = strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, fmt.Errorf("invalid number %s", s)
	}
	return x, !bytes.ContainsAny(v, ".eE"), nil
}

// decInt64 parses a JSON integer (an integral float such as 5.0 is accepted).
func decInt64(v json.RawMessage) (int64, error) {
	x, isInt, err := decFloat(v)
	if err != nil {
		return 0, fmt.Errorf("expected an integer, got %s", kindOf(v))
	}
	if isInt {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("integer %s out of range", v)
		}
		return n, nil
	}
	if x != math.Trunc(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("expected an integer, got %s", v)
	}
	if x < -(1<<63) || x >= 1<<63 {
		return 0, fmt.Errorf("integer %s out of range", v)
	}
	return int64(x), nil
}

func decInt(v json.RawMessage) (int, error) {
	n, err := decInt64(v)
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("integer %s out of range", v)
	}
	return int(n), nil
}

// decStrings accepts a string (a list of one) or a list of strings.
func decStrings(v json.RawMessage) ([]string, error) {
	switch kindOf(v) {
	case "string":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case "array":
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			if kindOf(it) != "string" {
				return nil, fmt.Errorf("element %d: expected a string, got %s", i, kindOf(it))
			}
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string or a list of strings, got %s", kindOf(v))
}

// decIDs reads a list of token ids, dropping nulls; an empty result is nil.
func decIDs(v json.RawMessage) ([]int32, error) {
	if kindOf(v) != "array" {
		return nil, fmt.Errorf("expected a list of token ids, got %s", kindOf(v))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, err
	}
	var out []int32
	for i, it := range items {
		if string(it) == "null" {
			continue
		}
		n, err := decInt64(it)
		if err != nil {
			return nil, fmt.Errorf("element %d: %v", i, err)
		}
		if n < 0 || n > math.MaxInt32 {
			return nil, fmt.Errorf("element %d: token id %d is not a non-negative 32-bit integer", i, n)
		}
		out = append(out, int32(n))
	}
	return out, nil
}

func decBias(v json.RawMessage) (map[string]float64, error) {
	if kindOf(v) != "object" {
		return nil, fmt.Errorf("expected an object {\"<token id>\": float}, got %s", kindOf(v))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(obj))
	for k, raw := range obj {
		x, _, err := decFloat(raw)
		if err != nil {
			return nil, fmt.Errorf("key %q: %v", k, err)
		}
		out[k] = x
	}
	return out, nil
}

// GenerationDefaults applies the keys of a model's generation_config.json
// that §6 allows (temperature, top_p, top_k, min_p, repetition_penalty)
// over the OpenAI defaults, for --sampling-defaults model. Other keys are
// ignored; top_k 0 (the HF spelling of "off") becomes -1. A key with a
// wrong type or an out-of-range value is skipped and reported in the
// returned error (wrapping ErrInvalid); the Params are usable either way.
func GenerationDefaults(cfg map[string]json.RawMessage) (Params, error) {
	p := Defaults()
	var errs []error
	for _, name := range []string{"temperature", "top_p", "top_k", "min_p", "repetition_penalty"} {
		v, ok := cfg[name]
		if !ok || string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		v = bytes.TrimSpace(v)
		q := p.Clone()
		if name == "top_k" && kindOf(v) == "number" {
			if n, err := decInt64(v); err == nil && n == 0 {
				v = json.RawMessage("-1")
			}
		}
		if err := fieldSpecs[knownFields[name]].set(&q, v); err != nil {
			errs = append(errs, invalidf("generation_config %s: %v", name, err))
			continue
		}
		if err := q.Validate(0); err != nil {
			errs = append(errs, fmt.Errorf("generation_config %s: %w", name, err))
			continue
		}
		p = q
	}
	return p, errors.Join(errs...)
}
