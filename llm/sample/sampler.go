package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
)

var (
	// ErrNoCandidate: every token's processed logit is −Inf or NaN (for
	// example a grammar mask and force_token disagree). The engine should
	// abort the request.
	ErrNoCandidate = errors.New("sample: no token can be sampled (every logit is masked)")
	// ErrShape: the logits row does not have Options.Vocab entries.
	ErrShape = errors.New("sample: logits length does not match the vocabulary")
)

// heapTopK: top_k up to this size (without top_p) is selected with a heap
// over the logits, skipping the full exp pass.
const heapTopK = 1024

// Options configure one sequence's Sampler.
type Options struct {
	// Vocab is the logits row length.
	Vocab int
	// Seed seeds the PCG generator when Params.SamplingSeed is nil.
	Seed uint64
	// Stream is PCG's second seed word. Give each of the n > 1 samples of
	// a request its index so that a fixed sampling_seed still yields n
	// different (reproducible) samples; 0 everywhere reproduces SGLang,
	// where equal seeds give equal samples.
	Stream uint64
	// Suppress ids (EOS and stop_token_ids, as the engine decides) are set
	// to −Inf until MinNewTokens tokens were accepted.
	Suppress []int32
	// LogitProcessors run after penalties and logit_bias, before temperature.
	LogitProcessors []LogitProcessor
	// Scratch, when set, is shared with other Samplers driven by the same
	// goroutine (saves ~1.8 MB per sequence at a 152k vocabulary). A Dist
	// then stays valid only until the next Sample on any of them.
	Scratch *Scratch
}

// Scratch holds the per-step buffers of Samplers.
type Scratch struct {
	work []float32 // processed logits
	e    []float32 // exp weights
	idx  []int32   // candidate ids
	heap []int32
}

func (sc *Scratch) grow(v int) {
	if cap(sc.work) < v {
		sc.work = make([]float32, v)
		sc.e = make([]float32, v)
		sc.idx = make([]int32, v)
	}
	sc.work, sc.e, sc.idx = sc.work[:v], sc.e[:v], sc.idx[:0]
}

type tokenBias struct {
	id   int32
	bias float32
}

// Sampler draws one sequence's tokens. Per step: Sample, optionally Dist
// for logprobs, then Accept with the token the sequence takes.
type Sampler struct {
	vocab    int
	greedy   bool
	invT     float32 // 1 when greedy
	topK     int     // vocab when disabled
	topP     float64
	minP     float32
	freq     float32
	pres     float32
	rep      float32
	penalize bool
	bias     []tokenBias
	minNew   int
	suppress []int32
	procs    []LogitProcessor
	rng      *rand.Rand
	sc       *Scratch

	counts    map[int32]int32 // output token → occurrences
	seen      []int32         // distinct output tokens, first-seen order
	generated int

	last   []float32 // processed logits of the last Sample
	dist   Dist
	distOK bool
}

// NewSampler builds a Sampler for one sequence. It runs p.Validate(o.Vocab)
// (an ErrInvalid error on bad params) and keeps no reference to p.
func NewSampler(p *Params, o Options) (*Sampler, error) {
	if o.Vocab <= 0 {
		return nil, fmt.Errorf("%w: vocabulary size %d", ErrShape, o.Vocab)
	}
	if err := p.Validate(o.Vocab); err != nil {
		return nil, err
	}
	seed := o.Seed
	if p.SamplingSeed != nil {
		seed = uint64(*p.SamplingSeed)
	}
	s := &Sampler{
		vocab:  o.Vocab,
		greedy: p.Greedy(),
		invT:   1,
		topK:   o.Vocab,
		topP:   p.TopP,
		minP:   float32(p.MinP),
		freq:   float32(p.FrequencyPenalty),
		pres:   float32(p.PresencePenalty),
		rep:    float32(p.RepetitionPenalty),
		minNew: p.MinNewTokens,
		procs:  slices.Clone(o.LogitProcessors),
		rng:    rand.New(rand.NewPCG(seed, o.Stream)),
		sc:     o.Scratch,
		counts: map[int32]int32{},
	}
	if !s.greedy {
		s.invT = float32(1 / p.Temperature)
		if p.TopK >= 1 && p.TopK < o.Vocab {
			s.topK = p.TopK
		}
	}
	if s.sc == nil {
		s.sc = &Scratch{}
	}
	s.penalize = s.freq != 0 || s.pres != 0 || s.rep != 1
	for _, id := range o.Suppress {
		if id >= 0 && int(id) < o.Vocab {
			s.suppress = append(s.suppress, id)
		}
	}
	for k, b := range p.LogitBias {
		id, _ := strconv.Atoi(k) // Validate checked the range
		if b != 0 {
			s.bias = append(s.bias, tokenBias{int32(id), float32(b)})
		}
	}
	sort.Slice(s.bias, func(i, j int) bool { return s.bias[i].id < s.bias[j].id })
	return s, nil
}

