package tiny

import (
	"fmt"
	"slices"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// Qwen25VisionSpec is a Qwen2.5-VL vision tower: Qwen2-VL's patch embedding
// and 2-D RoPE with RMSNorm, a gated SiLU MLP (gate/up/down, with biases),
// window attention and an RMSNorm ln_q before the 2×2 merger.
type Qwen25VisionSpec struct {
	Hidden, Heads, FFN, Layers int
	Patch, Merge, Temporal     int
	// Window is HF window_size in pixels (Window/Merge/Patch merged units a
	// side); FullAtt the full-attention layers (HF fullatt_block_indexes).
	// llama.cpp stores FullAtt as a period (clip.vision.n_wa_pattern: layer i
	// is full when (i+1) % n == 0) and always uses a 112-pixel window, so the
	// GGUF form needs FullAtt evenly spaced from n−1 and Window 112.
	Window    int
	FullAtt   []int
	ImageSize int // mmproj clip.vision.image_size
	// MinPixels, MaxPixels go to the HF preprocessor_config.json (0: 4 and
	// 1024 merged tokens' worth); the GGUF form gets llama.cpp's bounds.
	MinPixels, MaxPixels int
}

// Qwen25VLSpec is a Qwen2.5-VL-style model: a qwen2vl (M-RoPE) text
// decoder and a Qwen2.5-VL vision tower merging into its width.
type Qwen25VLSpec struct {
	Text     Spec  // Arch "qwen2vl"
	Sections []int // M-RoPE sections (t, h, w) in rotary pairs, summing to head_dim/2
	Vision   Qwen25VisionSpec
}

// Qwen25VLShapes are the named Qwen2.5-VL specs.
//
// "tiny-qwen25vl" has 4 vision layers, full attention in layers 1 and 3 and
// the real 112-pixel window (4×4 merged tokens), so any image over 112
// pixels a side has several windows. "qwen25vl-3b" is Qwen2.5-VL-3B's shape:
// its vision tower (32 layers, 1280 wide, 16 heads, FFN 3420, window 112,
// full attention in layers 7, 15, 23, 31, merger into 2048) and its
// Qwen2.5-3B decoder (2048 wide, 36 layers, 16 heads, 2 KV heads, FFN
// 11008, M-RoPE sections 16, 24, 24, tied embeddings) with the tiny
// vocabulary, random F16 weights.
var Qwen25VLShapes = map[string]Qwen25VLSpec{
	"tiny-qwen25vl": {
		Text: Spec{Arch: "qwen2vl", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 1e6, Eps: 1e-6,
			Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 25},
		Sections: []int{2, 3, 3},
		Vision: Qwen25VisionSpec{Hidden: 32, Heads: 4, FFN: 48, Layers: 4, Patch: 14, Merge: 2, Temporal: 2,
			Window: 112, FullAtt: []int{1, 3}, ImageSize: 112},
	},
	"qwen25vl-3b": {
		Text: Spec{Arch: "qwen2vl", Hidden: 2048, Layers: 36, Heads: 16, KVHeads: 2, FFN: 11008, Theta: 1e6, Eps: 1e-6,
			Tied: true, Bias: true, MaxPos: 128000, DType: tensor.F16, Seed: 26, FastRand: true},
		Sections: []int{16, 24, 24},
		Vision: Qwen25VisionSpec{Hidden: 1280, Heads: 16, FFN: 3420, Layers: 32, Patch: 14, Merge: 2, Temporal: 2,
			Window: 112, FullAtt: []int{7, 15, 23, 31}, ImageSize: 560, MinPixels: 3136, MaxPixels: 12845056},
	},
}

func (s Qwen25VLSpec) validate() error {
	t, v := s.Text, s.Vision
	if t.Arch != "qwen2vl" {
		return fmt.Errorf("tiny: Qwen2.5-VL text arch %q (want qwen2vl)", t.Arch)
	}
	if err := t.validate(); err != nil {
		return err
	}
	sum := 0
	for _, x := range s.Sections {
		sum += x
	}
	if hd := t.Hidden / t.Heads; len(s.Sections) != 3 || sum != hd/2 || t.HeadDim != 0 {
		return fmt.Errorf("tiny: M-RoPE sections %v must be 3 summing to %d (head_dim hidden/heads)", s.Sections, hd/2)
	}
	if v.Heads <= 0 || v.Hidden%v.Heads != 0 || (v.Hidden/v.Heads)%4 != 0 || v.Patch <= 0 || v.Merge <= 0 || v.Temporal <= 0 ||
		v.Layers <= 0 || v.FFN <= 0 || v.FFN == v.Hidden || v.ImageSize%(v.Patch*v.Merge) != 0 || v.MinPixels < 0 || v.MaxPixels < 0 ||
		v.Window < v.Patch*v.Merge {
		// FFN == Hidden would trip clip.cpp's legacy up/down swap.
		return fmt.Errorf("tiny: Qwen2.5-VL vision spec %+v", v)
	}
	_, err := v.waPattern()
	return err
}

// waPattern is llama.cpp's clip.vision.n_wa_pattern for FullAtt (as its
// converter computes it), checked to select the same layers of this depth.
func (v Qwen25VisionSpec) waPattern() (int, error) {
	if len(v.FullAtt) == 0 {
		return 0, fmt.Errorf("tiny: Qwen2.5-VL needs full-attention layers (llama.cpp reads an empty list as no windows)")
	}
	n := v.FullAtt[0] + 1
	var want, got []int
	for _, i := range v.FullAtt {
		if i < v.Layers {
			want = append(want, i)
		}
	}
	for i := 0; i < v.Layers; i++ {
		if (i+1)%n == 0 {
			got = append(got, i)
		}
	}
	for i := 1; i < len(v.FullAtt); i++ {
		if v.FullAtt[i]-v.FullAtt[i-1] != n {
			got = nil // the converter rejects it
		}
	}
	if !slices.Equal(want, got) || v.Window != 112 {
		return 0, fmt.Errorf("tiny: full-attention layers %v of %d (window %d px) have no llama.cpp form (period %d, window 112)",
			v.FullAtt, v.Layers, v.Window, n)
	}
	return n, nil
}

// visionTensors lists the tower's weights in Hugging Face layout and how
// llama.cpp's converter stores them (per-frame patch kernels, q/k/v split
// out of qkv, clip.cpp names; RMSNorm weights without biases).
func (s Qwen25VLSpec) visionTensors() []tensorSpec {
	v := s.Vision
	D, P, T, M, F := v.Hidden, v.Patch, v.Temporal, v.Merge, v.FFN
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
			b("norm1.weight", "ln1.weight", kNorm, D),
			split(b("attn.qkv.weight", "attn_qkv.weight", kMatrix, 3*D, D), ".weight"),
			split(b("attn.qkv.bias", "attn_qkv.bias", kBias, 3*D), ".bias"),
			b("attn.proj.weight", "attn_out.weight", kMatrix, D, D), b("attn.proj.bias", "attn_out.bias", kBias, D),
			b("norm2.weight", "ln2.weight", kNorm, D),
			b("mlp.gate_proj.weight", "ffn_gate.weight", kMatrix, F, D), b("mlp.gate_proj.bias", "ffn_gate.bias", kBias, F),
			b("mlp.up_proj.weight", "ffn_up.weight", kMatrix, F, D), b("mlp.up_proj.bias", "ffn_up.bias", kBias, F),
			b("mlp.down_proj.weight", "ffn_down.weight", kMatrix, D, F), b("mlp.down_proj.bias", "ffn_down.bias", kBias, D))
	}
	return append(ts,
		t("visual.merger.ln_q.weight", "v.post_ln.weight", kNorm, D),
		t("visual.merger.mlp.0.weight", "mm.0.weight", kMatrix, D*M*M, D*M*M), t("visual.merger.mlp.0.bias", "mm.0.bias", kBias, D*M*M),
		t("visual.merger.mlp.2.weight", "mm.2.weight", kMatrix, s.Text.Hidden, D*M*M), t("visual.merger.mlp.2.bias", "mm.2.bias", kBias, s.Text.Hidden))
}

