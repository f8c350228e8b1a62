// Package arbiter shares one compute backend between the latency-critical
// decode step (the foreground) and background work such as vision and audio
// encoding, so that a large image never freezes the token streams of other
// requests.
//
// Both sides use all of the backend's threads, one at a time:
//
//   - The engine holds a foreground turn for a whole forward step.
//   - Background work goes through a wrapped backend (Background) whose every
//     op takes a background turn. Large MatMul and dense Attention calls are
//     cut into row blocks of about BlockFLOPs each (at least 512 rows for
//     MatMul, 64 query rows for Attention, so the kernels keep their
//     efficient paths), so no single turn is long; every kernel reduces each
//     row independently of the others, so the results are bit-identical to
//     the uncut call.
//   - While both want the backend, the background may keep taking turns for
//     Share/(1−Share) times the length of the last foreground step (by default
//     as long as the step itself); after that a waiting foreground goes next.
//
// So a decode step waits at most one background block beyond its share, and
// the encoder still progresses while streams decode.
package arbiter

import (
	"sync"
	"time"

	"github.com/sightline/sightline/llm/tensor"
)

// Config tunes an Arbiter. Zero fields take the defaults.
type Config struct {
	// Share is the fraction of backend time background work gets while the
	// foreground also wants it, in (0, 1). Default 0.5.
	Share float64
	// BlockFLOPs bounds the work of one background MatMul or Attention turn.
	// Default 2e9 (tens of milliseconds on a CPU).
	BlockFLOPs float64
}

// Arbiter hands out turns on one backend. Safe for concurrent use.
//
// Waiting conditions depend only on state changed under mu with a
// Broadcast, never on the clock alone: a time-based condition would leave a
// waiter asleep when it turned true with nobody to wake it.
type Arbiter struct {
	cfg  Config
	mu   sync.Mutex
	cond *sync.Cond
	busy bool
	// fgWaiting and bgWaiting count callers blocked for a turn.
	fgWaiting, bgWaiting int
	// owed: the background still has time left (until bgUntil) from its
	// share after the last foreground turn; a waiting foreground lets it go first.
	owed    bool
	bgUntil time.Time
	stats   Stats
}

// Stats are cumulative turn times.
type Stats struct {
	Foreground, Background time.Duration
	// MaxForegroundWait is the longest a foreground turn waited.
	MaxForegroundWait time.Duration
}

// New returns an arbiter.
func New(cfg Config) *Arbiter {
	if cfg.Share <= 0 || cfg.Share >= 1 {
		cfg.Share = 0.5
	}
	if cfg.BlockFLOPs <= 0 {
		cfg.BlockFLOPs = 2e9
	}
	a := &Arbiter{cfg: cfg}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// Stats returns the cumulative turn times.
func (a *Arbiter) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// expire ends the background's share once its time is up (mu held).
func (a *Arbiter) expire(now time.Time) {
	if a.owed && !now.Before(a.bgUntil) {
		a.owed = false
		a.cond.Broadcast()
	}
}

// Foreground blocks until the caller may use the backend and returns the
// function that ends the turn.
func (a *Arbiter) Foreground() (release func()) {
	a.mu.Lock()
	t0 := time.Now()
	a.fgWaiting++
	for a.busy || (a.bgWaiting > 0 && a.owed) {
		a.cond.Wait()
	}
	a.fgWaiting--
	a.busy = true
	start := time.Now()
	a.stats.MaxForegroundWait = max(a.stats.MaxForegroundWait, start.Sub(t0))
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		now := time.Now()
		held := now.Sub(start)
		a.stats.Foreground += held
		a.bgUntil = now.Add(time.Duration(float64(held) * a.cfg.Share / (1 - a.cfg.Share)))
		a.owed = true
		a.busy = false
		a.mu.Unlock()
		a.cond.Broadcast()
	}
}

// background runs f in a background turn.
func (a *Arbiter) background(f func() error) error {
	a.mu.Lock()
	a.bgWaiting++
	for {
		a.expire(time.Now())
		if !a.busy && (a.fgWaiting == 0 || a.owed) {
			break
		}
		a.cond.Wait()
	}
	a.bgWaiting--
	a.busy = true
	a.mu.Unlock()
	start := time.Now()
	err := f()
	a.mu.Lock()
	now := time.Now()
	a.stats.Background += now.Sub(start)
	a.busy = false
	a.expire(now)
	a.mu.Unlock()
	a.cond.Broadcast()
	return err
}

// Background wraps be so that each op takes a background turn. Close on the
// wrapper does nothing: whoever opened be closes it.
func (a *Arbiter) Background(be tensor.Backend) tensor.Backend {
	return &backend{a: a, be: be}
}

var _ tensor.Backend = (*backend)(nil)
