package tiny_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	pw "github.com/sightline/sightline/processors/whisper"
)

// tones is n samples of two sines plus a little deterministic noise at 16 kHz.
func tones(n int) *media.PCM {
	s := make([]float32, n)
	x := uint32(1)
	for i := range s {
		x = x*1664525 + 1013904223
		t := float64(i) / 16000
		s[i] = float32(0.4*math.Sin(2*math.Pi*440*t) + 0.2*math.Sin(2*math.Pi*1250*t) + 0.01*(float64(x>>8)/(1<<24)-0.5))
	}
	return &media.PCM{Rate: 16000, Samples: s}
}

type form struct {
	name string
	proc processors.Processor
	enc  encoders.Encoder
	m    *model.Loaded
	tok  *tokenizer.Tokenizer
}

// TestQwen2AudioForms writes the tiny Qwen2-Audio model as an HF directory
// and as GGUF + qwen2a mmproj and checks that both give the same prompt
// tokens, the same audio embeddings and the same logits for one clip.
func TestQwen2AudioForms(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteQwen2Audio(dir, tiny.Shapes["tiny-qwen2"], tiny.AudioShapes["tiny-qwen2a"]); err != nil {
		t.Fatal(err)
	}
	be := ref.New()
	defer be.Close()
	ctx := context.Background()
	var forms []form
	for _, f := range []struct{ name, model, mmproj string }{
		{"hf", filepath.Join(dir, "hf"), ""},
		{"gguf", filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")},
	} {
		var tok *tokenizer.Tokenizer
		var err error
		if f.mmproj == "" {
			tok, err = tokenizer.Load(f.model)
		} else {
			var g *weights.GGUF
			if g, err = weights.OpenGGUF(f.model); err == nil {
				var v tokenizer.GGUFVocab
				if v, err = tokenizer.VocabFromGGUF(g); err == nil {
					tok, err = tokenizer.FromGGUF(v)
				}
				g.Close()
			}
		}
		if err != nil {
			t.Fatalf("%s tokenizer: %v", f.name, err)
		}
		op, err := encoders.Open(context.Background(), f.model, f.mmproj, be)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		encs := op.Encoders
		proc, err := processors.New(op.Family, op.ProcessorSpec(tok))
		enc := encs[0]
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		defer op.Close()
		m, err := model.Load(f.model, be)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		defer m.Close()
		forms = append(forms, form{f.name, proc, enc, m, tok})
	}
	clip := media.Item{Modality: media.Audio, Format: media.Raw, Hash: 42, PCM: tones(20800)} // 1.3 s: 130 frames → 65 → 32 tokens
	var embeds, logits [][]float32
	var prompts [][]int32
	for _, f := range forms {
		ids := f.tok.Encode(tiny.ChatAudioPrompt("What is this sound?"), true)
		p, err := f.proc.Prepare(ctx, ids, []media.Item{clip})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if len(p.Spans) != 1 || p.Spans[0].Len != 32 || len(p.Tokens) != len(ids)+31 {
			t.Fatalf("%s: spans %+v over %d tokens (from %d); want one of 32", f.name, p.Spans, len(p.Tokens), len(ids))
		}
		// the generic marker gives the same prompt: <|audio_bos|> MARKER <|audio_eos|> → bos, run, eos
		bos, _ := f.tok.TokenID(pw.BOSPiece)
		var marked []int32
		for i := 0; i < len(ids); i++ {
			if ids[i] == bos {
				marked = append(marked, input.MediaMarker)
				i += 2 // <|AUDIO|> and <|audio_eos|> are re-inserted by the processor
				continue
			}
			marked = append(marked, ids[i])
		}
		pm, err := f.proc.Prepare(ctx, marked, []media.Item{clip})
		if err != nil {
			t.Fatalf("%s marker: %v", f.name, err)
		}
		if !equalI32(pm.Tokens, p.Tokens) || pm.Spans[0].Start != p.Spans[0].Start || pm.Spans[0].Key != p.Spans[0].Key {
			t.Fatalf("%s: marker prompt %v differs from placeholder prompt %v", f.name, pm.Tokens, p.Tokens)
		}
		if err := encoders.NewSet(nil, f.enc).Embed(ctx, []*input.Span{&p.Spans[0]}); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		embeds = append(embeds, toF32(t, be, p.Spans[0].Embeds))
		kv, err := kvcache.New(be, f.m.Config().KVSpec(16, 16))
		if err != nil {
			t.Fatal(err)
		}
		r := &model.Runner{M: f.m, KV: kv}
		out, err := r.Prefill(ctx, p, true)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		logits = append(logits, toF32(t, be, out))
		prompts = append(prompts, p.Tokens)
	}
	if !equalI32(prompts[0], prompts[1]) {
		t.Fatalf("hf prompt %v, gguf prompt %v", prompts[0], prompts[1])
	}
	if d := maxDiff(embeds[0], embeds[1]); d != 0 {
		t.Fatalf("embeddings differ between the forms by %g", d)
	}
	t.Logf("hf vs gguf: embeddings max |Δ| %g, logits max |Δ| %g", maxDiff(embeds[0], embeds[1]), maxDiff(logits[0], logits[1]))
	if d := maxDiff(logits[0], logits[1]); d != 0 {
		t.Fatalf("logits differ between the forms by %g", d)
	}
	if maxAbs(embeds[0]) == 0 || maxAbs(logits[0]) == 0 {
		t.Fatal("all-zero outputs")
	}
}

func toF32(t *testing.T, be tensor.Backend, x *tensor.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Len())
	if err := be.ToF32(x, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

func equalI32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
