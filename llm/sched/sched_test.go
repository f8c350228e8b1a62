package sched

import (
	"math/rand/v2"
	"testing"
)

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
	p := s.Next(100)
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
	p = s.Next(100)
	if len(p.Decode) != 1 || p.Decode[0] != a || len(p.Prefill) != 1 || p.Prefill[0].From != 3 || p.Prefill[0].To != 12 {
		t.Fatalf("step 2: decode %v prefill %+v", p.Decode, p.Prefill)
	}
	if p.Pages[1] != 0 || p.Tokens() != 10 {
		t.Fatalf("step 2 pages %v tokens %d", p.Pages, p.Tokens())
	}
}

func TestNoChunkingWaitsForBudget(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 10})
	s.Add(&Seq{ID: 1, Arrival: 1, Len: 12})
	if p := s.Next(100); len(p.Prefill) != 0 {
		t.Fatalf("a 12-token prompt does not fit a 10-token step without chunking: %+v", p.Prefill)
	}
}

func TestFCFSAndMaxRunning(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 2, StepTokens: 100, ChunkPrefill: true})
	for i := 1; i <= 4; i++ {
		s.Add(&Seq{ID: uint64(i), Arrival: int64(i), Len: 5})
	}
	p := s.Next(100)
	if len(p.Prefill) != 2 || p.Prefill[0].Seq.ID != 1 || p.Prefill[1].Seq.ID != 2 || s.Waiting() != 2 {
		t.Fatalf("admitted %+v waiting %d", p.Prefill, s.Waiting())
	}
	// pages for only a partial chunk of the head: the head still goes first
	s2 := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 100, ChunkPrefill: true})
	s2.Add(&Seq{ID: 1, Arrival: 1, Len: 30})
	s2.Add(&Seq{ID: 2, Arrival: 2, Len: 3})
	p = s2.Next(2)
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
	p := s.Next(4)
	s.Commit(p)
	a.Len++
	b.Len++
	// both need a third page to decode; only one is available: b (newest) is retracted
	p = s.Next(1)
	if len(p.Retract) != 1 || p.Retract[0] != b || len(p.Decode) != 1 || p.Decode[0] != a {
		t.Fatalf("retract %v decode %v", p.Retract, p.Decode)
	}
	if b.Cached != 0 || b.Pages != 0 || b.Prefilled || s.Waiting() != 1 || b.Len != 5 {
		t.Fatalf("retracted b = %+v", b)
	}
	s.Commit(p)
	// once a finishes, b is recomputed from scratch including its generated token
	s.Remove(a.ID)
	p = s.Next(10)
	if len(p.Prefill) != 1 || p.Prefill[0].Seq != b || p.Prefill[0].From != 0 || p.Prefill[0].To != 5 {
		t.Fatalf("resume %+v", p.Prefill)
	}
}

func TestAtomicSpansAreNotSplit(t *testing.T) {
	s := newSched(t, Config{PageSize: 4, MaxRunning: 8, StepTokens: 10, ChunkPrefill: true})
	q := &Seq{ID: 1, Arrival: 1, Len: 30, Atomic: [][2]int{{6, 14}}}
	s.Add(q)
	p := s.Next(100)
	if len(p.Prefill) != 1 || p.Prefill[0].To != 6 {
		t.Fatalf("chunk %+v must stop before the span", p.Prefill)
	}
	s.Commit(p)
	p = s.Next(100)
	if p.Prefill[0].From != 6 || p.Prefill[0].To != 16 {
		t.Fatalf("second chunk %+v must hold the whole span", p.Prefill)
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
		p := s.Next(pool - held)
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
