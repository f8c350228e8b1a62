// Package tiny writes deterministic random-weight models, the same weights
// both as a Hugging Face directory (config.json, safetensors, tokenizer) and
// as a GGUF file, for tests and benchmarks (cmd/mktiny is its CLI). Nothing
// it writes is committed: tests regenerate what they need.
package tiny

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// Spec describes a decoder to generate.
type Spec struct {
	Arch                                string // "llama" or "qwen2"
	Hidden, Layers, Heads, KVHeads, FFN int
	Vocab                               int // 0: the tokenizer's size; else padded to this
	Theta                               float32
	Eps                                 float32
	Tied, Bias                          bool
	MaxPos                              int
	DType                               tensor.DType // matrices and embeddings; norms and biases stay F32
	Seed                                uint64
}

// Shapes are the named specs cmd/mktiny offers.
var Shapes = map[string]Spec{
	"tiny-llama": {Arch: "llama", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 10000, Eps: 1e-5, MaxPos: 2048, DType: tensor.F32, Seed: 1},
	"tiny-qwen2": {Arch: "qwen2", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 1e6, Eps: 1e-6, Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 2},
	"qwen2-0.5b": {Arch: "qwen2", Hidden: 896, Layers: 24, Heads: 14, KVHeads: 2, FFN: 4864, Vocab: 151936, Theta: 1e6, Eps: 1e-6, Tied: true, Bias: true, MaxPos: 32768, DType: tensor.F16, Seed: 3},
}

// tensorSpec is one generated tensor: HF name, GGUF name, shape, std, kind.
type tensorSpec struct {
	hf, gguf string
	shape    []int
	kind     int // 0 matrix, 1 norm, 2 bias
	permute  int // >0: llama GGUF Q/K row permutation with this many heads
}

func (s Spec) tensors(vocab int) []tensorSpec {
	hd := s.Hidden / s.Heads
	qd, kvd := s.Heads*hd, s.KVHeads*hd
	ts := []tensorSpec{
		{"model.embed_tokens.weight", "token_embd.weight", []int{vocab, s.Hidden}, 0, 0},
		{"model.norm.weight", "output_norm.weight", []int{s.Hidden}, 1, 0},
	}
	if !s.Tied {
		ts = append(ts, tensorSpec{"lm_head.weight", "output.weight", []int{vocab, s.Hidden}, 0, 0})
	}
	perm := func(h int) int {
		if s.Arch == "llama" {
			return h
		}
		return 0
	}
	for i := 0; i < s.Layers; i++ {
		hf := func(n string) string { return fmt.Sprintf("model.layers.%d.%s", i, n) }
		gg := func(n string) string { return fmt.Sprintf("blk.%d.%s", i, n) }
		ts = append(ts,
			tensorSpec{hf("input_layernorm.weight"), gg("attn_norm.weight"), []int{s.Hidden}, 1, 0},
			tensorSpec{hf("self_attn.q_proj.weight"), gg("attn_q.weight"), []int{qd, s.Hidden}, 0, perm(s.Heads)},
			tensorSpec{hf("self_attn.k_proj.weight"), gg("attn_k.weight"), []int{kvd, s.Hidden}, 0, perm(s.KVHeads)},
			tensorSpec{hf("self_attn.v_proj.weight"), gg("attn_v.weight"), []int{kvd, s.Hidden}, 0, 0},
			tensorSpec{hf("self_attn.o_proj.weight"), gg("attn_output.weight"), []int{s.Hidden, qd}, 0, 0},
			tensorSpec{hf("post_attention_layernorm.weight"), gg("ffn_norm.weight"), []int{s.Hidden}, 1, 0},
			tensorSpec{hf("mlp.gate_proj.weight"), gg("ffn_gate.weight"), []int{s.FFN, s.Hidden}, 0, 0},
			tensorSpec{hf("mlp.up_proj.weight"), gg("ffn_up.weight"), []int{s.FFN, s.Hidden}, 0, 0},
			tensorSpec{hf("mlp.down_proj.weight"), gg("ffn_down.weight"), []int{s.Hidden, s.FFN}, 0, 0},
		)
		if s.Bias {
			ts = append(ts,
				tensorSpec{hf("self_attn.q_proj.bias"), gg("attn_q.bias"), []int{qd}, 2, perm(s.Heads)},
				tensorSpec{hf("self_attn.k_proj.bias"), gg("attn_k.bias"), []int{kvd}, 2, perm(s.KVHeads)},
				tensorSpec{hf("self_attn.v_proj.bias"), gg("attn_v.bias"), []int{kvd}, 2, 0})
		}
	}
	return ts
}

// values generates a tensor's values: matrices uniform with std 1/√fan_in
// (embeddings uniform ± 0.5, so tied-output logits stay a few units wide and
// sampling is not degenerate), norms 1 ± 0.1, biases ± 0.1.
func values(r *rand.Rand, t tensorSpec) []float32 {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	v := make([]float32, n)
	a := 0.1
	switch {
	case t.kind == 0 && (t.gguf == "token_embd.weight" || t.gguf == "output.weight"):
		a = 0.5
	case t.kind == 0:
		a = math.Sqrt(3 / float64(t.shape[len(t.shape)-1]))
	}
	for i := range v {
		x := (r.Float64()*2 - 1) * a
		if t.kind == 1 {
			x += 1
		}
		v[i] = float32(x)
	}
	return v
}

