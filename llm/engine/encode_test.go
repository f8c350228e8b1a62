package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
)

// gatedEmbedder blocks every Embed until release is closed (or ctx ends).
type gatedEmbedder struct {
	fakeEmbedder
	started chan struct{}
	release chan struct{}
	err     error
}

func newGated() *gatedEmbedder {
	return &gatedEmbedder{fakeEmbedder: fakeEmbedder{hidden: 4}, started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gatedEmbedder) Embed(ctx context.Context, spans []*input.Span) error {
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.err != nil {
		return g.err
	}
	return g.fakeEmbedder.Embed(ctx, spans)
}

// mediaPrompt is a prompt of n rows with one span over rows [2, n-1).
func mediaPrompt(id int32, n int, key uint64) *input.Prompt {
	p := &input.Prompt{Tokens: make([]int32, n), MRoPE: make([][3]int32, n)}
	for i := range p.Tokens {
		p.Tokens[i] = int32(1 + (i*7+int(id))%60)
		p.MRoPE[i] = [3]int32{int32(i), idTag + id, int32(i)}
	}
	p.Spans = []input.Span{{Start: 2, Len: n - 3, NPos: n - 3, Key: key}}
	return p
}

func textPrompt(id int32, n int) *input.Prompt {
	p := mediaPrompt(id, n, 0)
	p.Spans = nil
	return p
}

func submit(t *testing.T, e *Engine, m *checkModel, ctx context.Context, id int32, p *input.Prompt, maxNew int) <-chan Event {
	t.Helper()
	m.add(id, p)
	ch, err := e.Submit(ctx, &Request{Prompt: p, Params: greedy(maxNew)})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func within(t *testing.T, ch <-chan Event, d time.Duration) result {
	t.Helper()
	res := make(chan result, 1)
	go func() { res <- collect(ch) }()
	select {
	case r := <-res:
		return r
	case <-time.After(d):
		t.Fatal("request did not finish in time")
		return result{}
	}
}

// TestDecodeContinuesWhileEncoding: a text request streams to the end
// while another request's media encoding is still blocked, and the image
// request completes once its encoding finishes.
func TestDecodeContinuesWhileEncoding(t *testing.T) {
	g := newGated()
	e, m := startFake(t, g, 16, 256, true, Config{})
	img := submit(t, e, m, context.Background(), 1, mediaPrompt(1, 700, 42), 4)
	<-g.started
	txt := submit(t, e, m, context.Background(), 2, textPrompt(2, 20), 30)
	if r := within(t, txt, 10*time.Second); r.err != nil || len(r.tokens) != 30 {
		t.Fatalf("text request: %d tokens, err %v", len(r.tokens), r.err)
	}
	close(g.release)
	if r := within(t, img, 10*time.Second); r.err != nil || len(r.tokens) != 4 {
		t.Fatalf("image request: %d tokens, err %v", len(r.tokens), r.err)
	}
	(&harness{e: e}).checkPages(t)
}

// TestAbortDuringEncoding cancels the encode job and frees everything.
func TestAbortDuringEncoding(t *testing.T) {
	g := newGated()
	e, m := startFake(t, g, 16, 256, true, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := submit(t, e, m, ctx, 1, mediaPrompt(1, 100, 7), 4)
	<-g.started
	cancel()
	r := within(t, ch, 10*time.Second)
	if r.finish == nil || r.finish.Type != sample.FinishAbort {
		t.Fatalf("finish %+v", r.finish)
	}
	// the worker is free again: a second request encodes and finishes
	close(g.release)
	if r := within(t, submit(t, e, m, context.Background(), 2, mediaPrompt(2, 100, 8), 3), 10*time.Second); r.err != nil || len(r.tokens) != 3 {
		t.Fatalf("next request: %d tokens, err %v", len(r.tokens), r.err)
	}
	(&harness{e: e}).checkPages(t)
}

// TestEncodeErrorFailsOnlyItsRequest: a failing encode ends that request
// with an error; a concurrent text request is unaffected.
func TestEncodeErrorFailsOnlyItsRequest(t *testing.T) {
	g := newGated()
	g.err = errors.New("bad features")
	e, m := startFake(t, g, 16, 256, true, Config{})
	img := submit(t, e, m, context.Background(), 1, mediaPrompt(1, 50, 9), 4)
	<-g.started
	txt := submit(t, e, m, context.Background(), 2, textPrompt(2, 20), 5)
	close(g.release)
	if r := within(t, img, 10*time.Second); r.err == nil || r.finish == nil || r.finish.Type != sample.FinishAbort {
		t.Fatalf("image request: err %v finish %+v", r.err, r.finish)
	}
	if r := within(t, txt, 10*time.Second); r.err != nil || len(r.tokens) != 5 {
		t.Fatalf("text request: %d tokens, err %v", len(r.tokens), r.err)
	}
}

// TestPrefixHitSkipsEncoding: a second request whose cached prefix covers
// the image is never encoded.
func TestPrefixHitSkipsEncoding(t *testing.T) {
	emb := &fakeEmbedder{hidden: 4}
	e, m := startFake(t, emb, 4, 256, true, Config{})
	a := mediaPrompt(1, 40, 5)
	if r := within(t, submit(t, e, m, context.Background(), 1, a, 2), 10*time.Second); r.err != nil {
		t.Fatal(r.err)
	}
	b := mediaPrompt(1, 40, 5) // same tokens and image, then more text
	b.Tokens = append(b.Tokens, 11, 12, 13, 14, 15, 16, 17, 18)
	for i := 40; i < len(b.Tokens); i++ {
		b.MRoPE = append(b.MRoPE, [3]int32{int32(i), idTag + 2, int32(i)})
	}
	for i := range b.MRoPE {
		b.MRoPE[i][1] = idTag + 2
	}
	r := within(t, submit(t, e, m, context.Background(), 2, b, 2), 10*time.Second)
	if r.err != nil || r.usage.CachedTokens < 38 {
		t.Fatalf("err %v, cached %d", r.err, r.usage.CachedTokens)
	}
	if n := emb.spans.Load(); n != 1 {
		t.Fatalf("%d spans encoded, want 1", n)
	}
}

// TestMediaWithoutEncoder: a prompt with media to encode on an engine
// without an encoder fails at once, and leaves nothing behind: the failure
// came before admission had finished, so the sequence stayed queued,
// blocked, holding its prefix-cache hit, and the engine never went idle.
func TestMediaWithoutEncoder(t *testing.T) {
	e, m := startFake(t, nil, 4, 64, true, Config{})
	text := textPrompt(1, 40)
	if r := within(t, submit(t, e, m, context.Background(), 1, text, 2), 10*time.Second); r.err != nil {
		t.Fatal(r.err)
	}
	img := mediaPrompt(2, 40, 5) // the text prompt's first 8 tokens (a hit), then an image
	copy(img.Tokens[:8], text.Tokens[:8])
	img.Spans[0].Start, img.Spans[0].Len = 8, 20
	r := within(t, submit(t, e, m, context.Background(), 2, img, 2), 10*time.Second)
	if r.err == nil || r.finish == nil || r.finish.Type != sample.FinishAbort {
		t.Fatalf("err %v finish %+v", r.err, r.finish)
	}
	if r.usage.CachedTokens == 0 {
		t.Fatal("the media request had no prefix hit: the test needs one")
	}
	(&harness{e: e}).checkPages(t)
}