// WriteQwen25VL generates s into dir: dir/hf/ (a
// Qwen2_5_VLForConditionalGeneration directory, if hf) and dir/model.gguf +
// dir/mmproj.gguf (projector qwen2.5vl_merger, if gguf), all holding the
// same weights. Vision matrices use s.Text.DType (F32 when it is Q8_0).
func WriteQwen25VL(dir string, s Qwen25VLSpec, hf, gguf bool) error {
	return writeMRoPEVLM(dir, s, hf, gguf)
}

func (s Qwen25VLSpec) text() Spec      { return s.Text }
func (s Qwen25VLSpec) sections() []int { return s.Sections }

// hfJSON is config.json as Qwen2.5-VL checkpoints have it (text fields at
// the top, vision_config with hidden_size = the tower's width and
// out_hidden_size = the decoder's), generation_config.json and
// preprocessor_config.json (Qwen2VLImageProcessor, as the released models).
func (s Qwen25VLSpec) hfJSON(voc *Vocab) map[string]any {
	t, v := s.Text, s.Vision
	cfg := t.hfConfig(voc)
	for k, val := range map[string]any{
		"architectures": []string{"Qwen2_5_VLForConditionalGeneration"}, "model_type": "qwen2_5_vl", "torch_dtype": "float32",
		"hidden_act": "silu", "use_sliding_window": false,
		"rope_scaling":          map[string]any{"type": "mrope", "mrope_section": s.Sections},
		"vision_start_token_id": voc.Special["<|vision_start|>"], "vision_end_token_id": voc.Special["<|vision_end|>"],
		"image_token_id": voc.Special["<|image_pad|>"],
		"vision_config": map[string]any{"depth": v.Layers, "hidden_size": v.Hidden, "intermediate_size": v.FFN,
			"num_heads": v.Heads, "in_chans": 3, "out_hidden_size": t.Hidden, "patch_size": v.Patch,
			"spatial_merge_size": v.Merge, "spatial_patch_size": v.Patch, "temporal_patch_size": v.Temporal,
			"window_size": v.Window, "fullatt_block_indexes": v.FullAtt, "tokens_per_second": 2, "hidden_act": "silu"},
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
		"image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2_5_VLProcessor"}
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}}
	return map[string]any{"config.json": cfg, "generation_config.json": gen, "preprocessor_config.json": pre}
}

