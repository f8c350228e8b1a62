package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
)

var tinyDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "engine-test")
	if err != nil {
		panic(err)
	}
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		panic(err)
	}
	tinyDir = filepath.Join(dir, "hf")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newBackend is the backend engine tests run on (the CPU backend with cgo).
var newBackend = func() tensor.Backend { return ref.New() }

type harness struct {
	e      *Engine
	kv     *kvcache.Pool
	pc     prefix.Cache
	tok    *tokenizer.Tokenizer
	m      *model.Loaded
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, pages int, radix bool) *harness {
	t.Helper()
	be := newBackend()
	m, err := model.Load(tinyDir, be)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 4
	}
	kv, err := kvcache.New(be, m.Config().KVSpec(cfg.PageSize, pages))
	if err != nil {
		t.Fatal(err)
	}
	var pc prefix.Cache
	if radix {
		pc, err = prefix.NewRadix(cfg.PageSize)
	} else {
		pc, err = prefix.NewNone(cfg.PageSize)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg.EOS = tok.EOS()
	e, err := New(m, kv, pc, tokText{tok}, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{e: e, kv: kv, pc: pc, tok: tok, m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-h.done
		m.Close()
	})
	return h
}

// result is a request's collected output.
type result struct {
	tokens []int32
	text   string
	full   string
	finish *sample.FinishReason
	usage  Usage
	lps    []TokenLogprob
	inLPs  []TokenLogprob
	events int
	err    error
}

func collect(ch <-chan Event) result {
	var r result
	for ev := range ch {
		r.events++
		r.tokens = append(r.tokens, ev.Tokens...)
		r.text += ev.Text
		r.lps = append(r.lps, ev.Logprobs...)
		if ev.InputLogprobs != nil {
			r.inLPs = ev.InputLogprobs
		}
		if ev.Finish != nil {
			r.finish, r.full, r.usage = ev.Finish, ev.FullText, ev.Usage
		}
		if ev.Err != nil {
			r.err = ev.Err
		}
	}
	return r
}

func greedy(maxNew int) sample.Params {
	p := sample.Defaults()
	p.Temperature = 0
	p.MaxNewTokens = &maxNew
	p.IgnoreEOS = true
	return p
}

func (h *harness) run(t *testing.T, prompt []int32, p sample.Params) result {
	t.Helper()
	ch, err := h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{Tokens: prompt}, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	return collect(ch)
}

func prompts(n int) [][]int32 {
	var out [][]int32
	for i := 0; i < n; i++ {
		p := make([]int32, 3+i*5%17)
		for j := range p {
			p[j] = int32((i*31 + j*7) % 300)
		}
		out = append(out, p)
	}
	return out
}

// waitIdle waits until the engine holds no pages but the prefix cache's.
func (h *harness) checkPages(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		used, cached, err := h.e.UsedPages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if used == cached && h.e.Idle() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pages in use %d, cached %d", used, cached)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := h.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if used, _, _ := h.e.UsedPages(context.Background()); used != 0 {
		t.Fatalf("%d pages used after flush", used)
	}
}

