package sched

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// countMem is a Memory where each sequence's pages are its own.
type countMem struct{ free int }

func (m *countMem) Available() int { return m.free }
func (m *countMem) Release(q *Seq) { m.free += q.Pages }

func mem(free int) *countMem { return &countMem{free} }

func newSched(t *testing.T, cfg Config) *Scheduler {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChunkedPrefillMixesWithDecode(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 10, ChunkPrefill: true})
	a := &Seq{ID: 1, Arrival: 1, Len: 7}
	b := &Seq{ID: 2, Arrival: 2, Len: 20}
	s.Add(a)
	s.Add(b)
	p := s.Next(mem(100))
	// a is prefilled whole (7), b gets the remaining 3 tokens of the budget
	if len(p.Decode) != 0 || len(p.Prefill) != 2 || p.Prefill[0].To != 7 || p.Prefill[1].From != 0 || p.Prefill[1].To != 3 {
		t.Fatalf("step 1: %+v", p.Prefill)
	}
	if p.Pages[1] != 2 || p.Pages[2] != 1 {
		t.Fatalf("pages %v", p.Pages)
	}
	s.Commit(p)
	if !a.Prefilled || b.Prefilled || a.Cached != 7 || b.Cached != 3 {
		t.Fatalf("after commit a=%+v b=%+v", a, b)
	}
	a.Len++ // the engine sampled a's first token
	p = s.Next(mem(100))
	if len(p.Decode) != 1 || p.Decode[0] != a || len(p.Prefill) != 1 || p.Prefill[0].From != 3 || p.Prefill[0].To != 12 {
		t.Fatalf("step 2: decode %v prefill %+v", p.Decode, p.Prefill)
	}
	if p.Pages[1] != 0 || p.Tokens() != 10 {
		t.Fatalf("step 2 pages %v tokens %d", p.Pages, p.Tokens())
	}
}

func TestNoChunkingPrefillsWholePrompts(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 10})
	s.Add(&Seq{ID: 1, Arrival: 1, Len: 6})
	s.Add(&Seq{ID: 2, Arrival: 2, Len: 12})
	p := s.Next(mem(100))
	if len(p.Prefill) != 1 || p.Prefill[0].To != 6 {
		t.Fatalf("without chunking the 12-token prompt waits for a step of its own: %+v", p.Prefill)
	}
	s.Commit(p)
	p = s.Next(mem(100))
	if len(p.Prefill) != 1 || p.Prefill[0].From != 0 || p.Prefill[0].To != 12 {
		t.Fatalf("an oversized prompt goes whole and alone: %+v", p.Prefill)
	}
}

func TestChunkMaySplitAnywhere(t *testing.T) {
	// A 600-row media span with a 512-token budget: two chunks, no stall.
	s := newSched(t, Config{PageSize: 16, MaxRunning: 8, StepTokens: 512, ChunkPrefill: true})
	q := &Seq{ID: 1, Arrival: 1, Len: 600}
	s.Add(q)
	p := s.Next(mem(1000))
	if p.Tokens() != 512 {
		t.Fatalf("first chunk %+v", p.Prefill)
	}
	s.Commit(p)
	p = s.Next(mem(1000))
	if len(p.Prefill) != 1 || p.Prefill[0].From != 512 || p.Prefill[0].To != 600 {
		t.Fatalf("second chunk %+v", p.Prefill)
	}
}

func TestBlockedSequencesAreSkipped(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 100, ChunkPrefill: true})
	a := &Seq{ID: 1, Arrival: 1, Len: 8, Blocked: true}
	b := &Seq{ID: 2, Arrival: 2, Len: 8}
	s.Add(a)
	s.Add(b)
	p := s.Next(mem(100))
	if len(p.Prefill) != 1 || p.Prefill[0].Seq != b {
		t.Fatalf("the ready sequence goes past the blocked one: %+v", p.Prefill)
	}
	s.Commit(p)
	b.Len++
	if !s.Runnable() {
		t.Fatal("b decodes")
	}
	s.Remove(b.ID)
	if s.Runnable() {
		t.Fatal("only a blocked sequence is left")
	}
	a.Blocked = false
	if p = s.Next(mem(100)); len(p.Prefill) != 1 || p.Prefill[0].Seq != a {
		t.Fatalf("unblocked a: %+v", p.Prefill)
	}
}

func TestWaitingHoldsAreDropped(t *testing.T) {
	// b waits holding 3 cached pages; a needs the whole 4-page pool.
	s := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 100, ChunkPrefill: true})
	a := &Seq{ID: 1, Arrival: 1, Len: 16}
	b := &Seq{ID: 2, Arrival: 2, Len: 14, Cached: 12, Pages: 3, Blocked: true}
	s.Add(a)
	s.Add(b)
	var retracted []*Seq
	for step := 0; !a.Prefilled; step++ {
		if step > 10 {
			t.Fatalf("a never finishes its prefill (a=%+v b=%+v)", a, b)
		}
		p := s.Next(mem(4 - a.Pages - b.Pages))
		if p.Tokens() == 0 {
			t.Fatalf("step %d: no progress", step)
		}
		retracted = append(retracted, p.Retract...)
		s.Commit(p)
	}
	if len(retracted) != 1 || retracted[0] != b || b.Pages != 0 || b.Cached != 0 {
		t.Fatalf("retracted %v, b %+v", retracted, b)
	}
}

