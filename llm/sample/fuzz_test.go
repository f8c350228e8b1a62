package sample

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseParams: never panics; every error wraps ErrInvalid; a value
// that parses and validates marshals and re-parses to itself.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"temperature":0.7,"top_p":0.9,"top_k":40}`, `{"stop":"x","stop_token_ids":[1,null]}`,
		`{"max_new_tokens":null,"logit_bias":{"5":-1}}`, `{"custom_params":{"a":[1,{"b":null}]}}`,
		`{"stop_regex":["\\d+\\Z"],"regex":"a"}`, `{"temperature":1e999}`, `{"top_k":5.0,"n":2}`,
		`{"x":1}`, `[`, `{"sampling_seed":-9223372036854775808}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParseParams(raw, Defaults())
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if _, err := ParseGenerateParams(raw, p); err != nil {
			t.Fatalf("ParseGenerateParams failed where ParseParams succeeded: %v", err)
		}
		if err := p.Validate(1000); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("validation error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("valid params do not marshal: %v", err)
		}
		q, err := ParseParams(b, Defaults())
		if err != nil {
			t.Fatalf("re-parse %s: %v", b, err)
		}
		p.intLit, q.intLit = 0, 0
		if len(p.CustomParams) > 0 { // compare custom_params semantically
			var a, c any
			json.Unmarshal(p.CustomParams, &a)
			json.Unmarshal(q.CustomParams, &c)
			if !reflect.DeepEqual(a, c) {
				t.Fatalf("custom_params changed: %s → %s", p.CustomParams, q.CustomParams)
			}
			p.CustomParams, q.CustomParams = nil, nil
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip:\n%+v\n%+v", p, q)
		}
		if _, err := NewSampler(&p, Options{Vocab: 1000}); err != nil {
			t.Fatalf("NewSampler rejects valid params: %v", err)
		}
	})
}

// FuzzStopChecker: any split of the output gives the same match as
// feeding it whole, and string matches point at the stop string.
func FuzzStopChecker(f *testing.F) {
	f.Add("hello STOP world", "STOP", `\d\d`, uint8(3))
	f.Add("aaab12", "aab", `b\d`, uint8(1))
	f.Add("ééé!", "é!", `!`, uint8(2))
	f.Fuzz(func(t *testing.T, text, stop, pattern string, step uint8) {
		if len(text) > 4096 {
			return
		}
		whole, err := NewStopChecker([]string{stop}, []string{pattern}, false)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatal(err)
			}
			return
		}
		wm, wok := whole.Feed(text, true)
		split, _ := NewStopChecker([]string{stop}, []string{pattern}, false)
		n := int(step%7) + 1
		var sm StopMatch
		var sok bool
		for i := 0; i < len(text) && !sok; i += n {
			sm, sok = split.Feed(text[i:min(i+n, len(text))], true)
		}
		if wok && !wm.Regex {
			if text[wm.Start:wm.End] != stop {
				t.Fatalf("match %+v does not cover %q", wm, stop)
			}
			// Split feeding stops no later; a string match it finds starts
			// no later either (a regex may complete first, elsewhere).
			if !sok || (!sm.Regex && sm.Start > wm.Start) {
				t.Fatalf("split feed: %+v %v, whole: %+v", sm, sok, wm)
			}
		}
		if !wok && sok && !sm.Regex {
			t.Fatalf("split found %+v, whole found nothing", sm)
		}
		if wok && whole.Text() != text[:wm.Start] {
			t.Fatal("trimmed text")
		}
		if st := split.Stable(); st < 0 || st > len(split.Text()) {
			t.Fatal("stable out of range")
		}
	})
}

// FuzzResolveProcessor: never panics; either a registered name or ErrInvalid.
func FuzzResolveProcessor(f *testing.F) {
	for _, s := range []string{"force_token", `{"name":"thinking_budget"}`, `{"callable":"80"}`, "", "{", `{"name":null}`} {
		f.Add(s, []byte(`{"token_id":1,"token_ids":[1],"thinking_budget":2}`))
	}
	r := NewLogitProcessors()
	f.Fuzz(func(t *testing.T, spec string, custom []byte) {
		name, err := r.Resolve(spec)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "custom") {
				t.Fatal(err)
			}
			return
		}
		if _, ok := r.m[name]; !ok {
			t.Fatalf("resolved to unknown %q", name)
		}
		p, err := r.New(spec, custom, LogitProcessorEnv{Vocab: 16, Think: &ThinkTokens{End: 3, Start: -1, Newline: 4}})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatal(err)
			}
			return
		}
		x := make([]float32, 16)
		p.Process(x)
		p.Accept(3)
	})
}

// FuzzSample: arbitrary logits (NaN, ±Inf included), masks and parameters
// never panic, and a drawn token is always allowed and finite-or-+Inf.
func FuzzSample(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64}, uint64(5), uint8(0), 0.7, 0.9)
	f.Add([]byte{0, 0, 192, 127, 0, 0, 128, 255, 0, 0, 128, 127}, uint64(1), uint8(3), 0.0, 1.0)
	f.Fuzz(func(t *testing.T, raw []byte, mask uint64, mode uint8, temp, topP float64) {
		n := len(raw) / 4
		if n == 0 || n > 64 {
			return
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		p := Defaults()
		p.Temperature = math.Abs(temp)
		p.TopP = topP
		p.TopK = []int{-1, 1, 2, 3}[mode%4]
		p.MinP = []float64{0, 0.1, 0.5, 1}[mode/4%4]
		if p.Validate(n) != nil {
			return
		}
		s, err := NewSampler(&p, Options{Vocab: n, Seed: mask})
		if err != nil {
			t.Fatal(err)
		}
		var allowed Bitset
		if mode&16 != 0 {
			allowed = Bitset{mask}
		}
		tok, err := s.Sample(x, allowed)
		if err != nil {
			if !errors.Is(err, ErrNoCandidate) {
				t.Fatal(err)
			}
			return
		}
		if tok < 0 || int(tok) >= n || (allowed != nil && !allowed.Has(tok)) || !(x[tok] > float32(math.Inf(-1))) {
			t.Fatalf("drew %d (logit %v) from %v mask %x", tok, x[tok], x, mask)
		}
		d := s.Dist()
		if lp := d.Logprob(tok); lp > 0 || math.IsNaN(float64(lp)) {
			t.Fatalf("logprob %v", lp)
		}
		d.Top(3, nil)
	})
}
