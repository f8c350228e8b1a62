package tiny

import (
	"fmt"
	"path/filepath"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/processors/llavanext"
)

// AnyResVision is the vision side of a LLaVA-NeXT or LLaVA-OneVision
// model: a CLIP tower (class token, pre-LN, quick-GELU, no patch bias) or a
// SigLIP tower (patch bias, tanh-GELU), the two-layer GELU projector
// (linear_1, linear_2) and the learned image_newline.
type AnyResVision struct {
	SigLIP             bool
	Hidden, Heads, FFN int
	// Layers is the HF tower's depth, Feature how many of them run (HF
	// vision_feature_layer −2 for NeXT: Layers−1; −1 for OneVision:
	// Layers). llama.cpp's converter stores only the Feature layers.
	Layers, Feature  int
	Patch, ImageSize int // ImageSize need not be a multiple of Patch (SigLIP drops the rest)
	Pinpoints        []llavanext.Res
	MaxPatches       int // OneVision anyres_max_N; 0 for NeXT
}

// AnyResSpec is a LLaVA-NeXT (llama decoder, CLIP) or LLaVA-OneVision
// (qwen2 decoder, SigLIP) model.
type AnyResSpec struct {
	Text   Spec
	Vision AnyResVision
}

// pinpoints scales LLaVA-1.6's pinpoints ((h, w) in units of 336) to size.
func next16Pinpoints(size int) []llavanext.Res {
	var out []llavanext.Res
	for _, p := range llavanext.NeXTPinpoints() {
		out = append(out, llavanext.Res{H: p.H / 336 * size, W: p.W / 336 * size})
	}
	return out
}

// AnyResShapes are the named LLaVA-NeXT / OneVision specs.
//
// "tiny-llavanext" is LLaVA-v1.6-shaped: a 42-pixel CLIP view of 3×3
// patches (+ class token), 3 tower layers of which 2 run, LLaVA-1.6's five
// pinpoints scaled to 42-pixel tiles, a tiny llama decoder. "tiny-llavaov"
// is OneVision-shaped: a 46-pixel SigLIP view (3×3 patches of 14, the last
// 4 pixels unseen, like 384/14), 2 layers, the 36 pinpoints of 1…6 tiles a
// side, anyres_max_9, a tiny qwen2 decoder.
//
// Real shapes (random F16 weights, tiny vocabulary):
// "llava-onevision-qwen2-0.5b-ov" is that model's: SigLIP-so400m as
// OneVision runs it (1152 wide, 16 heads, FFN 4304, 26 layers, 384-pixel
// views of 27×27 patches, the 36 pinpoints, anyres_max_9) and its Qwen2-0.5B
// decoder. "llava-v1.6-clip-l336" is LLaVA-1.6's CLIP ViT-L/14-336 (1024
// wide, 16 heads, FFN 4096, 24 layers of which 23 run, 576 tokens a view,
// the five pinpoints) with a Qwen2-0.5B-sized llama decoder (the 7B
// Mistral/Vicuna ones would be 14 GB of random numbers).
var AnyResShapes = map[string]AnyResSpec{
	"tiny-llavanext": {
		Text: Spec{Arch: "llama", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 10000, Eps: 1e-5,
			MaxPos: 4096, DType: tensor.F32, Seed: 31},
		Vision: AnyResVision{Hidden: 32, Heads: 4, FFN: 64, Layers: 3, Feature: 2, Patch: 14, ImageSize: 42,
			Pinpoints: next16Pinpoints(42)},
	},
	"tiny-llavaov": {
		Text: Spec{Arch: "qwen2", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 160, Theta: 1e6, Eps: 1e-6,
			Tied: true, Bias: true, MaxPos: 4096, DType: tensor.F32, Seed: 32},
		Vision: AnyResVision{SigLIP: true, Hidden: 32, Heads: 4, FFN: 48, Layers: 2, Feature: 2, Patch: 14, ImageSize: 46,
			Pinpoints: llavanext.OneVisionPinpoints(46), MaxPatches: 9},
	},
	"llava-onevision-qwen2-0.5b-ov": {
		Text: qwen05Text("qwen2", 44),
		Vision: AnyResVision{SigLIP: true, Hidden: 1152, Heads: 16, FFN: 4304, Layers: 26, Feature: 26, Patch: 14, ImageSize: 384,
			Pinpoints: llavanext.OneVisionPinpoints(384), MaxPatches: 9},
	},
	"llava-v1.6-clip-l336": {
		Text: func() Spec { s := qwen05Text("llama", 45); s.Bias, s.Theta = false, 10000; return s }(),
		Vision: AnyResVision{Hidden: 1024, Heads: 16, FFN: 4096, Layers: 24, Feature: 23, Patch: 14, ImageSize: 336,
			Pinpoints: llavanext.NeXTPinpoints()},
	},
}