// TestGreedyMatchesRunner: the engine's greedy output equals the simple
// single-sequence runner's.
func TestGreedyMatchesRunner(t *testing.T) {
	h := start(t, Config{}, 64, true)
	prompt := prompts(3)[2]
	r := h.run(t, prompt, greedy(12))
	if r.err != nil || len(r.tokens) != 12 || r.finish.Type != sample.FinishLength {
		t.Fatalf("result %+v", r)
	}
	be := newBackend()
	kv, _ := kvcache.New(be, h.m.Config().KVSpec(4, 16))
	run := &model.Runner{M: h.m, KV: kv}
	out, err := run.Prefill(context.Background(), &input.Prompt{Tokens: prompt}, false)
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	for len(want) < 12 {
		tok := argmax(out.F32())
		want = append(want, tok)
		if out, err = run.Step(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(r.tokens, want) {
		t.Fatalf("engine %v, runner %v", r.tokens, want)
	}
	if r.full != h.tok.Decode(want, tokenizer.DecodeOptions{SkipSpecial: true}) && !strings.Contains(r.full, "\ufffd") {
		t.Fatalf("text %q vs decode %q", r.full, h.tok.Decode(want, tokenizer.DecodeOptions{SkipSpecial: true}))
	}
	if r.text != r.full {
		t.Fatalf("streamed text %q != final %q", r.text, r.full)
	}
	h.checkPages(t)
}

func argmax(v []float32) int32 {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return int32(b)
}

// TestBatchInvariance: 16 mixed-length greedy requests together give each
// request exactly the tokens it gets alone.
func TestBatchInvariance(t *testing.T) {
	h := start(t, Config{StepTokens: 64}, 256, false)
	ps := prompts(16)
	alone := make([]result, len(ps))
	for i, p := range ps {
		alone[i] = h.run(t, p, greedy(10+i%5))
	}
	together := make([]result, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			together[i] = h.run(t, p, greedy(10+i%5))
		}()
	}
	wg.Wait()
	for i := range ps {
		if !slices.Equal(alone[i].tokens, together[i].tokens) {
			t.Fatalf("request %d: alone %v, batched %v", i, alone[i].tokens, together[i].tokens)
		}
	}
	if h.e.Stats().Steps.Load() == 0 {
		t.Fatal("no steps counted")
	}
	h.checkPages(t)
}

// TestPrefixCacheHit: a repeated prompt reports cached tokens and the same output.
func TestPrefixCacheHit(t *testing.T) {
	h := start(t, Config{}, 64, true)
	p := prompts(8)[3] // 18 tokens: 4 whole pages can be cached
	a := h.run(t, p, greedy(6))
	b := h.run(t, p, greedy(6))
	if a.usage.CachedTokens != 0 || b.usage.CachedTokens == 0 || b.usage.CachedTokens%4 != 0 || b.usage.CachedTokens > len(p)-1 {
		t.Fatalf("cached %d then %d of %d", a.usage.CachedTokens, b.usage.CachedTokens, len(p))
	}
	if !slices.Equal(a.tokens, b.tokens) {
		t.Fatalf("outputs differ: %v vs %v", a.tokens, b.tokens)
	}
	h.checkPages(t)
}

// TestRetraction: with a KV pool too small for all requests at once, every
// request still completes with its unconstrained output.
func TestRetraction(t *testing.T) {
	ps := prompts(6)
	big := start(t, Config{}, 256, false)
	want := make([]result, len(ps))
	for i, p := range ps {
		want[i] = big.run(t, p, greedy(16))
	}
	small := start(t, Config{}, 14, false)
	got := make([]result, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = small.run(t, p, greedy(16))
		}()
	}
	wg.Wait()
	for i := range ps {
		if got[i].err != nil || !slices.Equal(got[i].tokens, want[i].tokens) {
			t.Fatalf("request %d: %v (err %v), want %v", i, got[i].tokens, got[i].err, want[i].tokens)
		}
	}
	if small.e.Stats().Retractions.Load() == 0 {
		t.Fatal("the small pool never retracted: the test does not exercise retraction")
	}
	small.checkPages(t)
}

// TestAbortFreesPages: cancelling a request's context ends it with an abort
// and returns its pages.
func TestAbortFreesPages(t *testing.T) {
	h := start(t, Config{}, 300, true)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := h.e.Submit(ctx, &Request{Prompt: &input.Prompt{Tokens: prompts(4)[3]}, Params: greedy(100000 - 100000 + 1000)})
	if err != nil {
		t.Fatal(err)
	}
	<-ch // first event
	cancel()
	r := collect(ch)
	if r.finish == nil || r.finish.Type != sample.FinishAbort {
		t.Fatalf("finish %+v", r.finish)
	}
	h.checkPages(t)
}

// tokText adapts the tokenizer to the engine's Detokenizer.
type tokText struct{ t *tokenizer.Tokenizer }

func (d tokText) NewStream(skip, spaces bool) TextStream {
	return d.t.NewStreamDecoder(tokenizer.DecodeOptions{SkipSpecial: skip, SpacesBetweenSpecial: spaces})
}
