package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool runs a job on n threads: the caller is thread 0 and n−1 goroutines are
// the others. Idle workers spin briefly (a decode step issues hundreds of
// small ops back to back) and then park on a channel.
type pool struct {
	n        int
	mu       sync.Mutex // one job at a time
	job      func(tid int)
	gen      atomic.Uint64
	pending  atomic.Int32
	sleeping []atomic.Bool
	wake     []chan struct{}
	quit     chan struct{}
}

const spinFor = 50 * time.Microsecond

func newPool(n int) *pool {
	p := &pool{n: n, sleeping: make([]atomic.Bool, n), wake: make([]chan struct{}, n), quit: make(chan struct{})}
	for t := 1; t < n; t++ {
		p.wake[t] = make(chan struct{}, 1)
		go p.worker(t)
	}
	return p
}

func (p *pool) worker(tid int) {
	var last uint64 // the generation at creation: a job posted before this goroutine runs is still seen
	for {
		start := time.Now()
		for spins := 0; p.gen.Load() == last; spins++ {
			if spins%256 != 255 || time.Since(start) < spinFor {
				continue
			}
			p.sleeping[tid].Store(true)
			if p.gen.Load() == last {
				select {
				case <-p.wake[tid]:
				case <-p.quit:
					return
				}
			}
			p.sleeping[tid].Store(false)
			start = time.Now()
		}
		last = p.gen.Load()
		p.job(tid)
		p.pending.Add(-1)
	}
}

// run calls job(tid) for tid in [0, threads) and returns when all are done.
// threads is capped at the pool size; 1 runs inline. Jobs are serialised, so
// per-thread scratch indexed by tid is never shared by concurrent callers.
func (p *pool) run(threads int, job func(tid int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if threads <= 1 || p.n <= 1 {
		job(0)
		return
	}
	threads = min(threads, p.n)
	p.job = func(tid int) {
		if tid < threads {
			job(tid)
		}
	}
	p.pending.Store(int32(p.n - 1))
	p.gen.Add(1)
	for t := 1; t < p.n; t++ {
		if p.sleeping[t].Load() {
			select {
			case p.wake[t] <- struct{}{}:
			default:
			}
		}
	}
	job(0)
	for spins := 0; p.pending.Load() != 0; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
}

func (p *pool) close() { close(p.quit) }

// split returns the half-open range of [0, n) that thread tid of t owns.
func split(n, t, tid int) (int, int) {
	q, r := n/t, n%t
	lo := tid*q + min(tid, r)
	hi := lo + q
	if tid < r {
		hi++
	}
	return lo, hi
}
