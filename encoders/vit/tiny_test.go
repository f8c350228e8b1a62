package vit_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// form is one form (HF directory or GGUF + mmproj) of the tiny VLM, loaded.
type form struct {
	name string
	m    *model.Loaded
	tok  *tokenizer.Tokenizer
	proc processors.Processor
	encs []encoders.Encoder
}

func openForm(t *testing.T, be tensor.Backend, path, mmproj string) *form {
	t.Helper()
	m, err := model.Load(path, be)
	if err != nil {
		t.Fatal(err)
	}
	var tok *tokenizer.Tokenizer
	if m.GGUF != nil {
		v, err := tokenizer.VocabFromGGUF(m.GGUF)
		if err != nil {
			t.Fatal(err)
		}
		tok, err = tokenizer.FromGGUF(v)
		if err != nil {
			t.Fatal(err)
		}
	} else if tok, err = tokenizer.Load(path); err != nil {
		t.Fatal(err)
	}
	op, err := encoders.Open(context.Background(), path, mmproj, be)
	if err != nil {
		t.Fatal(err)
	}
	encs := op.Encoders
	proc, err := processors.New(op.Family, op.ProcessorSpec(tok))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { encoders.CloseAll(encs); m.Close() })
	return &form{name: filepath.Base(path), m: m, tok: tok, proc: proc, encs: encs}
}

func noiseImage(w, h int, seed uint64) *media.RGB {
	r := rand.New(rand.NewPCG(seed, 1))
	img := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// TestTinyVLMForms writes the tiny Qwen2-VL both as an HF directory and as
// GGUF + mmproj and checks that both give identical prompts, identical
// embeddings for identical pixels, and identical logits.
func TestTinyVLMForms(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, true); err != nil {
		t.Fatal(err)
	}
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		hf := openForm(t, be, filepath.Join(dir, "hf"), "")
		gg := openForm(t, be, filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf"))
		// 112×84 is a multiple of 28 inside both forms' pixel bounds: no resize.
		img := media.Item{Modality: media.Image, Format: media.Raw, RGB: noiseImage(112, 84, 3), Hash: 42}
		text := "<|im_start|>user\nLook: " + processors.Marker + " and tell.<|im_end|>\n<|im_start|>assistant\n"
		var prompts []*input.Prompt
		var logits [][]float32
		for _, f := range []*form{hf, gg} {
			toks := processors.Tokenize(f.tok, text, true)
			p, err := f.proc.Prepare(context.Background(), toks, []media.Item{img})
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			if len(p.Spans) != 1 || p.Spans[0].Len != 12 {
				t.Fatalf("%s: spans %+v, want one of 12 tokens", f.name, p.Spans)
			}
			sp := []*input.Span{&p.Spans[0]}
			if err := encoders.NewSet(nil, f.encs...).Embed(context.Background(), sp); err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			cfg := f.m.Config()
			kv, err := kvcache.New(be, cfg.KVSpec(16, 8))
			if err != nil {
				t.Fatal(err)
			}
			r := &model.Runner{M: f.m, KV: kv}
			out, err := r.Prefill(context.Background(), p, true)
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			got := make([]float32, out.Len())
			if err := be.ToF32(out, got); err != nil {
				t.Fatal(err)
			}
			prompts = append(prompts, p)
			logits = append(logits, got)
		}
		a, b := prompts[0], prompts[1]
		if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.MRoPE, b.MRoPE) || a.PosDelta != b.PosDelta {
			t.Fatalf("%s: HF and GGUF prompts differ:\n%v\n%v", be.Name(), a.Tokens, b.Tokens)
		}
		fa, fb := a.Spans[0].Features, b.Spans[0].Features
		if !slices.Equal(fa.Data, fb.Data) || fa.Grid != fb.Grid {
			t.Fatalf("%s: HF and GGUF processors give different pixels for an image that needs no resize", be.Name())
		}
		ea, eb := a.Spans[0].Embeds.F32(), b.Spans[0].Embeds.F32()
		if len(ea) != 12*64 || slices.Max(ea) <= 0 || slices.Min(ea) >= 0 || math.IsNaN(float64(slices.Max(ea))) {
			t.Fatalf("%s: implausible embeddings (%d values, range %v..%v)", be.Name(), len(ea), slices.Min(ea), slices.Max(ea))
		}
		if !slices.Equal(ea, eb) {
			t.Fatalf("%s: HF and GGUF embeddings differ", be.Name())
		}
		if !slices.Equal(logits[0], logits[1]) {
			t.Fatalf("%s: HF and GGUF logits differ", be.Name())
		}
		be.Close()
	}
}
