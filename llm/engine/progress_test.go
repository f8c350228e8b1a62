package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
)

// checkModel is a fake decoder that verifies every batch instead of
// computing: each prompt row must carry its own token or, inside a media
// span, the embedding row of that span at that offset; positions must be the
// prompt's M-RoPE triples. Prompt rows identify their request through the
// M-RoPE triple (index, idTag+request, index).
type checkModel struct {
	cfg     model.Config
	be      tensor.Backend
	mu      sync.Mutex
	prompts map[int32]*input.Prompt
	err     error
}

const fakeVocab = 64

// idTag offsets request ids in M-RoPE triples so they never equal a decode row's position.
const idTag = 1 << 24

func (m *checkModel) Config() *model.Config { return &m.cfg }

func (m *checkModel) fail(format string, a ...any) {
	if m.err == nil {
		m.err = fmt.Errorf(format, a...)
	}
}

// embedValue is the value a fake embedding row holds: a function of the
// span's content key and the row, so equal media give equal embeddings.
func embedValue(key uint64, row int) float32 { return float32(int(key%512)*10000 + row) }

func (m *checkModel) Forward(_ context.Context, b *input.Batch, _ *kvcache.Pool) (*tensor.Tensor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	spliced := map[int]float32{}
	for _, sp := range b.Splice {
		vals := sp.Embeds.F32()
		for j := 0; j < sp.Len; j++ {
			if _, dup := spliced[sp.Row+j]; dup {
				m.fail("row %d spliced twice", sp.Row+j)
			}
			spliced[sp.Row+j] = vals[(sp.From+j)*m.cfg.Hidden]
		}
	}
	for _, sv := range b.Seqs {
		for j := 0; j < sv.QLen; j++ {
			r, idx := sv.QStart+j, sv.KVLen-sv.QLen+j
			pm := b.PosM[r]
			if pm[0] != int32(idx) {
				m.fail("row %d: position %v, want index %d", r, pm, idx)
				continue
			}
			p := m.prompts[pm[1]-idTag]
			if p == nil || idx >= len(p.Tokens) { // a decode row: (idx, idx, idx)
				if pm != [3]int32{int32(idx), int32(idx), int32(idx)} {
					m.fail("decode row %d: position %v", r, pm)
				}
				if _, ok := spliced[r]; ok {
					m.fail("decode row %d spliced", r)
				}
				continue
			}
			if pm != p.MRoPE[idx] {
				m.fail("row %d: M-RoPE %v, want %v", r, pm, p.MRoPE[idx])
			}
			v, isSpliced := spliced[r]
			inSpan := false
			for _, sp := range p.Spans {
				if idx >= sp.Start && idx < sp.Start+sp.Len {
					inSpan = true
					if !isSpliced || v != embedValue(sp.Key, idx-sp.Start) {
						m.fail("request %d row %d (span at %d): spliced %v value %v", pm[1], idx, sp.Start, isSpliced, v)
					}
				}
			}
			if !inSpan && (isSpliced || b.Tokens[r] != p.Tokens[idx]) {
				m.fail("request %d row %d: token %d spliced %v, want token %d (prompt %v spans %+v, seq %+v)", pm[1], idx, b.Tokens[r], isSpliced, p.Tokens[idx], p.Tokens[:min(10, len(p.Tokens))], p.Spans, sv)
			}
		}
	}
	out := make([]float32, len(b.Logits)*fakeVocab)
	for i, r := range b.Logits {
		out[i*fakeVocab+1+int(b.Tokens[r])%50] = 1
	}
	return m.be.FromF32(out, len(b.Logits), fakeVocab)
}

// startFake runs an engine on checkModel with the embedder emb.
func startFake(t *testing.T, emb Embedder, page, pages int, radix bool, cfg Config) (*Engine, *checkModel) {
	t.Helper()
	be := ref.New()
	m := &checkModel{cfg: model.Config{Vocab: fakeVocab, Hidden: 4, Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 4, MaxPos: 1 << 20}, be: be, prompts: map[int32]*input.Prompt{}}
	kv, err := kvcache.New(be, m.cfg.KVSpec(page, pages))
	if err != nil {
		t.Fatal(err)
	}
	var pc prefix.Cache
	if radix {
		pc, err = prefix.NewRadix(page)
	} else {
		pc, err = prefix.NewNone(page)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg.PageSize = page
	cfg.EOS = []int32{0}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e, err := New(m, kv, pc, nil, emb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.err != nil {
			t.Error(m.err)
		}
	})
	return e, m
}

func (m *checkModel) add(id int32, p *input.Prompt) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prompts[id] = p
}

// fakeEmbedder fills spans with embedValue rows after a short random delay,
// and checks it is never called concurrently.
type fakeEmbedder struct {
	hidden  int
	busy    atomic.Bool
	calls   atomic.Int64
	spans   atomic.Int64
	overlap atomic.Bool
	delay   time.Duration
}

