package sample

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestValidateMessages: every range of docs/api.md §3.3, its exact message, and
// the values just inside the range.
func TestValidateMessages(t *testing.T) {
	const vocab = 1000
	cases := []struct{ raw, want string }{
		{`{"max_new_tokens":-1}`, "max_new_tokens must be at least 0, got -1."},
		{`{"min_new_tokens":-1}`, "min_new_tokens must be in [0, max_new_tokens(128)], got -1."},
		{`{"min_new_tokens":-1,"max_new_tokens":null}`, "min_new_tokens must be in [0, max_new_tokens(None)], got -1."},
		{`{"min_new_tokens":11,"max_new_tokens":10}`, "min_new_tokens must be in [0, max_new_tokens(10)], got 11."},
		{`{"temperature":-0.5}`, "temperature must be a non-negative finite number, got -0.5."},
		{`{"temperature":-1}`, "temperature must be a non-negative finite number, got -1."},
		{`{"temperature":1e999}`, "temperature must be a non-negative finite number, got inf."},
		{`{"top_p":0}`, "top_p must be in (0, 1], got 0."},
		{`{"top_p":0.0}`, "top_p must be in (0, 1], got 0.0."},
		{`{"top_p":1.5}`, "top_p must be in (0, 1], got 1.5."},
		{`{"top_p":-1e-7}`, "top_p must be in (0, 1], got -1e-07."},
		{`{"top_k":0}`, "top_k must be -1 (disable) or at least 1, got 0."},
		{`{"top_k":-2}`, "top_k must be -1 (disable) or at least 1, got -2."},
		{`{"min_p":-0.1}`, "min_p must be in [0, 1], got -0.1."},
		{`{"min_p":1.01}`, "min_p must be in [0, 1], got 1.01."},
		{`{"frequency_penalty":2.5}`, "frequency_penalty must be in [-2, 2], got 2.5."},
		{`{"frequency_penalty":-3}`, "frequency_penalty must be in [-2, 2], got -3."},
		{`{"presence_penalty":-2.01}`, "presence_penalty must be in [-2, 2], got -2.01."},
		{`{"presence_penalty":3.0}`, "presence_penalty must be in [-2, 2], got 3.0."},
		{`{"repetition_penalty":0}`, "repetition_penalty must be in (0, 2] (1.0 = no penalty), got 0."},
		{`{"repetition_penalty":2.5}`, "repetition_penalty must be in (0, 2] (1.0 = no penalty), got 2.5."},
		{`{"logit_bias":{"1000":1}}`, "logit_bias must has keys in [0, 999], got 1000."},
		{`{"logit_bias":{"-1":1}}`, "logit_bias must has keys in [0, 999], got -1."},
		{`{"logit_bias":{"abc":1}}`, "logit_bias must has keys in [0, 999], got abc."},
		{`{"logit_bias":{"5":1e400}}`, "logit_bias values must be finite numbers, got inf for key 5."},
		{`{"regex":"a","json_schema":"{}"}`, "Only one of regex, json_schema, or ebnf can be set."},
		{`{"regex":"a","ebnf":"root ::= \"a\""}`, "Only one of regex, json_schema, or ebnf can be set."},
		{`{"json_schema":"{}","ebnf":"x"}`, "Only one of regex, json_schema, or ebnf can be set."},
		{`{"regex":"","json_schema":""}`, "Only one of regex, json_schema, or ebnf can be set."},
		{`{"n":0}`, "n must be at least 1, got 0."},
		{`{"stream_interval":0}`, "stream_interval must be at least 1, got 0."},
		{`{"beam_width":2}`, "beam_width=2 (beam search) is not supported by this runtime."},
		{`{"stop_regex":["ok","(?=x)"]}`, `stop_regex pattern "(?=x)" is not supported`},
		{`{"stop_regex":"(a)\\1"}`, `stop_regex pattern "(a)\\1" is not supported`},
	}
	for _, c := range cases {
		p, err := ParseParams(json.RawMessage(c.raw), Defaults())
		if err != nil {
			t.Fatalf("%s: parse: %v", c.raw, err)
		}
		err = p.Validate(vocab)
		if err == nil {
			t.Errorf("%s: no error, want %q", c.raw, c.want)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: does not wrap ErrInvalid", c.raw)
		}
		msg := err.Error()
		if strings.HasSuffix(c.want, ".") && msg != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.raw, msg, c.want)
		} else if !strings.HasPrefix(msg, c.want) {
			t.Errorf("%s:\n got %q\nwant prefix %q", c.raw, msg, c.want)
		}
	}

	valid := []string{
		`{"max_new_tokens":0}`, `{"max_new_tokens":null,"min_new_tokens":5}`, `{"min_new_tokens":10,"max_new_tokens":10}`,
		`{"temperature":0}`, `{"temperature":0,"top_k":0}`, `{"temperature":100}`, `{"top_p":1}`, `{"top_p":1e-9}`,
		`{"top_k":-1}`, `{"top_k":1}`, `{"top_k":1000000}`, `{"min_p":0}`, `{"min_p":1}`,
		`{"frequency_penalty":-2}`, `{"frequency_penalty":2}`, `{"presence_penalty":-2}`, `{"presence_penalty":2}`,
		`{"repetition_penalty":2}`, `{"repetition_penalty":1e-9}`, `{"logit_bias":{"0":-100,"999":100}}`,
		`{"regex":"a","structural_tag":"{}"}`, `{"json_schema":"{}"}`, `{"beam_width":1}`, `{"stream_interval":1}`,
		`{"stop_regex":["\\d+\\Z","(?P<x>a)","(?i)stop"]}`, `{"n":4}`,
	}
	for _, raw := range valid {
		p, err := ParseParams(json.RawMessage(raw), Defaults())
		if err != nil {
			t.Fatalf("%s: parse: %v", raw, err)
		}
		if err := p.Validate(vocab); err != nil {
			t.Errorf("%s: unexpected %v", raw, err)
		}
	}
}

func TestValidateOrderAndUnknownVocab(t *testing.T) {
	// SGLang checks temperature before top_p: the first violation wins.
	p := mustParse(t, `{"top_p":5,"temperature":-1}`, Defaults())
	if err := p.Validate(10); !strings.Contains(err.Error(), "temperature") {
		t.Fatal(err)
	}
	// Unknown vocabulary: only the key syntax is checked.
	p = mustParse(t, `{"logit_bias":{"123456":1}}`, Defaults())
	if err := p.Validate(0); err != nil {
		t.Fatal(err)
	}
	p = mustParse(t, `{"logit_bias":{"x":1}}`, Defaults())
	if err := p.Validate(0); err == nil || !strings.Contains(err.Error(), "got x.") {
		t.Fatal(err)
	}
}

func TestValidateNoTokenizer(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"stop":["a","it's"]}`, `stop=['a', "it's"] is unavailable when skip_tokenizer_init=True (requires tokenizer to decode tokens to text for matching).`},
		{`{"stop_regex":"\\d\n"}`, `stop_regex=['\\d\n'] is unavailable when skip_tokenizer_init=True (requires tokenizer to decode tokens to text for matching).`},
		{`{"min_new_tokens":3}`, `min_new_tokens=3 is unavailable when skip_tokenizer_init=True (requires tokenizer for eos_token_id).`},
	}
	for _, c := range cases {
		p := mustParse(t, c.raw, Defaults())
		err := p.ValidateNoTokenizer()
		if err == nil || !errors.Is(err, ErrInvalid) || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.raw, err, c.want)
		}
	}
	p := Defaults()
	if err := p.ValidateNoTokenizer(); err != nil {
		t.Fatal(err)
	}
}
