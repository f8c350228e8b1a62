package vit_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/sightline/sightline/encoders"
	_ "github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/idefics3"
	"github.com/sightline/sightline/processors/imageproc"
	"github.com/sightline/sightline/processors/llava"
	"github.com/sightline/sightline/processors/llavanext"
	"github.com/sightline/sightline/processors/qwen2vl"
)

// backendsUnderTest is the reference backend plus, with cgo, the CPU backend.
var backendsUnderTest = []func() (tensor.Backend, error){
	func() (tensor.Backend, error) { return ref.New(), nil },
}

// mmCase is a loaded vision case: model, tokenizer, processor and encoders.
type mmCase struct {
	c    oracle.Case
	be   tensor.Backend
	m    *model.Loaded
	tok  *tokenizer.Tokenizer
	proc processors.Processor
	encs []encoders.Encoder
	img  media.Item
}

func (mc *mmCase) items() []media.Item { return []media.Item{mc.img} }

func (mc *mmCase) close() {
	encoders.CloseAll(mc.encs)
	mc.m.Close()
	mc.be.Close()
}

func loadCase(t *testing.T, c oracle.Case, newBE func() (tensor.Backend, error)) *mmCase {
	t.Helper()
	be, err := newBE()
	if err != nil {
		t.Fatal(err)
	}
	modelPath := oracle.MustPath(t, c.Model)
	m, err := model.Load(modelPath, be)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokenizer.VocabFromGGUF(m.GGUF)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(v)
	if err != nil {
		t.Fatal(err)
	}
	op, err := encoders.Open(context.Background(), modelPath, oracle.MustPath(t, c.MMProj), be)
	if err != nil {
		t.Fatal(err)
	}
	encs := op.Encoders
	proc, err := processors.New(op.Family, op.ProcessorSpec(tok))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(oracle.MustPath(t, "media/"+c.Media))
	if err != nil {
		t.Fatal(err)
	}
	rgb, _, err := media.DecodeImage(raw, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return &mmCase{c: c, be: be, m: m, tok: tok, proc: proc, encs: encs,
		img: media.Item{Modality: media.Image, Format: media.Raw, RGB: rgb, Hash: 0x1234}}
}

// visionCases are the image cases of the oracle.
func visionCases(t *testing.T) []oracle.Case {
	var out []oracle.Case
	for _, c := range oracle.Cases(t) {
		if c.Mode == "mm" && !c.MediaIsAudio {
			out = append(out, c)
		}
	}
	if len(out) < 9 {
		t.Fatalf("only %d vision cases in the oracle index", len(out))
	}
	return out
}

// checkLayout compares a prepared prompt with the golden chunks: every text
// token, every media run's place and length, and the M-RoPE positions.
func checkLayout(t *testing.T, c oracle.Case, p *input.Prompt) {
	t.Helper()
	pos, k := 0, 0
	for _, ch := range c.Chunks {
		switch ch.Type {
		case "text":
			for i, tok := range ch.Tokens {
				if pos+i >= len(p.Tokens) || p.Tokens[pos+i] != tok {
					t.Fatalf("token %d: got %v, want text chunk %v at %d", pos+i, p.Tokens, ch.Tokens, pos)
				}
			}
			if p.MRoPE != nil {
				for i := range ch.Tokens {
					q := int32(ch.Pos0 + i)
					if p.MRoPE[pos+i] != [3]int32{q, q, q} {
						t.Fatalf("text token %d M-RoPE %v, want %d", pos+i, p.MRoPE[pos+i], q)
					}
				}
			}
			pos += len(ch.Tokens)
		case "image":
			if k >= len(p.Spans) {
				t.Fatalf("image chunk %d has no span (spans %+v)", k, p.Spans)
			}
			s := p.Spans[k]
			if s.Start != pos || s.Len != ch.NTokens || s.NPos != ch.NPos {
				t.Fatalf("span %d at [%d,+%d) npos %d, want [%d,+%d) npos %d", k, s.Start, s.Len, s.NPos, pos, ch.NTokens, ch.NPos)
			}
			if p.MRoPE != nil {
				for i := 0; i < ch.NTokens; i++ {
					want := [3]int32{int32(ch.Pos0) + ch.PosT[i], int32(ch.Pos0) + ch.PosY[i], int32(ch.Pos0) + ch.PosX[i]}
					if p.MRoPE[pos+i] != want {
						t.Fatalf("image row %d M-RoPE %v, want %v", i, p.MRoPE[pos+i], want)
					}
				}
			}
			pos += ch.NTokens
			k++
		}
	}
	if pos != len(p.Tokens) || k != len(p.Spans) {
		t.Fatalf("prompt has %d tokens and %d spans, golden %d and %d", len(p.Tokens), len(p.Spans), pos, k)
	}
	if got := len(p.Tokens) + int(p.PosDelta); got != c.NPastAfter {
		t.Fatalf("next position %d, want %d", got, c.NPastAfter)
	}
}

// embedsOf runs the encoders over the prompt's spans.
func embedsOf(t *testing.T, mc *mmCase, p *input.Prompt) {
	t.Helper()
	spans := make([]*input.Span, len(p.Spans))
	for i := range p.Spans {
		spans[i] = &p.Spans[i]
	}
	if err := encoders.NewSet(nil, mc.encs...).Embed(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
}

func checkEmbeds(t *testing.T, mc *mmCase, p *input.Prompt) {
	t.Helper()
	k := 0
	for _, ch := range mc.c.Chunks {
		if ch.Type != "image" {
			continue
		}
		want := oracle.Floats(t, "golden/"+ch.EmbdFile)
		got := make([]float32, p.Spans[k].Embeds.Len())
		if err := mc.be.ToF32(p.Spans[k].Embeds, got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("embedding %d has %d values, want %d", k, len(got), len(want))
		}
		worst, at := oracle.Within(got, want)
		if worst > 1 {
			t.Fatalf("%s: embedding %d off by %.2fx the tolerance at %d: %v vs %v", mc.be.Name(), k, worst, at, got[at], want[at])
		}
		t.Logf("%s: embedding %d within %.4f of the tolerance", mc.be.Name(), k, worst)
		k++
	}
}

// checkDecode prefills the prompt and compares the last logits and the 32
// greedy tokens.
func checkDecode(t *testing.T, mc *mmCase, p *input.Prompt) {
	t.Helper()
	ctx := context.Background()
	cfg := mc.m.Config()
	kv, err := kvcache.New(mc.be, cfg.KVSpec(16, 16))
	if err != nil {
		t.Fatal(err)
	}
	r := &model.Runner{M: mc.m, KV: kv}
	logits, err := r.Prefill(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, logits.Len())
	if err := mc.be.ToF32(logits, got); err != nil {
		t.Fatal(err)
	}
	want := oracle.Floats(t, "golden/"+mc.c.LastLogits)
	worst, at := oracle.Within(got, want)
	if worst > 1 {
		t.Fatalf("%s: last logits off by %.2fx the tolerance at %d: %v vs %v", mc.be.Name(), worst, at, got[at], want[at])
	}
	t.Logf("%s: last logits within %.4f of the tolerance", mc.be.Name(), worst)
	var toks []int32
	tok := argmax(got)
	row := make([]float32, cfg.Vocab)
	for len(toks) < len(mc.c.GreedyTokens) {
		toks = append(toks, tok)
		out, err := r.Step(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := mc.be.ToF32(out, row); err != nil {
			t.Fatal(err)
		}
		tok = argmax(row)
	}
	for i := range toks {
		if toks[i] != mc.c.GreedyTokens[i] {
			t.Fatalf("%s: greedy %v, want %v", mc.be.Name(), toks, mc.c.GreedyTokens)
		}
	}
	if err := r.Release(); err != nil || kv.Used() != 0 {
		t.Fatalf("pages leaked: %d used (%v)", kv.Used(), err)
	}
}

// TestOracleVision runs every image case of the llama.cpp oracle from the
// raw image: prompt layout and M-RoPE positions, projected embeddings
// within 1e-4 + 1e-4·|ref|, last-position logits, 32 greedy tokens.
func TestOracleVision(t *testing.T) {
	for _, c := range visionCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, newBE := range backendsUnderTest {
				mc := loadCase(t, c, newBE)
				toks := processors.Tokenize(mc.tok, c.Prompt, true)
				p, err := mc.proc.Prepare(context.Background(), toks, []media.Item{mc.img})
				if err != nil {
					t.Fatal(err)
				}
				checkLayout(t, c, p)
				embedsOf(t, mc, p)
				checkEmbeds(t, mc, p)
				checkDecode(t, mc, p)
				mc.close()
			}
		})
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

// processorOutput turns an image into the Hugging Face processor output the
// family expects, from the raw path's own preprocessing.
func processorOutput(t *testing.T, mc *mmCase, raw *input.Prompt) media.Item {
	t.Helper()
	arrs := map[string]media.Array{}
	switch p := mc.proc.(type) {
	case *qwen2vl.Processor:
		f := raw.Spans[0].Features
		arrs["pixel_values"] = media.Array{Shape: slices.Clone(f.Shape), Data: slices.Clone(f.Data)}
		arrs["image_grid_thw"] = media.Array{Shape: []int{1, 3}, Data: []float32{float32(f.Grid[0]), float32(f.Grid[1]), float32(f.Grid[2])}}
	case *llava.Processor:
		px, err := p.Pixels(mc.img.RGB)
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.Config()
		chw, err := imageproc.Normalize(px, cfg.Mean, cfg.Std)
		if err != nil {
			t.Fatal(err)
		}
		arrs["pixel_values"] = media.Array{Shape: []int{1, 3, px.H, px.W}, Data: chw}
	case *llavanext.Processor:
		views, _, err := p.Views(mc.img.RGB, false)
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.Config()
		var all []float32
		for _, v := range views {
			chw, err := imageproc.Normalize(v, cfg.Mean, cfg.Std)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, chw...)
		}
		S := cfg.Size
		arrs["pixel_values"] = media.Array{Shape: []int{1, len(views), 3, S, S}, Data: all}
		arrs["image_sizes"] = media.Array{Shape: []int{1, 2}, Data: []float32{float32(mc.img.RGB.H), float32(mc.img.RGB.W)}}
	case *idefics3.Processor:
		views, rows, cols, err := p.Views(mc.img.RGB)
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.Config()
		var all []float32
		for _, v := range views {
			chw, err := imageproc.Normalize(v, cfg.Mean, cfg.Std)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, chw...)
		}
		S := cfg.ImageSize
		arrs["pixel_values"] = media.Array{Shape: []int{1, len(views), 3, S, S}, Data: all}
		arrs["rows"] = media.Array{Shape: []int{}, Data: []float32{float32(rows)}}
		arrs["cols"] = media.Array{Shape: []int{}, Data: []float32{float32(cols)}}
	default:
		t.Fatalf("unknown processor %T", mc.proc)
	}
	return media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs, Hash: 0x99}
}

