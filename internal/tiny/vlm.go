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

// VisionSpec is a Qwen2-VL vision tower (ViT with 2-D RoPE and a 2×2 merger).
type VisionSpec struct {
	Hidden, Heads, FFN, Layers int
	Patch, Merge, Temporal     int
	ImageSize                  int // mmproj clip.vision.image_size (any multiple of Patch·Merge works)
}

// VLMSpec is a Qwen2-VL-style model: a qwen2vl text decoder with M-RoPE and
// a vision tower whose merger projects into the decoder's width.
type VLMSpec struct {
	Text     Spec  // Arch is "qwen2vl"
	Sections []int // M-RoPE sections (t, h, w) in rotary pairs, summing to head_dim/2
	Vision   VisionSpec
}

// VLMShapes are the named VLM specs cmd/mktiny and the tests offer.
var VLMShapes = map[string]VLMSpec{
	"tiny-qwen2vl": {
		Text: Spec{Arch: "qwen2vl", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 1e6, Eps: 1e-6,
			Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 7},
		Sections: []int{2, 3, 3},
		Vision:   VisionSpec{Hidden: 32, Heads: 4, FFN: 64, Layers: 2, Patch: 14, Merge: 2, Temporal: 2, ImageSize: 112},
	},
}

// vlmTensor is one vision tensor: its HF values and how GGUF stores them.
type vlmTensor struct {
	hf    string
	shape []int
	vals  []float32
	norm  bool // norms and biases stay F32
}

// uniform fills n values uniform in [−a, a] (+1 for norm weights).
func uniform(r *rand.Rand, n int, a float64, one bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		x := (r.Float64()*2 - 1) * a
		if one {
			x++
		}
		v[i] = float32(x)
	}
	return v
}

func (s VLMSpec) validate() error {
	t, v := s.Text, s.Vision
	if t.Arch != "qwen2vl" || t.Heads <= 0 || t.Hidden%t.Heads != 0 {
		return fmt.Errorf("tiny: VLM text arch %q hidden %d heads %d", t.Arch, t.Hidden, t.Heads)
	}
	sum := 0
	for _, x := range s.Sections {
		sum += x
	}
	if len(s.Sections) != 3 || sum != t.Hidden/t.Heads/2 {
		return fmt.Errorf("tiny: M-RoPE sections %v must be 3 summing to %d", s.Sections, t.Hidden/t.Heads/2)
	}
	if v.Heads <= 0 || v.Hidden%v.Heads != 0 || (v.Hidden/v.Heads)%4 != 0 || v.Patch <= 0 || v.Merge <= 0 || v.Temporal <= 0 ||
		v.ImageSize%(v.Patch*v.Merge) != 0 {
		return fmt.Errorf("tiny: vision spec %+v", v)
	}
	return nil
}

// visionTensors generates the tower's weights in Hugging Face layout.
func (s VLMSpec) visionTensors(r *rand.Rand) []vlmTensor {
	v := s.Vision
	D, P, T, M := v.Hidden, v.Patch, v.Temporal, v.Merge
	mat := func(name string, out, in int) vlmTensor {
		return vlmTensor{hf: name, shape: []int{out, in}, vals: uniform(r, out*in, math.Sqrt(3/float64(in)), false)}
	}
	vec := func(name string, n int, one bool) vlmTensor {
		return vlmTensor{hf: name, shape: []int{n}, vals: uniform(r, n, 0.1, one), norm: true}
	}
	cols := 3 * T * P * P
	ts := []vlmTensor{{hf: "visual.patch_embed.proj.weight", shape: []int{D, 3, T, P, P},
		vals: uniform(r, D*cols, math.Sqrt(3/float64(cols)), false)}}
	for i := 0; i < v.Layers; i++ {
		b := func(n string) string { return fmt.Sprintf("visual.blocks.%d.%s", i, n) }
		ts = append(ts,
			vec(b("norm1.weight"), D, true), vec(b("norm1.bias"), D, false),
			mat(b("attn.qkv.weight"), 3*D, D), vec(b("attn.qkv.bias"), 3*D, false),
			mat(b("attn.proj.weight"), D, D), vec(b("attn.proj.bias"), D, false),
			vec(b("norm2.weight"), D, true), vec(b("norm2.bias"), D, false),
			mat(b("mlp.fc1.weight"), v.FFN, D), vec(b("mlp.fc1.bias"), v.FFN, false),
			mat(b("mlp.fc2.weight"), D, v.FFN), vec(b("mlp.fc2.bias"), D, false))
	}
	ts = append(ts,
		vec("visual.merger.ln_q.weight", D, true), vec("visual.merger.ln_q.bias", D, false),
		mat("visual.merger.mlp.0.weight", D*M*M, D*M*M), vec("visual.merger.mlp.0.bias", D*M*M, false),
		mat("visual.merger.mlp.2.weight", s.Text.Hidden, D*M*M), vec("visual.merger.mlp.2.bias", s.Text.Hidden, false))
	return ts
}

