package tiny

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sightline/sightline/llm/tensor"
)

// Options adjust a named shape for WriteShape; zero values keep the shape's.
type Options struct {
	// HF and GGUF select the forms to write. A LLaVA shape has only the
	// GGUF + mmproj form: it needs GGUF and ignores HF.
	HF, GGUF bool
	// DType, if set, is the decoder's matrix dtype (Qwen2-VL and LLaVA
	// towers follow it, F32 for Q8_0; audio encoders keep theirs).
	DType *tensor.DType
	Seed  uint64 // the decoder's seed
	// TextLayers and MediaLayers override the decoder's and the media
	// encoder's depth (the widths and token counts stay).
	TextLayers, MediaLayers int
}

// ShapeNames lists every named model: Shapes, VLMShapes, Qwen25VLShapes,
// LLaVAShapes, AnyResShapes and Qwen2AudioShapes, sorted.
func ShapeNames() []string {
	var out []string
	for k := range Shapes {
		out = append(out, k)
	}
	for k := range VLMShapes {
		out = append(out, k)
	}
	for k := range Qwen25VLShapes {
		out = append(out, k)
	}
	for k := range LLaVAShapes {
		out = append(out, k)
	}
	for k := range AnyResShapes {
		out = append(out, k)
	}
	for k := range Qwen2AudioShapes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// text applies o to a decoder spec.
func (o Options) text(s Spec) Spec {
	if o.DType != nil {
		s.DType = *o.DType
	}
	if o.Seed != 0 {
		s.Seed = o.Seed
	}
	if o.TextLayers > 0 {
		s.Layers = o.TextLayers
	}
	return s
}

func (o Options) media(layers *int) {
	if o.MediaLayers > 0 {
		*layers = o.MediaLayers
	}
}

// WriteShape writes the named model with o applied into dir: dir/hf/ and/or
// dir/model.gguf (+ dir/mmproj.gguf for multimodal shapes).
func WriteShape(dir, name string, o Options) error {
	if !o.HF && !o.GGUF {
		return fmt.Errorf("tiny: no form to write")
	}
	if s, ok := Shapes[name]; ok {
		if o.MediaLayers > 0 {
			return fmt.Errorf("tiny: %s has no media encoder", name)
		}
		return Write(dir, o.text(s), o.HF, o.GGUF)
	}
	if s, ok := VLMShapes[name]; ok {
		s.Text = o.text(s.Text)
		o.media(&s.Vision.Layers)
		return WriteVLM(dir, s, o.HF, o.GGUF)
	}
	if s, ok := Qwen25VLShapes[name]; ok {
		s.Text = o.text(s.Text)
		o.media(&s.Vision.Layers)
		return WriteQwen25VL(dir, s, o.HF, o.GGUF)
	}
	if s, ok := LLaVAShapes[name]; ok {
		if !o.GGUF {
			return fmt.Errorf("tiny: %s has only the GGUF + mmproj form", name)
		}
		s.Text = o.text(s.Text)
		o.media(&s.Vision.Layers)
		return WriteLLaVA(dir, s)
	}
	if s, ok := AnyResShapes[name]; ok {
		s.Text = o.text(s.Text)
		if o.MediaLayers > 0 { // the layers that run; NeXT keeps one unused layer past them
			s.Vision.Layers += o.MediaLayers - s.Vision.Feature
			s.Vision.Feature = o.MediaLayers
		}
		return WriteAnyRes(dir, s, o.HF, o.GGUF)
	}
	if s, ok := Qwen2AudioShapes[name]; ok {
		s.Text = o.text(s.Text)
		o.media(&s.Audio.Layers)
		return WriteQwen2AudioForms(dir, s, o.HF, o.GGUF)
	}
	return fmt.Errorf("tiny: unknown shape %q (have %s)", name, strings.Join(ShapeNames(), ", "))
}
