package sample

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func newSampler(t testing.TB, raw string, o Options) *Sampler {
	t.Helper()
	p, err := ParseParams(json.RawMessage(raw), Defaults())
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSampler(&p, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestGreedyTieFirstIndex(t *testing.T) {
	s := newSampler(t, `{"temperature":0}`, Options{Vocab: 6})
	tok, err := s.Sample([]float32{1, 3, 2, 3, float32(math.NaN()), 3}, nil)
	if err != nil || tok != 1 {
		t.Fatalf("tie: got %d %v, want 1", tok, err)
	}
	// Greedy logprob = log_softmax of the processed logits; top-1 = sampled.
	d := s.Dist()
	top := d.Top(3, nil)
	if top[0].ID != 1 || top[1].ID != 3 || top[2].ID != 5 || top[0].Logprob != d.Logprob(tok) {
		t.Fatalf("top: %+v", top)
	}
	z := math.Exp(-2) + math.Exp(-1) + 3*math.Exp(0)
	if !near(float64(d.Logprob(1)), -math.Log(z), 1e-6) || d.Logprob(4) != LogprobFloor {
		t.Fatalf("logprob %v (want %v), NaN token %v", d.Logprob(1), -math.Log(z), d.Logprob(4))
	}
	// Greedy ignores the RNG and the temperature is 1 for logprobs.
	s2 := newSampler(t, `{"temperature":1e-7,"top_k":0}`, Options{Vocab: 3, Seed: 99})
	for range 5 {
		if tok, _ := s2.Sample([]float32{0, 5, 5}, nil); tok != 1 {
			t.Fatal("greedy must be deterministic")
		}
	}
}

func TestPenaltiesHandComputed(t *testing.T) {
	s := newSampler(t, `{"temperature":0,"repetition_penalty":1.5,"frequency_penalty":0.5,"presence_penalty":0.25}`, Options{Vocab: 6})
	for _, tok := range []int32{0, 0, 1, 3} {
		s.Accept(tok)
	}
	logits := []float32{2, -1, 0.5, 3, -2, 1}
	tok, err := s.Sample(logits, nil)
	if err != nil {
		t.Fatal(err)
	}
	// token 0 (count 2): 2/1.5 − 0.5·2 − 0.25; token 1 (count 1): −1·1.5 − 0.5 − 0.25;
	// token 3 (count 1): 3/1.5 − 0.5 − 0.25; others untouched.
	want := []float64{2.0/1.5 - 1 - 0.25, -1.5 - 0.75, 0.5, 2 - 0.75, -2, 1}
	for i, w := range want {
		if !near(float64(s.last[i]), w, 1e-6) {
			t.Errorf("logit %d = %v, want %v", i, s.last[i], w)
		}
	}
	if tok != 3 {
		t.Fatalf("argmax after penalties = %d, want 3", tok)
	}
	if logits[0] != 2 || logits[3] != 3 {
		t.Fatal("caller's logits were modified")
	}
	// Each penalty on its own.
	for _, c := range []struct {
		raw  string
		want [2]float64 // tokens 0 (count 2, logit 2) and 1 (count 1, logit −1)
	}{
		{`{"frequency_penalty":1}`, [2]float64{0, -2}},
		{`{"presence_penalty":-1}`, [2]float64{3, 0}},
		{`{"repetition_penalty":2}`, [2]float64{1, -2}},
		{`{"repetition_penalty":0.5}`, [2]float64{4, -0.5}},
	} {
		s := newSampler(t, c.raw, Options{Vocab: 6})
		s.Accept(0)
		s.Accept(0)
		s.Accept(1)
		s.Sample(logits, nil)
		if !near(float64(s.last[0]), c.want[0], 1e-6) || !near(float64(s.last[1]), c.want[1], 1e-6) || s.last[2] != 0.5 {
			t.Errorf("%s: got %v", c.raw, s.last[:3])
		}
	}
}

func TestLogitBias(t *testing.T) {
	s := newSampler(t, `{"temperature":0,"logit_bias":{"4":10,"0":-100}}`, Options{Vocab: 5})
	tok, _ := s.Sample([]float32{5, 1, 2, 3, -4}, nil)
	if tok != 4 || s.last[4] != 6 || s.last[0] != -95 {
		t.Fatalf("tok %d, logits %v", tok, s.last)
	}
}

func TestMinNewTokensSuppression(t *testing.T) {
	const eos, stop = 5, 2
	s := newSampler(t, `{"temperature":0,"min_new_tokens":3}`, Options{Vocab: 6, Suppress: []int32{eos, stop, 77}})
	logits := []float32{0, 1, 8, 3, 0, 9}
	for i := range 3 {
		tok, err := s.Sample(logits, nil)
		if err != nil || tok != 3 {
			t.Fatalf("step %d: got %d %v, want 3 (EOS and stop token suppressed)", i, tok, err)
		}
		if d := s.Dist(); d.Logprob(eos) != LogprobFloor {
			t.Fatal("suppressed token must have no probability")
		}
		s.Accept(tok)
	}
	if tok, _ := s.Sample(logits, nil); tok != eos {
		t.Fatalf("after min_new_tokens: got %d, want EOS", tok)
	}
}

func TestMaskAppliedBeforeTopK(t *testing.T) {
	// Token 0 has by far the largest logit but is masked. With top_k=2 the
	// candidates must be {1, 2}; were the mask applied after top-k, only 1
	// could be drawn.
	allowed := NewBitset(4)
	allowed.Set(1)
	allowed.Set(2)
	s := newSampler(t, `{"temperature":100,"top_k":2}`, Options{Vocab: 4, Seed: 1})
	logits := []float32{1000, 2, 1, 50}
	var seen [4]int
	for range 2000 {
		tok, err := s.Sample(logits, allowed)
		if err != nil {
			t.Fatal(err)
		}
		seen[tok]++
	}
	if seen[0] != 0 || seen[3] != 0 || seen[1] == 0 || seen[2] == 0 {
		t.Fatalf("counts %v", seen)
	}
	// Also through the full-vocabulary and top-p paths.
	for _, raw := range []string{`{"temperature":100}`, `{"temperature":100,"top_p":0.99}`, `{"temperature":100,"top_k":2000,"top_p":0.9}`} {
		s := newSampler(t, raw, Options{Vocab: 4, Seed: 2})
		for range 500 {
			if tok, _ := s.Sample(logits, allowed); tok != 1 && tok != 2 {
				t.Fatalf("%s: drew masked token %d", raw, tok)
			}
		}
	}
	// A processor cannot unmask: force_token on a masked id leaves nothing.
	fp, _ := NewLogitProcessors().New("force_token", json.RawMessage(`{"token_id":0}`), LogitProcessorEnv{Vocab: 4})
	s = newSampler(t, `{"temperature":0}`, Options{Vocab: 4, LogitProcessors: []LogitProcessor{fp}})
	if _, err := s.Sample(logits, allowed); !errors.Is(err, ErrNoCandidate) {
		t.Fatalf("want ErrNoCandidate, got %v", err)
	}
}

func TestBitset(t *testing.T) {
	b := NewBitset(130)
	if len(b) != 3 || b.Count() != 0 {
		t.Fatal("size")
	}
	b.Set(0)
	b.Set(129)
	b.Set(200) // out of range: ignored
	b.Set(-1)
	if !b.Has(0) || !b.Has(129) || b.Has(1) || b.Has(200) || b.Has(-3) || b.Count() != 2 {
		t.Fatal("set/has")
	}
	b.Clear(0)
	if b.Has(0) {
		t.Fatal("clear")
	}
	b.Fill(70)
	if b.Count() != 70 || !b.Has(69) || b.Has(70) {
		t.Fatalf("fill: %d", b.Count())
	}
	// Words beyond the bitset mask their tokens.
	x := []float32{1, 2, 3}
	s := newSampler(t, `{"temperature":0}`, Options{Vocab: 3})
	if _, err := s.Sample(x, Bitset{}); !errors.Is(err, ErrNoCandidate) {
		t.Fatalf("empty mask: %v", err)
	}
}

func TestSampleErrors(t *testing.T) {
	s := newSampler(t, `{}`, Options{Vocab: 4})
	if _, err := s.Sample(make([]float32, 3), nil); !errors.Is(err, ErrShape) {
		t.Fatal(err)
	}
	inf := float32(math.Inf(-1))
	if _, err := s.Sample([]float32{inf, inf, float32(math.NaN()), inf}, nil); !errors.Is(err, ErrNoCandidate) {
		t.Fatal(err)
	}
	p := Defaults()
	p.TopP = 2
	if _, err := NewSampler(&p, Options{Vocab: 4}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := NewSampler(&p, Options{}); !errors.Is(err, ErrShape) {
		t.Fatal(err)
	}
	// +Inf logits do not poison the distribution.
	s = newSampler(t, `{"temperature":0.5}`, Options{Vocab: 3})
	tok, err := s.Sample([]float32{0, float32(math.Inf(1)), 1}, nil)
	if err != nil || tok != 1 {
		t.Fatalf("+Inf: %d %v", tok, err)
	}
	if d := s.Dist(); d.Logprob(1) != 0 || d.Logprob(0) != LogprobFloor {
		t.Fatalf("+Inf logprobs: %v %v", d.Logprob(1), d.Logprob(0))
	}
}

func TestSeeds(t *testing.T) {
	logits := make([]float32, 50)
	for i := range logits {
		logits[i] = float32(i%7) * 0.3
	}
	run := func(raw string, o Options) []int32 {
		s := newSampler(t, raw, o)
		var out []int32
		for range 40 {
			tok, _ := s.Sample(logits, nil)
			s.Accept(tok)
			out = append(out, tok)
		}
		return out
	}
	eq := func(a, b []int32) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	a := run(`{"sampling_seed":7}`, Options{Vocab: 50, Seed: 1})
	b := run(`{"sampling_seed":7}`, Options{Vocab: 50, Seed: 2})
	if !eq(a, b) {
		t.Fatal("sampling_seed must override the engine seed")
	}
	c := run(`{}`, Options{Vocab: 50, Seed: 1})
	d := run(`{}`, Options{Vocab: 50, Seed: 1})
	e := run(`{}`, Options{Vocab: 50, Seed: 3})
	if !eq(c, d) || eq(c, e) {
		t.Fatal("engine seed: same seed must repeat, different seeds differ")
	}
	f := run(`{"sampling_seed":7}`, Options{Vocab: 50, Stream: 1})
	if eq(a, f) {
		t.Fatal("Stream must separate the n samples of one seed")
	}
}

func TestDistAndLogprobs(t *testing.T) {
	logits := []float32{1, 2, 0.5, 2, -1}
	const temp = 0.7
	s := newSampler(t, `{"temperature":0.7,"top_p":0.5}`, Options{Vocab: 5, Seed: 4})
	tok, err := s.Sample(logits, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Logprobs are of the temperature-scaled distribution before top-p.
	var z float64
	for _, v := range logits {
		z += math.Exp(float64(v) / temp)
	}
	d := s.Dist()
	for i, v := range logits {
		want := float64(v)/temp - math.Log(z)
		if !near(float64(d.Logprob(int32(i))), want, 2e-6) {
			t.Errorf("logprob %d = %v, want %v", i, d.Logprob(int32(i)), want)
		}
	}
	if tok != 1 && tok != 3 {
		t.Fatalf("top_p 0.5 must keep only the two tied leaders, got %d", tok)
	}
	top := d.Top(10, nil)
	if len(top) != 5 || top[0].ID != 1 || top[1].ID != 3 || top[2].ID != 0 || top[4].ID != 4 {
		t.Fatalf("top order %+v", top)
	}
	ids := d.Logprobs([]int32{4, 1, -1, 99}, nil)
	if ids[0] != d.Logprob(4) || ids[1] != d.Logprob(1) || ids[2] != LogprobFloor || ids[3] != LogprobFloor {
		t.Fatalf("ids %v", ids)
	}
	// NewDist over raw logits (prompt positions) matches the sampler's Dist.
	nd := NewDist(logits, temp)
	if nd.Logprob(2) != d.Logprob(2) || nd.Len() != 5 {
		t.Fatal("NewDist disagrees with Sampler.Dist")
	}
	// The top-k heap path computes the Dist lazily, with the same values.
	s2 := newSampler(t, `{"temperature":0.7,"top_k":2}`, Options{Vocab: 5})
	s2.Sample(logits, nil)
	if d2 := s2.Dist(); d2.Logprob(2) != d.Logprob(2) {
		t.Fatal("lazy Dist differs")
	}
}

func TestExp32(t *testing.T) {
	if exp32(0) != 1 || exp32(float32(math.Inf(-1))) != 0 || exp32(float32(math.NaN())) != 0 || exp32(-100) != 0 {
		t.Fatal("special values")
	}
	for x := float32(-87); x < 88; x += 0.0137 {
		got, want := float64(exp32(x)), math.Exp(float64(x))
		if math.Abs(got-want)/want > 3e-7 {
			t.Fatalf("exp32(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestScratchShared(t *testing.T) {
	var sc Scratch
	a := newSampler(t, `{"temperature":0.8,"top_p":0.9,"sampling_seed":1}`, Options{Vocab: 64, Scratch: &sc})
	b := newSampler(t, `{"temperature":0.8,"top_p":0.9,"sampling_seed":1}`, Options{Vocab: 64})
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i%9) * 0.4
	}
	for range 50 {
		ta, _ := a.Sample(x, nil)
		tb, _ := b.Sample(x, nil)
		if ta != tb {
			t.Fatal("shared scratch changes results")
		}
	}
}

func TestGreedyNoAlloc(t *testing.T) {
	x := make([]float32, 151936)
	for i := range x {
		x[i] = float32(i%1000) * 0.001
	}
	s := newSampler(t, `{"temperature":0}`, Options{Vocab: len(x)})
	if n := testing.AllocsPerRun(20, func() { s.Sample(x, nil) }); n != 0 {
		t.Fatalf("greedy allocates %v per call", n)
	}
	s = newSampler(t, `{"temperature":0,"frequency_penalty":0.5}`, Options{Vocab: len(x)})
	s.Accept(3)
	s.Sample(x, nil) // warm the buffers
	if n := testing.AllocsPerRun(20, func() { s.Sample(x, nil) }); n != 0 {
		t.Fatalf("greedy with penalties allocates %v per call", n)
	}
	s = newSampler(t, `{"temperature":0.7,"top_p":0.9}`, Options{Vocab: len(x)})
	s.Sample(x, nil)
	if n := testing.AllocsPerRun(5, func() { s.Sample(x, nil) }); n != 0 {
		t.Fatalf("top_p allocates %v per call", n)
	}
}