// precomputed builds a precomputed_embedding item from the golden embeddings.
func precomputed(t *testing.T, mc *mmCase, raw *input.Prompt) media.Item {
	t.Helper()
	var feat []float32
	rows := 0
	for _, ch := range mc.c.Chunks {
		if ch.Type == "image" {
			feat = append(feat, oracle.Floats(t, "golden/"+ch.EmbdFile)...)
			rows += ch.NTokens
		}
	}
	arrs := map[string]media.Array{"feature": {Shape: []int{rows, len(feat) / rows}, Data: feat}}
	if f := raw.Spans[0].Features; mc.m.Config().RopeSections != nil {
		arrs["image_grid_thw"] = media.Array{Shape: []int{1, 3}, Data: []float32{float32(f.Grid[0]), float32(f.Grid[1]), float32(f.Grid[2])}}
	}
	return media.Item{Modality: media.Image, Format: media.Precomputed, Arrays: arrs, Hash: 0x77}
}

// TestOracleVisionPreprocessed feeds every image case as processor_output
// (the HF-layout pixel values) and as precomputed_embedding (the golden
// rows): the prompt must equal the raw image's, processor_output must give
// the raw path's embeddings bit for bit, and both must decode the golden
// logits and greedy tokens.
func TestOracleVisionPreprocessed(t *testing.T) {
	ctx := context.Background()
	for _, c := range visionCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, newBE := range backendsUnderTest {
				mc := loadCase(t, c, newBE)
				toks := processors.Tokenize(mc.tok, c.Prompt, true)
				raw, err := mc.proc.Prepare(ctx, toks, mc.items())
				if err != nil {
					t.Fatal(err)
				}
				embedsOf(t, mc, raw)
				for _, it := range []media.Item{processorOutput(t, mc, raw), precomputed(t, mc, raw)} {
					p, err := mc.proc.Prepare(ctx, toks, []media.Item{it})
					if err != nil {
						t.Fatalf("%v: %v", it.Format, err)
					}
					checkLayout(t, c, p)
					if it.Format == media.ProcessorOutput {
						embedsOf(t, mc, p)
						for i := range p.Spans {
							if !slices.Equal(p.Spans[i].Embeds.F32(), raw.Spans[i].Embeds.F32()) {
								t.Fatalf("%s: processor_output span %d embeddings differ from the raw image's", mc.be.Name(), i)
							}
						}
					}
					checkEmbeds(t, mc, p)
					checkDecode(t, mc, p)
				}
				mc.close()
			}
		})
	}
}