func (s AnyResSpec) validate() error {
	if (s.Vision.SigLIP && s.Text.Arch != "qwen2") || (!s.Vision.SigLIP && s.Text.Arch != "llama") {
		return fmt.Errorf("tiny: anyres text arch %q with SigLIP %v (want qwen2 with SigLIP, llama with CLIP)", s.Text.Arch, s.Vision.SigLIP)
	}
	if err := s.Text.validate(); err != nil {
		return err
	}
	v := s.Vision
	geo := llavanext.Geometry{Size: v.ImageSize, Patch: v.Patch, Pinpoints: v.Pinpoints, MaxPatches: v.MaxPatches}
	if err := geo.Validate(); err != nil {
		return err
	}
	if v.Hidden <= 0 || v.Heads <= 0 || v.Hidden%v.Heads != 0 || v.FFN <= 0 || v.FFN == v.Hidden ||
		v.Feature <= 0 || v.Feature > v.Layers || (v.SigLIP && v.Feature != v.Layers) {
		// FFN == Hidden would trip clip.cpp's legacy up/down swap.
		return fmt.Errorf("tiny: anyres vision spec %+v", v)
	}
	return nil
}

// grid is the tower's patches per view side.
func (v AnyResVision) grid() int { return v.ImageSize / v.Patch }

// tensors lists the tower, projector and newline under Hugging Face names
// and llama.cpp's legacy-converter names (layers past Feature and the
// unused post-LN: HF only).
func (s AnyResSpec) tensors() []tensorSpec {
	v := s.Vision
	D, P, out := v.Hidden, v.Patch, s.Text.Hidden
	g := v.grid()
	vp := "vision_tower.vision_model."
	t := func(hf, gg string, kind int, shape ...int) tensorSpec {
		if hf != "" {
			hf = vp + hf
		}
		return tensorSpec{hf: hf, gguf: gg, shape: shape, kind: kind}
	}
	var ts []tensorSpec
	pos := g * g
	if !v.SigLIP {
		pos++
		ts = append(ts, t("embeddings.class_embedding", "v.class_embd", kWide, D))
	}
	ts = append(ts, t("embeddings.patch_embedding.weight", "v.patch_embd.weight", kMatrix, D, 3, P, P))
	if v.SigLIP {
		ts = append(ts, t("embeddings.patch_embedding.bias", "v.patch_embd.bias", kBias, D))
	}
	ts = append(ts, t("embeddings.position_embedding.weight", "v.position_embd.weight", kWide, pos, D))
	if !v.SigLIP {
		ts = append(ts, t("pre_layrnorm.weight", "v.pre_ln.weight", kNorm, D), t("pre_layrnorm.bias", "v.pre_ln.bias", kBias, D))
	}
	for i := 0; i < v.Layers; i++ {
		b := func(hf, gg string, kind int, shape ...int) tensorSpec {
			name := ""
			if i < v.Feature {
				name = fmt.Sprintf("v.blk.%d.%s", i, gg)
			}
			return t(fmt.Sprintf("encoder.layers.%d.%s", i, hf), name, kind, shape...)
		}
		ts = append(ts,
			b("layer_norm1.weight", "ln1.weight", kNorm, D), b("layer_norm1.bias", "ln1.bias", kBias, D),
			b("self_attn.q_proj.weight", "attn_q.weight", kMatrix, D, D), b("self_attn.q_proj.bias", "attn_q.bias", kBias, D),
			b("self_attn.k_proj.weight", "attn_k.weight", kMatrix, D, D), b("self_attn.k_proj.bias", "attn_k.bias", kBias, D),
			b("self_attn.v_proj.weight", "attn_v.weight", kMatrix, D, D), b("self_attn.v_proj.bias", "attn_v.bias", kBias, D),
			b("self_attn.out_proj.weight", "attn_out.weight", kMatrix, D, D), b("self_attn.out_proj.bias", "attn_out.bias", kBias, D),
			b("layer_norm2.weight", "ln2.weight", kNorm, D), b("layer_norm2.bias", "ln2.bias", kBias, D),
			// the legacy converter names fc1 ffn_down and fc2 ffn_up; clip.cpp swaps them back by shape
			b("mlp.fc1.weight", "ffn_down.weight", kMatrix, v.FFN, D), b("mlp.fc1.bias", "ffn_down.bias", kBias, v.FFN),
			b("mlp.fc2.weight", "ffn_up.weight", kMatrix, D, v.FFN), b("mlp.fc2.bias", "ffn_up.bias", kBias, D))
	}
	ts = append(ts, t("post_layernorm.weight", "", kNorm, D), t("post_layernorm.bias", "", kBias, D))
	return append(ts,
		tensorSpec{hf: "multi_modal_projector.linear_1.weight", gguf: "mm.0.weight", shape: []int{out, D}, kind: kMatrix},
		tensorSpec{hf: "multi_modal_projector.linear_1.bias", gguf: "mm.0.bias", shape: []int{out}, kind: kBias},
		tensorSpec{hf: "multi_modal_projector.linear_2.weight", gguf: "mm.2.weight", shape: []int{out, out}, kind: kMatrix},
		tensorSpec{hf: "multi_modal_projector.linear_2.bias", gguf: "mm.2.bias", shape: []int{out}, kind: kBias},
		tensorSpec{hf: "image_newline", gguf: "model.image_newline", shape: []int{out}, kind: kWide})
}