func (f *fakeEmbedder) Embed(ctx context.Context, spans []*input.Span) error {
	if !f.busy.CompareAndSwap(false, true) {
		f.overlap.Store(true)
	}
	defer f.busy.Store(false)
	f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, sp := range spans {
		if sp.Embeds != nil {
			return fmt.Errorf("span at %d already embedded", sp.Start)
		}
		v := make([]float32, sp.Len*f.hidden)
		for r := 0; r < sp.Len; r++ {
			v[r*f.hidden] = embedValue(sp.Key, r)
		}
		sp.Embeds = &tensor.Tensor{DType: tensor.F32, Shape: []int{sp.Len, f.hidden}, Data: tensor.BytesOfF32(v)}
		f.spans.Add(1)
	}
	return nil
}

// randomPrompt makes a prompt of n rows with up to three media spans.
func randomPrompt(r *rand.Rand, id int32, n int, shared *input.Prompt) *input.Prompt {
	p := &input.Prompt{Tokens: make([]int32, n), MRoPE: make([][3]int32, n)}
	for i := range p.Tokens {
		p.Tokens[i] = int32(1 + r.IntN(fakeVocab-2))
	}
	start := 0
	if shared != nil && len(shared.Tokens) < n { // same leading tokens and media: a prefix-cache hit
		copy(p.Tokens, shared.Tokens)
		p.Spans = append(p.Spans, shared.Spans...)
		for i := range p.Spans {
			p.Spans[i].Embeds = nil
		}
		start = len(shared.Tokens)
	}
	for k := 0; k < 3 && start < n-1; k++ {
		s := start + r.IntN(n-start)
		l := 1 + r.IntN(n-s)
		if r.IntN(2) == 0 {
			p.Spans = append(p.Spans, input.Span{Start: s, Len: l, NPos: l, Key: r.Uint64()})
		}
		start = s + l
	}
	for i := range p.MRoPE {
		p.MRoPE[i] = [3]int32{int32(i), idTag + id, int32(i)}
	}
	return p
}

// TestProgressProperty drives random workloads through the engine — media
// spans longer than the step budget, random budgets, page sizes, pool sizes,
// chunking on and off, prefix caching on and off, concurrent requests sharing
// prefixes — and checks that every request finishes (no step without
// progress, no hang), every batch row carries the right token or embedding
// row at the right position, encoding is never concurrent, and every page
// comes back.
func TestProgressProperty(t *testing.T) {
	trials := 150
	if testing.Short() {
		trials = 15
	}
	for trial := 0; trial < trials; trial++ {
		r := rand.New(rand.NewPCG(uint64(trial), 99))
		page := []int{1, 2, 4, 16}[r.IntN(4)]
		pages := 4 + r.IntN(60)
		cfg := Config{PageSize: page, MaxRunning: 1 + r.IntN(8), StepTokens: 1 + r.IntN(96), NoChunking: r.IntN(5) == 0, ContextLen: 4096}
		radix := r.IntN(2) == 0
		name := fmt.Sprintf("trial %d page %d pages %d %+v radix %v", trial, page, pages, cfg, radix)
		emb := &fakeEmbedder{hidden: 4, delay: time.Duration(r.IntN(3)) * time.Millisecond}
		e, m := startFake(t, emb, page, pages, radix, cfg)

		capTokens := e.ContextLen()
		n := 1 + r.IntN(10)
		var shared *input.Prompt
		chans := make([]<-chan Event, n)
		want := make([]int, n)
		for i := 0; i < n; i++ {
			maxNew := 1 + r.IntN(min(6, capTokens-1))
			plen := 1 + r.IntN(max(1, min(300, capTokens-maxNew)))
			if r.IntN(3) == 0 {
				shared = nil
			}
			p := randomPrompt(r, int32(i), plen, shared)
			if shared == nil && plen > 8 {
				shared = &input.Prompt{Tokens: p.Tokens[:plen/2], Spans: spansBefore(p.Spans, plen/2)}
			}
			m.add(int32(i), p)
			params := greedy(maxNew)
			params.Temperature = 0
			var err error
			chans[i], err = e.Submit(context.Background(), &Request{RID: fmt.Sprint(i), Prompt: p, Params: params})
			if err != nil {
				t.Fatalf("%s: submit %d (%d rows): %v", name, i, plen, err)
			}
			want[i] = maxNew
		}
		for i, ch := range chans {
			res := make(chan result, 1)
			go func() { res <- collect(ch) }()
			select {
			case got := <-res:
				if got.err != nil || len(got.tokens) != want[i] || got.finish == nil || got.finish.Type != sample.FinishLength {
					t.Fatalf("%s: request %d: %d tokens of %d, finish %+v, err %v", name, i, len(got.tokens), want[i], got.finish, got.err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: request %d hangs", name, i)
			}
		}
		m.mu.Lock()
		if m.err != nil {
			t.Fatalf("%s: %v", name, m.err)
		}
		m.mu.Unlock()
		if emb.overlap.Load() {
			t.Fatalf("%s: the embedder ran concurrently", name)
		}
		h := &harness{e: e}
		h.checkPages(t)
	}
}

func spansBefore(spans []input.Span, n int) []input.Span {
	var out []input.Span
	for _, s := range spans {
		if s.Start+s.Len <= n {
			out = append(out, s)
		}
	}
	return slices.Clone(out)
}
