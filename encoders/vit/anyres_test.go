package vit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
	"github.com/sightline/sightline/processors/llavanext"
)

// writeTinyAnyRes writes a tiny LLaVA-NeXT / OneVision shape in both forms.
func writeTinyAnyRes(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := tiny.WriteAnyRes(dir, tiny.AnyResShapes[name], true, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

// prepared is one form's prompt, embeddings and last-position logits.
type prepared struct {
	p      *input.Prompt
	logits []float32
}

func runForm(t *testing.T, be tensor.Backend, f *form, text string, items []media.Item) prepared {
	t.Helper()
	ctx := context.Background()
	p, err := f.proc.Prepare(ctx, processors.Tokenize(f.tok, text, true), items)
	if err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	spans := make([]*input.Span, len(p.Spans))
	for i := range p.Spans {
		spans[i] = &p.Spans[i]
	}
	if err := encoders.NewSet(nil, f.encs...).Embed(ctx, spans); err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	kv, err := kvcache.New(be, f.m.Config().KVSpec(16, 64))
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&model.Runner{M: f.m, KV: kv}).Prefill(ctx, p, true)
	if err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	got := make([]float32, out.Len())
	if err := be.ToF32(out, got); err != nil {
		t.Fatal(err)
	}
	return prepared{p: p, logits: got}
}

// TestTinyAnyResForms loads tiny-llavanext and tiny-llavaov as HF
// directories and as GGUF + mmproj: the same encoder configuration, the
// same prompt, bit-identical embeddings and logits, for a single image
// (anyres: unpadded grid, and for OneVision the anyres_max resize) and two
// images in one prompt (OneVision: base views only).
func TestTinyAnyResForms(t *testing.T) {
	for _, tc := range []struct {
		shape   string
		w, h    int
		tokens  []int // per image
		pair    bool  // two images in one prompt
		resized bool
	}{
		// token counts from transformers' formulas (see testdata/README.md)
		{shape: "tiny-llavanext", w: 100, h: 60, tokens: []int{9 + 4*(6+1)}},
		{shape: "tiny-llavanext", w: 40, h: 90, tokens: []int{9 + 7*(3+1)}},
		{shape: "tiny-llavaov", w: 200, h: 150, tokens: []int{9 + 8*(10+1)}, resized: true},
		{shape: "tiny-llavaov", w: 70, h: 50, tokens: []int{10, 10}, pair: true},
	} {
		t.Run(tc.shape, func(t *testing.T) {
			dir := writeTinyAnyRes(t, tc.shape)
			for _, newBE := range backendsUnderTest {
				be, err := newBE()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { be.Close() })
				hf := openForm(t, be, filepath.Join(dir, "hf"), "")
				gg := openForm(t, be, filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf"))
				var cfgs []vit.Config
				for _, f := range []*form{hf, gg} {
					c := f.encs[0].(*vit.Encoder).Config()
					if c.Kind != vit.AnyRes || c.Layers != 2 || c.Geometry.Grid() != 3 {
						t.Fatalf("%s: encoder config %+v", f.name, c)
					}
					cfgs = append(cfgs, c)
				}
				a, b := cfgs[0], cfgs[1]
				if a.ClassToken != b.ClassToken || a.Act != b.Act || a.Eps != b.Eps || a.Positions != b.Positions ||
					!slices.Equal(a.Geometry.Pinpoints, b.Geometry.Pinpoints) || a.Geometry.MaxPatches != b.Geometry.MaxPatches {
					t.Fatalf("HF and GGUF encoder configs differ:\n%+v\n%+v", a, b)
				}
				items := []media.Item{{Modality: media.Image, Format: media.Raw, RGB: noiseImage(tc.w, tc.h, 7), Hash: 7}}
				text := "<|im_start|>user\n" + processors.Marker + " What is it?<|im_end|>\n<|im_start|>assistant\n"
				if tc.pair {
					items = append(items, media.Item{Modality: media.Image, Format: media.Raw, RGB: noiseImage(tc.h, tc.w, 8), Hash: 8})
					text = "<|im_start|>user\n" + processors.Marker + " and " + processors.Marker + "<|im_end|>\n<|im_start|>assistant\n"
				}
				x, y := runForm(t, be, hf, text, items), runForm(t, be, gg, text, items)
				if !slices.Equal(x.p.Tokens, y.p.Tokens) || len(x.p.Spans) != len(tc.tokens) {
					t.Fatalf("%s: prompts differ or wrong span count:\n%v\n%v", be.Name(), x.p.Tokens, y.p.Tokens)
				}
				for i, n := range tc.tokens {
					if x.p.Spans[i].Len != n || y.p.Spans[i].Len != n {
						t.Fatalf("%s: span %d has %d / %d tokens, want %d", be.Name(), i, x.p.Spans[i].Len, y.p.Spans[i].Len, n)
					}
					ea, eb := x.p.Spans[i].Embeds.F32(), y.p.Spans[i].Embeds.F32()
					if !slices.Equal(ea, eb) {
						t.Fatalf("%s: span %d embeddings differ between the forms", be.Name(), i)
					}
					if mx := slices.Max(ea); mx <= 0 || math.IsNaN(float64(mx)) {
						t.Fatalf("%s: implausible embeddings", be.Name())
					}
				}
				// llama's GGUF form stores q/k rows permuted for adjacent-pair
				// rotary: equal math, other rounding. qwen2's forms are identical.
				if worst, at := oracle.Within(y.logits, x.logits); worst > 0.05 || (hf.m.Config().Arch == "qwen2" && worst != 0) {
					t.Fatalf("%s: logits differ between the forms: %.3g of the tolerance at %d", be.Name(), worst, at)
				}
				if tc.resized {
					l, err := a.Geometry.Layout(tc.h, tc.w)
					if err != nil || !l.Resized {
						t.Fatalf("layout %+v %v: want an anyres_max resize", l, err)
					}
				}
			}
		})
	}
}

// TestAnyResNewlineRows checks the packing against the encoder's own view
// rows: the base view first, then each unpadded grid row followed by the
// image_newline, which is the same vector at every row end.
func TestAnyResNewlineRows(t *testing.T) {
	dir := writeTinyAnyRes(t, "tiny-llavanext")
	be, err := backendsUnderTest[0]()
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	f := openForm(t, be, filepath.Join(dir, "hf"), "")
	proc := f.proc.(*llavanext.Processor)
	img := noiseImage(100, 60, 3)
	feat, err := proc.Features(img, false)
	if err != nil {
		t.Fatal(err)
	}
	n, err := proc.Tokens(feat.Grid)
	if err != nil {
		t.Fatal(err)
	}
	enc := f.encs[0].(*vit.Encoder)
	out, err := enc.Encode(context.Background(), []*input.Span{{Len: n, Features: feat}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := enc.Config().Geometry.Layout(60, 100)
	if err != nil {
		t.Fatal(err)
	}
	C := enc.Config().Out
	e := out[0].F32()
	row := func(i int) []float32 { return e[i*C : (i+1)*C] }
	nl := row(9 + l.W)
	for r := 0; r < l.H; r++ {
		if got := row(9 + r*(l.W+1) + l.W); !slices.Equal(got, nl) {
			t.Fatalf("row %d does not end with the newline", r)
		}
		if slices.Equal(row(9+r*(l.W+1)), nl) {
			t.Fatalf("row %d starts with the newline", r)
		}
	}
	// Each view alone: the base rows equal the first view's projected rows.
	one := &input.Features{Data: feat.Data[:9*feat.Shape[1]], Shape: []int{9, feat.Shape[1]}, Grid: [3]int{1, 60, 100}}
	base, err := enc.Encode(context.Background(), []*input.Span{{Len: 10, Features: one}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(base[0].F32()[:9*C], e[:9*C]) || !slices.Equal(base[0].F32()[9*C:], nl) {
		t.Fatal("the base view alone encodes differently from the anyres image's base rows")
	}
}

// anyresCases are the oracle's LLaVA-NeXT / OneVision cases with their
// media lists (several images, or a video's frames).
func anyresCases(t *testing.T) (cases []oracle.Case, lists map[string][]string) {
	t.Helper()
	var idx struct {
		Cases []struct {
			Case      string   `json:"case"`
			MediaList []string `json:"media_list"`
		} `json:"cases"`
	}
	raw, err := os.ReadFile(oracle.MustPath(t, "golden/index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	lists = map[string][]string{}
	for _, c := range idx.Cases {
		lists[c.Case] = c.MediaList
	}
	for _, c := range oracle.Cases(t) {
		if strings.HasPrefix(c.Name, "mm-llavanext-") || strings.HasPrefix(c.Name, "mm-llavaov-") {
			if len(lists[c.Name]) == 0 {
				lists[c.Name] = []string{c.Media}
			}
			cases = append(cases, c)
		}
	}
	if len(cases) < 8 {
		t.Fatalf("only %d LLaVA-NeXT / OneVision cases in the oracle index", len(cases))
	}
	return cases, lists
}

func decodePNG(t *testing.T, name string) *media.RGB {
	t.Helper()
	raw, err := os.ReadFile(oracle.MustPath(t, "media/"+name))
	if err != nil {
		t.Fatal(err)
	}
	rgb, _, err := media.DecodeImage(raw, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return rgb
}

// caseItems builds a case's media items: raw images, or (mode mm-video)
// the frames as Hugging Face's video processor output (they are S×S
// already: normalised only).
func caseItems(t *testing.T, c oracle.Case, files []string, proc processors.Processor) []media.Item {
	t.Helper()
	if c.Mode != "mm-video" {
		var items []media.Item
		for i, f := range files {
			items = append(items, media.Item{Modality: media.Image, Format: media.Raw, RGB: decodePNG(t, f), Hash: uint64(0x4e00 + i)})
		}
		return items
	}
	cfg := proc.(*llavanext.Processor).Config()
	var all []float32
	for _, f := range files {
		chw, err := imageproc.Normalize(decodePNG(t, f), cfg.Mean, cfg.Std)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, chw...)
	}
	S := cfg.Size
	arr := media.Array{Shape: []int{1, len(files), 3, S, S}, Data: all}
	return []media.Item{{Modality: media.Image, Format: media.ProcessorOutput, Hash: 0x4f00,
		Arrays: map[string]media.Array{"pixel_values_videos": arr}}}
}

// TestOracleAnyResForms runs every LLaVA-NeXT and OneVision oracle case —
// single images (anyres: unpadding, anyres_max), two images in one prompt
// (base views) and a video (processor output, 2×2 pooling) — on both forms
// of the tiny models: the committed GGUF + mmproj (byte-identical to what
// internal/tiny writes) and internal/tiny's HF directory of the same
// weights. Each must give the golden prompt layout, embeddings and last
// logits within 1e-4 + 1e-4·|ref| and the 32 golden greedy tokens; the
// same must hold for the embeddings given back as precomputed_embedding.
func TestOracleAnyResForms(t *testing.T) {
	cases, lists := anyresCases(t)
	dirs := map[string]string{}
	for _, shape := range []string{"tiny-llavanext", "tiny-llavaov"} {
		dirs[shape] = writeTinyAnyRes(t, shape)
		for _, pair := range [][2]string{{"model.gguf", "models/" + shape + "-text.gguf"}, {"mmproj.gguf", "models/mmproj-" + shape + ".gguf"}} {
			fresh, err := os.ReadFile(filepath.Join(dirs[shape], pair[0]))
			if err != nil {
				t.Fatal(err)
			}
			kept, err := os.ReadFile(oracle.MustPath(t, pair[1]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fresh, kept) {
				t.Fatalf("internal/tiny's %s %s differs from the oracle's %s: regenerate the goldens (testdata/README.md)", shape, pair[0], pair[1])
			}
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			shape := "tiny-llavaov"
			if strings.HasPrefix(c.Name, "mm-llavanext-") {
				shape = "tiny-llavanext"
			}
			for _, newBE := range backendsUnderTest {
				for _, paths := range [][2]string{{filepath.Join(dirs[shape], "hf"), ""}, {oracle.MustPath(t, c.Model), oracle.MustPath(t, c.MMProj)}} {
					be, err := newBE()
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { be.Close() })
					f := openForm(t, be, paths[0], paths[1])
					mc := &mmCase{c: c, be: be, m: f.m, tok: f.tok, proc: f.proc, encs: f.encs}
					toks := processors.Tokenize(mc.tok, c.Prompt, true)
					p, err := mc.proc.Prepare(context.Background(), toks, caseItems(t, c, lists[c.Name], f.proc))
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("form %s", f.name)
					checkLayout(t, c, p)
					embedsOf(t, mc, p)
					checkEmbeds(t, mc, p)
					checkDecode(t, mc, p)
					// the golden rows back as precomputed_embedding, one item per chunk
					var items []media.Item
					for _, ch := range c.Chunks {
						if ch.Type == "image" {
							feat := oracle.Floats(t, "golden/"+ch.EmbdFile)
							items = append(items, media.Item{Modality: media.Image, Format: media.Precomputed, Hash: 0x77,
								Arrays: map[string]media.Array{"feature": {Shape: []int{ch.NTokens, len(feat) / ch.NTokens}, Data: feat}}})
						}
					}
					if p, err = mc.proc.Prepare(context.Background(), toks, items); err != nil {
						t.Fatal(err)
					}
					checkLayout(t, c, p)
					checkDecode(t, mc, p)
				}
			}
		})
	}
}

// FuzzEncodeAnyRes sends arbitrary feature shapes and grids to the
// OneVision oracle encoder: bad input is an ErrInput error, good input gives
// span.Len rows.
func FuzzEncodeAnyRes(f *testing.F) {
	f.Add(63, 588, 7, 60, 100, 69)  // 100×60 image: 2×3 tiles
	f.Add(9, 588, 1, 60, 100, 10)   // base view only
	f.Add(27, 588, 3, 0, 0, 13)     // 3 video frames
	f.Add(63, 588, 7, 60, 100, 68)  // wrong span length
	f.Add(63, 588, 7, -60, 100, 69) // negative size
	f.Add(18, 588, 2, 1, 1<<30, 10) // absurd size
	fuzzEncode(f, "models/mmproj-tiny-llavaov.gguf", 400, 1024)
}

// FuzzFromHFAnyRes loads tiny-llavaov's checkpoint under arbitrary
// config.json contents: an encoder with a valid configuration, or an error.
func FuzzFromHFAnyRes(f *testing.F) {
	dir := f.TempDir()
	if err := tiny.WriteAnyRes(dir, tiny.AnyResShapes["tiny-llavaov"], true, false); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "hf", "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"architectures":["LlavaOnevisionForConditionalGeneration"],"vision_config":{"model_type":"siglip_vision_model","hidden_size":32,"image_size":46,"patch_size":14,"num_attention_heads":4,"intermediate_size":48,"num_hidden_layers":2},"vision_aspect_ratio":"anyres_max_0"}`))
	f.Add([]byte(`{"architectures":["LlavaNextForConditionalGeneration"],"vision_feature_select_strategy":"full","image_grid_pinpoints":[[46,47]]}`))
	f.Add([]byte(`{"architectures":["LlavaOnevisionForConditionalGeneration"],"vision_config":{"model_type":"siglip_vision_model","hidden_size":32,"image_size":10,"patch_size":14},"vision_feature_layer":7}`))
	d := f.TempDir()
	if err := os.Symlink(filepath.Join(dir, "hf", "model.safetensors"), filepath.Join(d, "model.safetensors")); err != nil {
		f.Fatal(err)
	}
	be := ref.New()
	f.Fuzz(func(t *testing.T, cfg []byte) {
		if err := os.WriteFile(filepath.Join(d, "config.json"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := vit.FromHF(d, be)
		if err != nil {
			return
		}
		if c := e.Config(); c.Validate() != nil {
			t.Fatalf("loaded an invalid config: %v", c.Validate())
		}
		e.Close()
	})
}