// WriteAnyRes generates s into dir: dir/hf/ (a
// LlavaNextForConditionalGeneration or LlavaOnevisionForConditionalGeneration
// directory in the on-disk layout of the llava-hf checkpoints, if hf) and
// dir/model.gguf + dir/mmproj.gguf (projector "mlp" with grid pinpoints, as
// llama.cpp's legacy LLaVA converter writes it, if gguf), all holding the
// same weights. Vision matrices use s.Text.DType (F32 when it is Q8_0).
func WriteAnyRes(dir string, s AnyResSpec, hf, gguf bool) error {
	if err := s.validate(); err != nil {
		return err
	}
	extra := []string{"<image>"}
	if s.Vision.SigLIP {
		extra = append(extra, "<video>")
	}
	voc, err := newVocab(s.Text.Vocab, extra)
	if err != nil {
		return err
	}
	text, vis, err := textAndTower(dir, voc, s.Text, "language_model.", s.tensors(), s.hfJSON, hf, gguf)
	if err != nil {
		return err
	}
	if !gguf {
		return mkdir(dir)
	}
	if err := s.Text.writeGGUF(filepath.Join(dir, "model.gguf"), voc, text.gguf); err != nil {
		return err
	}
	return s.writeMMProj(filepath.Join(dir, "mmproj.gguf"), vis.gguf)
}