// ggufVision renames and splits HF vision tensors the way llama.cpp's
// converter does: per-frame patch kernels, separate q/k/v, clip.cpp names.
func ggufVision(ts []vlmTensor, v VisionSpec) []vlmTensor {
	var out []vlmTensor
	D, P, T := v.Hidden, v.Patch, v.Temporal
	for _, t := range ts {
		var blk int
		var rest string
		switch {
		case t.hf == "visual.patch_embed.proj.weight":
			for f := 0; f < T; f++ {
				vals := make([]float32, D*3*P*P)
				for d := 0; d < D; d++ {
					for c := 0; c < 3; c++ {
						src := ((d*3+c)*T + f) * P * P
						copy(vals[(d*3+c)*P*P:], t.vals[src:src+P*P])
					}
				}
				name := "v.patch_embd.weight"
				if f > 0 {
					name = fmt.Sprintf("v.patch_embd.weight.%d", f)
				}
				out = append(out, vlmTensor{hf: name, shape: []int{D, 3, P, P}, vals: vals})
			}
		case sscan(t.hf, &blk, &rest):
			g := func(n string) string { return fmt.Sprintf("v.blk.%d.%s", blk, n) }
			names := map[string]string{"norm1.weight": "ln1.weight", "norm1.bias": "ln1.bias", "norm2.weight": "ln2.weight",
				"norm2.bias": "ln2.bias", "attn.proj.weight": "attn_out.weight", "attn.proj.bias": "attn_out.bias",
				"mlp.fc1.weight": "ffn_up.weight", "mlp.fc1.bias": "ffn_up.bias", "mlp.fc2.weight": "ffn_down.weight", "mlp.fc2.bias": "ffn_down.bias"}
			if n, ok := names[rest]; ok {
				out = append(out, vlmTensor{hf: g(n), shape: t.shape, vals: t.vals, norm: t.norm})
				continue
			}
			per := len(t.vals) / 3
			for j, qkv := range []string{"attn_q", "attn_k", "attn_v"} {
				suffix, shape := ".weight", []int{D, D}
				if rest == "attn.qkv.bias" {
					suffix, shape = ".bias", []int{D}
				}
				out = append(out, vlmTensor{hf: g(qkv + suffix), shape: shape, vals: t.vals[j*per : (j+1)*per], norm: t.norm})
			}
		default:
			names := map[string]string{"visual.merger.ln_q.weight": "v.post_ln.weight", "visual.merger.ln_q.bias": "v.post_ln.bias",
				"visual.merger.mlp.0.weight": "mm.0.weight", "visual.merger.mlp.0.bias": "mm.0.bias",
				"visual.merger.mlp.2.weight": "mm.2.weight", "visual.merger.mlp.2.bias": "mm.2.bias"}
			out = append(out, vlmTensor{hf: names[t.hf], shape: t.shape, vals: t.vals, norm: t.norm})
		}
	}
	return out
}

