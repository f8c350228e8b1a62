package whisper_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// TestFamily opens the tiny Qwen2-Audio model through encoders.Open in both
// forms and runs one clip through the returned processor and encoder.
func TestFamily(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteQwen2Audio(dir, tiny.Shapes["tiny-qwen2"], tiny.AudioShapes["tiny-qwen2a"]); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "hf"))
	if err != nil {
		t.Fatal(err)
	}
	be := ref.New()
	defer be.Close()
	ctx := context.Background()
	pcm := &media.PCM{Rate: 16000, Samples: make([]float32, 12345)}
	for i := range pcm.Samples {
		pcm.Samples[i] = float32(i%50) / 100
	}
	for _, f := range [][2]string{{filepath.Join(dir, "hf"), ""}, {filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")}} {
		ok, err := whisper.Detect(f[0], f[1])
		if err != nil || !ok {
			t.Fatalf("Detect(%q, %q) = %v, %v", f[0], f[1], ok, err)
		}
		op, err := encoders.Open(ctx, f[0], f[1], be)
		if err != nil {
			t.Fatal(err)
		}
		encs := op.Encoders
		p, err := processors.New(op.Family, op.ProcessorSpec(tok))
		if err != nil {
			t.Fatal(err)
		}
		if len(encs) != 1 || encs[0].Modality() != input.Audio {
			t.Fatalf("%d encoders", len(encs))
		}
		pr, err := p.Prepare(ctx, processors.Tokenize(tok, "Audio: "+processors.Marker+"?", true), []media.Item{{Modality: media.Audio, PCM: pcm, Hash: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.Spans) != 1 || pr.Spans[0].Len != 19 { // 12345 samples: 78 frames → 39 → 19 tokens
			t.Fatalf("spans %+v", pr.Spans)
		}
		if err := encoders.NewSet(nil, encs...).Embed(ctx, []*input.Span{&pr.Spans[0]}); err != nil {
			t.Fatal(err)
		}
		if err := encoders.CloseAll(encs); err != nil {
			t.Fatal(err)
		}
	}
	// a GGUF text model without a qwen2a mmproj is not this family
	if ok, err := whisper.Detect(filepath.Join(dir, "model.gguf"), ""); ok || err != nil {
		t.Fatalf("Detect without mmproj = %v, %v", ok, err)
	}
	if _, err := whisper.Open(filepath.Join(dir, "model.gguf"), "", be); !errors.Is(err, whisper.ErrNotAudio) {
		t.Fatalf("Open without mmproj: %v", err)
	}
}
