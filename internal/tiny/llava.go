package tiny

import (
	"fmt"
	"path/filepath"

	"github.com/sightline/sightline/llm/weights"
)

// CLIPSpec is a CLIP ViT vision tower as LLaVA-1.5 uses it: class token,
// learned positions, pre-LN, quick-GELU MLP, and LLaVA's two-layer GELU
// projector (mm.0, mm.2) into the text decoder's width.
type CLIPSpec struct {
	Hidden, Heads, FFN int
	// Layers is the depth the mmproj stores and Sightline runs. LLaVA takes
	// the penultimate layer's output, so llama.cpp's converter drops CLIP's
	// last layer: 23 for CLIP ViT-L's 24.
	Layers           int
	Patch, ImageSize int // (ImageSize/Patch)² patches, one more position for the class token
}

// LLaVASpec is a LLaVA-1.5-style model: a text decoder and a CLIP tower.
type LLaVASpec struct {
	Text   Spec // "llama" or "qwen2"
	Vision CLIPSpec
}

// LLaVAShapes are the named LLaVA specs. "llava-1.5-clip-l336" is LLaVA-1.5's
// CLIP ViT-L/14-336 (1024 wide, 16 heads, FFN 4096, 23 of its 24 layers,
// 577 positions: 576 image tokens) with the MLP projector into a
// Qwen2-0.5B-shaped qwen2 decoder, random F16 weights.
var LLaVAShapes = map[string]LLaVASpec{
	"llava-1.5-clip-l336": {
		Text:   qwen05Text("qwen2", 41),
		Vision: CLIPSpec{Hidden: 1024, Heads: 16, FFN: 4096, Layers: 23, Patch: 14, ImageSize: 336},
	},
}

func (s LLaVASpec) validate() error {
	if s.Text.Arch != "llama" && s.Text.Arch != "qwen2" {
		return fmt.Errorf("tiny: LLaVA text arch %q (want llama or qwen2)", s.Text.Arch)
	}
	if err := s.Text.validate(); err != nil {
		return err
	}
	v := s.Vision
	if v.Hidden <= 0 || v.Heads <= 0 || v.Hidden%v.Heads != 0 || v.FFN <= 0 || v.Layers <= 0 || v.Patch <= 0 || v.ImageSize%v.Patch != 0 {
		return fmt.Errorf("tiny: CLIP spec %+v", v)
	}
	return nil
}

// Tokens is the image token count: one per patch (LLaVA drops the class token).
func (v CLIPSpec) Tokens() int { g := v.ImageSize / v.Patch; return g * g }

// tensors lists the tower and projector under clip.cpp's names. There is
// no HF form (the tiny vocabulary has no <image> token).
func (s LLaVASpec) tensors() []tensorSpec {
	v := s.Vision
	D, P, out := v.Hidden, v.Patch, s.Text.Hidden
	t := func(gg string, kind int, shape ...int) tensorSpec {
		return tensorSpec{gguf: gg, shape: shape, kind: kind}
	}
	ts := []tensorSpec{
		t("v.class_embd", kWide, D),
		t("v.patch_embd.weight", kMatrix, D, 3, P, P),
		t("v.position_embd.weight", kWide, v.Tokens()+1, D),
		t("v.pre_ln.weight", kNorm, D), t("v.pre_ln.bias", kBias, D),
	}
	for i := 0; i < v.Layers; i++ {
		b := func(n string, kind int, shape ...int) tensorSpec {
			return t(fmt.Sprintf("v.blk.%d.%s", i, n), kind, shape...)
		}
		ts = append(ts,
			b("ln1.weight", kNorm, D), b("ln1.bias", kBias, D),
			b("attn_q.weight", kMatrix, D, D), b("attn_q.bias", kBias, D),
			b("attn_k.weight", kMatrix, D, D), b("attn_k.bias", kBias, D),
			b("attn_v.weight", kMatrix, D, D), b("attn_v.bias", kBias, D),
			b("attn_out.weight", kMatrix, D, D), b("attn_out.bias", kBias, D),
			b("ln2.weight", kNorm, D), b("ln2.bias", kBias, D),
			b("ffn_up.weight", kMatrix, v.FFN, D), b("ffn_up.bias", kBias, v.FFN),
			b("ffn_down.weight", kMatrix, D, v.FFN), b("ffn_down.bias", kBias, D))
	}
	return append(ts,
		t("mm.0.weight", kMatrix, out, D), t("mm.0.bias", kBias, out),
		t("mm.2.weight", kMatrix, out, out), t("mm.2.bias", kBias, out))
}

// WriteLLaVA generates s into dir as llama.cpp's LLaVA layout: dir/model.gguf
// (the text decoder, as Write makes it) and dir/mmproj.gguf (projector type
// "mlp": the CLIP tower and mm.0/mm.2). Tower matrices use s.Text.DType (F32
// when it is Q8_0). Images go in as processors.Marker (the vocabulary has no
// <image>), each taking Vision.Tokens() placeholders.
func WriteLLaVA(dir string, s LLaVASpec) error {
	if err := s.validate(); err != nil {
		return err
	}
	voc, err := NewVocab(s.Text.Vocab)
	if err != nil {
		return err
	}
	text, vis, err := textAndTower(dir, voc, s.Text, "", s.tensors(), nil, false, true) // GGUF only
	if err != nil {
		return err
	}
	if err := s.Text.writeGGUF(filepath.Join(dir, "model.gguf"), voc, text.gguf); err != nil {
		return err
	}
	return s.writeMMProj(filepath.Join(dir, "mmproj.gguf"), vis.gguf)
}

func (s LLaVASpec) writeMMProj(path string, ts []weights.TensorData) error {
	v := s.Vision
	return writeGGUFFile(path, []kv{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-llava-mmproj"},
		{"clip.has_text_encoder", false}, {"clip.has_vision_encoder", true}, {"clip.has_audio_encoder", false},
		{"clip.has_llava_projector", true}, {"clip.projector_type", "mlp"}, {"clip.use_gelu", false},
		{"clip.vision.image_size", uint32(v.ImageSize)}, {"clip.vision.patch_size", uint32(v.Patch)},
		{"clip.vision.embedding_length", uint32(v.Hidden)}, {"clip.vision.feed_forward_length", uint32(v.FFN)},
		{"clip.vision.block_count", uint32(v.Layers)}, {"clip.vision.attention.head_count", uint32(v.Heads)},
		{"clip.vision.attention.layer_norm_epsilon", float32(1e-5)}, {"clip.vision.projection_dim", uint32(s.Text.Hidden)},
		{"clip.vision.image_mean", clipMean}, {"clip.vision.image_std", clipStd},
	}, ts)
}