func TestFCFSAndMaxRunning(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 2, StepTokens: 100, ChunkPrefill: true})
	for i := 1; i <= 4; i++ {
		s.Add(&Seq{ID: uint64(i), Arrival: int64(i), Len: 5})
	}
	p := s.Next(mem(100))
	if len(p.Prefill) != 2 || p.Prefill[0].Seq.ID != 1 || p.Prefill[1].Seq.ID != 2 || s.Waiting() != 2 {
		t.Fatalf("admitted %+v waiting %d", p.Prefill, s.Waiting())
	}
	// pages for only a partial chunk of the head: the head still goes first
	s2 := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 100, ChunkPrefill: true})
	s2.Add(&Seq{ID: 1, Arrival: 1, Len: 30})
	s2.Add(&Seq{ID: 2, Arrival: 2, Len: 3})
	p = s2.Next(mem(2))
	if len(p.Prefill) != 1 || p.Prefill[0].Seq.ID != 1 || p.Prefill[0].To != 8 {
		t.Fatalf("page-limited: %+v", p.Prefill)
	}
}

func TestRetractionWhenPagesRunOut(t *testing.T) {
	s := newSched(t, Config{PageSize: 2, MaxRunning: 8, StepTokens: 100, ChunkPrefill: true})
	a := &Seq{ID: 1, Arrival: 1, Len: 4}
	b := &Seq{ID: 2, Arrival: 2, Len: 4}
	s.Add(a)
	s.Add(b)
	p := s.Next(mem(4))
	s.Commit(p)
	a.Len++
	b.Len++
	// both need a third page to decode; only one is available: b (newest) is retracted
	p = s.Next(mem(1))
	if len(p.Retract) != 1 || p.Retract[0] != b || len(p.Decode) != 1 || p.Decode[0] != a {
		t.Fatalf("retract %v decode %v", p.Retract, p.Decode)
	}
	if b.Cached != 0 || b.Pages != 0 || b.Prefilled || s.Waiting() != 1 || b.Len != 5 {
		t.Fatalf("retracted b = %+v", b)
	}
	s.Commit(p)
	// once a finishes, b is recomputed from scratch including its generated token
	s.Remove(a.ID)
	p = s.Next(mem(10))
	if len(p.Prefill) != 1 || p.Prefill[0].Seq != b || p.Prefill[0].From != 0 || p.Prefill[0].To != 5 {
		t.Fatalf("resume %+v", p.Prefill)
	}
}

// TestRandomizedConservation: under random arrivals, tiny page budgets and
// random finishes, every sequence eventually completes, pages held never
// exceed the pool, and no step exceeds its token budget.
func TestRandomizedConservation(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	const pool = 12
	s := newSched(t, Config{PageSize: 4, MaxRunning: 5, StepTokens: 16, ChunkPrefill: true})
	target := map[uint64]int{}
	held := 0
	var id uint64
	done := 0
	for step := 0; step < 5000 && done < 60; step++ {
		if id < 60 && r.IntN(3) == 0 {
			id++
			n := 1 + r.IntN(20)
			target[id] = n + 1 + r.IntN(8)
			s.Add(&Seq{ID: id, Arrival: int64(id), Len: n})
		}
		p := s.Next(mem(pool - held))
		for _, q := range p.Retract {
			_ = q
		}
		held = 0
		if p.Tokens() > 16 {
			t.Fatalf("step %d computes %d tokens", step, p.Tokens())
		}
		s.Commit(p)
		for _, q := range append(append([]*Seq{}, s.running...), s.waiting...) {
			held += q.Pages
		}
		if held > pool {
			t.Fatalf("step %d holds %d pages of %d", step, held, pool)
		}
		for _, q := range append([]*Seq{}, s.running...) {
			if q.Prefilled && q.Cached == q.Len {
				if q.Len >= target[q.ID] {
					held -= q.Pages
					s.Remove(q.ID)
					done++
					continue
				}
				q.Len++ // sampled a token
			}
		}
	}
	if done != 60 {
		t.Fatalf("only %d of 60 sequences finished (running %d, waiting %d)", done, s.Running(), s.Waiting())
	}
}

// refMem is a Memory with reference-counted pages: sequences that share a
// prefix-cache hit hold the same pages, so releasing one frees only the
// pages nobody else holds.
type refMem struct {
	pool int
	refs map[int]int      // page → holders
	held map[uint64][]int // sequence → pages in order
	next int
}

