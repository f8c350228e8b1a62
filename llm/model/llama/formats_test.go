package llama_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/tensor"
)

// promptLogits loads path and returns the logits of every prompt row.
func promptLogits(t *testing.T, be tensor.Backend, path string, ids []int32) ([]float32, *model.Config) {
	t.Helper()
	m, err := model.Load(path, be)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	kv, err := kvcache.New(be, m.Config().KVSpec(4, 16))
	if err != nil {
		t.Fatal(err)
	}
	r := &model.Runner{M: m, KV: kv}
	out, err := r.Prefill(context.Background(), &input.Prompt{Tokens: ids}, true)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, out.Len())
	if err := be.ToF32(out, got); err != nil {
		t.Fatal(err)
	}
	return got, m.Config()
}

// TestHFAndGGUFAgree: mktiny writes one model as an HF directory and as GGUF
// (llama Q/K permuted for adjacent-pair RoPE); both give the same logits.
func TestHFAndGGUFAgree(t *testing.T) {
	ids := []int32{3, 77, 12, 250, 9, 40, 41, 42, 100, 7}
	untied := tiny.Shapes["tiny-qwen3"]
	untied.Tied, untied.Bias, untied.Seed = false, true, 40 // lm_head / output.weight, attention_bias
	specs := map[string]tiny.Spec{"tiny-llama": tiny.Shapes["tiny-llama"], "tiny-qwen2": tiny.Shapes["tiny-qwen2"],
		"tiny-qwen3": tiny.Shapes["tiny-qwen3"], "tiny-qwen3-untied-bias": untied}
	for name, spec := range specs {
		dir := t.TempDir()
		if err := tiny.Write(dir, spec, true, true); err != nil {
			t.Fatal(err)
		}
		for _, newBE := range backendsUnderTest {
			be, _ := newBE()
			hf, cfg := promptLogits(t, be, filepath.Join(dir, "hf"), ids)
			gg, cfg2 := promptLogits(t, be, filepath.Join(dir, "model.gguf"), ids)
			if cfg.Format != model.HF || cfg2.Format != model.GGUF || cfg.Vocab != cfg2.Vocab {
				t.Fatalf("formats %v/%v vocab %d/%d", cfg.Format, cfg2.Format, cfg.Vocab, cfg2.Vocab)
			}
			for i := range hf {
				if d := math.Abs(float64(hf[i] - gg[i])); d > 1e-5 {
					t.Fatalf("%s/%s: logit %d: hf %v gguf %v", name, be.Name(), i, hf[i], gg[i])
				}
			}
			be.Close()
		}
	}
}
