package tiny_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/media"
)

// TestQwen25VLSpecs checks the named Qwen2.5-VL shapes are offered, the
// mmproj carries llama.cpp's window-attention period, and full-attention
// layouts llama.cpp cannot express are refused.
func TestQwen25VLSpecs(t *testing.T) {
	for _, n := range []string{"tiny-qwen25vl", "qwen25vl-3b"} {
		if !slices.Contains(tiny.ShapeNames(), n) {
			t.Fatalf("%s is not among %v", n, tiny.ShapeNames())
		}
	}
	dir := t.TempDir()
	if err := tiny.WriteShape(dir, "tiny-qwen25vl", tiny.Options{GGUF: true}); err != nil {
		t.Fatal(err)
	}
	g, err := weights.OpenGGUF(filepath.Join(dir, "mmproj.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	pt, _ := g.String("clip.projector_type")
	pat, _ := g.Uint("clip.vision.n_wa_pattern")
	silu, _ := g.Bool("clip.use_silu")
	if pt != "qwen2.5vl_merger" || pat != 2 || !silu {
		t.Fatalf("mmproj: projector %q, n_wa_pattern %d, use_silu %v", pt, pat, silu)
	}
	for _, name := range []string{"v.blk.3.ffn_gate.weight", "v.blk.3.ffn_gate.bias", "v.blk.0.attn_q.weight", "v.patch_embd.weight.1", "v.post_ln.weight"} {
		if _, _, err := g.Tensor(name); err != nil {
			t.Fatalf("mmproj lacks %s: %v", name, err)
		}
	}
	for _, name := range []string{"v.blk.0.ln1.bias", "v.post_ln.bias"} { // RMSNorm
		if _, _, err := g.Tensor(name); err == nil {
			t.Fatalf("mmproj has %s", name)
		}
	}
	for _, bad := range []func(*tiny.Qwen25VLSpec){
		func(s *tiny.Qwen25VLSpec) { s.Vision.FullAtt = []int{1, 2} },                     // not periodic
		func(s *tiny.Qwen25VLSpec) { s.Vision.FullAtt = nil },                             // llama.cpp: no windows at all
		func(s *tiny.Qwen25VLSpec) { s.Vision.Window = 56 },                               // clip.cpp always uses 112
		func(s *tiny.Qwen25VLSpec) { s.Vision.Layers, s.Vision.FullAtt = 6, []int{1, 3} }, // llama.cpp would add 5
		func(s *tiny.Qwen25VLSpec) { s.Vision.FFN = s.Vision.Hidden },                     // clip.cpp's up/down swap
	} {
		s := tiny.Qwen25VLShapes["tiny-qwen25vl"]
		s.Vision.FullAtt = slices.Clone(s.Vision.FullAtt)
		bad(&s)
		if err := tiny.WriteQwen25VL(t.TempDir(), s, true, true); err == nil {
			t.Errorf("vision %+v written", s.Vision)
		}
	}
}

// TestRealShapeQwen25VL3B writes qwen25vl-3b (2 decoder and 2 encoder
// layers unless SIGHTLINE_TINY_FULL is set) in both forms, loads them,
// checks the architecture each reads, the token count of a 1024×768 image
// (1036×756 → 74×54 patches → 37×27 = 999 tokens, in 10×7 windows) and
// encodes a 448×336 image (192 tokens) through tower and decoder.
func TestRealShapeQwen25VL3B(t *testing.T) {
	if testing.Short() {
		t.Skip("writes several hundred MB of weights")
	}
	be := backend(t)
	dir := writeTimed(t, "qwen25vl-3b", tiny.Options{HF: !fullDepth, GGUF: true})
	forms := [][2]string{{filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")}}
	if !fullDepth {
		forms = append(forms, [2]string{filepath.Join(dir, "hf"), ""})
	}
	for _, f := range forms {
		l := open(t, be, f[0], f[1])
		c := l.encs[0].(*vit.Encoder).Config()
		layers := 32
		if !fullDepth {
			layers = 2
		}
		if c.Kind != vit.Qwen25VL || c.Hidden != 1280 || c.Heads != 16 || c.FFN != 3420 || c.Layers != layers || c.Window != 112 || c.Out != 2048 {
			t.Fatalf("%s: encoder %+v", f[0], c)
		}
		if m := l.m.Config(); m.Hidden != 2048 || m.Heads != 16 || m.KVHeads != 2 || m.FFN != 11008 || !slices.Equal(m.RopeSections[:3], []int{16, 24, 24}) {
			t.Fatalf("%s: decoder %+v", f[0], m)
		}
		p := l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(1024, 768), Hash: 6})
		if n := mediaTokens(p); n != 999 {
			t.Fatalf("%s: 1024x768 image: %d tokens (grid %v), want 999", f[0], n, p.Spans[0].Features.Grid)
		}
		if f[1] != "" {
			p = l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(448, 336), Hash: 7})
			t.Logf("%d tokens encoded in %v", mediaTokens(p), l.encode(t, be, p).Round(time.Millisecond))
		}
	}
}
