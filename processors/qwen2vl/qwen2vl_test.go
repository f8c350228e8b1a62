package qwen2vl

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
	vs, ve, pad = 90, 91, 92
	M           = input.MediaMarker
)

func hfProc(t testing.TB) *Processor {
	p, err := New(Config{Patch: 14, Merge: 2, Temporal: 2, MinPixels: 56 * 56, MaxPixels: 28 * 28 * 1280,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}, Filter: imageproc.Bicubic, Hidden: 8,
		VisionStart: vs, VisionEnd: ve, ImagePad: pad})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func img(w, h int) media.Item {
	pix := make([]uint8, w*h*3)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	return media.Item{Modality: media.Image, Format: media.Raw, RGB: &media.RGB{W: w, H: h, Pix: pix}, Hash: uint64(w*1000 + h)}
}

func TestSize(t *testing.T) {
	p := hfProc(t)
	for _, tc := range []struct{ w, h, ww, wh int }{
		{1280, 720, 1288, 728}, // docs/api.md §5.1 example: 46·26 = 1196 tokens
		{112, 112, 112, 112},
		{80, 60, 84, 56},
		{10, 10, 56, 56},        // minimum: 4 tokens
		{4000, 3000, 1148, 840}, // above max_pixels: scaled down
	} {
		w, h, err := p.Size(tc.w, tc.h, media.Hints{})
		if err != nil || w != tc.ww || h != tc.wh {
			t.Errorf("Size(%d×%d) = %d×%d %v, want %d×%d", tc.w, tc.h, w, h, err, tc.ww, tc.wh)
		}
	}
	w, h, err := p.Size(1280, 720, media.Hints{MaxPixels: 200000})
	if err != nil || w*h > 200000 || w%28 != 0 || h%28 != 0 {
		t.Errorf("max_pixels hint: %d×%d %v", w, h, err)
	}
	if _, _, err := p.Size(1000, 4, media.Hints{}); !errors.Is(err, processors.ErrBadMedia) {
		t.Errorf("aspect 250: %v", err)
	}
}

func TestPrepare(t *testing.T) {
	p := hfProc(t)
	ctx := context.Background()
	two := []media.Item{img(56, 84), img(112, 56)} // grids 2×3 and 2×4 merged tokens: 6 and 8
	for _, tc := range []struct {
		name   string
		tokens []int32
		items  []media.Item
		want   []int32
		starts []int
		err    error
	}{
		{"marker", []int32{1, M, 2}, two[:1], append(append([]int32{1, vs}, rep(pad, 6)...), ve, 2), []int{2}, nil},
		{"wrapped marker", []int32{1, vs, M, ve, 2}, two[:1], append(append([]int32{1, vs}, rep(pad, 6)...), ve, 2), []int{2}, nil},
		{"pad token", []int32{vs, pad, ve}, two[:1], append(append([]int32{vs}, rep(pad, 6)...), ve), []int{1}, nil},
		{"expanded", append(append([]int32{vs}, rep(pad, 6)...), ve), two[:1], append(append([]int32{vs}, rep(pad, 6)...), ve), []int{1}, nil},
		{"two", []int32{M, 3, M}, two, append(append(append(append([]int32{vs}, rep(pad, 6)...), ve, 3, vs), rep(pad, 8)...), ve), []int{1, 10}, nil},
		{"bad run", append([]int32{vs}, rep(pad, 5)...), two[:1], nil, nil, processors.ErrBadFeatures},
		{"too few", []int32{M}, two, nil, nil, processors.ErrMediaCount},
		{"too many", []int32{M, M}, two[:1], nil, nil, processors.ErrMediaCount},
		{"none", []int32{1, 2}, two[:1], nil, nil, processors.ErrMediaCount},
		{"audio", []int32{M}, []media.Item{{Modality: media.Audio}}, nil, nil, processors.ErrBadMedia},
	} {
		got, err := p.Prepare(ctx, tc.tokens, tc.items)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got.Tokens, tc.want) {
			t.Errorf("%s: tokens %v, want %v", tc.name, got.Tokens, tc.want)
		}
		for i, s := range got.Spans {
			if s.Start != tc.starts[i] || s.Features == nil || s.Features.Shape[0] != 4*s.Len {
				t.Errorf("%s: span %d %+v", tc.name, i, s)
			}
		}
	}
}

