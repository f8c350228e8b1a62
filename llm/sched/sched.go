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
// pages last. When decoding needs more pages than are available, the most
// recently arrived running sequences are retracted: their pages are freed
// and they rejoin the queue at its head to be recomputed later — never lost.
package sched

import "fmt"

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
	// Atomic ranges [start, end) that one chunk must not split (non-causal
	// media spans); nil for causal-only prompts.
	Atomic [][2]int
}

// Extend is the number of tokens still to compute.
func (s *Seq) Extend() int { return s.Len - s.Cached }

// Config bounds a step.
type Config struct {
	PageSize     int
	MaxRunning   int // sequences holding pages at once
	StepTokens   int // tokens computed per step (decode rows + prefill chunk rows); ≥ 1
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

// Running and Waiting report the list sizes.
func (s *Scheduler) Running() int { return len(s.running) }
func (s *Scheduler) Waiting() int { return len(s.waiting) }

// pagesFor is the number of pages needed to hold n tokens.
func (s *Scheduler) pagesFor(n int) int { return (n + s.cfg.PageSize - 1) / s.cfg.PageSize }

// Next plans one step given the number of pages that can be allocated.
// Retracted sequences are moved to the waiting queue with Cached = 0 and
// Pages = 0: the caller frees their pages before allocating the plan's.
func (s *Scheduler) Next(available int) Plan {
	p := Plan{Pages: map[uint64]int{}}
	// 1. decode rows, retracting the newest until they fit
	for {
		need := 0
		for _, q := range s.running {
			if q.Prefilled {
				need += max(0, s.pagesFor(q.Cached+1)-q.Pages)
			}
		}
		if need <= available {
			break
		}
		victim := s.newestRunning()
		if victim == nil {
			break
		}
		available += victim.Pages
		s.retract(victim)
		p.Retract = append(p.Retract, victim)
	}
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
	for len(p.Retract) == 0 && len(s.waiting) > 0 && budget > 0 && len(s.running) < s.cfg.MaxRunning {
		q := s.waiting[0]
		before := len(p.Prefill)
		budget, available = s.chunk(&p, q, budget, available)
		if len(p.Prefill) == before {
			break // FCFS: the head does not fit, so nothing behind it goes first
		}
		s.waiting = s.waiting[1:]
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
		if !s.cfg.ChunkPrefill {
			return budget, available
		}
		n = budget
	}
	// pages: shrink the chunk to what can be allocated
	for n > 0 && max(0, s.pagesFor(q.Cached+n)-q.Pages) > available {
		n = (s.pagesFor(q.Cached+n)-1)*s.cfg.PageSize - q.Cached
		if !s.cfg.ChunkPrefill && n < ext {
			return budget, available
		}
	}
	n = s.respectAtomic(q, n)
	if n <= 0 {
		return budget, available
	}
	need := max(0, s.pagesFor(q.Cached+n)-q.Pages)
	p.Pages[q.ID] = need
	p.Prefill = append(p.Prefill, Chunk{Seq: q, From: q.Cached, To: q.Cached + n})
	return budget - n, available - need
}

// respectAtomic shortens a chunk so that it does not end inside an atomic range.
func (s *Scheduler) respectAtomic(q *Seq, n int) int {
	end := q.Cached + n
	for _, r := range q.Atomic {
		if r[0] < end && end < r[1] && r[0] >= q.Cached {
			return r[0] - q.Cached
		}
	}
	return n
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

func (s *Scheduler) retract(q *Seq) {
	s.running = drop(s.running, q.ID)
	q.Cached, q.Pages, q.Prefilled = 0, 0, false
	s.waiting = append([]*Seq{q}, s.waiting...)
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
