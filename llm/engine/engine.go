// Package engine is the serving core: one goroutine owns every running
// sequence, the KV pool and the prefix cache, and runs one batched forward
// pass per step over all of them (prefill chunks and decode tokens mixed).
// Requests arrive through Submit and leave as a stream of Events.
//
// Lifecycle of a request:
//
//  1. Submit validates it and hands it to the loop.
//  2. Admission matches its prompt keys in the prefix cache (locking and
//     retaining the hit's pages) and queues it in the scheduler.
//  3. Each step: sched.Next plans decode rows and prefill chunks within the
//     token budget and free pages (retracting the newest sequences when
//     pages run out); media spans overlapping a chunk are embedded; one
//     Model.Forward runs the batch; rows that end a prompt or decode a token
//     are sampled; stop conditions are checked; new text is streamed.
//  4. After each prefill chunk and at the end, the sequence's full pages are
//     inserted into the prefix cache; at the end its pages are released.
//
// Outputs are batch-invariant: every kernel reduces each row in a fixed
// order, so a request's logits are bit-identical alone or in any batch.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/sched"
)

// Errors returned by Submit.
var (
	ErrQueueFull = errors.New("engine: queue is full")
	ErrTooLong   = errors.New("engine: prompt too long")
	ErrClosed    = errors.New("engine: shut down")
	ErrInvalid   = errors.New("engine: invalid request")
)

// Embedder fills Span.Embeds of spans from their features (encoders.Set).
type Embedder interface {
	Embed(ctx context.Context, spans []*input.Span) error
}

// Detokenizer makes output text streams (launch adapts *tokenizer.Tokenizer).
type Detokenizer interface {
	NewStream(skipSpecial, spacesBetweenSpecial bool) TextStream
}

// TextStream turns ids into text incrementally (never a partial UTF-8 character).
type TextStream interface {
	Prime(ids []int32)
	Add(id int32) string
	Flush() string
}

// Config tunes the engine.
type Config struct {
	PageSize   int  // KV page size in tokens (default 16)
	MaxRunning int  // sequences decoding at once (default 64)
	StepTokens int  // tokens per step: --chunked-prefill-size (default 512)
	NoChunking bool // prefill whole prompts (chunked-prefill-size -1)
	ContextLen int  // default: the model's max positions
	MaxQueued  int  // waiting requests beyond which Submit fails (0: unlimited)
	Seed       uint64
	EOS        []int32 // end-of-generation ids (model and tokenizer)
	Logger     *slog.Logger
	// Turns, when set, arbitrates the backend between forward steps and
	// background media encoding (see Turns).
	Turns Turns
}