// TestMRoPE checks the decoder positions of two images: each image's rows
// take (p, p+r, p+c) and advance the next position by max(h, w).
func TestMRoPE(t *testing.T) {
	p := hfProc(t)
	got, err := p.Prepare(context.Background(), []int32{5, M, 6, M}, []media.Item{img(56, 84), img(112, 56)})
	if err != nil {
		t.Fatal(err)
	}
	// 5 vs [6 rows: 3×2] ve 6 vs [8 rows: 2×4] ve
	want := [][3]int32{{0, 0, 0}, {1, 1, 1}}
	for r := int32(0); r < 3; r++ {
		for c := int32(0); c < 2; c++ {
			want = append(want, [3]int32{2, 2 + r, 2 + c})
		}
	}
	want = append(want, [3]int32{5, 5, 5}, [3]int32{6, 6, 6}, [3]int32{7, 7, 7})
	for r := int32(0); r < 2; r++ {
		for c := int32(0); c < 4; c++ {
			want = append(want, [3]int32{8, 8 + r, 8 + c})
		}
	}
	want = append(want, [3]int32{12, 12, 12})
	if !slices.Equal(got.MRoPE, want) {
		t.Fatalf("M-RoPE\n%v\nwant\n%v", got.MRoPE, want)
	}
	if n := int32(len(got.Tokens)) + got.PosDelta; n != 13 {
		t.Fatalf("next position %d, want 13", n)
	}
	if got.Spans[0].NPos != 3 || got.Spans[1].NPos != 4 {
		t.Fatalf("NPos %d %d", got.Spans[0].NPos, got.Spans[1].NPos)
	}
}

// TestPatchLayout checks HF's pixel_values order: a pixel's value lands in
// the row of its 2×2 merge block and the column (channel, frame, y, x).
func TestPatchLayout(t *testing.T) {
	p := hfProc(t)
	w, h := 112, 56
	rgb := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	rgb.Pix[(15*w+29)*3+1] = 255 // green at (x 29, y 15): patch (row 1, col 2), pixel (1, 1)
	f, err := p.Features(rgb, media.Hints{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Grid != [3]int{1, 4, 8} || f.Shape[0] != 32 || f.Shape[1] != 1176 {
		t.Fatalf("grid %v shape %v", f.Grid, f.Shape)
	}
	// Merge block (0, 1) holds patches (0,2) (0,3) (1,2) (1,3): rows 4..7; ours is row 6.
	row, col := 6, (1*2+0)*196+1*14+1 // channel 1, frame 0, y 1, x 1
	hi := float32((1 - 0.5) / 0.5)
	for r := 0; r < 32; r++ {
		for c := 0; c < 1176; c++ {
			v := f.Data[r*1176+c]
			bright := v == hi
			wantBright := r == row && (c == col || c == col+196) // both frames
			if bright != wantBright {
				t.Fatalf("row %d col %d = %v", r, c, v)
			}
		}
	}
}

func TestProcessorOutput(t *testing.T) {
	p := hfProc(t)
	ctx := context.Background()
	raw, err := p.Prepare(ctx, []int32{M}, []media.Item{img(56, 84)})
	if err != nil {
		t.Fatal(err)
	}
	f := raw.Spans[0].Features
	grid := media.Array{Shape: []int{1, 3}, Data: []float32{1, 6, 4}}
	ok := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: map[string]media.Array{
		"pixel_values": {Shape: f.Shape, Data: f.Data}, "image_grid_thw": grid}}
	got, err := p.Prepare(ctx, []int32{M}, []media.Item{ok})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tokens, raw.Tokens) || !slices.Equal(got.MRoPE, raw.MRoPE) || !slices.Equal(got.Spans[0].Features.Data, f.Data) {
		t.Fatal("processor_output prompt differs from the raw image's")
	}
	for name, arrs := range map[string]map[string]media.Array{
		"no grid":    {"pixel_values": {Shape: f.Shape, Data: f.Data}},
		"no pixels":  {"image_grid_thw": grid},
		"odd grid":   {"pixel_values": {Shape: f.Shape, Data: f.Data}, "image_grid_thw": {Shape: []int{3}, Data: []float32{1, 3, 8}}},
		"shape":      {"pixel_values": {Shape: []int{24, 1000}, Data: make([]float32, 24000)}, "image_grid_thw": grid},
		"fractional": {"pixel_values": {Shape: f.Shape, Data: f.Data}, "image_grid_thw": {Shape: []int{1, 3}, Data: []float32{1, 6.5, 4}}},
		"huge":       {"pixel_values": {Shape: f.Shape, Data: f.Data}, "image_grid_thw": {Shape: []int{1, 3}, Data: []float32{1, 1e9, 4}}},
	} {
		it := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}
		if _, err := p.Prepare(ctx, []int32{M}, []media.Item{it}); !errors.Is(err, processors.ErrBadFeatures) {
			t.Errorf("%s: %v, want ErrBadFeatures", name, err)
		}
	}
}