// writeMMProj writes the mmproj as llama.cpp's converter does for
// Qwen2.5-VL: projector qwen2.5vl_merger, use_silu, n_wa_pattern, the
// (RMS) norm eps.
func (s Qwen25VLSpec) writeMMProj(path string, ts []weights.TensorData) error {
	v := s.Vision
	pat, err := v.waPattern()
	if err != nil {
		return err
	}
	return writeGGUFFile(path, []kv{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-qwen25vl-mmproj"},
		{"clip.has_vision_encoder", true}, {"clip.has_audio_encoder", false},
		{"clip.projector_type", "qwen2.5vl_merger"}, {"clip.use_silu", true},
		{"clip.vision.image_size", uint32(v.ImageSize)}, {"clip.vision.patch_size", uint32(v.Patch)},
		{"clip.vision.embedding_length", uint32(v.Hidden)}, {"clip.vision.feed_forward_length", uint32(v.FFN)},
		{"clip.vision.block_count", uint32(v.Layers)}, {"clip.vision.attention.head_count", uint32(v.Heads)},
		{"clip.vision.attention.layer_norm_epsilon", float32(1e-6)}, {"clip.vision.projection_dim", uint32(s.Text.Hidden)},
		{"clip.vision.image_mean", clipMean}, {"clip.vision.image_std", clipStd},
		{"clip.vision.spatial_merge_size", uint32(v.Merge)}, {"clip.vision.n_wa_pattern", uint32(pat)},
	}, ts)
}
