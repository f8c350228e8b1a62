package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
)

// errLog records the engine's error logs (page accounting, prefix locks):
// any of them is a broken invariant, except the failures a test provokes.
type errLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *errLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelError || r.Message == "request failed" {
		return nil
	}
	s := r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, s)
	l.mu.Unlock()
	return nil
}
func (l *errLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errLog) WithGroup(string) slog.Handler      { return l }

func (l *errLog) check(t *testing.T, name string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) > 0 {
		t.Fatalf("%s: engine logged errors: %v", name, l.msgs)
	}
}

// failingEmbedder is fakeEmbedder failing every span whose key is odd.
type failingEmbedder struct{ fakeEmbedder }

var errBadMedia = errors.New("bad media")

func (f *failingEmbedder) Embed(ctx context.Context, spans []*input.Span) error {
	for _, sp := range spans {
		if sp.Key%2 == 1 {
			f.calls.Add(1)
			return errBadMedia
		}
	}
	return f.fakeEmbedder.Embed(ctx, spans)
}

// TestChurnProperty is TestProgressProperty with everything that ends a
// request early mixed in — clients going away at random times, aborts by
// rid, encodes that fail — and n > 1 samples sharing a leader's prompt.
// Every request must end (in time), the untouched ones with all their
// tokens; the engine must log no accounting error and every page must come
// back.
func TestChurnProperty(t *testing.T) {
	trials := 400
	if testing.Short() {
		trials = 40
	}
	for trial := 0; trial < trials; trial++ {
		r := rand.New(rand.NewPCG(uint64(trial), 7))
		page := []int{1, 2, 4, 16}[r.IntN(4)]
		pages := 8 + r.IntN(60)
		cfg := Config{PageSize: page, MaxRunning: 1 + r.IntN(8), StepTokens: 1 + r.IntN(96), NoChunking: r.IntN(5) == 0, ContextLen: 4096}
		radix := r.IntN(4) != 0
		name := fmt.Sprintf("trial %d page %d pages %d %+v radix %v", trial, page, pages, cfg, radix)
		emb := &failingEmbedder{fakeEmbedder{hidden: 4, delay: time.Duration(r.IntN(3)) * time.Millisecond}}
		logs := &errLog{}
		cfg.Logger = slog.New(logs)
		e, m := startFake(t, emb, page, pages, radix, cfg)

		capTokens := e.ContextLen()
		n := 2 + r.IntN(10)
		type sub struct {
			ch     <-chan Event
			want   int
			cancel context.CancelFunc
			mayEnd bool // cancelled, aborted or with failing media
		}
		var subs []*sub
		var shared *input.Prompt
		for i := 0; i < n; i++ {
			maxNew := 1 + r.IntN(min(8, capTokens-1))
			plen := 1 + r.IntN(max(1, min(200, capTokens-maxNew)))
			if r.IntN(3) == 0 {
				shared = nil
			}
			p := randomPrompt(r, int32(i), plen, shared)
			bad := false
			for j := range p.Spans {
				if r.IntN(6) == 0 {
					p.Spans[j].Key |= 1 // this one fails to encode
				} else {
					p.Spans[j].Key &^= 1
				}
				bad = bad || p.Spans[j].Key%2 == 1
			}
			if shared == nil && plen > 8 {
				shared = &input.Prompt{Tokens: p.Tokens[:plen/2], Spans: spansBefore(p.Spans, plen/2)}
			}
			m.add(int32(i), p)
			samples := 1
			if r.IntN(4) == 0 {
				samples = 2 + r.IntN(3)
			}
			var lead *Request
			for k := 0; k < samples; k++ {
				params := greedy(maxNew)
				ctx, cancel := context.WithCancel(context.Background())
				req := &Request{RID: fmt.Sprintf("%d_%d", i, k), Prompt: p, Params: params, Leader: lead}
				if k == 0 && samples > 1 {
					lead = req
				}
				ch, err := e.Submit(ctx, req)
				if err != nil {
					t.Fatalf("%s: submit %d (%d rows): %v", name, i, plen, err)
				}
				s := &sub{ch: ch, want: maxNew, cancel: cancel, mayEnd: bad}
				subs = append(subs, s)
				switch r.IntN(8) {
				case 0: // the client goes away at once or a little later
					s.mayEnd = true
					d := time.Duration(r.IntN(4)) * time.Millisecond
					time.AfterFunc(d, cancel)
				case 1: // an abort by rid
					s.mayEnd = true
					d := time.Duration(r.IntN(4)) * time.Millisecond
					rid := req.RID
					time.AfterFunc(d, func() { _ = e.Abort(context.Background(), rid, false) })
				}
			}
		}
		for i, s := range subs {
			res := make(chan result, 1)
			go func() { res <- collect(s.ch) }()
			select {
			case got := <-res:
				switch {
				case got.finish == nil:
					t.Fatalf("%s: request %d ended without a finish reason (err %v)", name, i, got.err)
				case !s.mayEnd && (got.err != nil || len(got.tokens) != s.want || got.finish.Type != sample.FinishLength):
					t.Fatalf("%s: request %d: %d tokens of %d, finish %+v, err %v", name, i, len(got.tokens), s.want, got.finish, got.err)
				case got.err != nil && !errors.Is(got.err, errBadMedia):
					t.Fatalf("%s: request %d: unexpected error %v", name, i, got.err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: request %d hangs", name, i)
			}
			s.cancel()
		}
		m.mu.Lock()
		if m.err != nil {
			t.Fatalf("%s: %v", name, m.err)
		}
		m.mu.Unlock()
		if emb.overlap.Load() {
			t.Fatalf("%s: the embedder ran concurrently", name)
		}
		(&harness{e: e}).checkPages(t)
		logs.check(t, name)
	}
}

// TestRecomputedPrefixDoesNotPinCache: a finished request leaves an
// 8-page node in the prefix cache (page size 1, 9 pages). A second request
// whose 2-token prompt is a prefix of it hits the first token and computes
// the second; caching that page inserts a prefix of the cached node, and the
// request locks the inserted path. The lock must pin those 2 pages only: it
// pinned the whole node, leaving no page for the request's own decoding,
// and the engine failed every request with "no progress possible".
func TestRecomputedPrefixDoesNotPinCache(t *testing.T) {
	logs := &errLog{}
	e, m := startFake(t, nil, 1, 9, true, Config{Logger: slog.New(logs)})
	a := textPrompt(1, 8)
	if r := within(t, submit(t, e, m, context.Background(), 1, a, 1), 10*time.Second); r.err != nil || len(r.tokens) != 1 {
		t.Fatalf("first request: %d tokens, err %v", len(r.tokens), r.err)
	}
	b := textPrompt(2, 2)
	copy(b.Tokens, a.Tokens)
	if r := within(t, submit(t, e, m, context.Background(), 2, b, 7), 10*time.Second); r.err != nil || len(r.tokens) != 7 {
		t.Fatalf("second request: %d tokens, err %v", len(r.tokens), r.err)
	}
	(&harness{e: e}).checkPages(t)
	logs.check(t, "")
}