// TestEncodeBatched encodes the spans of several prompts (Qwen2-VL images of
// different grids, SmolVLM views) in one call and checks the embeddings are
// bit-identical to encoding each span alone.
func TestEncodeBatched(t *testing.T) {
	ctx := context.Background()
	byModel := map[string][]oracle.Case{}
	for _, c := range visionCases(t) {
		byModel[c.MMProj] = append(byModel[c.MMProj], c)
	}
	for mmproj, cases := range byModel {
		for _, newBE := range backendsUnderTest {
			var mcs []*mmCase
			var all []*input.Span
			for _, c := range cases {
				mc := loadCase(t, c, newBE)
				mcs = append(mcs, mc)
				p, err := mc.proc.Prepare(ctx, processors.Tokenize(mc.tok, c.Prompt, true), mc.items())
				if err != nil {
					t.Fatal(err)
				}
				for i := range p.Spans {
					all = append(all, &p.Spans[i])
				}
			}
			enc := mcs[0].encs[0]
			batched, err := enc.Encode(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			for i, sp := range all {
				one, err := enc.Encode(ctx, []*input.Span{sp})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(one[0].F32(), batched[i].F32()) {
					t.Fatalf("%s %s: span %d differs when batched with %d others", mmproj, mcs[0].be.Name(), i, len(all)-1)
				}
			}
			for _, mc := range mcs {
				mc.close()
			}
		}
	}
}
