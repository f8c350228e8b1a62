package idefics3

import (
	"context"
	"errors"
	"fmt"
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
	img, fake, glob, nl, nlnl = 50, 51, 52, 53, 54
	M                         = input.MediaMarker
)

// rowTok is the id of <row_r_col_c> in the test vocabulary.
func rowTok(r, c int) int32 { return int32(100 + 10*r + c) }

func proc(t testing.TB, llama bool) *Processor {
	rows := make([][]int32, 6)
	for r := range rows {
		for c := 0; c < 6; c++ {
			rows[r] = append(rows[r], rowTok(r+1, c+1))
		}
	}
	p, err := New(Config{ImageSize: 56, Patch: 14, Scale: 2, LongestEdge: 4 * 56, Split: true,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}, Hidden: 4, Llama: llama, Filter: imageproc.Lanczos,
		Image: img, Fake: fake, Global: glob, NL: nl, NLNL: nlnl, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func item(w, h int) media.Item {
	pix := make([]uint8, w*h*3)
	for i := range pix {
		pix[i] = uint8(i)
	}
	return media.Item{Modality: media.Image, Format: media.Raw, RGB: &media.RGB{W: w, H: h, Pix: pix}, Hash: 7}
}

// wantLayout renders the expected token layout for rows×cols tiles of L tokens.
func wantLayout(rows, cols, L int) []int32 {
	var out []int32
	run := func() {
		for i := 0; i < L; i++ {
			out = append(out, img)
		}
	}
	for r := 1; r <= rows; r++ {
		for c := 1; c <= cols; c++ {
			out = append(out, fake, rowTok(r, c))
			run()
		}
		if r < rows {
			out = append(out, nl)
		}
	}
	if rows > 0 {
		out = append(out, nlnl)
	}
	out = append(out, fake, glob)
	run()
	return append(out, fake)
}

func TestViewsAndLayout(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		llama      bool
		w, h       int
		rows, cols int
	}{
		{false, 200, 100, 2, 4}, // longest edge 224 → 224×112 → 4×2 tiles of 56
		{false, 100, 200, 4, 2},
		{false, 30, 30, 4, 4}, // upscaled to the longest edge, like HF
		{true, 80, 60, 3, 4},  // llama.cpp: longest edge 224 → 224×168 → 4×3 tiles
		{true, 56, 56, 4, 4},
		{true, 30, 30, 4, 4},
	} {
		p := proc(t, tc.llama)
		views, rows, cols, err := p.Views(item(tc.w, tc.h).RGB)
		if err != nil {
			t.Fatal(err)
		}
		if rows != tc.rows || cols != tc.cols || len(views) != rows*cols+1 {
			t.Fatalf("%dx%d (llama %v): %d×%d tiles, %d views", tc.w, tc.h, tc.llama, rows, cols, len(views))
		}
		for _, v := range views {
			if v.W != 56 || v.H != 56 {
				t.Fatalf("view %dx%d", v.W, v.H)
			}
		}
		got, err := p.Prepare(ctx, []int32{9, M, 8}, []media.Item{item(tc.w, tc.h)})
		if err != nil {
			t.Fatal(err)
		}
		want := append(append([]int32{9}, wantLayout(rows, cols, 4)...), 8)
		if !slices.Equal(got.Tokens, want) {
			t.Fatalf("%dx%d: tokens\n%v\nwant\n%v", tc.w, tc.h, got.Tokens, want)
		}
		if len(got.Spans) != rows*cols+1 {
			t.Fatalf("%d spans", len(got.Spans))
		}
		keys := map[uint64]bool{}
		for _, s := range got.Spans {
			if s.Len != 4 || got.Tokens[s.Start] != img || got.Tokens[s.Start-1] == img || keys[s.Key] {
				t.Fatalf("span %+v", s)
			}
			keys[s.Key] = true
		}
		// The expanded prompt, fed back with the same image, is accepted as is.
		again, err := p.Prepare(ctx, got.Tokens, []media.Item{item(tc.w, tc.h)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again.Tokens, got.Tokens) || len(again.Spans) != len(got.Spans) {
			t.Fatal("pre-expanded prompt changed")
		}
	}
	// llama.cpp tiles even an image that fits one tile.
	p := proc(t, true)
	p.cfg.LongestEdge = 56
	if _, rows, cols, err := p.Views(item(80, 60).RGB); err != nil || rows != 1 || cols != 1 {
		t.Fatalf("llama.cpp, one tile: %d×%d %v", rows, cols, err)
	}
	// Without splitting, HF: global view only.
	p = proc(t, false)
	p.cfg.Split = false
	got, err := p.Prepare(ctx, []int32{img}, []media.Item{item(300, 20)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tokens, wantLayout(0, 0, 4)) {
		t.Fatalf("no split: %v", got.Tokens)
	}
}

func TestPrepareErrors(t *testing.T) {
	p := proc(t, false)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		tokens []int32
		items  []media.Item
		err    error
	}{
		"count":         {[]int32{M, M}, []media.Item{item(56, 56)}, processors.ErrMediaCount},
		"no marker":     {[]int32{1}, []media.Item{item(56, 56)}, processors.ErrMediaCount},
		"run of 3":      {[]int32{img, img, img}, []media.Item{item(56, 56)}, processors.ErrBadFeatures},
		"unclosed view": {[]int32{fake, rowTok(1, 1), img, img, img, img}, []media.Item{item(56, 56)}, processors.ErrBadFeatures},
		"view count":    {wantLayout(0, 0, 4), []media.Item{item(200, 100)}, processors.ErrBadFeatures},
	} {
		if _, err := p.Prepare(ctx, tc.tokens, tc.items); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", name, err, tc.err)
		}
	}
	p.cfg.Rows = p.cfg.Rows[:1]
	if _, err := p.Prepare(ctx, []int32{M}, []media.Item{item(200, 100)}); !errors.Is(err, processors.ErrBadMedia) {
		t.Errorf("2 tile rows with one <row_1_col_*> row: %v", err)
	}
}

func TestPreprocessed(t *testing.T) {
	p := proc(t, false)
	ctx := context.Background()
	raw, err := p.Prepare(ctx, []int32{M}, []media.Item{item(200, 100)})
	if err != nil {
		t.Fatal(err)
	}
	views, rows, cols, _ := p.Views(item(200, 100).RGB)
	var pv []float32
	for _, v := range views {
		chw, _ := imageproc.Normalize(v, p.cfg.Mean, p.cfg.Std)
		pv = append(pv, chw...)
	}
	arrs := map[string]media.Array{"pixel_values": {Shape: []int{1, len(views), 3, 56, 56}, Data: pv},
		"rows": {Data: []float32{float32(rows)}}, "cols": {Data: []float32{float32(cols)}},
		"pixel_attention_mask": {Shape: []int{len(views), 56, 56}, Data: ones(len(views) * 56 * 56)}}
	got, err := p.Prepare(ctx, []int32{M}, []media.Item{{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tokens, raw.Tokens) {
		t.Fatal("processor_output layout differs")
	}
	for i := range got.Spans {
		if !slices.Equal(got.Spans[i].Features.Data, raw.Spans[i].Features.Data) {
			t.Fatalf("view %d features differ", i)
		}
	}
	delete(arrs, "rows")
	if _, err := p.Prepare(ctx, []int32{M}, []media.Item{{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("9 views without rows/cols: %v", err)
	}
	pre := map[string]media.Array{"feature": {Shape: []int{8, 4}, Data: make([]float32, 32)}}
	got, err = p.Prepare(ctx, []int32{M}, []media.Item{{Modality: media.Image, Format: media.Precomputed, Arrays: pre}})
	if err != nil || !slices.Equal(got.Tokens, wantLayout(1, 1, 4)) || got.Spans[1].Embeds.Shape[0] != 4 {
		t.Fatalf("precomputed 2 views: %v %v", got, err)
	}
	pre["feature"] = media.Array{Shape: []int{6, 4}, Data: make([]float32, 24)}
	if _, err := p.Prepare(ctx, []int32{M}, []media.Item{{Modality: media.Image, Format: media.Precomputed, Arrays: pre}}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("precomputed 6 rows: %v", err)
	}
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

type vocab map[string]int32

func (v vocab) TokenID(s string) (int32, bool) { id, ok := v[s]; return id, ok }

func TestFromHF(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"scale_factor":4,"text_config":{"hidden_size":576},"vision_config":{"image_size":512,"patch_size":16}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(`{"do_image_splitting":true,"max_image_size":{"longest_edge":512},"size":{"longest_edge":2048},"resample":1,"image_mean":[0.5,0.5,0.5],"image_std":[0.5,0.5,0.5]}`), 0o644)
	v := vocab{"<image>": 1, "<fake_token_around_image>": 2, "<global-img>": 3, "\n": 4, "\n\n": 5}
	for r := 1; r <= 6; r++ {
		for c := 1; c <= 6; c++ {
			v[fmt.Sprintf("<row_%d_col_%d>", r, c)] = int32(10*r + c)
		}
	}
	pr, err := processors.New("idefics3", processors.Spec{Dir: dir, Vocab: v})
	if err != nil {
		t.Fatal(err)
	}
	p := pr.(*Processor)
	if c := p.Config(); c.ImageSize != 512 || c.LongestEdge != 2048 || c.Scale != 4 || c.Hidden != 576 || p.SeqLen() != 64 || len(c.Rows) != 6 || c.Rows[5][5] != 66 || c.NLNL != 5 {
		t.Fatalf("config %+v seq %d", c, p.SeqLen())
	}
	delete(v, "\n\n")
	if _, err := processors.New("idefics3", processors.Spec{Dir: dir, Vocab: v}); !errors.Is(err, processors.ErrConfig) {
		t.Fatalf("missing \\n\\n: %v", err)
	}
}

// FuzzPrepare feeds arbitrary tokens with processor_output arrays of
// arbitrary view counts and tile grids.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte{0xff}, uint8(2), uint8(1), uint8(1))
	f.Add([]byte{51, 52, 50, 50, 50, 50, 51}, uint8(1), uint8(0), uint8(0))
	f.Add([]byte{50, 1, 0xff}, uint8(9), uint8(2), uint8(4))
	p := proc(f, false)
	f.Fuzz(func(t *testing.T, toks []byte, views, rows, cols uint8) {
		if views > 12 || len(toks) > 128 {
			return
		}
		tokens := make([]int32, len(toks))
		for i, b := range toks {
			tokens[i] = int32(b)
			if b == 0xff {
				tokens[i] = M
			}
		}
		n := int(views)
		arrs := map[string]media.Array{"pixel_values": {Shape: []int{1, n, 3, 56, 56}, Data: make([]float32, n*3*56*56)},
			"rows": {Data: []float32{float32(rows)}}, "cols": {Data: []float32{float32(cols)}}}
		got, err := p.Prepare(context.Background(), tokens, []media.Item{{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}})
		if err != nil {
			return
		}
		if len(got.Spans) != n {
			t.Fatalf("%d spans for %d views", len(got.Spans), n)
		}
		for _, s := range got.Spans {
			for i := s.Start; i < s.Start+s.Len; i++ {
				if got.Tokens[i] != img {
					t.Fatalf("span row %d holds %d", i, got.Tokens[i])
				}
			}
		}
	})
}
