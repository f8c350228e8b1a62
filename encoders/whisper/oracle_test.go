package whisper_test

import (
	"context"
	"os"
	"testing"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/wav"
	"github.com/sightline/sightline/processors"
	pw "github.com/sightline/sightline/processors/whisper"
)

// backendsUnderTest is the reference backend plus, with cgo, the CPU backend.
var backendsUnderTest = []func() (tensor.Backend, error){
	func() (tensor.Backend, error) { return ref.New(), nil },
}

func audioCase(t *testing.T) oracle.Case {
	t.Helper()
	for _, c := range oracle.Cases(t) {
		if c.Name == "mm-qwen2a-tones_1s" {
			return c
		}
	}
	t.Fatal("case mm-qwen2a-tones_1s is not in the oracle index")
	return oracle.Case{}
}

func loadWAV(t *testing.T, rel string) media.Item {
	t.Helper()
	raw, err := os.ReadFile(oracle.MustPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	pcm, codec, err := media.DecodeAudio(raw, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if codec != "wav" || pcm.Rate != 16000 || len(pcm.Samples) != 16000 {
		t.Fatalf("decoded %s at %d Hz, %d samples; want wav, 16000 Hz, 16000 samples", codec, pcm.Rate, len(pcm.Samples))
	}
	return media.Item{Modality: media.Audio, Format: media.Raw, Hash: 0x1234, PCM: pcm, Codec: codec}
}

// TestOracleEmbeddings encodes the oracle clip with the qwen2a mmproj (both
// in testdata) and compares the 25 projected rows with the golden ones.
func TestOracleEmbeddings(t *testing.T) {
	c := audioCase(t)
	item := loadWAV(t, "media/"+c.Media)
	want := oracle.Floats(t, "golden/"+c.Chunks[1].EmbdFile)
	g, err := weights.OpenGGUF(oracle.MustPath(t, c.MMProj))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	proc, err := pw.FromSpec(processors.Spec{MMProj: g})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proc.Prepare(context.Background(), []int32{7, input.MediaMarker, 8}, []media.Item{item})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spans) != 1 || p.Spans[0].Len != c.Chunks[1].NTokens || len(p.Tokens) != 2+c.Chunks[1].NTokens {
		t.Fatalf("spans %+v, %d tokens; want one span of %d", p.Spans, len(p.Tokens), c.Chunks[1].NTokens)
	}
	cfg, err := whisper.ConfigFromGGUF(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		enc, err := whisper.Load(g, whisper.GGUF, cfg, be)
		if err != nil {
			t.Fatal(err)
		}
		for _, full := range []bool{false, true} {
			whisper.SetFullWindow(enc, full)
			out, err := enc.Encode(context.Background(), []*input.Span{&p.Spans[0]})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, out[0].Len())
			if err := be.ToF32(out[0], got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d values, want %d", be.Name(), len(got), len(want))
			}
			worst, at := oracle.Within(got, want)
			t.Logf("%s full-window=%v: worst |Δ| = %.3f of the tolerance (row %d col %d)", be.Name(), full, worst, at/64, at%64)
			if worst > 1 {
				t.Fatalf("%s full-window=%v: embedding off by %.2fx the tolerance at row %d col %d: %v vs %v",
					be.Name(), full, worst, at/64, at%64, got[at], want[at])
			}
		}
		be.Close()
	}
}

// TestOracleDecoder runs the whole case: the prompt text tokenized around the
// marker by processors.Tokenize with the model's tokenizer, the processor (which adds the
// "<|audio_bos|>"/"<|audio_eos|>" text tokens as mtmd does: the text chunks
// must match the golden ones), the encoder through an encoders.Set, then the
// decoder: last logits and 32 greedy tokens.
func TestOracleDecoder(t *testing.T) {
	c := audioCase(t)
	modelPath, ok := oracle.Path(c.Model)
	if !ok {
		t.Skipf("%s (45 MB) is only in ../shared/fixtures/oracle/models, which is absent: decoder part of %s not run", c.Model, c.Name)
	}
	item := loadWAV(t, "media/"+c.Media)
	wantLast := oracle.Floats(t, "golden/"+c.LastLogits)
	ctx := context.Background()
	tg, err := weights.OpenGGUF(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	gv, err := tokenizer.VocabFromGGUF(tg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(gv)
	tg.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		op, err := encoders.Open(context.Background(), modelPath, oracle.MustPath(t, c.MMProj), be)
		if err != nil {
			t.Fatal(err)
		}
		encs := op.Encoders
		proc, err := processors.New(op.Family, op.ProcessorSpec(tok))
		enc := encs[0]
		if err != nil {
			t.Fatal(err)
		}
		ids := processors.Tokenize(tok, c.Prompt, true)
		p, err := proc.Prepare(ctx, ids, []media.Item{item})
		if err != nil {
			t.Fatal(err)
		}
		a := c.Chunks[1]
		if len(p.Tokens) != c.NPastAfter || len(p.Spans) != 1 || p.Spans[0].Start != a.Pos0 || p.Spans[0].Len != a.NTokens {
			t.Fatalf("prompt of %d tokens with spans %+v; want %d tokens, audio at %d", len(p.Tokens), p.Spans, c.NPastAfter, a.Pos0)
		}
		if before, after := p.Tokens[:a.Pos0], p.Tokens[a.Pos0+a.NTokens:]; !equal(before, c.Chunks[0].Tokens) || !equal(after, c.Chunks[2].Tokens) {
			t.Fatalf("text chunks %v | %v, want %v | %v", before, after, c.Chunks[0].Tokens, c.Chunks[2].Tokens)
		}
		set := encoders.NewSet(encoders.NewCache(1<<20), enc)
		spans := []*input.Span{&p.Spans[0]}
		if err := set.Embed(ctx, spans); err != nil {
			t.Fatal(err)
		}
		m, err := model.Load(modelPath, be)
		if err != nil {
			t.Fatal(err)
		}
		cfg := m.Config()
		kv, err := kvcache.New(be, cfg.KVSpec(16, 8))
		if err != nil {
			t.Fatal(err)
		}
		r := &model.Runner{M: m, KV: kv}
		logits, err := r.Prefill(ctx, p, false)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, logits.Len())
		if err := be.ToF32(logits, got); err != nil {
			t.Fatal(err)
		}
		worst, at := oracle.Within(got, wantLast)
		t.Logf("%s: last logits worst |Δ| = %.3f of the tolerance", be.Name(), worst)
		if worst > 1 {
			t.Fatalf("%s: last logits off by %.2fx the tolerance at %d: %v vs %v", be.Name(), worst, at, got[at], wantLast[at])
		}
		var toks []int32
		next := argmax(got)
		for len(toks) < len(c.GreedyTokens) {
			toks = append(toks, next)
			out, err := r.Step(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			row := make([]float32, cfg.Vocab)
			if err := be.ToF32(out, row); err != nil {
				t.Fatal(err)
			}
			next = argmax(row)
		}
		if !equal(toks, c.GreedyTokens) {
			t.Fatalf("%s: greedy %v, want %v", be.Name(), toks, c.GreedyTokens)
		}
		if err := r.Release(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		op.Close()
		be.Close()
	}
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

func equal(a, b []int32) bool {
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
