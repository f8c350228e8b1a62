package sample

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Validate checks every range of docs/api.md §3.3 in SGLang's order and returns
// the first violation with SGLang's message, wrapping ErrInvalid. vocab ≤ 0
// skips the logit_bias key range check (vocabulary unknown).
//
// Compat: as in SGLang, top_k is not checked when the temperature means
// greedy (SGLang rewrites top_k to 1 first), so {"temperature":0,"top_k":0}
// is accepted.
func (p *Params) Validate(vocab int) error {
	bad := invalidf
	f := func(v float64, lit uint8) string { return pyFloat(v, p.intLit&lit != 0) }
	t := p.Temperature
	if math.IsInf(t, 0) || math.IsNaN(t) || t < 0 {
		return bad("temperature must be a non-negative finite number, got %s.", f(t, litTemperature))
	}
	if !(p.TopP > 0 && p.TopP <= 1) {
		return bad("top_p must be in (0, 1], got %s.", f(p.TopP, litTopP))
	}
	if !(p.MinP >= 0 && p.MinP <= 1) {
		return bad("min_p must be in [0, 1], got %s.", f(p.MinP, litMinP))
	}
	if !p.Greedy() && p.TopK != -1 && p.TopK < 1 {
		return bad("top_k must be -1 (disable) or at least 1, got %d.", p.TopK)
	}
	if !(p.FrequencyPenalty >= -2 && p.FrequencyPenalty <= 2) {
		return bad("frequency_penalty must be in [-2, 2], got %s.", f(p.FrequencyPenalty, litFrequency))
	}
	if !(p.PresencePenalty >= -2 && p.PresencePenalty <= 2) {
		return bad("presence_penalty must be in [-2, 2], got %s.", f(p.PresencePenalty, litPresence))
	}
	if !(p.RepetitionPenalty > 0 && p.RepetitionPenalty <= 2) {
		return bad("repetition_penalty must be in (0, 2] (1.0 = no penalty), got %s.", f(p.RepetitionPenalty, litRepetition))
	}
	maxNew := "None"
	if p.MaxNewTokens != nil {
		maxNew = strconv.Itoa(*p.MaxNewTokens)
	}
	if p.MinNewTokens < 0 {
		return bad("min_new_tokens must be in [0, max_new_tokens(%s)], got %d.", maxNew, p.MinNewTokens)
	}
	if p.MaxNewTokens != nil {
		if *p.MaxNewTokens < 0 {
			return bad("max_new_tokens must be at least 0, got %d.", *p.MaxNewTokens)
		}
		if p.MinNewTokens > *p.MaxNewTokens {
			return bad("min_new_tokens must be in [0, max_new_tokens(%s)], got %d.", maxNew, p.MinNewTokens)
		}
	}
	if len(p.LogitBias) > 0 {
		keys := make([]string, 0, len(p.LogitBias))
		for k := range p.LogitBias {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			id, err := strconv.Atoi(k)
			if vocab > 0 && (err != nil || id < 0 || id >= vocab) {
				return bad("logit_bias must has keys in [0, %d], got %s.", vocab-1, k)
			}
			if vocab <= 0 && (err != nil || id < 0) {
				return bad("logit_bias keys must be non-negative token ids as decimal strings, got %s.", k)
			}
			if v := p.LogitBias[k]; math.IsInf(v, 0) || math.IsNaN(v) {
				return bad("logit_bias values must be finite numbers, got %s for key %s.", pyFloat(v, false), k)
			}
		}
	}
	grammars := 0
	for _, g := range []*string{p.JSONSchema, p.Regex, p.EBNF} {
		if g != nil {
			grammars++
		}
	}
	if grammars > 1 {
		return bad("Only one of regex, json_schema, or ebnf can be set.")
	}
	if p.N < 1 {
		return bad("n must be at least 1, got %d.", p.N)
	}
	if p.StreamInterval != nil && *p.StreamInterval < 1 {
		return bad("stream_interval must be at least 1, got %d.", *p.StreamInterval)
	}
	if p.BeamWidth != nil && *p.BeamWidth > 1 {
		return bad("beam_width=%d (beam search) is not supported by this runtime.", *p.BeamWidth)
	}
	for _, pat := range p.StopRegex {
		if _, err := CompileStopRegex(pat); err != nil {
			return err
		}
	}
	return nil
}

// ValidateNoTokenizer applies the --skip-tokenizer-init rule of §3.3 with
// SGLang's messages (stop, stop_regex and min_new_tokens > 0 need a
// tokenizer). Errors wrap ErrInvalid.
func (p *Params) ValidateNoTokenizer() error {
	if len(p.Stop) > 0 {
		return invalidf("stop=%s is unavailable when skip_tokenizer_init=True (requires tokenizer to decode tokens to text for matching).", pyStrList(p.Stop))
	}
	if len(p.StopRegex) > 0 {
		return invalidf("stop_regex=%s is unavailable when skip_tokenizer_init=True (requires tokenizer to decode tokens to text for matching).", pyStrList(p.StopRegex))
	}
	if p.MinNewTokens > 0 {
		return invalidf("min_new_tokens=%d is unavailable when skip_tokenizer_init=True (requires tokenizer for eos_token_id).", p.MinNewTokens)
	}
	return nil
}

// pyFloat formats v as Python's str() would: repr of a float ("1.0",
// "1e-07", "inf"), or of an int when the JSON literal was an integer.
func pyFloat(v float64, intLiteral bool) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	if intLiteral && v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	e := strconv.FormatFloat(v, 'e', -1, 64) // shortest digits, "d.ddde±XX"
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyStrList renders a list of strings like Python's repr.
func pyStrList(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyStrRepr(s))
	}
	b.WriteByte(']')
	return b.String()
}

func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
