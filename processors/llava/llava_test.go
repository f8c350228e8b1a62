package llava

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
)

const (
	imageTok = 77
	M        = input.MediaMarker
)

type vocab map[string]int32

func (v vocab) TokenID(s string) (int32, bool) { id, ok := v[s]; return id, ok }

func hfProc(t testing.TB, pad, keep bool) *Processor {
	p, err := New(Config{ImageSize: 28, Patch: 14, Mean: [3]float32{0.48145466, 0.4578275, 0.40821073},
		Std: [3]float32{0.26862954, 0.26130258, 0.27577711}, KeepCLS: keep, Hidden: 4, Pad: pad, Shortest: 28,
		CropW: 28, CropH: 28, Filter: imageproc.Bicubic, Image: imageTok})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func solid(w, h int, c [3]uint8) *media.RGB {
	img, _ := imageproc.New(w, h, c)
	return img
}

// TestPixels checks the HF steps: pad to square with the mean colour, resize
// the shortest edge, centre crop.
func TestPixels(t *testing.T) {
	red := [3]uint8{255, 0, 0}
	// 56×28 red: no pad → 56×28 resized to 56×28 (shortest 28), cropped to the middle: all red.
	px, err := hfProc(t, false, false).Pixels(solid(56, 28, red))
	if err != nil {
		t.Fatal(err)
	}
	if px.W != 28 || px.H != 28 || !slices.Equal(px.Pix[:3], red[:]) || !slices.Equal(px.Pix[len(px.Pix)-3:], red[:]) {
		t.Fatalf("no-pad pixels %dx%d %v", px.W, px.H, px.Pix[:3])
	}
	// With pad: 56×56 with rows 0..13 and 42..55 mean-coloured, resized to 28: top row is the mean colour.
	px, err = hfProc(t, true, false).Pixels(solid(56, 28, red))
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{122, 116, 104}; !slices.Equal(px.Pix[:3], want) {
		t.Fatalf("padded top-left %v, want %v", px.Pix[:3], want)
	}
	if mid := (14*28 + 14) * 3; !slices.Equal(px.Pix[mid:mid+3], red[:]) {
		t.Fatalf("padded centre %v", px.Pix[mid:mid+3])
	}
}

// TestPixelsLlama checks llama.cpp's fit-and-pad: a 2:1 image becomes a
// centred band on the mean colour.
func TestPixelsLlama(t *testing.T) {
	cfg := hfProc(t, false, false).Config()
	cfg.Llama = true
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	px, err := p.Pixels(solid(56, 28, [3]uint8{10, 20, 30}))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 28; y++ {
		want := []uint8{10, 20, 30}
		if y < 7 || y >= 21 {
			want = []uint8{122, 116, 104}
		}
		if got := px.Pix[(y*28+5)*3 : (y*28+5)*3+3]; !slices.Equal(got, want) {
			t.Fatalf("row %d = %v, want %v", y, got, want)
		}
	}
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	it := media.Item{Modality: media.Image, Format: media.Raw, RGB: solid(40, 30, [3]uint8{1, 2, 3}), Hash: 5}
	for _, tc := range []struct {
		name   string
		keep   bool
		tokens []int32
		items  []media.Item
		want   []int32
		err    error
	}{
		{"marker", false, []int32{1, M, 2}, []media.Item{it}, []int32{1, imageTok, imageTok, imageTok, imageTok, 2}, nil},
		{"image token", false, []int32{imageTok, 2}, []media.Item{it}, []int32{imageTok, imageTok, imageTok, imageTok, 2}, nil},
		{"expanded", false, []int32{imageTok, imageTok, imageTok, imageTok}, []media.Item{it}, []int32{imageTok, imageTok, imageTok, imageTok}, nil},
		{"keep cls", true, []int32{M}, []media.Item{it}, []int32{imageTok, imageTok, imageTok, imageTok, imageTok}, nil},
		{"two", false, []int32{M, 3, M}, []media.Item{it, it}, []int32{imageTok, imageTok, imageTok, imageTok, 3, imageTok, imageTok, imageTok, imageTok}, nil},
		{"bad run", false, []int32{imageTok, imageTok}, []media.Item{it}, nil, processors.ErrBadFeatures},
		{"count", false, []int32{M, M}, []media.Item{it}, nil, processors.ErrMediaCount},
	} {
		got, err := hfProc(t, false, tc.keep).Prepare(ctx, tc.tokens, tc.items)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got.Tokens, tc.want) || got.MRoPE != nil {
			t.Errorf("%s: tokens %v, want %v", tc.name, got.Tokens, tc.want)
		}
		for _, s := range got.Spans {
			if s.Features == nil || !slices.Equal(s.Features.Shape, []int{4, 588}) || s.Features.Grid != [3]int{1, 2, 2} || s.NPos != s.Len {
				t.Errorf("%s: span %+v", tc.name, s)
			}
		}
	}
}

