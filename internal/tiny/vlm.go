package tiny

import (
	"fmt"
	"path/filepath"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// VisionSpec is a Qwen2-VL vision tower (ViT with 2-D RoPE and a 2×2 merger).
type VisionSpec struct {
	Hidden, Heads, FFN, Layers int
	Patch, Merge, Temporal     int
	ImageSize                  int // mmproj clip.vision.image_size (any multiple of Patch·Merge works)
	// MinPixels, MaxPixels go to the HF preprocessor_config.json (0: 4 and
	// 1024 merged tokens' worth). The GGUF form gets llama.cpp's fixed
	// bounds (8 to 4096 tokens).
	MinPixels, MaxPixels int
}

// VLMSpec is a Qwen2-VL-style model: a qwen2vl text decoder with M-RoPE and
// a vision tower whose merger projects into the decoder's width.
type VLMSpec struct {
	Text     Spec  // Arch is "qwen2vl"
	Sections []int // M-RoPE sections (t, h, w) in rotary pairs, summing to head_dim/2
	Vision   VisionSpec
}

// VLMShapes are the named VLM specs cmd/mktiny and the tests offer.
//
// "qwen2vl-2b" is Qwen2-VL-2B's vision tower (32 layers, 1280 wide, 16
// heads, FFN 5120, patch 14, temporal 2, merge 2, min/max pixels 3136 and
// 12845056) with the merger projecting into a Qwen2-0.5B-shaped qwen2vl
// decoder (M-RoPE sections 8, 12, 12 for its head_dim 64; Qwen2-VL's
// 16, 24, 24 are for head_dim 128), random F16 weights.
var VLMShapes = map[string]VLMSpec{
	"tiny-qwen2vl": {
		Text: Spec{Arch: "qwen2vl", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 1e6, Eps: 1e-6,
			Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 7},
		Sections: []int{2, 3, 3},
		Vision:   VisionSpec{Hidden: 32, Heads: 4, FFN: 64, Layers: 2, Patch: 14, Merge: 2, Temporal: 2, ImageSize: 112},
	},
	"qwen2vl-2b": {
		Text:     qwen05Text("qwen2vl", 21),
		Sections: []int{8, 12, 12},
		Vision: VisionSpec{Hidden: 1280, Heads: 16, FFN: 5120, Layers: 32, Patch: 14, Merge: 2, Temporal: 2, ImageSize: 560,
			MinPixels: 3136, MaxPixels: 12845056},
	},
}

func (s VLMSpec) validate() error {
	t, v := s.Text, s.Vision
	if t.Arch != "qwen2vl" {
		return fmt.Errorf("tiny: VLM text arch %q (want qwen2vl)", t.Arch)
	}
	if err := t.validate(); err != nil {
		return err
	}
	sum := 0
	for _, x := range s.Sections {
		sum += x
	}
	if len(s.Sections) != 3 || sum != t.Hidden/t.Heads/2 {
		return fmt.Errorf("tiny: M-RoPE sections %v must be 3 summing to %d", s.Sections, t.Hidden/t.Heads/2)
	}
	if v.Heads <= 0 || v.Hidden%v.Heads != 0 || (v.Hidden/v.Heads)%4 != 0 || v.Patch <= 0 || v.Merge <= 0 || v.Temporal <= 0 ||
		v.Layers <= 0 || v.FFN <= 0 || v.ImageSize%(v.Patch*v.Merge) != 0 || v.MinPixels < 0 || v.MaxPixels < 0 {
		return fmt.Errorf("tiny: vision spec %+v", v)
	}
	return nil
}

// visionTensors lists the tower's weights in Hugging Face layout and how
// llama.cpp's converter stores them: per-frame patch kernels, separate
// q/k/v, clip.cpp names.
func (s VLMSpec) visionTensors() []tensorSpec {
	v := s.Vision
	D, P, T, M := v.Hidden, v.Patch, v.Temporal, v.Merge
	t := func(hf, gg string, kind int, shape ...int) tensorSpec {
		return tensorSpec{hf: hf, gguf: gg, shape: shape, kind: kind}
	}
	patch := t("visual.patch_embed.proj.weight", "v.patch_embd.weight", kMatrix, D, 3, T, P, P)
	patch.frames = T
	ts := []tensorSpec{patch}
	for i := 0; i < v.Layers; i++ {
		b := func(hf, gg string, kind int, shape ...int) tensorSpec {
			return t(fmt.Sprintf("visual.blocks.%d.%s", i, hf), fmt.Sprintf("v.blk.%d.%s", i, gg), kind, shape...)
		}
		split := func(ts tensorSpec, suffix string) tensorSpec {
			for _, n := range []string{"attn_q", "attn_k", "attn_v"} {
				ts.split = append(ts.split, fmt.Sprintf("v.blk.%d.%s%s", i, n, suffix))
			}
			return ts
		}
		ts = append(ts,
			b("norm1.weight", "ln1.weight", kNorm, D), b("norm1.bias", "ln1.bias", kBias, D),
			split(b("attn.qkv.weight", "attn_qkv.weight", kMatrix, 3*D, D), ".weight"),
			split(b("attn.qkv.bias", "attn_qkv.bias", kBias, 3*D), ".bias"),
			b("attn.proj.weight", "attn_out.weight", kMatrix, D, D), b("attn.proj.bias", "attn_out.bias", kBias, D),
			b("norm2.weight", "ln2.weight", kNorm, D), b("norm2.bias", "ln2.bias", kBias, D),
			b("mlp.fc1.weight", "ffn_up.weight", kMatrix, v.FFN, D), b("mlp.fc1.bias", "ffn_up.bias", kBias, v.FFN),
			b("mlp.fc2.weight", "ffn_down.weight", kMatrix, D, v.FFN), b("mlp.fc2.bias", "ffn_down.bias", kBias, D))
	}
	return append(ts,
		t("visual.merger.ln_q.weight", "v.post_ln.weight", kNorm, D), t("visual.merger.ln_q.bias", "v.post_ln.bias", kBias, D),
		t("visual.merger.mlp.0.weight", "mm.0.weight", kMatrix, D*M*M, D*M*M), t("visual.merger.mlp.0.bias", "mm.0.bias", kBias, D*M*M),
		t("visual.merger.mlp.2.weight", "mm.2.weight", kMatrix, s.Text.Hidden, D*M*M), t("visual.merger.mlp.2.bias", "mm.2.bias", kBias, s.Text.Hidden))
}

// textAndTower draws a multimodal model's decoder tensors (HF names prefixed
// with textPrefix) and then its tower's, in towerDType, from one generator,
// and writes the HF directory (configs from hfJSON) when hf is set.
func textAndTower(dir string, voc *Vocab, t Spec, textPrefix string, tower []tensorSpec, hfJSON func(*Vocab) map[string]any, hf, gguf bool) (text, vis forms, err error) {
	g := t.textGen()
	if text, err = generate(g, t.tensors(len(voc.Tokens)), t.DType, textPrefix, hf, gguf); err != nil {
		return text, vis, err
	}
	if vis, err = generate(g, tower, towerDType(t.DType), "", hf, gguf); err != nil {
		return text, vis, err
	}
	if hf {
		err = writeHFDir(filepath.Join(dir, "hf"), voc, hfJSON(voc), append(text.hf, vis.hf...))
	}
	return text, vis, err
}

// towerDType is the dtype of a vision tower written with a text dtype (F32
// for block types: tower widths need not be whole blocks).
func towerDType(dt tensor.DType) tensor.DType {
	if dt.Quantized() {
		return tensor.F32
	}
	return dt
}

// WriteVLM generates s into dir: dir/hf/ (a Qwen2VLForConditionalGeneration
// directory, if hf) and dir/model.gguf + dir/mmproj.gguf (if gguf), all
// holding the same weights. Vision matrices use s.Text.DType (F32 when it
// is Q8_0).
func WriteVLM(dir string, s VLMSpec, hf, gguf bool) error {
	return writeMRoPEVLM(dir, s, hf, gguf)
}

// mropeVLM is a Qwen2-VL-style spec: a qwen2vl decoder with M-RoPE and a
// vision tower written as an HF directory and a GGUF mmproj.
type mropeVLM interface {
	validate() error
	text() Spec
	sections() []int
	visionTensors() []tensorSpec
	hfJSON(voc *Vocab) map[string]any
	writeMMProj(path string, ts []weights.TensorData) error
}

func (s VLMSpec) text() Spec      { return s.Text }
func (s VLMSpec) sections() []int { return s.Sections }

// writeMRoPEVLM writes s as WriteVLM documents, for either family.
func writeMRoPEVLM(dir string, s mropeVLM, hf, gguf bool) error {
	if err := s.validate(); err != nil {
		return err
	}
	t := s.text()
	voc, err := NewVocab(t.Vocab)
	if err != nil {
		return err
	}
	text, vis, err := textAndTower(dir, voc, t, "", s.visionTensors(), s.hfJSON, hf, gguf)
	if err != nil {
		return err
	}
	if !gguf {
		return mkdir(dir)
	}
	sec := s.sections()
	if err := t.writeGGUF(filepath.Join(dir, "model.gguf"), voc, text.gguf, kv{"qwen2vl.rope.dimension_sections", []int32{int32(sec[0]), int32(sec[1]), int32(sec[2]), 0}}); err != nil {
		return err
	}
	return s.writeMMProj(filepath.Join(dir, "mmproj.gguf"), vis.gguf)
}

var clipMean, clipStd = []float32{0.48145466, 0.4578275, 0.40821073}, []float32{0.26862954, 0.26130258, 0.27577711}

func (s VLMSpec) hfJSON(voc *Vocab) map[string]any {
	t, v := s.Text, s.Vision
	cfg := t.hfConfig(voc)
	for k, val := range map[string]any{
		"architectures": []string{"Qwen2VLForConditionalGeneration"}, "model_type": "qwen2_vl", "torch_dtype": "float32",
		"rope_scaling":          map[string]any{"type": "mrope", "mrope_section": s.Sections},
		"vision_start_token_id": voc.Special["<|vision_start|>"], "vision_end_token_id": voc.Special["<|vision_end|>"],
		"image_token_id": voc.Special["<|image_pad|>"],
		"vision_config": map[string]any{"depth": v.Layers, "embed_dim": v.Hidden, "hidden_size": t.Hidden,
			"mlp_ratio": float64(v.FFN) / float64(v.Hidden), "num_heads": v.Heads, "in_chans": 3, "patch_size": v.Patch,
			"spatial_merge_size": v.Merge, "temporal_patch_size": v.Temporal, "hidden_act": "quick_gelu"},
	} {
		cfg[k] = val
	}
	f := v.Patch * v.Merge
	lo, hi := v.MinPixels, v.MaxPixels
	if lo == 0 {
		lo = 4 * f * f
	}
	if hi == 0 {
		hi = 1024 * f * f
	}
	pre := map[string]any{"min_pixels": lo, "max_pixels": hi, "patch_size": v.Patch,
		"temporal_patch_size": v.Temporal, "merge_size": v.Merge, "image_mean": clipMean, "image_std": clipStd,
		"resample": 3, "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"}
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}}
	return map[string]any{"config.json": cfg, "generation_config.json": gen, "preprocessor_config.json": pre}
}

func (s VLMSpec) writeMMProj(path string, ts []weights.TensorData) error {
	v := s.Vision
	return writeGGUFFile(path, []kv{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-qwen2vl-mmproj"},
		{"clip.has_vision_encoder", true}, {"clip.has_audio_encoder", false},
		{"clip.projector_type", "qwen2vl_merger"},
		{"clip.vision.image_size", uint32(v.ImageSize)}, {"clip.vision.patch_size", uint32(v.Patch)},
		{"clip.vision.embedding_length", uint32(v.Hidden)}, {"clip.vision.feed_forward_length", uint32(v.FFN)},
		{"clip.vision.block_count", uint32(v.Layers)}, {"clip.vision.attention.head_count", uint32(v.Heads)},
		{"clip.vision.attention.layer_norm_epsilon", float32(1e-6)}, {"clip.vision.projection_dim", uint32(s.Text.Hidden)},
		{"clip.vision.image_mean", clipMean}, {"clip.vision.image_std", clipStd},
		{"clip.vision.spatial_merge_size", uint32(v.Merge)},
	}, ts)
}
