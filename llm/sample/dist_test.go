package sample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refProbs is an independent, plain float64 statement of SGLang's rule:
// softmax(x/T); sort descending (ties by lower id); keep rank r iff r < k
// and the cumulative sum of the sorted probabilities before r is ≤ top_p;
// drop kept probabilities below min_p·p_max; renormalise.
func refProbs(x []float64, temp float64, topK int, topP, minP float64) []float64 {
	n := len(x)
	p := make([]float64, n)
	m := slices.Max(x)
	var z float64
	for i, v := range x {
		p[i] = math.Exp((v - m) / temp)
		z += p[i]
	}
	for i := range p {
		p[i] /= z
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case x[a] > x[b]:
			return -1
		case x[a] < x[b]:
			return 1
		}
		return 0
	})
	if topK < 1 {
		topK = n
	}
	out := make([]float64, n)
	var cum float64
	for r, id := range order {
		if r < topK && cum <= topP {
			out[id] = p[id]
		}
		cum += p[id]
	}
	pmax := p[order[0]]
	var tot float64
	for i := range out {
		if out[i] < pmax*minP {
			out[i] = 0
		}
		tot += out[i]
	}
	for i := range out {
		out[i] /= tot
	}
	return out
}

// chiSquareCritical approximates the 0.999 quantile of χ²(df)
// (Wilson–Hilferty).
func chiSquareCritical(df int) float64 {
	const z = 3.090 // standard normal 0.999 quantile
	d := float64(df)
	c := 1 - 2/(9*d) + z*math.Sqrt(2/(9*d))
	return d * c * c * c
}

// checkDistribution draws n tokens and compares the histogram with want by
// a χ² test; tokens with zero expected probability must never appear. The
// seed is fixed, so the outcome is deterministic.
func checkDistribution(t *testing.T, raw string, logits []float32, want []float64, n int) {
	t.Helper()
	s := newSampler(t, raw, Options{Vocab: len(logits), Seed: 12345})
	counts := make([]int, len(logits))
	for range n {
		tok, err := s.Sample(logits, nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[tok]++
	}
	var chi float64
	df := -1
	for i, w := range want {
		if w == 0 {
			if counts[i] != 0 {
				t.Fatalf("%s: token %d drawn %d times, expected probability 0", raw, i, counts[i])
			}
			continue
		}
		e := w * float64(n)
		if e < 5 {
			t.Fatalf("%s: test design: expected count %v < 5 for token %d", raw, e, i)
		}
		chi += (float64(counts[i]) - e) * (float64(counts[i]) - e) / e
		df++
	}
	if df < 1 {
		if df == 0 {
			return // a single allowed token, checked above
		}
		t.Fatalf("%s: nothing to test", raw)
	}
	if crit := chiSquareCritical(df); chi > crit {
		t.Fatalf("%s: χ² = %.2f > %.2f (df %d)\ncounts %v\nwant   %v", raw, chi, crit, df, counts, want)
	}
}

func logitsOf(probs ...float64) []float32 {
	x := make([]float32, len(probs))
	for i, p := range probs {
		x[i] = float32(math.Log(p))
	}
	return x
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func TestDistributionTemperature(t *testing.T) {
	x := logitsOf(0.4, 0.3, 0.15, 0.1, 0.05)
	// T=1 reproduces the probabilities exactly.
	checkDistribution(t, `{}`, x, []float64{0.4, 0.3, 0.15, 0.1, 0.05}, 40000)
	for _, temp := range []float64{0.5, 2} {
		want := refProbs(f64(x), temp, -1, 1, 0)
		// Hand check for T=0.5: p_i ∝ p_i².
		if temp == 0.5 && !near(want[0], 0.16/(0.16+0.09+0.0225+0.01+0.0025), 1e-6) {
			t.Fatalf("reference: %v", want)
		}
		checkDistribution(t, fmt.Sprintf(`{"temperature":%v}`, temp), x, want, 40000)
	}
}

func TestDistributionTopK(t *testing.T) {
	x := logitsOf(0.05, 0.3, 0.1, 0.4, 0.15)
	// top_k=3 keeps 0.4, 0.3, 0.15 renormalised by 0.85.
	want := []float64{0, 0.3 / 0.85, 0, 0.4 / 0.85, 0.15 / 0.85}
	checkDistribution(t, `{"top_k":3}`, x, want, 40000)
	checkDistribution(t, `{"top_k":3,"temperature":1.5}`, x, refProbs(f64(x), 1.5, 3, 1, 0), 40000)
}

func TestDistributionTopP(t *testing.T) {
	x := logitsOf(0.4, 0.3, 0.15, 0.1, 0.05)
	// Exclusive cumulative sums 0, .4, .7, .85, .95: top_p .75 keeps three.
	checkDistribution(t, `{"top_p":0.75}`, x, []float64{0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0}, 40000)
	// top_p .35 keeps the leader only (its own mass never counts).
	checkDistribution(t, `{"top_p":0.35}`, x, []float64{1, 0, 0, 0, 0}, 1000)
	// top_p uses the cumulative sum before top-k masking: with top_k=3,
	// top_p=.8 keeps all three (.7 ≤ .8); renormalising over the top 3 first
	// (.47, .35, .18 → .82 > .8) would wrongly drop the third.
	checkDistribution(t, `{"top_k":3,"top_p":0.8}`, x, []float64{0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0, 0}, 40000)
	if got := refProbs(f64(x), 1, 3, 0.8, 0); got[2] == 0 {
		t.Fatal("reference disagrees")
	}
}

func TestDistributionMinP(t *testing.T) {
	x := logitsOf(0.5, 0.25, 0.15, 0.1)
	// min_p .25: threshold .125 keeps .5, .25, .15.
	checkDistribution(t, `{"min_p":0.25}`, x, []float64{0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0}, 40000)
	// With top_p as well (the full-pass path): top_p .9 keeps ranks 0..2, min_p .4 drops .15.
	checkDistribution(t, `{"min_p":0.4,"top_p":0.9}`, x, []float64{0.5 / 0.75, 0.25 / 0.75, 0, 0}, 40000)
}

func TestDistributionCombined(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 12)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 1.5)
	}
	for _, c := range []struct {
		temp       float64
		k          int
		topP, minP float64
	}{
		{0.8, 8, 0.9, 0.05},
		{1.3, -1, 0.95, 0.02},
		{0.6, 6, 1, 0.1},
		{1.0, 10, 0.97, 0},
	} {
		raw := fmt.Sprintf(`{"temperature":%v,"top_k":%d,"top_p":%v,"min_p":%v}`, c.temp, c.k, c.topP, c.minP)
		want := refProbs(f64(x), c.temp, c.k, c.topP, c.minP)
		// Merge rare tokens out of the χ² test: require expected ≥ 5.
		for i, w := range want {
			if w > 0 && w*60000 < 5 {
				t.Fatalf("%s: test design, token %d has expected count %v", raw, i, w*60000)
			}
		}
		checkDistribution(t, raw, x, want, 60000)
	}
}