func (c *Config) defaults(m *model.Config) {
	if c.PageSize <= 0 {
		c.PageSize = 16
	}
	if c.MaxRunning <= 0 {
		c.MaxRunning = 64
	}
	if c.StepTokens <= 0 {
		c.StepTokens = 512
	}
	if c.ContextLen <= 0 {
		c.ContextLen = m.MaxPos
		if c.ContextLen <= 0 {
			c.ContextLen = 4096
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Engine runs the step loop.
type Engine struct {
	cfg   Config
	m     model.Model
	kv    *kvcache.Pool
	pc    prefix.Cache
	tok   Detokenizer
	emb   Embedder
	sched *sched.Scheduler

	submit chan *seq
	ctrl   chan func()
	done   chan struct{}
	closed atomic.Bool
	runCtx context.Context // Run's context: media encoding stops with it
	enc    encoder         // loop-owned, but for its channels

	// loop-owned state
	seqs    map[uint64]*seq
	held    []*seq // waiting for their leader's prefill (n > 1 siblings)
	drain   []*seq // finished, with events still to deliver
	nextID  uint64
	arrival int64

	scratch sample.Scratch // sampler buffers shared by every sequence (loop-owned)
	stats   Stats
}

// Stats are counters and gauges for metrics and /get_server_info.
type Stats struct {
	Running, Waiting atomic.Int64 // in the loop: running, queued (incl. n>1 followers)
	Submitted        atomic.Int64 // handed to Submit, not yet taken by the loop
	TotalPages       atomic.Int64
	// UsedTokens counts the KV held by running and queued requests (pages ×
	// page size); CachedOnlyTokens the evictable prefix-cache pages no
	// request holds, which are free capacity in all but name.
	UsedTokens, CachedOnlyTokens atomic.Int64
	PromptTokens, GenTokens      atomic.Int64
	CachedTokens                 atomic.Int64
	Requests, Retractions        atomic.Int64
	Steps                        atomic.Int64
	LastGenThroughput            atomic.Uint64 // tokens/s of recent steps, float64 bits
}

// New builds an engine. The pool must fit the model; pc may be prefix.NewNone.
func New(m model.Model, kv *kvcache.Pool, pc prefix.Cache, tok Detokenizer, emb Embedder, cfg Config) (*Engine, error) {
	mc := m.Config()
	cfg.defaults(mc)
	if kv.PageSize != cfg.PageSize || pc.PageSize() != cfg.PageSize {
		return nil, fmt.Errorf("engine: page sizes differ (pool %d, cache %d, config %d)", kv.PageSize, pc.PageSize(), cfg.PageSize)
	}
	s, err := sched.New(sched.Config{PageSize: cfg.PageSize, MaxRunning: cfg.MaxRunning, StepTokens: cfg.StepTokens, ChunkPrefill: !cfg.NoChunking})
	if err != nil {
		return nil, err
	}
	if capTokens := kv.Pages * kv.PageSize; cfg.ContextLen > capTokens {
		cfg.Logger.Warn("the KV cache is smaller than the context window: requests are limited to the cache",
			"context_length", cfg.ContextLen, "kv_tokens", capTokens)
		cfg.ContextLen = capTokens
	}
	e := &Engine{cfg: cfg, m: m, kv: kv, pc: pc, tok: tok, emb: emb, sched: s,
		submit: make(chan *seq, 1024), ctrl: make(chan func(), 16), done: make(chan struct{}),
		runCtx: context.Background(), enc: newEncoder(), seqs: map[uint64]*seq{}}
	e.stats.TotalPages.Store(int64(kv.Pages))
	return e, nil
}

// Stats returns the live counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// ContextLen is the context window the engine enforces: the model's (or
// the configured one), at most the KV cache's size, so that every admitted
// request fits in the cache alone.
func (e *Engine) ContextLen() int { return e.cfg.ContextLen }

// Capacity is the KV pool's size in tokens.
func (e *Engine) Capacity() int { return e.kv.Pages * e.kv.PageSize }

// Run executes the loop until ctx ends; then every unfinished request is
// aborted and Run returns ctx.Err().
func (e *Engine) Run(ctx context.Context) error {
	e.runCtx = ctx
	go e.work()
	defer close(e.done)
	defer e.stopEncoder()
	for {
		if !e.sched.Runnable() && len(e.drain) == 0 {
			// Nothing to compute: wait for a request, a control call or an
			// encoded prompt (a client going away also ends its encode job).
			select {
			case <-ctx.Done():
			case s := <-e.submit:
				e.admit(s)
			case f := <-e.ctrl:
				f()
			case d := <-e.enc.done:
				e.encoded(d)
			}
		}
		if err := ctx.Err(); err != nil {
			e.shutdown()
			return err
		}
		e.pump()
		e.reap()
		if e.sched.Runnable() {
			if err := e.step(ctx); err != nil {
				e.failAll(err)
			}
		} else if len(e.drain) > 0 {
			time.Sleep(time.Millisecond) // consumers are slow; wait for channel room
		}
		e.deliverAll()
	}
}

// pump takes everything waiting on the input channels without blocking.
func (e *Engine) pump() {
	for {
		select {
		case s := <-e.submit:
			e.admit(s)
		case f := <-e.ctrl:
			f()
		case d := <-e.enc.done:
			e.encoded(d)
		default:
			return
		}
	}
}

// do runs f on the loop goroutine and waits for it.
func (e *Engine) do(ctx context.Context, f func()) error {
	if e.closed.Load() {
		return ErrClosed
	}
	done := make(chan struct{})
	select {
	case e.ctrl <- func() { f(); close(done) }:
	case <-e.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-e.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Abort ends the requests whose RID equals rid or starts with rid+"_"
// (batch children), or every request when all is set.
func (e *Engine) Abort(ctx context.Context, rid string, all bool) error {
	return e.do(ctx, func() {
		for _, s := range e.allSeqs() {
			if all || (rid != "" && (s.req.RID == rid || hasPrefix(s.req.RID, rid+"_"))) {
				s.abortMsg = "Aborted by request."
			}
		}
		e.reap()
	})
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// ErrBusy means the cache cannot be flushed while requests run.
var ErrBusy = errors.New("engine: requests are running or queued")

// Flush drops the prefix cache when no request is running or queued.
func (e *Engine) Flush(ctx context.Context) error {
	var err error
	derr := e.do(ctx, func() {
		if len(e.seqs) > 0 || len(e.held) > 0 {
			err = ErrBusy
			return
		}
		err = e.kv.Release(e.pc.Reset())
	})
	if derr != nil {
		return derr
	}
	return err
}

// Idle reports (from any goroutine) whether nothing runs or waits.
func (e *Engine) Idle() bool {
	return e.stats.Running.Load() == 0 && e.stats.Waiting.Load() == 0 && e.stats.Submitted.Load() == 0
}

// gauges refreshes the loop-owned gauges.
func (e *Engine) gauges() {
	ev, _ := e.pc.Size() // tokens of pages only the prefix cache holds
	e.stats.UsedTokens.Store(int64(e.kv.Used()*e.cfg.PageSize - ev))
	e.stats.CachedOnlyTokens.Store(int64(ev))
	e.stats.Running.Store(int64(e.sched.Running()))
	e.stats.Waiting.Store(int64(e.sched.Waiting() + len(e.held)))
}

// UsedPages is the number of KV pages in use, on the loop goroutine.
func (e *Engine) UsedPages(ctx context.Context) (used int, cached int, err error) {
	err = e.do(ctx, func() {
		used = e.kv.Used()
		ev, lk := e.pc.Size()
		cached = (ev + lk) / e.cfg.PageSize
	})
	return
}

func (e *Engine) allSeqs() []*seq {
	out := make([]*seq, 0, len(e.seqs)+len(e.held))
	for _, s := range e.seqs {
		out = append(out, s)
	}
	return append(out, e.held...)
}

func (e *Engine) shutdown() {
	e.closed.Store(true)
	for _, s := range e.allSeqs() {
		s.abortMsg = "The server is shutting down."
	}
	e.reap()
	e.deliverAll()
	for {
		select {
		case s := <-e.submit:
			s.fail(ErrClosed)
		default:
			return
		}
	}
}
