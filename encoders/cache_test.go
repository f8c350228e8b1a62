package encoders

import (
	"context"
	"testing"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
)

// rows returns an F32 tensor [n, 4] (16n bytes).
func rows(n int) *tensor.Tensor {
	return &tensor.Tensor{DType: tensor.F32, Shape: []int{n, 4}, Data: make([]byte, 16*n)}
}

func TestCacheLRU(t *testing.T) {
	c := NewCache(3 * 16) // three one-row entries
	for k := uint64(1); k <= 3; k++ {
		c.Put(k, rows(1))
	}
	if _, ok := c.Get(1, 1); !ok { // 1 becomes the most recent
		t.Fatal("1 missing")
	}
	c.Put(4, rows(1)) // evicts 2, the least recently used
	if _, ok := c.Get(2, 1); ok {
		t.Fatal("2 survived eviction")
	}
	for _, k := range []uint64{1, 3, 4} {
		if _, ok := c.Get(k, 1); !ok {
			t.Fatalf("%d evicted", k)
		}
	}
	if _, ok := c.Get(3, 2); ok {
		t.Fatal("a key cached with 1 row answered for 2 rows")
	}
	c.Put(5, rows(4)) // larger than the whole budget: not cached, nothing evicted
	if _, ok := c.Get(5, 4); ok {
		t.Fatal("oversized entry cached")
	}
	c.Put(3, rows(2)) // replacing 3 with a bigger entry evicts the LRU (1)
	if h, m, b := c.Stats(); b != 3*16 || h != 4 || m != 3 {
		t.Fatalf("stats hits %d misses %d bytes %d", h, m, b)
	}
	if _, ok := c.Get(1, 1); ok {
		t.Fatal("1 survived")
	}
	c.Flush()
	if _, _, b := c.Stats(); b != 0 {
		t.Fatalf("%d bytes after Flush", b)
	}
	var nilCache *Cache
	nilCache.Put(1, rows(1))
	if _, ok := nilCache.Get(1, 1); ok {
		t.Fatal("nil cache hit")
	}
}

// countingEncoder encodes each span as Len rows and counts the spans it saw.
type countingEncoder struct {
	mod   input.Modality
	spans int
	calls int
}

func (e *countingEncoder) Modality() input.Modality { return e.mod }

func (e *countingEncoder) Encode(_ context.Context, spans []*input.Span) ([]*tensor.Tensor, error) {
	e.calls++
	e.spans += len(spans)
	out := make([]*tensor.Tensor, len(spans))
	for i, sp := range spans {
		out[i] = rows(sp.Len)
	}
	return out, nil
}

func TestSetCachesAndRoutes(t *testing.T) {
	img, aud := &countingEncoder{mod: input.Image}, &countingEncoder{mod: input.Audio}
	s := NewSet(NewCache(1<<20), img, aud)
	spans := func() []*input.Span {
		return []*input.Span{
			{Len: 2, Modality: input.Image, Key: 10},
			{Len: 3, Modality: input.Audio, Key: 20},
			{Len: 2, Modality: input.Image, Key: 11},
		}
	}
	first := spans()
	if err := s.Embed(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if img.calls != 1 || img.spans != 2 || aud.spans != 1 {
		t.Fatalf("image calls %d spans %d, audio spans %d: want one batched image call", img.calls, img.spans, aud.spans)
	}
	for _, sp := range first {
		if sp.Embeds == nil || sp.Embeds.Rows() != sp.Len {
			t.Fatalf("span %d not embedded", sp.Key)
		}
	}
	if err := s.Embed(context.Background(), spans()); err != nil {
		t.Fatal(err)
	}
	if img.spans != 2 || aud.spans != 1 {
		t.Fatal("repeated keys were encoded again")
	}
	noAudio := NewSet(nil, img)
	if err := noAudio.Embed(context.Background(), []*input.Span{{Len: 1, Modality: input.Audio}}); err == nil {
		t.Fatal("a span without an encoder embedded")
	}
}
