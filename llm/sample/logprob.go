package sample

import (
	"math"
	"slices"
)

// LogprobFloor stands in for log(0) (masked tokens): the lowest finite
// float32, as SGLang clamps, so that every reported value is valid JSON.
const LogprobFloor = -math.MaxFloat32

// TokenLogprob is one (token, logprob) pair.
type TokenLogprob struct {
	ID      int32
	Logprob float32
}

// Dist is the log-probability view of one position's processed logits at
// one temperature: logprob(i) = (x_i − max)/T − log Σ_j exp((x_j − max)/T).
// It references the logits slice; it is valid while that slice is unchanged.
// NaN logits count as −Inf, +Inf as the largest finite float32.
type Dist struct {
	x    []float32
	invT float32
	max  float32 // clipped max of x; −Inf when nothing is finite
	logZ float64
}

// NewDist computes the normaliser of logits at temperature (below
// GreedyEps means 1: greedy requests report log_softmax of the logits).
// Usable for prompt positions: pass the raw logits row and
// Params.LogprobTemperature().
func NewDist(logits []float32, temperature float64) Dist {
	invT := float32(1)
	if temperature >= GreedyEps {
		invT = float32(1 / temperature)
	}
	m := maxClip(logits)
	return Dist{x: logits, invT: invT, max: m, logZ: math.Log(expWeights(nil, logits, m, invT))}
}

func clip(v float32) float32 {
	if v > math.MaxFloat32 {
		return math.MaxFloat32
	}
	return v
}

// maxClip is the max of x ignoring NaN, with +Inf clipped; −Inf if none.
func maxClip(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return clip(m)
}

var negInf = float32(math.Inf(-1))

// Len is the vocabulary size.
func (d *Dist) Len() int { return len(d.x) }

// Logprob of token id; LogprobFloor for masked, NaN or out-of-range ids.
func (d *Dist) Logprob(id int32) float32 {
	if id < 0 || int(id) >= len(d.x) {
		return LogprobFloor
	}
	v := d.x[id]
	if !(v > negInf) || math.IsInf(d.logZ, 0) {
		return LogprobFloor
	}
	lp := float64((clip(v)-d.max)*d.invT) - d.logZ
	if lp < LogprobFloor {
		return LogprobFloor
	}
	return float32(lp)
}

// Logprobs writes the logprob of each id (request order) into dst[:0].
func (d *Dist) Logprobs(ids []int32, dst []float32) []float32 {
	dst = dst[:0]
	for _, id := range ids {
		dst = append(dst, d.Logprob(id))
	}
	return dst
}

// Top writes the n most likely tokens into dst[:0], best first, ties by
// lower id (n ≥ vocabulary gives every token).
func (d *Dist) Top(n int, dst []TokenLogprob) []TokenLogprob {
	dst = dst[:0]
	if n <= 0 || len(d.x) == 0 {
		return dst
	}
	ids := topIDs(d.x, min(n, len(d.x)), nil)
	for _, id := range ids {
		dst = append(dst, TokenLogprob{ID: id, Logprob: d.Logprob(id)})
	}
	return dst
}

// key orders logits: NaN sorts as −Inf.
func key(v float32) float32 {
	if v != v {
		return negInf
	}
	return v
}

// better is the ranking order: larger logit first, then lower id.
func better(x []float32, a, b int32) bool {
	va, vb := key(x[a]), key(x[b])
	return va > vb || (va == vb && a < b)
}

// topIDs returns the k best ids of x sorted best first, reusing heap.
// A min-heap (worst at the root) of size k: O(V log k).
func topIDs(x []float32, k int, heap []int32) []int32 {
	if cap(heap) < k {
		heap = make([]int32, 0, k)
	}
	heap = heap[:0]
	worse := func(a, b int32) bool { return better(x, b, a) }
	down := func(i int) {
		n := len(heap)
		for {
			l := 2*i + 1
			if l >= n {
				return
			}
			c := l
			if r := l + 1; r < n && worse(heap[r], heap[l]) {
				c = r
			}
			if !worse(heap[c], heap[i]) {
				return
			}
			heap[i], heap[c] = heap[c], heap[i]
			i = c
		}
	}
	var thr float32 // key of the root once the heap is full
	for i := range x {
		id := int32(i)
		if len(heap) < k {
			heap = append(heap, id)
			for j := len(heap) - 1; j > 0; {
				p := (j - 1) / 2
				if !worse(heap[j], heap[p]) {
					break
				}
				heap[j], heap[p] = heap[p], heap[j]
				j = p
			}
			thr = key(x[heap[0]])
			continue
		}
		// Ids grow along the scan, so a tie with the root (the k-th best)
		// never wins: only a strictly larger logit enters. NaN never does.
		if x[i] > thr {
			heap[0] = id
			down(0)
			thr = key(x[heap[0]])
		}
	}
	slices.SortFunc(heap, func(a, b int32) int { return rankCmp(x, a, b) })
	return heap
}
