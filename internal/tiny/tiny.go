// Package tiny writes deterministic random-weight models, the same weights
// both as a Hugging Face directory (config.json, safetensors, tokenizer) and
// as a GGUF file, for tests and benchmarks (cmd/mktiny is its CLI). Tests
// regenerate what they need; the one file committed is the llama.cpp
// oracle's testdata/oracle/models/tiny-qwen3.gguf, which llm/model/llama's
// oracle test checks this package still writes byte for byte.
//
// Besides the tiny shapes there are real-shape multimodal models (random F16
// weights at the width and token counts of the real ones, see LLaVAShapes,
// VLMShapes["qwen2vl-2b"] and Qwen2AudioShapes) for tests that need real
// token counts; their decoders default to full depth and their Layers fields
// can be lowered to keep tests fast.
package tiny

import (
	"fmt"
	"path/filepath"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// Spec describes a decoder to generate.
type Spec struct {
	Arch                                string // "llama", "qwen2", "qwen3" (adds per-head q/k RMSNorm weights) or (VLMSpec) "qwen2vl"
	Hidden, Layers, Heads, KVHeads, FFN int
	HeadDim                             int // 0: Hidden/Heads; else written as head_dim / attention.key_length and value_length
	Vocab                               int // 0: the tokenizer's size; else padded to this
	Theta                               float32
	Eps                                 float32
	Tied, Bias                          bool
	MaxPos                              int
	DType                               tensor.DType // matrices and embeddings; norms and biases stay F32
	Seed                                uint64
	// FastRand draws the weights from counter-based streams, in parallel
	// (the real shapes: a 2 GB model in seconds); false keeps the tiny
	// shapes' sequential PCG stream and so their values. Media towers
	// written with this decoder (VLMSpec, LLaVASpec) follow it.
	FastRand bool
}

// Shapes are the named specs cmd/mktiny offers.
var Shapes = map[string]Spec{
	"tiny-llama": {Arch: "llama", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 10000, Eps: 1e-5, MaxPos: 2048, DType: tensor.F32, Seed: 1},
	"tiny-qwen2": {Arch: "qwen2", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 1e6, Eps: 1e-6, Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 2},
	// tiny-qwen2-256 has rows of 256 and 768: whole blocks of every GGUF
	// block type, K-quants included (mktiny --dtype q4_k, llama-quantize).
	"tiny-qwen2-256": {Arch: "qwen2", Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 768, Theta: 1e6, Eps: 1e-6, Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 14},
	"qwen2-0.5b":     {Arch: "qwen2", Hidden: 896, Layers: 24, Heads: 14, KVHeads: 2, FFN: 4864, Vocab: 151936, Theta: 1e6, Eps: 1e-6, Tied: true, Bias: true, MaxPos: 32768, DType: tensor.F16, Seed: 3},
	// tiny-qwen3's head_dim 32 is deliberately not hidden/heads (16), as in
	// the real Qwen3 models (e.g. 0.6B: 1024 wide, 16 heads of 128).
	"tiny-qwen3": {Arch: "qwen3", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32, FFN: 160, Theta: 1e6, Eps: 1e-6, Tied: true, MaxPos: 4096, DType: tensor.F32, Seed: 4},
	// qwen3-0.6b is Qwen3-0.6B's shape with random F16 weights.
	"qwen3-0.6b": {Arch: "qwen3", Hidden: 1024, Layers: 28, Heads: 16, KVHeads: 8, HeadDim: 128, FFN: 3072, Vocab: 151936, Theta: 1e6, Eps: 1e-6, Tied: true, MaxPos: 40960, DType: tensor.F16, Seed: 5, FastRand: true},
}

// qwen05Text is the decoder of the real-shape multimodal models: Qwen2-0.5B's
// width and depth (896 wide, 24 layers, 14 heads, 2 KV heads, FFN 4864, tied
// embeddings, QKV biases) with the tiny vocabulary, F16.
func qwen05Text(arch string, seed uint64) Spec {
	return Spec{Arch: arch, Hidden: 896, Layers: 24, Heads: 14, KVHeads: 2, FFN: 4864, Theta: 1e6, Eps: 1e-6,
		Tied: true, Bias: true, MaxPos: 32768, DType: tensor.F16, Seed: seed, FastRand: true}
}

func (s Spec) validate() error {
	if s.Hidden <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.FFN <= 0 || s.Heads%s.KVHeads != 0 ||
		s.HeadDim < 0 || s.HeadDim%2 != 0 || (s.HeadDim == 0 && s.Hidden%s.Heads != 0) {
		return fmt.Errorf("tiny: bad decoder spec %+v", s)
	}
	return nil
}

// headDim is the attention head size.
func (s Spec) headDim() int {
	if s.HeadDim > 0 {
		return s.HeadDim
	}
	return s.Hidden / s.Heads
}

func (s Spec) tensors(vocab int) []tensorSpec {
	hd := s.headDim()
	qd, kvd := s.Heads*hd, s.KVHeads*hd
	ts := []tensorSpec{
		{hf: "model.embed_tokens.weight", gguf: "token_embd.weight", shape: []int{vocab, s.Hidden}, kind: kEmbed},
		{hf: "model.norm.weight", gguf: "output_norm.weight", shape: []int{s.Hidden}, kind: kNorm},
	}
	if !s.Tied {
		ts = append(ts, tensorSpec{hf: "lm_head.weight", gguf: "output.weight", shape: []int{vocab, s.Hidden}, kind: kEmbed})
	}
	perm := func(h int) int {
		if s.Arch == "llama" {
			return h
		}
		return 0
	}
	for i := 0; i < s.Layers; i++ {
		t := func(n, g string, kind, permute int, shape ...int) tensorSpec {
			return tensorSpec{hf: fmt.Sprintf("model.layers.%d.%s", i, n), gguf: fmt.Sprintf("blk.%d.%s", i, g), shape: shape, kind: kind, permute: permute}
		}
		ts = append(ts,
			t("input_layernorm.weight", "attn_norm.weight", kNorm, 0, s.Hidden),
			t("self_attn.q_proj.weight", "attn_q.weight", kMatrix, perm(s.Heads), qd, s.Hidden),
			t("self_attn.k_proj.weight", "attn_k.weight", kMatrix, perm(s.KVHeads), kvd, s.Hidden),
		)
		if s.Arch == "qwen3" {
			ts = append(ts,
				t("self_attn.q_norm.weight", "attn_q_norm.weight", kNorm, 0, hd),
				t("self_attn.k_norm.weight", "attn_k_norm.weight", kNorm, 0, hd))
		}
		ts = append(ts,
			t("self_attn.v_proj.weight", "attn_v.weight", kMatrix, 0, kvd, s.Hidden),
			t("self_attn.o_proj.weight", "attn_output.weight", kMatrix, 0, s.Hidden, qd),
			t("post_attention_layernorm.weight", "ffn_norm.weight", kNorm, 0, s.Hidden),
			t("mlp.gate_proj.weight", "ffn_gate.weight", kMatrix, 0, s.FFN, s.Hidden),
			t("mlp.up_proj.weight", "ffn_up.weight", kMatrix, 0, s.FFN, s.Hidden),
			t("mlp.down_proj.weight", "ffn_down.weight", kMatrix, 0, s.Hidden, s.FFN),
		)
		if s.Bias {
			ts = append(ts,
				t("self_attn.q_proj.bias", "attn_q.bias", kBias, perm(s.Heads), qd),
				t("self_attn.k_proj.bias", "attn_k.bias", kBias, perm(s.KVHeads), kvd),
				t("self_attn.v_proj.bias", "attn_v.bias", kBias, 0, kvd))
		}
	}
	return ts
}

// textGen is the random stream of s's weights (media towers written with s
// continue it).
func (s Spec) textGen() *gen { return newGen(s.Seed, 0x5eed, s.FastRand) }

// Write generates s into dir: dir/hf/ (if hf) and dir/model.gguf (if gguf).
func Write(dir string, s Spec, hf, gguf bool) error {
	if err := s.validate(); err != nil {
		return err
	}
	voc, err := NewVocab(s.Vocab)
	if err != nil {
		return err
	}
	f, err := generate(s.textGen(), s.tensors(len(voc.Tokens)), s.DType, "", hf, gguf)
	if err != nil {
		return err
	}
	if hf {
		if err := writeHFDir(filepath.Join(dir, "hf"), voc, s.hfJSON(voc), f.hf); err != nil {
			return err
		}
	}
	if gguf {
		return s.writeGGUF(filepath.Join(dir, "model.gguf"), voc, f.gguf)
	}
	return mkdir(dir)
}

// hfConfig is the text config.json of s (architectures and model_type added by the caller or hfJSON).
func (s Spec) hfConfig(voc *Vocab) map[string]any {
	cfg := map[string]any{
		"model_type": s.Arch, "vocab_size": len(voc.Tokens),
		"hidden_size": s.Hidden, "intermediate_size": s.FFN, "num_hidden_layers": s.Layers,
		"num_attention_heads": s.Heads, "num_key_value_heads": s.KVHeads, "rms_norm_eps": s.Eps,
		"rope_theta": s.Theta, "max_position_embeddings": s.MaxPos, "tie_word_embeddings": s.Tied,
		"eos_token_id": voc.EOS,
	}
	if s.HeadDim > 0 {
		cfg["head_dim"] = s.HeadDim
	}
	if s.Arch == "qwen3" {
		cfg["attention_bias"] = s.Bias
	}
	return cfg
}

func (s Spec) hfJSON(voc *Vocab) map[string]any {
	cfg := s.hfConfig(voc)
	cfg["architectures"] = []string{map[string]string{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}[s.Arch]}
	cfg["torch_dtype"] = "float32"
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}, "temperature": 0.7, "top_p": 0.8, "top_k": 20}
	return map[string]any{"config.json": cfg, "generation_config.json": gen}
}