func TestPrecomputed(t *testing.T) {
	p := hfProc(t)
	grid := media.Array{Shape: []int{1, 3}, Data: []float32{1, 6, 4}}
	feat := media.Array{Shape: []int{6, 8}, Data: make([]float32, 48)}
	it := media.Item{Modality: media.Image, Format: media.Precomputed, Arrays: map[string]media.Array{"feature": feat, "image_grid_thw": grid}}
	got, err := p.Prepare(context.Background(), []int32{M}, []media.Item{it})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Spans[0]; s.Embeds == nil || s.Features != nil || s.Len != 6 || s.NPos != 3 {
		t.Fatalf("span %+v", s)
	}
	for name, arrs := range map[string]map[string]media.Array{
		"no grid": {"feature": feat},
		"rows":    {"feature": {Shape: []int{5, 8}, Data: make([]float32, 40)}, "image_grid_thw": grid},
		"width":   {"feature": {Shape: []int{6, 7}, Data: make([]float32, 42)}, "image_grid_thw": grid},
	} {
		it := media.Item{Modality: media.Image, Format: media.Precomputed, Arrays: arrs}
		if _, err := p.Prepare(context.Background(), []int32{M}, []media.Item{it}); !errors.Is(err, processors.ErrBadFeatures) {
			t.Errorf("%s: %v, want ErrBadFeatures", name, err)
		}
	}
}

type vocab map[string]int32

func (v vocab) TokenID(s string) (int32, bool) { id, ok := v[s]; return id, ok }

func TestFromHF(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"text_config":{"hidden_size":1536},"vision_config":{"patch_size":14,"spatial_merge_size":2}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(`{"min_pixels":3136,"max_pixels":1003520,"image_mean":[0.1,0.2,0.3],"image_std":0.5,"resample":2}`), 0o644)
	v := vocab{"<|vision_start|>": 1, "<|vision_end|>": 2, "<|image_pad|>": 3}
	pr, err := processors.New("qwen2vl", processors.Spec{Dir: dir, Vocab: v})
	if err != nil {
		t.Fatal(err)
	}
	c := pr.(*Processor).Config()
	if c.MaxPixels != 1003520 || c.Mean != [3]float32{0.1, 0.2, 0.3} || c.Std != [3]float32{0.5, 0.5, 0.5} ||
		c.Filter != imageproc.Bilinear || c.Hidden != 1536 || c.ImagePad != 3 || c.Llama {
		t.Fatalf("config %+v", c)
	}
	if _, err := processors.New("qwen2vl", processors.Spec{Dir: dir, Vocab: vocab{}}); !errors.Is(err, processors.ErrConfig) {
		t.Fatalf("missing tokens: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(`{"resample":7}`), 0o644)
	if _, err := processors.New("qwen2vl", processors.Spec{Dir: dir, Vocab: v}); !errors.Is(err, processors.ErrConfig) {
		t.Fatalf("bad resample: %v", err)
	}
}

func rep(id int32, n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = id
	}
	return out
}

// FuzzPrepare feeds arbitrary token sequences and processor_output arrays:
// Prepare must return a prompt or an error, never panic, and any prompt
// must be self-consistent.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte{0xff, 5, 0xff}, uint8(2), uint8(4), uint16(1176), false)
	f.Add([]byte{90, 92, 91}, uint8(2), uint8(2), uint16(1176), true)
	f.Add([]byte{92, 92, 92}, uint8(3), uint8(4), uint16(10), false)
	p := hfProc(f)
	f.Fuzz(func(t *testing.T, toks []byte, gh, gw uint8, cols uint16, precomputed bool) {
		if len(toks) > 64 {
			return
		}
		tokens := make([]int32, len(toks))
		for i, b := range toks {
			tokens[i] = int32(b)
			if b == 0xff {
				tokens[i] = M
			}
		}
		n := int(gh) * int(gw)
		arrs := map[string]media.Array{"image_grid_thw": {Shape: []int{1, 3}, Data: []float32{1, float32(gh), float32(gw)}}}
		it := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}
		if precomputed {
			it.Format = media.Precomputed
			arrs["feature"] = media.Array{Shape: []int{n / 4, 8}, Data: make([]float32, n/4*8)}
		} else if n*int(cols) <= 1<<16 {
			arrs["pixel_values"] = media.Array{Shape: []int{n, int(cols)}, Data: make([]float32, n*int(cols))}
		}
		got, err := p.Prepare(context.Background(), tokens, []media.Item{it})
		if err != nil {
			return
		}
		if len(got.MRoPE) != len(got.Tokens) || len(got.Spans) != 1 {
			t.Fatalf("inconsistent prompt: %d tokens, %d positions, %d spans", len(got.Tokens), len(got.MRoPE), len(got.Spans))
		}
		s := got.Spans[0]
		for i := s.Start; i < s.Start+s.Len; i++ {
			if got.Tokens[i] != pad {
				t.Fatalf("span row %d holds %d", i, got.Tokens[i])
			}
		}
	})
}
