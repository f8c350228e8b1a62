package sample

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestResolveProcessor(t *testing.T) {
	r := NewLogitProcessors()
	for spec, want := range map[string]string{
		"force_token":                            "force_token",
		"  disallowed_tokens ":                   "disallowed_tokens",
		`{"name":"thinking_budget"}`:             "thinking_budget",
		`{"name":"force_token","extra":{"a":1}}`: "force_token",
	} {
		got, err := r.Resolve(spec)
		if err != nil || got != want {
			t.Errorf("%q: %q %v", spec, got, err)
		}
		if got2, err := ResolveLogitProcessor(spec); err != nil || got2 != want {
			t.Errorf("ResolveLogitProcessor %q: %q %v", spec, got2, err)
		}
	}
	callable := `{"callable": "800495` + strings.Repeat("ab", 500) + `"}`
	for spec, want := range map[string]string{
		callable:             `custom logit processor {"callable": "800495abababababababababababababababababababababab… is not available in this runtime`,
		"my_proc":            "custom logit processor my_proc is not available in this runtime",
		`{"name":"nope"}`:    "custom logit processor nope is not available in this runtime",
		`{"name":5}`:         `custom logit processor {"name":5} is not available in this runtime`,
		`{not json`:          "custom logit processor {not json is not available in this runtime",
		"":                   "custom_logit_processor is empty",
		`{"callable":"00"} `: `custom logit processor {"callable":"00"} is not available in this runtime`,
	} {
		_, err := r.Resolve(spec)
		if err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%.40q: %v", spec, err)
			continue
		}
		if got := err.Error(); got != want {
			t.Errorf("%.40q:\n got %q\nwant %q", spec, got, want)
		}
	}
	if err := r.Register("force_token", newForceToken); err == nil {
		t.Fatal("duplicate registration")
	}
	if err := r.Register("mine", func(json.RawMessage, LogitProcessorEnv) (LogitProcessor, error) { return &forceToken{id: 1}, nil }); err != nil {
		t.Fatal(err)
	}
	if name, err := r.Resolve("mine"); err != nil || name != "mine" {
		t.Fatal("registered processor")
	}
	if _, err := ResolveLogitProcessor("mine"); err == nil {
		t.Fatal("ResolveLogitProcessor must only know the built-ins")
	}
	if got := strings.Join(r.Names(), ","); got != "disallowed_tokens,force_token,mine,thinking_budget" {
		t.Fatal(got)
	}
}

func TestProcessorParams(t *testing.T) {
	r := NewLogitProcessors()
	env := LogitProcessorEnv{Vocab: 10, Think: &ThinkTokens{End: 7, Start: -1, Newline: -1}}
	bad := map[string]string{
		"force_token:{}":                           "needs custom_params.token_id",
		`force_token:{"token_id":10}`:              "must be a token id in [0, 10), got 10",
		`force_token:{"token_id":"3"}`:             "custom_params for force_token",
		`disallowed_tokens:{"token_ids":[1,-1]}`:   "got -1",
		`disallowed_tokens:null`:                   "needs custom_params.token_ids",
		`thinking_budget:{"thinking_budget":-1}`:   "thinking_budget ≥ 0",
		`thinking_budget:{"thinking_budget":1.5}`:  "custom_params for thinking_budget",
		`thinking_budget:{"thinking_budget":"x"}`:  "custom_params for thinking_budget",
		`thinking_budget:[1]`:                      "custom_params for thinking_budget",
		`disallowed_tokens:{"token_ids":"1,2,3"}`:  "custom_params for disallowed_tokens",
		`disallowed_tokens:{"token_ids":[1, 2.5]}`: "custom_params for disallowed_tokens",
	}
	for spec, want := range bad {
		name, custom, _ := strings.Cut(spec, ":")
		_, err := r.New(name, json.RawMessage(custom), env)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v (want %q)", spec, err, want)
		}
	}
	if _, err := r.New("thinking_budget", json.RawMessage(`{"thinking_budget":3}`), LogitProcessorEnv{Vocab: 10}); err == nil ||
		!strings.Contains(err.Error(), "no end-of-thinking token") {
		t.Fatal(err)
	}
}

func TestBuiltinProcessors(t *testing.T) {
	r := NewLogitProcessors()
	env := LogitProcessorEnv{Vocab: 10, Think: &ThinkTokens{End: 7, Start: 8, Newline: 9}}
	logits := []float32{5, 4, 3, 2, 1, 0, -1, -2, -3, -4}

	dis, err := r.New("disallowed_tokens", json.RawMessage(`{"token_ids":[0,1]}`), env)
	if err != nil {
		t.Fatal(err)
	}
	s := newSampler(t, `{"temperature":0}`, Options{Vocab: 10, LogitProcessors: []LogitProcessor{dis}})
	if tok, _ := s.Sample(logits, nil); tok != 2 {
		t.Fatalf("disallowed_tokens: %d", tok)
	}

	// force_token wins even at a high temperature, and min_new suppression
	// of the forced id does not block it (processors run after penalties).
	ft, _ := r.New("force_token", json.RawMessage(`{"token_id":5,"__private":true}`), env)
	s = newSampler(t, `{"temperature":5,"min_new_tokens":2}`, Options{Vocab: 10, Seed: 3, Suppress: []int32{5}, LogitProcessors: []LogitProcessor{ft}})
	for range 50 {
		if tok, _ := s.Sample(logits, nil); tok != 5 {
			t.Fatalf("force_token drew %d", tok)
		}
	}

	// thinking_budget 3 with a newline before the end marker.
	tb, _ := r.New("thinking_budget", json.RawMessage(`{"thinking_budget":3}`), env)
	s = newSampler(t, `{"temperature":0}`, Options{Vocab: 10, LogitProcessors: []LogitProcessor{tb}})
	var out []int32
	for range 8 {
		tok, err := s.Sample(logits, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok)
		s.Accept(tok)
	}
	if got := fmt.Sprint(out); got != "[0 0 0 9 7 0 0 0]" {
		t.Fatalf("thinking_budget with newline: %s", got)
	}

	// Without a newline token; a start marker reopens the section; the end
	// marker generated by the model itself closes it.
	env2 := LogitProcessorEnv{Vocab: 10, Think: &ThinkTokens{End: 7, Start: 8, Newline: -1}}
	tb2, _ := r.New("thinking_budget", json.RawMessage(`{"thinking_budget":2}`), env2)
	s = newSampler(t, `{"temperature":0}`, Options{Vocab: 10, LogitProcessors: []LogitProcessor{tb2}})
	script := []int32{8, 1, -1, 1, 7, 4, 4, 4, 4}
	out = out[:0]
	for _, want := range script {
		tok, _ := s.Sample(logits, nil)
		out = append(out, tok)
		if want >= 0 {
			tok = want // the engine may accept another token (e.g. a grammar's)
		}
		s.Accept(tok)
	}
	if got := fmt.Sprint(out); got != "[0 0 0 7 7 0 0 0 0]" {
		t.Fatalf("thinking_budget without newline: %s", got)
	}
	tb0, _ := r.New("thinking_budget", json.RawMessage(`{"thinking_budget":0}`), env2)
	s = newSampler(t, `{"temperature":0}`, Options{Vocab: 10, LogitProcessors: []LogitProcessor{tb0}})
	if tok, _ := s.Sample(logits, nil); tok != 7 {
		t.Fatalf("budget 0 must close immediately, got %d", tok)
	}
}