// writeGGUF writes the text model: s's hyperparameters (plus extra, after
// them), the tokenizer and ts.
func (s Spec) writeGGUF(path string, voc *Vocab, ts []weights.TensorData, extra ...kv) error {
	if err := mkdir(filepath.Dir(path)); err != nil {
		return err
	}
	a := s.Arch
	meta := []kv{
		{"general.architecture", a}, {"general.name", "sightline-tiny-" + a},
		{a + ".context_length", uint32(s.MaxPos)}, {a + ".embedding_length", uint32(s.Hidden)},
		{a + ".block_count", uint32(s.Layers)}, {a + ".feed_forward_length", uint32(s.FFN)},
		{a + ".attention.head_count", uint32(s.Heads)}, {a + ".attention.head_count_kv", uint32(s.KVHeads)},
		{a + ".rope.freq_base", s.Theta}, {a + ".attention.layer_norm_rms_epsilon", s.Eps},
	}
	if s.HeadDim > 0 {
		meta = append(meta, kv{a + ".attention.key_length", uint32(s.HeadDim)}, kv{a + ".attention.value_length", uint32(s.HeadDim)})
	}
	meta = append(meta, extra...)
	meta = append(meta,
		kv{"tokenizer.ggml.model", "gpt2"}, kv{"tokenizer.ggml.pre", "qwen2"},
		kv{"tokenizer.ggml.tokens", voc.Tokens}, kv{"tokenizer.ggml.token_type", voc.Types},
		kv{"tokenizer.ggml.merges", voc.Merges}, kv{"tokenizer.ggml.eos_token_id", uint32(voc.EOS)},
		kv{"tokenizer.ggml.padding_token_id", uint32(voc.PAD)}, kv{"tokenizer.ggml.add_bos_token", false},
		kv{"tokenizer.chat_template", chatML})
	return writeGGUFFile(path, meta, ts)
}