// hfJSON is config.json (text and vision configs nested, as the llava-hf
// checkpoints have them), generation_config.json, preprocessor_config.json
// and processor_config.json.
func (s AnyResSpec) hfJSON(voc *Vocab) map[string]any {
	t, v := s.Text, s.Vision
	text := t.hfConfig(voc)
	pins := make([][]int, len(v.Pinpoints))
	for i, p := range v.Pinpoints {
		pins[i] = []int{p.H, p.W}
	}
	vision := map[string]any{"hidden_size": v.Hidden, "intermediate_size": v.FFN, "num_hidden_layers": v.Layers,
		"num_attention_heads": v.Heads, "image_size": v.ImageSize, "patch_size": v.Patch, "num_channels": 3}
	cfg := map[string]any{"text_config": text, "vision_config": vision, "image_grid_pinpoints": pins,
		"projector_hidden_act": "gelu", "image_token_index": voc.Special["<image>"], "torch_dtype": "float32",
		"tie_word_embeddings": t.Tied}
	mean, std := clipMean, clipStd
	pre := map[string]any{"image_grid_pinpoints": pins, "resample": 3, "do_pad": true, "do_resize": true,
		"do_rescale": true, "rescale_factor": 1.0 / 255, "do_normalize": true, "do_convert_rgb": true}
	proc := map[string]any{}
	if v.SigLIP {
		mean, std = []float32{0.5, 0.5, 0.5}, []float32{0.5, 0.5, 0.5}
		text["model_type"] = "qwen2"
		vision["model_type"], vision["hidden_act"], vision["layer_norm_eps"], vision["vision_use_head"] = "siglip_vision_model", "gelu_pytorch_tanh", 1e-6, false
		cfg["architectures"], cfg["model_type"] = []string{llavanext.OneVisionArch}, "llava_onevision"
		cfg["vision_feature_layer"], cfg["vision_feature_select_strategy"] = -1, "full"
		cfg["vision_aspect_ratio"] = fmt.Sprintf("anyres_max_%d", v.MaxPatches)
		cfg["video_token_index"] = voc.Special["<video>"]
		pre["image_processor_type"], pre["processor_class"] = "LlavaOnevisionImageProcessor", "LlavaOnevisionProcessor"
		pre["size"] = map[string]int{"height": v.ImageSize, "width": v.ImageSize}
		proc["num_image_tokens"], proc["vision_feature_select_strategy"] = v.grid()*v.grid(), "full"
		proc["processor_class"], proc["vision_aspect_ratio"] = "LlavaOnevisionProcessor", cfg["vision_aspect_ratio"]
	} else {
		text["model_type"] = "llama"
		vision["model_type"], vision["hidden_act"], vision["layer_norm_eps"], vision["projection_dim"] = "clip_vision_model", "quick_gelu", 1e-5, t.Hidden
		cfg["architectures"], cfg["model_type"] = []string{"LlavaNextForConditionalGeneration"}, "llava_next"
		cfg["vision_feature_layer"], cfg["vision_feature_select_strategy"] = v.Feature-v.Layers-1, "default"
		pre["image_processor_type"], pre["processor_class"] = "LlavaNextImageProcessor", "LlavaNextProcessor"
		pre["size"], pre["crop_size"] = map[string]int{"shortest_edge": v.ImageSize}, map[string]int{"height": v.ImageSize, "width": v.ImageSize}
		pre["do_center_crop"] = true
		proc["patch_size"], proc["vision_feature_select_strategy"], proc["processor_class"] = v.Patch, "default", "LlavaNextProcessor"
	}
	pre["image_mean"], pre["image_std"] = mean, std
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}}
	return map[string]any{"config.json": cfg, "generation_config.json": gen, "preprocessor_config.json": pre, "processor_config.json": proc}
}

// writeMMProj writes the mmproj as llama.cpp's legacy LLaVA converter
// does for LLaVA-1.6-style models: projector "mlp", the grid pinpoints
// flattened as clip.cpp reads them ((width, height) pairs), spatial_unpad,
// the aspect-ratio mode, the feature layer (hidden-state index: every
// stored layer runs), model.image_newline. clip.use_gelu says the tower's
// activation: tanh-GELU for SigLIP (Hugging Face gelu_pytorch_tanh).
func (s AnyResSpec) writeMMProj(path string, ts []weights.TensorData) error {
	v := s.Vision
	var pins []int32
	for _, p := range v.Pinpoints {
		pins = append(pins, int32(p.W), int32(p.H))
	}
	mean, std, eps, aspect := clipMean, clipStd, float32(1e-5), "anyres"
	if v.SigLIP {
		mean, std, eps, aspect = []float32{0.5, 0.5, 0.5}, []float32{0.5, 0.5, 0.5}, 1e-6, fmt.Sprintf("anyres_max_%d", v.MaxPatches)
	}
	return writeGGUFFile(path, []kv{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-anyres-mmproj"},
		{"clip.has_text_encoder", false}, {"clip.has_vision_encoder", true}, {"clip.has_audio_encoder", false},
		{"clip.has_llava_projector", true}, {"clip.projector_type", "mlp"}, {"clip.use_gelu", v.SigLIP},
		{"clip.vision.image_size", uint32(v.ImageSize)}, {"clip.vision.patch_size", uint32(v.Patch)},
		{"clip.vision.embedding_length", uint32(v.Hidden)}, {"clip.vision.feed_forward_length", uint32(v.FFN)},
		{"clip.vision.block_count", uint32(v.Feature)}, {"clip.vision.attention.head_count", uint32(v.Heads)},
		{"clip.vision.attention.layer_norm_epsilon", eps}, {"clip.vision.projection_dim", uint32(s.Text.Hidden)},
		{"clip.vision.image_grid_pinpoints", pins}, {"clip.vision.mm_patch_merge_type", "spatial_unpad"},
		{"clip.vision.image_aspect_ratio", aspect}, {"clip.vision.feature_layer", []int32{int32(v.Feature)}},
		{"clip.vision.image_mean", mean}, {"clip.vision.image_std", std},
	}, ts)
}