// Generated is the number of accepted tokens.
func (s *Sampler) Generated() int { return s.generated }

// Greedy reports whether the sampler decodes by argmax.
func (s *Sampler) Greedy() bool { return s.greedy }

// Accept records the token the sequence took (sampled, forced by a
// grammar, …): output counts for penalties, min_new_tokens, processors.
func (s *Sampler) Accept(tok int32) {
	s.generated++
	if s.penalize && tok >= 0 && int(tok) < s.vocab {
		if s.counts[tok] == 0 {
			s.seen = append(s.seen, tok)
		}
		s.counts[tok]++
	}
	for _, p := range s.procs {
		p.Accept(tok)
	}
}

// Sample processes one logits row ([Vocab]) and draws a token. allowed
// masks the vocabulary (nil = all allowed); a masked token is never drawn.
// The caller's logits are never written; when no processing is needed they
// are referenced by Dist until the next Sample, so keep them unchanged
// until logprobs are read.
func (s *Sampler) Sample(logits []float32, allowed Bitset) (int32, error) {
	if len(logits) != s.vocab {
		return -1, fmt.Errorf("%w: got %d, want %d", ErrShape, len(logits), s.vocab)
	}
	x := logits
	suppress := s.generated < s.minNew && len(s.suppress) > 0
	if allowed != nil || (s.penalize && len(s.seen) > 0) || suppress || len(s.bias) > 0 || len(s.procs) > 0 {
		s.sc.grow(s.vocab)
		x = s.sc.work
		if allowed != nil {
			maskCopy(x, logits, allowed)
		} else {
			copy(x, logits)
		}
		if s.penalize {
			for _, id := range s.seen {
				v := x[id]
				if s.rep != 1 {
					if v > 0 {
						v /= s.rep
					} else {
						v *= s.rep
					}
				}
				x[id] = v - s.freq*float32(s.counts[id]) - s.pres
			}
		}
		if suppress {
			for _, id := range s.suppress {
				x[id] = negInf
			}
		}
		for _, b := range s.bias {
			x[b.id] += b.bias
		}
		if len(s.procs) > 0 {
			for _, p := range s.procs {
				p.Process(x)
			}
			if allowed != nil {
				maskCopy(x, x, allowed)
			}
		}
	}
	s.last, s.distOK = x, false
	if s.greedy || s.topK == 1 {
		return argmax(x)
	}
	return s.draw(x)
}

// Dist is the log-probability view of the last Sample's processed logits
// (temperature-scaled; log_softmax of the processed logits when greedy),
// as SGLang reports output logprobs. Computed on first use per step.
func (s *Sampler) Dist() Dist {
	if !s.distOK {
		m := maxClip(s.last)
		s.dist = Dist{x: s.last, invT: s.invT, max: m, logZ: math.Log(expWeights(nil, s.last, m, s.invT))}
		s.distOK = true
	}
	return s.dist
}

// argmax: first index of the largest logit (NaN never wins).
func argmax(x []float32) (int32, error) {
	best, bv := -1, negInf
	for i, v := range x {
		if v > bv {
			best, bv = i, v
		}
	}
	if best < 0 {
		return -1, ErrNoCandidate
	}
	return int32(best), nil
}

// maskCopy writes src into dst with tokens outside allowed set to −Inf;
// dst and src may be the same slice.
func maskCopy(dst, src []float32, allowed Bitset) {
	n := len(dst)
	for w := 0; w*64 < n; w++ {
		lo, hi := w*64, min(w*64+64, n)
		var word uint64
		if w < len(allowed) {
			word = allowed[w]
		}
		switch word {
		case ^uint64(0):
			copy(dst[lo:hi], src[lo:hi])
		case 0:
			for i := lo; i < hi; i++ {
				dst[i] = negInf
			}
		default:
			for i := lo; i < hi; i++ {
				if word&(1<<uint(i-lo)) != 0 {
					dst[i] = src[i]
				} else {
					dst[i] = negInf
				}
			}
		}
	}
}