// permuteRows reorders the rows of a [heads·hd, …] tensor from HF's half-split
// rotary layout to llama.cpp's adjacent pairs (what convert_hf_to_gguf does).
func permuteRows(v []float32, heads, rows int) []float32 {
	cols := len(v) / rows
	hd := rows / heads
	out := make([]float32, len(v))
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			for s := 0; s < 2; s++ {
				src := h*hd + s*hd/2 + i
				dst := h*hd + 2*i + s
				copy(out[dst*cols:(dst+1)*cols], v[src*cols:(src+1)*cols])
			}
		}
	}
	return out
}

// Write generates s into dir: dir/hf/ (unless noHF) and dir/model.gguf (unless noGGUF).
func Write(dir string, s Spec, hf, gguf bool) error {
	voc, err := NewVocab(s.Vocab)
	if err != nil {
		return err
	}
	vocab := len(voc.Tokens)
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x5eed))
	var hfT, ggT []weights.TensorData
	for _, t := range s.tensors(vocab) {
		vals := values(r, t)
		dt := s.DType
		if t.kind != 0 {
			dt = tensor.F32
		}
		if hf {
			hdt := dt
			if hdt == tensor.Q8_0 {
				hdt = tensor.F32 // safetensors has no Q8_0; the HF copy keeps full precision
			}
			td, err := weights.EncodeTensor(t.hf, hdt, t.shape, vals)
			if err != nil {
				return err
			}
			hfT = append(hfT, td)
		}
		if gguf {
			gv := vals
			if t.permute > 0 {
				gv = permuteRows(vals, t.permute, t.shape[0])
			}
			td, err := weights.EncodeTensor(t.gguf, dt, t.shape, gv)
			if err != nil {
				return err
			}
			ggT = append(ggT, td)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if hf {
		if err := s.writeHF(filepath.Join(dir, "hf"), voc, hfT); err != nil {
			return err
		}
	}
	if gguf {
		return s.writeGGUF(filepath.Join(dir, "model.gguf"), voc, ggT)
	}
	return nil
}

func (s Spec) writeHF(dir string, voc *Vocab, ts []weights.TensorData) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	arch := map[string]string{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[s.Arch]
	cfg := map[string]any{
		"architectures": []string{arch}, "model_type": s.Arch, "vocab_size": len(voc.Tokens),
		"hidden_size": s.Hidden, "intermediate_size": s.FFN, "num_hidden_layers": s.Layers,
		"num_attention_heads": s.Heads, "num_key_value_heads": s.KVHeads, "rms_norm_eps": s.Eps,
		"rope_theta": s.Theta, "max_position_embeddings": s.MaxPos, "tie_word_embeddings": s.Tied,
		"eos_token_id": voc.EOS, "torch_dtype": "float32",
	}
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}, "temperature": 0.7, "top_p": 0.8, "top_k": 20}
	tj, err := voc.TokenizerJSON()
	if err != nil {
		return err
	}
	tc, err := voc.TokenizerConfigJSON()
	if err != nil {
		return err
	}
	for name, v := range map[string]any{"config.json": cfg, "generation_config.json": gen} {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), tc, 0o644); err != nil {
		return err
	}
	return weights.WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"})
}

func (s Spec) writeGGUF(path string, voc *Vocab, ts []weights.TensorData) error {
	w := weights.NewGGUFWriter()
	a := s.Arch
	set := []struct {
		k string
		v any
	}{
		{"general.architecture", a}, {"general.name", "sightline-tiny-" + a},
		{a + ".context_length", uint32(s.MaxPos)}, {a + ".embedding_length", uint32(s.Hidden)},
		{a + ".block_count", uint32(s.Layers)}, {a + ".feed_forward_length", uint32(s.FFN)},
		{a + ".attention.head_count", uint32(s.Heads)}, {a + ".attention.head_count_kv", uint32(s.KVHeads)},
		{a + ".rope.freq_base", s.Theta}, {a + ".attention.layer_norm_rms_epsilon", s.Eps},
		{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "qwen2"},
		{"tokenizer.ggml.tokens", voc.Tokens}, {"tokenizer.ggml.token_type", voc.Types},
		{"tokenizer.ggml.merges", voc.Merges}, {"tokenizer.ggml.eos_token_id", uint32(voc.EOS)},
		{"tokenizer.ggml.padding_token_id", uint32(voc.PAD)}, {"tokenizer.ggml.add_bos_token", false},
		{"tokenizer.chat_template", chatML},
	}
	for _, kv := range set {
		if err := w.Set(kv.k, kv.v); err != nil {
			return fmt.Errorf("tiny: %s: %w", kv.k, err)
		}
	}
	for _, t := range ts {
		if err := w.AddTensor(t); err != nil {
			return err
		}
	}
	return w.WriteFile(path)
}
