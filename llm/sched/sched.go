// Package sched decides what each engine step computes. It is pure logic over
// sequence lengths and page counts — no tensors, no model — so every policy
// is table-tested on its own.
//
// A sequence's tokens, and how much of them has KV in the pool:
//
//	|<----------------- Len ------------------>|
//	|<-- Cached -->|<-- to compute (extend) -->|
//	|   KV pages   |  prefill chunk or the one decode token
//
// Policy per step: every decoding sequence computes one token; then prefill
// chunks fill the remaining token budget, in arrival order (a partially
// prefilled sequence first), while fewer than MaxRunning sequences run and
// pages last. A chunk may end anywhere, inside a media span too: the engine
// slices the span's embedding rows per chunk. When decoding needs more pages
// than are available, the most recently arrived running sequences are
// retracted: their pages are freed and they rejoin the queue at its head to be
// recomputed later — never lost.
//
// Progress invariant: when Runnable reports work, Next returns a plan that
// computes at least one token, provided every sequence alone fits in the
// pool (the engine refuses longer requests at admission). Pages held by other
// sequences are freed (retraction, or dropping a waiting sequence's
// prefix-cache hit) until the oldest runnable sequence can move.
package sched

import (
	"fmt"
	"slices"
	"strings"
)

// Seq is the scheduler's view of one sequence.
type Seq struct {
	ID      uint64
	Arrival int64 // FCFS order: smaller first
	Len     int   // tokens: prompt (+ generated so far)
	Cached  int   // tokens with KV in the pool
	Pages   int   // pages held
	// Prefilled is set once the prompt has been computed; the sequence then
	// decodes one token per step.
	Prefilled bool
	// Blocked keeps a waiting sequence out of admission (its media are being
	// encoded); blocked sequences are skipped, not waited for.
	Blocked bool
}

// Extend is the number of tokens still to compute.
func (s *Seq) Extend() int { return s.Len - s.Cached }

// Config bounds a step.
type Config struct {
	PageSize   int
	MaxRunning int // sequences holding pages at once
	// StepTokens is the token budget of a step (decode rows + prefill chunk
	// rows); ≥ 1. Without ChunkPrefill a prompt is prefilled whole, and one
	// longer than the budget goes alone (beside the decode rows).
	StepTokens   int
	ChunkPrefill bool
}

// Chunk is a prefill of tokens [From, To) of a sequence.
type Chunk struct {
	Seq      *Seq
	From, To int
}

// Plan is one step's work.
type Plan struct {
	Decode  []*Seq
	Prefill []Chunk
	// Retract lists sequences whose pages the caller must release before
	// allocating: retracted running sequences (recomputed later) and waiting
	// sequences whose prefix-cache hit was dropped. Each now has Cached = 0
	// and Pages = 0 and waits in the queue.
	Retract []*Seq
	// Pages is how many new pages each sequence in Decode and Prefill needs.
	Pages map[uint64]int
}

// Tokens is the number of rows the plan computes.
func (p *Plan) Tokens() int {
	n := len(p.Decode)
	for _, c := range p.Prefill {
		n += c.To - c.From
	}
	return n
}

// NewPages is the total of Pages.
func (p *Plan) NewPages() int {
	n := 0
	for _, v := range p.Pages {
		n += v
	}
	return n
}

// Scheduler holds the running set and the waiting queue.
type Scheduler struct {
	cfg     Config
	running []*Seq // holding pages; arrival order
	waiting []*Seq // arrival order; retracted sequences go to the front
}

// New validates cfg and returns a scheduler.
func New(cfg Config) (*Scheduler, error) {
	if cfg.PageSize <= 0 || cfg.MaxRunning <= 0 || cfg.StepTokens <= 0 {
		return nil, fmt.Errorf("sched: page size %d, max running %d and step tokens %d must be positive", cfg.PageSize, cfg.MaxRunning, cfg.StepTokens)
	}
	return &Scheduler{cfg: cfg}, nil
}

