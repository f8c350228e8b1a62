package sample

import (
	"math"
	"math/bits"
	"slices"
)

// exp32 is e^x in float32 (relative error < 2e-7), exp32(0) == 1 exactly;
// 0 below −87.33 and for −Inf or NaN. Range reduction x = (32k + j)·ln2/32
// + r, |r| ≤ ln2/64, e^x = 2^k · 2^(j/32) · (1 + r + r²/2 + r³/6).
func exp32(x float32) float32 {
	if !(x > -87.33654) {
		return 0
	}
	if x > 88 {
		return float32(math.Exp(float64(x)))
	}
	return expReduced(x)
}

const (
	log2eBy32 = 32 * 1.44269504088896341
	ln2By32Hi = 0.693359375 / 32 // few mantissa bits: n·ln2By32Hi is exact
	ln2By32Lo = -2.12194440e-4 / 32
	magic     = 12582912 // 1.5·2²³: adding and subtracting it rounds to an integer
)

// exp2By32[j] = 2^(j/32).
var exp2By32 = func() (t [32]float32) {
	for j := range t {
		t[j] = float32(math.Exp2(float64(j) / 32))
	}
	return t
}()

// expReduced is exp32 for x in (−87.34, 88].
func expReduced(x float32) float32 {
	u := x*log2eBy32 + magic
	n := u - magic
	r := float32(x - n*ln2By32Hi)
	r = float32(r - n*ln2By32Lo)
	ni := int32(n)
	p := 1 + r + r*r*(0.5+r*(1.0/6))
	return p * exp2By32[ni&31] * math.Float32frombits(uint32(ni>>5+127)<<23)
}

// expWeights sets e[i] = exp32((clip(x[i]) − m)·invT), 0 for −Inf and NaN,
// and returns Σ e; with e nil it only sums. m is maxClip(x), so every
// argument is ≤ 0 (m = −Inf gives 0). expReduced is written out here:
// it is too large to inline.
func expWeights(e, x []float32, m, invT float32) float64 {
	store := e != nil
	if store {
		e = e[:len(x)]
	}
	// Sum blocks of 16 in float32, then in float64: converting every term
	// to float64 serialises the loop (CVTSS2SD's false dependency).
	var z float64
	for lo := 0; lo < len(x); lo += 16 {
		hi := min(lo+16, len(x))
		var s float32
		for i := lo; i < hi; i++ {
			t := (clip(x[i]) - m) * invT
			w := float32(0)
			if t > -87.33654 {
				u := t*log2eBy32 + magic
				n := u - magic
				r := float32(t - n*ln2By32Hi)
				r = float32(r - n*ln2By32Lo)
				ni := int32(n)
				p := 1 + r + r*r*(0.5+r*(1.0/6))
				w = p * exp2By32[ni&31] * math.Float32frombits(uint32(ni>>5+127)<<23)
			}
			if store {
				e[i] = w
			}
			s += w
		}
		z += float64(s)
	}
	return z
}

// keptCount applies SGLang's joint top-k / top-p rule to the candidates
// idx (ids with weight e > 0), ranked by better(x): the token of rank r is
// kept iff r < k and S_r ≤ limit, where S_r is the summed weight of the
// ranks before r (top-p uses the sorted cumulative sum before top-k
// masking; limit = top_p·Z). It reorders idx so that idx[:n] is the kept
// set (in no particular but deterministic order) and returns n.
//
// Weighted quickselect: expected O(len(idx)); after too many unbalanced
// rounds the rest is sorted, so the worst case is O(n log n).
func keptCount(idx []int32, x, e []float32, k int, limit float64) int {
	lo, hi := 0, len(idx)
	k = min(k, hi)
	var acc float64 // weight of idx[:lo], the top-lo ranks, all kept
	budget := 2 * bits.Len(uint(hi))
	for hi-lo > 32 && budget > 0 {
		budget--
		p, mass := partition(idx, lo, hi, x, e)
		if p < k && acc+mass <= limit {
			acc += mass + float64(e[idx[p]])
			lo = p + 1
		} else {
			hi = p
		}
	}
	seg := idx[lo:hi]
	slices.SortFunc(seg, func(a, b int32) int { return rankCmp(x, a, b) })
	r := lo
	for r < hi && r < k && acc <= limit {
		acc += float64(e[idx[r]])
		r++
	}
	return r
}

// partition reorders idx[lo:hi] around a median-of-three pivot: ids ranked
// before it first. It returns the pivot's position and the weight of the
// ids before it within [lo, hi).
func partition(idx []int32, lo, hi int, x, e []float32) (int, float64) {
	mid := lo + (hi-lo)/2
	a, b, c := lo, mid, hi-1
	if better(x, idx[b], idx[a]) {
		a, b = b, a
	}
	if better(x, idx[c], idx[b]) {
		b = c
		if better(x, idx[b], idx[a]) {
			b = a
		}
	}
	idx[b], idx[hi-1] = idx[hi-1], idx[b]
	piv := idx[hi-1]
	i := lo
	var mass float64
	for j := lo; j < hi-1; j++ {
		if better(x, idx[j], piv) {
			mass += float64(e[idx[j]])
			idx[i], idx[j] = idx[j], idx[i]
			i++
		}
	}
	idx[i], idx[hi-1] = idx[hi-1], idx[i]
	return i, mass
}

// rankCmp orders ids by better(x), for slices.SortFunc.
func rankCmp(x []float32, a, b int32) int {
	switch {
	case a == b:
		return 0
	case better(x, a, b):
		return -1
	}
	return 1
}