func TestPreprocessed(t *testing.T) {
	p := hfProc(t, false, false)
	ctx := context.Background()
	raw := media.Item{Modality: media.Image, Format: media.Raw, RGB: solid(28, 28, [3]uint8{9, 99, 199})}
	want, err := p.Prepare(ctx, []int32{M}, []media.Item{raw})
	if err != nil {
		t.Fatal(err)
	}
	chw, _ := imageproc.Normalize(raw.RGB, p.cfg.Mean, p.cfg.Std)
	po := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: map[string]media.Array{"pixel_values": {Shape: []int{1, 3, 28, 28}, Data: chw}}}
	got, err := p.Prepare(ctx, []int32{M}, []media.Item{po})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Spans[0].Features.Data, want.Spans[0].Features.Data) {
		t.Fatal("processor_output features differ from the raw image's")
	}
	bad := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: map[string]media.Array{"pixel_values": {Shape: []int{1, 3, 14, 56}, Data: chw}}}
	if _, err := p.Prepare(ctx, []int32{M}, []media.Item{bad}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("bad pixel_values: %v", err)
	}
	pre := media.Item{Modality: media.Image, Format: media.Precomputed, Arrays: map[string]media.Array{"feature": {Shape: []int{4, 4}, Data: make([]float32, 16)}}}
	if got, err := p.Prepare(ctx, []int32{M}, []media.Item{pre}); err != nil || got.Spans[0].Embeds == nil {
		t.Fatalf("precomputed: %v", err)
	}
	pre.Arrays["feature"] = media.Array{Shape: []int{5, 4}, Data: make([]float32, 20)}
	if _, err := p.Prepare(ctx, []int32{M}, []media.Item{pre}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("precomputed with 5 rows: %v", err)
	}
}

func TestFromHF(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"vision_feature_select_strategy":"full","text_config":{"hidden_size":4096},"vision_config":{"image_size":336,"patch_size":14}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(`{"image_processor_type":"LlavaImageProcessor","do_pad":true,"size":{"shortest_edge":336},"crop_size":{"height":336,"width":336},"resample":3}`), 0o644)
	pr, err := processors.New("llava", processors.Spec{Dir: dir, Vocab: vocab{"<image>": 32000}})
	if err != nil {
		t.Fatal(err)
	}
	p := pr.(*Processor)
	if c := p.Config(); !c.Pad || !c.KeepCLS || c.Shortest != 336 || c.Image != 32000 || c.Hidden != 4096 || p.Tokens() != 577 {
		t.Fatalf("config %+v, tokens %d", c, p.Tokens())
	}
	if _, err := processors.New("llava", processors.Spec{Dir: dir, Vocab: vocab{}}); !errors.Is(err, processors.ErrConfig) {
		t.Fatalf("no <image> token: %v", err)
	}
}

// FuzzHWSize fuzzes the preprocessor_config size parser.
func FuzzHWSize(f *testing.F) {
	for _, s := range []string{`336`, `{"shortest_edge":336}`, `{"height":2,"width":3}`, `{}`, `[1]`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, w, h, err := hwSize([]byte(s))
		if err != nil && (sh != 0 || w != 0 || h != 0) {
			t.Fatalf("values with error: %d %d %d %v", sh, w, h, err)
		}
	})
}

// FuzzPrepare feeds arbitrary tokens and pixel_values shapes.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte{0xff}, uint8(3), uint8(28), uint8(28))
	f.Add([]byte{77, 77, 77, 77}, uint8(3), uint8(28), uint8(28))
	f.Add([]byte{1, 0xff, 0xff}, uint8(1), uint8(2), uint8(200))
	p := hfProc(f, false, false)
	f.Fuzz(func(t *testing.T, toks []byte, c, h, w uint8) {
		tokens := make([]int32, len(toks))
		for i, b := range toks {
			tokens[i] = int32(b)
			if b == 0xff {
				tokens[i] = M
			}
		}
		n := int(c) * int(h) * int(w)
		it := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: map[string]media.Array{
			"pixel_values": {Shape: []int{1, int(c), int(h), int(w)}, Data: make([]float32, n)}}}
		got, err := p.Prepare(context.Background(), tokens, []media.Item{it})
		if err != nil {
			return
		}
		if len(got.Spans) != 1 || got.Spans[0].Len != 4 {
			t.Fatalf("spans %+v", got.Spans)
		}
	})
}