func newRefMem(pool int) *refMem {
	return &refMem{pool: pool, refs: map[int]int{}, held: map[uint64][]int{}}
}

func (m *refMem) Available() int { return m.pool - len(m.refs) }

func (m *refMem) Release(q *Seq) {
	for _, pg := range m.held[q.ID] {
		if m.refs[pg]--; m.refs[pg] == 0 {
			delete(m.refs, pg)
		}
	}
	delete(m.held, q.ID)
}

func (m *refMem) alloc(id uint64, n int) {
	for i := 0; i < n; i++ {
		m.next++
		m.refs[m.next] = 1
		m.held[id] = append(m.held[id], m.next)
	}
}

// share makes id hold the first n pages of from.
func (m *refMem) share(id, from uint64, n int) {
	for _, pg := range m.held[from][:n] {
		m.refs[pg]++
		m.held[id] = append(m.held[id], pg)
	}
}

// TestProgressProperty drives random workloads — random prompt lengths
// (media spans are just prompt rows to the scheduler), budgets, page sizes,
// pool sizes, concurrency, blocked (encoding) sequences and shared
// prefix-cache holds — and checks the invariant every step: when there is
// runnable work, the plan computes at least one token, within the budget,
// with pages that can really be allocated. Every sequence must finish.
func TestProgressProperty(t *testing.T) {
	for trial := 0; trial < 500; trial++ {
		r := rand.New(rand.NewPCG(uint64(trial), 42))
		cfg := Config{PageSize: 1 + r.IntN(16), MaxRunning: 1 + r.IntN(8), StepTokens: 1 + r.IntN(64), ChunkPrefill: r.IntN(4) != 0}
		pool := 2 + r.IntN(40)
		name := fmt.Sprintf("trial %d (%+v, pool %d)", trial, cfg, pool)
		s := newSched(t, cfg)
		m := newRefMem(pool)
		capTokens := pool * cfg.PageSize
		n := 1 + r.IntN(12)
		target := map[uint64]int{}
		var all []*Seq
		added, done := 0, 0
		for step := 0; done < n; step++ {
			if step > 20000 {
				t.Fatalf("%s: %d of %d finished after %d steps", name, done, n, step)
			}
			if added < n && r.IntN(3) == 0 {
				added++
				total := 2 + r.IntN(capTokens-1) // prompt + output ≤ the pool
				plen := 1 + r.IntN(total-1)
				q := &Seq{ID: uint64(added), Arrival: int64(added), Len: plen, Blocked: r.IntN(3) == 0}
				// a prefix-cache hit: share the first pages another sequence holds
				if len(all) > 0 && r.IntN(2) == 0 {
					from := all[r.IntN(len(all))]
					hit := min(len(m.held[from.ID]), (plen-1)/cfg.PageSize, from.Cached/cfg.PageSize)
					if hit > 0 {
						m.share(q.ID, from.ID, hit)
						q.Cached, q.Pages = hit*cfg.PageSize, hit
					}
				}
				target[q.ID] = total
				all = append(all, q)
				s.Add(q)
			}
			for _, q := range all {
				if q.Blocked && r.IntN(4) == 0 {
					q.Blocked = false
				}
			}
			runnable := s.Runnable()
			p := s.Next(m)
			if runnable && p.Tokens() == 0 {
				t.Fatalf("%s step %d: runnable work but an empty plan", name, step)
			}
			alone := len(p.Prefill) == 1 && !cfg.ChunkPrefill
			if p.Tokens() > cfg.StepTokens && !alone {
				t.Fatalf("%s step %d: %d tokens over a budget of %d", name, step, p.Tokens(), cfg.StepTokens)
			}
			if need := p.NewPages(); need > m.Available() {
				t.Fatalf("%s step %d: the plan needs %d pages, %d can be allocated", name, step, need, m.Available())
			}
			for id, k := range p.Pages {
				m.alloc(id, k)
			}
			s.Commit(p)
			for _, q := range all {
				if q.Pages != len(m.held[q.ID]) || q.Pages < s.pagesFor(q.Cached) {
					t.Fatalf("%s step %d: seq %d caches %d tokens in %d pages (memory has %d)", name, step, q.ID, q.Cached, q.Pages, len(m.held[q.ID]))
				}
			}
			for _, q := range append([]*Seq{}, s.running...) {
				if q.Prefilled && q.Cached == q.Len {
					if q.Len >= target[q.ID] {
						s.Remove(q.ID)
						m.Release(q)
						all = dropSeq(all, q)
						done++
						continue
					}
					q.Len++
				}
			}
		}
	}
}

func dropSeq(l []*Seq, q *Seq) []*Seq {
	for i, x := range l {
		if x == q {
			return append(l[:i], l[i+1:]...)
		}
	}
	return l
}
