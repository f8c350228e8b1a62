package vit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/weights"
)

// FuzzFromHF loads the tiny Qwen2-VL checkpoint under arbitrary config.json
// contents: the loader returns an encoder or an error, never panics.
func FuzzFromHF(f *testing.F) {
	dir := f.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, false); err != nil {
		f.Fatal(err)
	}
	st := filepath.Join(dir, "hf", "model.safetensors")
	good, err := os.ReadFile(filepath.Join(dir, "hf", "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"architectures":["Qwen2VLForConditionalGeneration"],"vision_config":{"depth":300,"embed_dim":32}}`))
	f.Add([]byte(`{"architectures":["Qwen2VLForConditionalGeneration"],"vision_config":{"mlp_ratio":1e300,"num_heads":0}}`))
	f.Add([]byte(`{"architectures":["LlavaForConditionalGeneration"],"vision_feature_layer":[-2,-5]}`))
	f.Add([]byte(`{"architectures":["Idefics3ForConditionalGeneration"],"vision_config":{"patch_size":0}}`))
	f.Add([]byte(`{"architectures":["Qwen2_5_VLForConditionalGeneration"],"vision_config":{"depth":2,"hidden_size":32,"window_size":14,"fullatt_block_indexes":[-1,9]}}`))
	be := ref.New()
	d := f.TempDir()
	if err := os.Symlink(st, filepath.Join(d, "model.safetensors")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cfg []byte) {
		if err := os.WriteFile(filepath.Join(d, "config.json"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := vit.FromHF(d, be)
		if err != nil {
			return
		}
		if c := e.Config(); c.Validate() != nil {
			err := c.Validate()
			t.Fatalf("loaded an invalid config: %v", err)
		}
		e.Close()
	})
}

// FuzzEncode sends arbitrary feature shapes and grids to the LLaVA oracle
// encoder: bad input is an ErrInput error, good input gives span.Len rows.
func FuzzEncode(f *testing.F) {
	f.Add(16, 588, 1, 4, 4, 16)
	f.Add(16, 588, 1, 4, 4, 15)
	f.Add(4, 588, 1, 2, 2, 4)
	f.Add(-1, 588, 1, 4, 4, 16)
	f.Add(16, 588, 0, 4, 4, 16)
	fuzzEncode(f, "models/mmproj-tiny-llava.gguf", 64, 2048)
}

// fuzzEncode encodes one fuzzed span (n×cols features at most, grid, Len)
// with the oracle mmproj on the ref backend: an error must wrap ErrInput, a
// success must give Len rows.
func fuzzEncode(f *testing.F, mmproj string, maxN, maxCols int) {
	path, ok := oracle.Path(mmproj)
	if !ok {
		f.Skip("oracle mmproj absent")
	}
	g, err := weights.OpenGGUF(path)
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close()
	e, err := vit.FromGGUF(g, g, ref.New())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, n, cols, g0, g1, g2, rows int) {
		if n < 0 || cols < 0 || n > maxN || cols > maxCols {
			n, cols = 0, 0
		}
		sp := &input.Span{Len: rows, Features: &input.Features{Data: make([]float32, n*cols), Shape: []int{n, cols}, Grid: [3]int{g0, g1, g2}}}
		out, err := e.Encode(context.Background(), []*input.Span{sp})
		if err != nil {
			if !errors.Is(err, vit.ErrInput) {
				t.Fatalf("error %v does not wrap ErrInput", err)
			}
			return
		}
		if len(out) != 1 || out[0].Rows() != rows {
			t.Fatalf("%d outputs, %v", len(out), out)
		}
	})
}
