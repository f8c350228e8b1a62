package sample

import (
	"math/rand/v2"
	"testing"
)

// benchLogits mimics an LM head row: Gaussian logits (σ 2.5) over a
// Qwen2-size vocabulary with a few strong candidates.
func benchLogits() []float32 {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 151936)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2.5)
	}
	for i := range 8 {
		x[rng.IntN(len(x))] = 14 - float32(i)
	}
	return x
}

func BenchmarkSample(b *testing.B) {
	x := benchLogits()
	for _, c := range []struct{ name, raw string }{
		{"greedy", `{"temperature":0}`},
		{"greedy_penalties", `{"temperature":0,"frequency_penalty":0.5,"repetition_penalty":1.1}`},
		{"temp0.7_top_p0.9", `{"temperature":0.7,"top_p":0.9}`},
		{"temp0.7_top_k40", `{"temperature":0.7,"top_k":40}`},
		{"temp1_full", `{"temperature":1}`},
		{"temp0.7_top_k40_top_p0.9_min_p0.05", `{"temperature":0.7,"top_k":40,"top_p":0.9,"min_p":0.05}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newSampler(b, c.raw, Options{Vocab: len(x), Seed: 1})
			for i := range 64 {
				s.Accept(int32(i * 97))
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sample(x, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDistTop(b *testing.B) {
	x := benchLogits()
	d := NewDist(x, 0.7)
	dst := make([]TokenLogprob, 0, 20)
	b.ReportAllocs()
	for b.Loop() {
		dst = d.Top(20, dst)
	}
}