// Add queues a new sequence. Cached and Pages may already count a
// prefix-cache hit whose pages the sequence holds.
func (s *Scheduler) Add(q *Seq) { s.waiting = append(s.waiting, q) }

// Remove drops a sequence (finished or aborted) from either list.
func (s *Scheduler) Remove(id uint64) {
	s.running = drop(s.running, id)
	s.waiting = drop(s.waiting, id)
}

func drop(l []*Seq, id uint64) []*Seq {
	for i, q := range l {
		if q.ID == id {
			return append(l[:i], l[i+1:]...)
		}
	}
	return l
}

// Running and Waiting report the list sizes (Waiting includes blocked sequences).
func (s *Scheduler) Running() int { return len(s.running) }
func (s *Scheduler) Waiting() int { return len(s.waiting) }

// Runnable reports whether a step has work: a running sequence, or a waiting
// one that is not blocked.
func (s *Scheduler) Runnable() bool {
	if len(s.running) > 0 {
		return true
	}
	for _, q := range s.waiting {
		if !q.Blocked {
			return true
		}
	}
	return false
}

// String summarises the lists for diagnostics.
func (s *Scheduler) String() string {
	var b strings.Builder
	for _, l := range []struct {
		name string
		seqs []*Seq
	}{{"running", s.running}, {"waiting", s.waiting}} {
		fmt.Fprintf(&b, "%s:", l.name)
		for _, q := range l.seqs {
			fmt.Fprintf(&b, " [%d len %d cached %d pages %d prefilled %v blocked %v]", q.ID, q.Len, q.Cached, q.Pages, q.Prefilled, q.Blocked)
		}
		b.WriteString("; ")
	}
	return b.String()
}

// pagesFor is the number of pages needed to hold n tokens.
func (s *Scheduler) pagesFor(n int) int { return (n + s.cfg.PageSize - 1) / s.cfg.PageSize }

// Memory is what Next needs of the KV pool.
type Memory interface {
	// Available is the number of pages that can be allocated now (free, or
	// held only by an evictable cache).
	Available() int
	// Release frees q's pages (pages other sequences share stay held) and
	// drops its prefix-cache hold; Next then sets q.Cached and q.Pages to 0.
	Release(q *Seq)
}

// Next plans one step. Sequences in the plan's Retract list have been
// released through mem and moved to the waiting queue with Cached = 0 and
// Pages = 0; the caller allocates the plan's Pages next.
func (s *Scheduler) Next(mem Memory) Plan {
	var freed []*Seq
	for {
		p := s.plan(mem, freed)
		p.Retract = append(freed, p.Retract...)
		if p.Tokens() > 0 || !s.Runnable() {
			return p
		}
		// Stuck on pages: free the newest holder and plan again.
		v := s.unstick()
		if v == nil {
			return p
		}
		s.release(mem, v)
		freed = append(p.Retract, v)
	}
}