// sscan parses "visual.blocks.N.rest".
func sscan(name string, blk *int, rest *string) bool {
	var tail string
	if _, err := fmt.Sscanf(name, "visual.blocks.%d.%s", blk, &tail); err != nil {
		return false
	}
	*rest = tail
	return true
}

func encodeAll(ts []vlmTensor, dt tensor.DType) ([]weights.TensorData, error) {
	var out []weights.TensorData
	for _, t := range ts {
		d := dt
		if t.norm || d == tensor.Q8_0 {
			d = tensor.F32
		}
		td, err := weights.EncodeTensor(t.hf, d, t.shape, t.vals)
		if err != nil {
			return nil, err
		}
		out = append(out, td)
	}
	return out, nil
}

// WriteVLM generates s into dir: dir/hf/ (a Qwen2VLForConditionalGeneration
// directory, unless !hf) and dir/model.gguf + dir/mmproj.gguf (unless
// !gguf), all holding the same weights. Vision matrices use s.Text.DType
// (F32 when it is Q8_0).
func WriteVLM(dir string, s VLMSpec, hf, gguf bool) error {
	if err := s.validate(); err != nil {
		return err
	}
	voc, err := NewVocab(s.Text.Vocab)
	if err != nil {
		return err
	}
	vocab := len(voc.Tokens)
	r := rand.New(rand.NewPCG(s.Text.Seed, s.Text.Seed^0x5eed))
	var hfT, ggT []weights.TensorData
	for _, t := range s.Text.tensors(vocab) {
		vals := values(r, t)
		dt := s.Text.DType
		if t.kind != 0 {
			dt = tensor.F32
		}
		hdt := dt
		if hdt == tensor.Q8_0 {
			hdt = tensor.F32
		}
		td, err := weights.EncodeTensor(t.hf, hdt, t.shape, vals)
		if err != nil {
			return err
		}
		hfT = append(hfT, td)
		if td, err = weights.EncodeTensor(t.gguf, dt, t.shape, vals); err != nil {
			return err
		}
		ggT = append(ggT, td)
	}
	vis := s.visionTensors(r)
	vdt := s.Text.DType
	hv, err := encodeAll(vis, vdt)
	if err != nil {
		return err
	}
	gv, err := encodeAll(ggufVision(vis, s.Vision), vdt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if hf {
		if err := s.writeVLMHF(filepath.Join(dir, "hf"), voc, append(hfT, hv...)); err != nil {
			return err
		}
	}
	if !gguf {
		return nil
	}
	if err := s.writeVLMText(filepath.Join(dir, "model.gguf"), voc, ggT); err != nil {
		return err
	}
	return s.writeMMProj(filepath.Join(dir, "mmproj.gguf"), gv)
}

var clipMean, clipStd = []float32{0.48145466, 0.4578275, 0.40821073}, []float32{0.26862954, 0.26130258, 0.27577711}

func (s VLMSpec) writeVLMHF(dir string, voc *Vocab, ts []weights.TensorData) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t, v := s.Text, s.Vision
	cfg := map[string]any{
		"architectures": []string{"Qwen2VLForConditionalGeneration"}, "model_type": "qwen2_vl", "vocab_size": len(voc.Tokens),
		"hidden_size": t.Hidden, "intermediate_size": t.FFN, "num_hidden_layers": t.Layers,
		"num_attention_heads": t.Heads, "num_key_value_heads": t.KVHeads, "rms_norm_eps": t.Eps,
		"rope_theta": t.Theta, "max_position_embeddings": t.MaxPos, "tie_word_embeddings": t.Tied,
		"rope_scaling": map[string]any{"type": "mrope", "mrope_section": s.Sections},
		"eos_token_id": voc.EOS, "torch_dtype": "float32",
		"vision_start_token_id": voc.Special["<|vision_start|>"], "vision_end_token_id": voc.Special["<|vision_end|>"],
		"image_token_id": voc.Special["<|image_pad|>"],
		"vision_config": map[string]any{"depth": v.Layers, "embed_dim": v.Hidden, "hidden_size": t.Hidden,
			"mlp_ratio": float64(v.FFN) / float64(v.Hidden), "num_heads": v.Heads, "in_chans": 3, "patch_size": v.Patch,
			"spatial_merge_size": v.Merge, "temporal_patch_size": v.Temporal, "hidden_act": "quick_gelu"},
	}
	f := v.Patch * v.Merge
	pre := map[string]any{"min_pixels": 4 * f * f, "max_pixels": 1024 * f * f, "patch_size": v.Patch,
		"temporal_patch_size": v.Temporal, "merge_size": v.Merge, "image_mean": clipMean, "image_std": clipStd,
		"resample": 3, "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"}
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}}
	tj, err := voc.TokenizerJSON()
	if err != nil {
		return err
	}
	tc, err := voc.TokenizerConfigJSON()
	if err != nil {
		return err
	}
	for name, val := range map[string]any{"config.json": cfg, "generation_config.json": gen, "preprocessor_config.json": pre} {
		b, err := json.MarshalIndent(val, "", " ")
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

func (s VLMSpec) writeVLMText(path string, voc *Vocab, ts []weights.TensorData) error {
	w := weights.NewGGUFWriter()
	t := s.Text
	a := "qwen2vl"
	sec := append(append([]int32{}, int32(s.Sections[0]), int32(s.Sections[1]), int32(s.Sections[2])), 0)
	set := []struct {
		k string
		v any
	}{
		{"general.architecture", a}, {"general.name", "sightline-tiny-qwen2vl"},
		{a + ".context_length", uint32(t.MaxPos)}, {a + ".embedding_length", uint32(t.Hidden)},
		{a + ".block_count", uint32(t.Layers)}, {a + ".feed_forward_length", uint32(t.FFN)},
		{a + ".attention.head_count", uint32(t.Heads)}, {a + ".attention.head_count_kv", uint32(t.KVHeads)},
		{a + ".rope.freq_base", t.Theta}, {a + ".attention.layer_norm_rms_epsilon", t.Eps},
		{a + ".rope.dimension_sections", sec},
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
	for _, td := range ts {
		if err := w.AddTensor(td); err != nil {
			return err
		}
	}
	return w.WriteFile(path)
}

func (s VLMSpec) writeMMProj(path string, ts []weights.TensorData) error {
	w := weights.NewGGUFWriter()
	v := s.Vision
	set := []struct {
		k string
		v any
	}{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-qwen2vl-mmproj"},
		{"clip.has_vision_encoder", true}, {"clip.has_audio_encoder", false},
		{"clip.projector_type", "qwen2vl_merger"},
		{"clip.vision.image_size", uint32(v.ImageSize)}, {"clip.vision.patch_size", uint32(v.Patch)},
		{"clip.vision.embedding_length", uint32(v.Hidden)}, {"clip.vision.feed_forward_length", uint32(v.FFN)},
		{"clip.vision.block_count", uint32(v.Layers)}, {"clip.vision.attention.head_count", uint32(v.Heads)},
		{"clip.vision.attention.layer_norm_epsilon", float32(1e-6)}, {"clip.vision.projection_dim", uint32(s.Text.Hidden)},
		{"clip.vision.image_mean", clipMean}, {"clip.vision.image_std", clipStd},
		{"clip.vision.spatial_merge_size", uint32(v.Merge)},
	}
	for _, kv := range set {
		if err := w.Set(kv.k, kv.v); err != nil {
			return fmt.Errorf("tiny: %s: %w", kv.k, err)
		}
	}
	for _, td := range ts {
		if err := w.AddTensor(td); err != nil {
			return err
		}
	}
	return w.WriteFile(path)
}