// draw applies temperature, top-k, top-p and min-p to x and draws a token.
func (s *Sampler) draw(x []float32) (int32, error) {
	m := maxClip(x)
	if m == negInf {
		return -1, ErrNoCandidate
	}
	invT, sc := s.invT, s.sc
	sc.grow(len(x))
	if s.topP >= 1 && s.topK < len(x) && s.topK <= heapTopK {
		// Top-k only: weights for k candidates; Z is not needed.
		sc.heap = topIDs(x, s.topK, sc.heap)
		cand := sc.heap
		for len(cand) > 0 && !(x[cand[len(cand)-1]] > negInf) {
			cand = cand[:len(cand)-1] // masked ids ranked last
		}
		for _, id := range cand {
			sc.e[id] = exp32((clip(x[id]) - m) * invT)
		}
		return s.pick(cand, sc.e)
	}
	e := sc.e
	if s.topP >= 1 && s.topK >= len(x) {
		// No truncation: one pass for weights, Z and Z over the min_p
		// survivors, then a linear draw.
		z, zMin := expWeights(e, x, m, invT), 0.0
		if s.minP > 0 {
			for _, w := range e {
				if w >= s.minP {
					zMin += float64(w)
				}
			}
		} else {
			zMin = z
		}
		s.dist = Dist{x: x, invT: invT, max: m, logZ: math.Log(z)}
		s.distOK = true
		target := s.rng.Float64() * zMin
		var cum float64
		last := int32(-1)
		for i, w := range e {
			if w > 0 && w >= s.minP {
				cum += float64(w)
				last = int32(i)
				if cum > target {
					return last, nil
				}
			}
		}
		if last < 0 {
			return -1, ErrNoCandidate
		}
		return last, nil
	}
	// Truncation: weights, Z, and a histogram of the weights' float32
	// exponents. A token in a bucket below the one where the heavier
	// buckets' mass exceeds top_p·Z, or their count reaches top_k, ranks
	// after all of them and cannot be kept: only the upper buckets become
	// candidates. Bucket masses are float32 sums; the cut uses the lower
	// bound mass·(1 − count·2⁻²³), so rounding can only add candidates.
	z := expWeights(e, x, m, invT)
	var count [256]int32
	var mass [256]float32
	for _, w := range e {
		b := math.Float32bits(w) >> 23
		count[b]++
		mass[b] += w
	}
	s.dist = Dist{x: x, invT: invT, max: m, logZ: math.Log(z)}
	s.distOK = true
	limit := math.Inf(1)
	if s.topP < 1 {
		limit = s.topP * z
	}
	cut := uint32(0)
	var cm float64
	var cc int
	for b := 255; b > 0; b-- { // bucket 0: zero and subnormal weights
		cc += int(count[b])
		cm += float64(mass[b]) * (1 - float64(count[b])*0x1p-23)
		if cm > limit || cc >= s.topK {
			cut = uint32(b)
			break
		}
	}
	idx := sc.idx[:0]
	for i, w := range e {
		if w > 0 && math.Float32bits(w)>>23 >= cut {
			idx = append(idx, int32(i))
		}
	}
	n := keptCount(idx, x, e, s.topK, limit)
	return s.pick(idx[:n], e)
}

// pick draws from cand with weights e[id], dropping those below min_p
// (relative to the top weight, which is 1).
func (s *Sampler) pick(cand []int32, e []float32) (int32, error) {
	var total float64
	for _, id := range cand {
		if w := e[id]; w > 0 && w >= s.minP {
			total += float64(w)
		}
	}
	if len(cand) == 0 || total == 0 {
		return -1, ErrNoCandidate
	}
	target := s.rng.Float64() * total
	var cum float64
	last := int32(-1)
	for _, id := range cand {
		if w := e[id]; w > 0 && w >= s.minP {
			cum += float64(w)
			last = id
			if cum > target {
				return id, nil
			}
		}
	}
	return last, nil
}
