package vit_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor/ref"
)

// TestEncodeBadSpans sends malformed spans to the tiny Qwen2-VL encoder:
// each is an ErrInput error, never a panic.
func TestEncodeBadSpans(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, false); err != nil {
		t.Fatal(err)
	}
	e, err := vit.FromHF(filepath.Join(dir, "hf"), ref.New())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cfg := e.Config()
	cols := cfg.Cols()
	feats := func(n int, grid [3]int) *input.Features {
		return &input.Features{Data: make([]float32, n*cols), Shape: []int{n, cols}, Grid: grid}
	}
	for _, c := range []struct {
		name string
		sp   *input.Span
	}{
		{"nil span", nil},
		{"no features", &input.Span{Len: 2}},
		// (2⁶²+2)·4 wraps to 8: a grid whose product overflows to n.
		{"overflowing grid", &input.Span{Len: 2, Features: feats(8, [3]int{1, 1<<62 + 2, 4})}},
		{"grid off the merge size", &input.Span{Len: 2, Features: feats(8, [3]int{1, 1, 8})}},
	} {
		if _, err := e.Encode(context.Background(), []*input.Span{c.sp}); !errors.Is(err, vit.ErrInput) {
			t.Errorf("%s: got %v, want ErrInput", c.name, err)
		}
	}
}
