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
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
	"github.com/sightline/sightline/processors/qwen2vl"
)

// writeTinyQwen25VL writes tiny-qwen25vl in both forms into a temporary
// directory.
func writeTinyQwen25VL(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := tiny.WriteQwen25VL(dir, tiny.Qwen25VLShapes["tiny-qwen25vl"], true, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTinyQwen25VLForms loads tiny-qwen25vl as an HF directory and as GGUF +
// mmproj: same encoder configuration (window attention included), same
// prompt, bit-identical embeddings and logits for an image of several
// windows that neither form resizes.
func TestTinyQwen25VLForms(t *testing.T) {
	dir := writeTinyQwen25VL(t)
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		hf := openForm(t, be, filepath.Join(dir, "hf"), "")
		gg := openForm(t, be, filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf"))
		var cfgs []vit.Config
		for _, f := range []*form{hf, gg} {
			c := f.encs[0].(*vit.Encoder).Config()
			if c.Kind != vit.Qwen25VL || c.Window != 112 || !slices.Equal(c.FullAtt, []int{1, 3}) || c.Act != tensor.SiLU ||
				c.Layers != 4 || c.FFN != 48 || c.Hidden != 32 || c.Out != 64 || c.Eps != 1e-6 {
				t.Fatalf("%s: encoder config %+v", f.name, c)
			}
			if f.m.Config().Arch != "qwen2vl" || !slices.Equal(f.m.Config().RopeSections[:3], []int{2, 3, 3}) {
				t.Fatalf("%s: decoder config %+v", f.name, f.m.Config())
			}
			cfgs = append(cfgs, c)
		}
		// 224×168: 8×6 merged tokens, windows of 4×4, 4×4, 4×2, 4×2.
		img := media.Item{Modality: media.Image, Format: media.Raw, RGB: noiseImage(224, 168, 5), Hash: 43}
		text := "<|im_start|>user\nLook: " + processors.Marker + " and tell.<|im_end|>\n<|im_start|>assistant\n"
		var prompts []*input.Prompt
		var logits [][]float32
		for _, f := range []*form{hf, gg} {
			p, err := f.proc.Prepare(context.Background(), processors.Tokenize(f.tok, text, true), []media.Item{img})
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			if len(p.Spans) != 1 || p.Spans[0].Len != 48 || p.Spans[0].NPos != 8 {
				t.Fatalf("%s: spans %+v, want one of 48 tokens advancing 8 positions", f.name, p.Spans)
			}
			if err := encoders.NewSet(nil, f.encs...).Embed(context.Background(), []*input.Span{&p.Spans[0]}); err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			kv, err := kvcache.New(be, f.m.Config().KVSpec(16, 8))
			if err != nil {
				t.Fatal(err)
			}
			out, err := (&model.Runner{M: f.m, KV: kv}).Prefill(context.Background(), p, true)
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
		if !slices.Equal(a.Spans[0].Features.Data, b.Spans[0].Features.Data) {
			t.Fatalf("%s: HF and GGUF processors give different pixels for an image that needs no resize", be.Name())
		}
		ea, eb := a.Spans[0].Embeds.F32(), b.Spans[0].Embeds.F32()
		if len(ea) != 48*64 || slices.Max(ea) <= 0 || slices.Min(ea) >= 0 || math.IsNaN(float64(slices.Max(ea))) {
			t.Fatalf("%s: implausible embeddings (%d values, range %v..%v)", be.Name(), len(ea), slices.Min(ea), slices.Max(ea))
		}
		if !slices.Equal(ea, eb) || !slices.Equal(logits[0], logits[1]) {
			t.Fatalf("%s: HF and GGUF embeddings or logits differ", be.Name())
		}
		be.Close()
	}
}

// TestQwen25VLWindowsMatter checks that window attention is in effect: the
// same weights with every layer attending globally give other embeddings
// for an image of several windows, and the same for an image of one.
func TestQwen25VLWindowsMatter(t *testing.T) {
	dir := writeTinyQwen25VL(t)
	be := backendsUnderTest[len(backendsUnderTest)-1]
	b, err := be()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cfgPath := filepath.Join(dir, "hf", "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(w, h int) []float32 {
		t.Helper()
		e, err := vit.FromHF(filepath.Join(dir, "hf"), b)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		proc, err := qwen2vl.New(qwen2vl.Config{Patch: 14, Merge: 2, Temporal: 2, MinPixels: 0, MaxPixels: 1 << 20,
			Std: [3]float32{1, 1, 1}, Filter: imageproc.Bicubic, Hidden: 64})
		if err != nil {
			t.Fatal(err)
		}
		f, err := proc.Features(noiseImage(w, h, 9), media.Hints{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.Config()
		sp := &input.Span{Len: cfg.OutRows(f.Shape[0]), Features: f}
		out, err := e.Encode(context.Background(), []*input.Span{sp})
		if err != nil {
			t.Fatal(err)
		}
		return out[0].F32()
	}
	winMany, winOne := encode(224, 168), encode(112, 84)
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["vision_config"].(map[string]any)["fullatt_block_indexes"] = []int{0, 1, 2, 3}
	if raw, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	fullMany, fullOne := encode(224, 168), encode(112, 84)
	if slices.Equal(winMany, fullMany) {
		t.Fatal("an image of 4 windows encodes the same with and without window attention")
	}
	if !slices.Equal(winOne, fullOne) {
		t.Fatal("an image of one window encodes differently with and without window attention")
	}
}

// qwen25vlCases are the oracle's Qwen2.5-VL cases.
func qwen25vlCases(t *testing.T) []oracle.Case {
	var out []oracle.Case
	for _, c := range visionCases(t) {
		if strings.Contains(c.MMProj, "qwen25vl") {
			out = append(out, c)
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d Qwen2.5-VL cases in the oracle index", len(out))
	}
	return out
}

// TestOracleQwen25VLForms runs the Qwen2.5-VL oracle cases on both forms of
// tiny-qwen25vl: the committed GGUF + mmproj (what the goldens were made
// from, byte-identical to what internal/tiny writes) and the HF directory
// internal/tiny writes with the same weights. Each must give the golden
// prompt layout, embeddings and last logits within 1e-4 + 1e-4·|ref| and
// the 32 golden greedy tokens.
func TestOracleQwen25VLForms(t *testing.T) {
	dir := writeTinyQwen25VL(t)
	cases := qwen25vlCases(t)
	for _, pair := range [][2]string{{"model.gguf", cases[0].Model}, {"mmproj.gguf", cases[0].MMProj}} {
		fresh, err := os.ReadFile(filepath.Join(dir, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		kept, err := os.ReadFile(oracle.MustPath(t, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, kept) {
			t.Fatalf("internal/tiny's tiny-qwen25vl %s differs from the oracle's %s: regenerate the goldens (testdata/README.md)", pair[0], pair[1])
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			for _, newBE := range backendsUnderTest {
				for _, paths := range [][2]string{{filepath.Join(dir, "hf"), ""}, {oracle.MustPath(t, c.Model), oracle.MustPath(t, c.MMProj)}} {
					be, err := newBE()
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { be.Close() }) // after the form's own cleanup
					f := openForm(t, be, paths[0], paths[1])
					raw, err := os.ReadFile(oracle.MustPath(t, "media/"+c.Media))
					if err != nil {
						t.Fatal(err)
					}
					rgb, _, err := media.DecodeImage(raw, media.Limits{})
					if err != nil {
						t.Fatal(err)
					}
					mc := &mmCase{c: c, be: be, m: f.m, tok: f.tok, proc: f.proc, encs: f.encs,
						img: media.Item{Modality: media.Image, Format: media.Raw, RGB: rgb, Hash: 0x2525}}
					p, err := mc.proc.Prepare(context.Background(), processors.Tokenize(mc.tok, c.Prompt, true), mc.items())
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("form %s", f.name)
					checkLayout(t, c, p)
					embedsOf(t, mc, p)
					checkEmbeds(t, mc, p)
					checkDecode(t, mc, p)
				}
			}
		})
	}
}