// TestKeptCountMatchesReference drives the quickselect top-k/top-p kernel
// on large random vocabularies with ties and masked entries.
func TestKeptCountMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 60 {
		n := 50 + rng.IntN(3000)
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(math.Round(rng.NormFloat64()*8) / 4) // many ties
			if rng.IntN(10) == 0 {
				x[i] = negInf
			}
		}
		temp := 0.3 + rng.Float64()*2
		topP := []float64{0.1, 0.5, 0.9, 0.99, 1}[trial%5]
		k := []int{n, 1, 5, 100, n / 2, 1500}[trial%6]
		m := maxClip(x)
		invT := float32(1 / temp)
		e := make([]float32, n)
		var z float64
		var idx []int32
		for i, v := range x {
			if v > negInf {
				e[i] = exp32((v - m) * invT)
				z += float64(e[i])
				idx = append(idx, int32(i))
			}
		}
		limit := math.Inf(1)
		if topP < 1 {
			limit = topP * z
		}
		got := keptCount(idx, x, e, k, limit)
		kept := idx[:got]
		// Reference over the same float32 weights.
		order := slices.Clone(idx)
		slices.SortFunc(order, func(a, b int32) int { return rankCmp(x, a, b) })
		want := 0
		var cum float64
		for r, id := range order {
			if r < k && cum <= limit {
				want++
			}
			cum += float64(e[id])
		}
		if got != want {
			t.Fatalf("trial %d: kept %d, want %d", trial, got, want)
		}
		ks := slices.Clone(kept)
		slices.SortFunc(ks, func(a, b int32) int { return rankCmp(x, a, b) })
		if !slices.Equal(ks, order[:want]) {
			t.Fatalf("trial %d: kept set differs from the top-%d ranks", trial, want)
		}
	}
}

// TestLargeVocabPaths: the heap top-k path, the quickselect path and the
// full path never draw a token outside the reference support.
func TestLargeVocabPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 8000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	for _, c := range []struct {
		raw  string
		temp float64
		k    int
		p    float64
	}{
		{`{"temperature":0.7,"top_k":40}`, 0.7, 40, 1},
		{`{"temperature":0.7,"top_k":1500}`, 0.7, 1500, 1},
		{`{"temperature":0.7,"top_p":0.9}`, 0.7, -1, 0.9},
		{`{"temperature":0.5,"top_k":50,"top_p":0.6}`, 0.5, 50, 0.6},
		{`{"temperature":1.2}`, 1.2, -1, 1},
	} {
		want := refProbs(f64(x), c.temp, c.k, c.p, 0)
		s := newSampler(t, c.raw, Options{Vocab: len(x), Seed: 5})
		var top int32 = -1
		var topP float64
		for i, w := range want {
			if w > topP {
				top, topP = int32(i), w
			}
		}
		hits := 0
		const n = 2000
		for range n {
			tok, err := s.Sample(x, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want[tok] == 0 {
				t.Fatalf("%s: drew %d outside the support", c.raw, tok)
			}
			if tok == top {
				hits++
			}
		}
		// The most likely token's frequency within 5 standard deviations.
		sd := math.Sqrt(topP * (1 - topP) / n)
		if math.Abs(float64(hits)/n-topP) > 5*sd+1e-9 {
			t.Fatalf("%s: top token frequency %v, want %v", c.raw, float64(hits)/n, topP)
		}
	}
}