// plan is one planning pass; it retracts running sequences only to fit the
// decode rows. Sequences in skip were just released and are not admitted.
func (s *Scheduler) plan(mem Memory, skip []*Seq) Plan {
	p := Plan{Pages: map[uint64]int{}}
	// 1. decode rows, retracting the newest until they fit
	for {
		need := 0
		for _, q := range s.running {
			if q.Prefilled {
				need += max(0, s.pagesFor(q.Cached+1)-q.Pages)
			}
		}
		if need <= mem.Available() || len(s.running) <= 1 {
			break
		}
		victim := s.newestRunning()
		s.release(mem, victim)
		p.Retract = append(p.Retract, victim)
	}
	available := mem.Available()
	budget := s.cfg.StepTokens
	for _, q := range s.running {
		if !q.Prefilled || budget == 0 {
			continue
		}
		n := max(0, s.pagesFor(q.Cached+1)-q.Pages)
		if n > available {
			continue
		}
		available -= n
		p.Pages[q.ID] = n
		p.Decode = append(p.Decode, q)
		budget--
	}
	// 2. prefill: running sequences mid-prompt first, then the queue
	for _, q := range s.running {
		if q.Prefilled {
			continue
		}
		budget, available = s.chunk(&p, q, budget, available)
	}
	// A step that had to retract admits nobody: memory is short.
	for i := 0; len(p.Retract) == 0 && i < len(s.waiting) && budget > 0 && len(s.running) < s.cfg.MaxRunning; {
		q := s.waiting[i]
		if q.Blocked || slices.Contains(skip, q) {
			i++
			continue
		}
		before := len(p.Prefill)
		budget, available = s.chunk(&p, q, budget, available)
		if len(p.Prefill) == before {
			break // FCFS: the first ready sequence does not fit, so nothing behind it goes first
		}
		s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
		s.running = append(s.running, q)
	}
	return p
}

// chunk plans the next prefill chunk of q within the budget and pages.
func (s *Scheduler) chunk(p *Plan, q *Seq, budget, available int) (int, int) {
	ext := q.Extend()
	if ext <= 0 || budget <= 0 {
		return budget, available
	}
	n := ext
	if n > budget {
		switch {
		case s.cfg.ChunkPrefill:
			n = budget
		case len(p.Prefill) > 0:
			return budget, available // whole prompts only: an oversized one goes alone
		}
	}
	// pages: shrink the chunk to what can be allocated
	for n > 0 && max(0, s.pagesFor(q.Cached+n)-q.Pages) > available {
		if !s.cfg.ChunkPrefill {
			return budget, available
		}
		n = (s.pagesFor(q.Cached+n)-1)*s.cfg.PageSize - q.Cached
	}
	if n <= 0 {
		return budget, available
	}
	need := max(0, s.pagesFor(q.Cached+n)-q.Pages)
	p.Pages[q.ID] = need
	p.Prefill = append(p.Prefill, Chunk{Seq: q, From: q.Cached, To: q.Cached + n})
	return max(0, budget-n), available - need
}

// unstick picks the sequence whose pages to free when no progress is
// possible: the newest running sequence when more than one runs, otherwise
// the newest waiting sequence holding pages that is not the first ready one
// (that one is who the pages are freed for).
func (s *Scheduler) unstick() *Seq {
	if len(s.running) > 1 {
		return s.newestRunning()
	}
	first := true
	var v *Seq
	for _, q := range s.waiting {
		if !q.Blocked && first && len(s.running) == 0 {
			first = false
			continue
		}
		if q.Pages > 0 && (v == nil || q.Arrival > v.Arrival) {
			v = q
		}
	}
	return v
}

func (s *Scheduler) newestRunning() *Seq {
	var v *Seq
	for _, q := range s.running {
		if v == nil || q.Arrival > v.Arrival {
			v = q
		}
	}
	return v
}

// release frees q's pages; a running q goes back to the head of the queue.
func (s *Scheduler) release(mem Memory, q *Seq) {
	mem.Release(q)
	q.Cached, q.Pages, q.Prefilled = 0, 0, false
	for _, r := range s.running {
		if r == q {
			s.running = drop(s.running, q.ID)
			s.waiting = append([]*Seq{q}, s.waiting...)
			return
		}
	}
}

// Commit records that a plan ran: chunks and decode rows are cached and the
// new pages are held. Prefill chunks that reach Len mark the sequence prefilled.
func (s *Scheduler) Commit(p Plan) {
	for _, q := range p.Decode {
		q.Cached++
		q.Pages += p.Pages[q.ID]
	}
	for _, c := range p.Prefill {
		c.Seq.Cached = c.To
		c.Seq.Pages += p.Pages[c.Seq.ID]
		if c.To == c.Seq.Len {
			c.Seq.Prefilled = true
		}
	}
}
