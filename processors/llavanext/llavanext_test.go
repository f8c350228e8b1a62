package llavanext

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
	videoTok = 78
	M        = input.MediaMarker
)

type vocab map[string]int32

func (v vocab) TokenID(s string) (int32, bool) { id, ok := v[s]; return id, ok }

// meta is GGUF metadata for tests.
type meta map[string]any

func (m meta) String(k string) (string, bool)      { v, ok := m[k].(string); return v, ok }
func (m meta) Uint(k string) (uint64, bool)        { v, ok := m[k].(uint64); return v, ok }
func (m meta) Float(k string) (float64, bool)      { v, ok := m[k].(float64); return v, ok }
func (m meta) Bool(k string) (bool, bool)          { v, ok := m[k].(bool); return v, ok }
func (m meta) Float32s(k string) ([]float32, bool) { v, ok := m[k].([]float32); return v, ok }
func (m meta) Int32s(k string) ([]int32, bool)     { v, ok := m[k].([]int32); return v, ok }

// tinyNeXT is tiny-llavanext's processor: 42-pixel views of 3×3 patches,
// LLaVA-1.6's pinpoints scaled to 42.
func tinyNeXT(t testing.TB) *Processor {
	var pins []Res
	for _, p := range NeXTPinpoints() {
		pins = append(pins, Res{H: p.H / 8, W: p.W / 8})
	}
	p, err := New(Config{Geometry: Geometry{Size: 42, Patch: 14, Pinpoints: pins}, Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711},
		Filter: imageproc.Bicubic, Hidden: 4, Image: imageTok, Video: -1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyOV is tiny-llavaov's processor: 46-pixel views (3×3 patches of 14, 4
// pixels unseen), 36 pinpoints, anyres_max_9.
func tinyOV(t testing.TB) *Processor {
	p, err := New(Config{Geometry: Geometry{Size: 46, Patch: 14, Pinpoints: OneVisionPinpoints(46), MaxPatches: 9}, OneVision: true,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}, Filter: imageproc.Bicubic, Hidden: 4, Image: imageTok, Video: videoTok})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func solid(w, h int, c [3]uint8) *media.RGB {
	img, _ := imageproc.New(w, h, c)
	return img
}

func px(img *media.RGB, x, y int) []uint8 { return img.Pix[(y*img.W+x)*3 : (y*img.W+x)*3+3] }

// TestViews checks the anyres views of a red 100×60 image on tiny-llavanext:
// the 84×84 pinpoint holds it resized to 84×51 at rows 16…66 on black, cut
// into four 42×42 tiles after the 42×42 base view.
func TestViews(t *testing.T) {
	red := [3]uint8{255, 0, 0}
	views, l, err := tinyNeXT(t).Views(solid(100, 60, red), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 5 || l.Best != (Res{84, 84}) || l.Views() != 5 {
		t.Fatalf("%d views, layout %+v", len(views), l)
	}
	for i, v := range views {
		if v.W != 42 || v.H != 42 {
			t.Fatalf("view %d is %dx%d", i, v.W, v.H)
		}
	}
	if !slices.Equal(px(views[0], 0, 0), red[:]) || !slices.Equal(px(views[0], 41, 41), red[:]) {
		t.Fatal("base view is not the red image")
	}
	black := []uint8{0, 0, 0}
	for _, c := range []struct {
		view, x, y int
		want       []uint8
	}{{1, 5, 15, black}, {1, 5, 16, red[:]}, {2, 40, 20, red[:]}, {3, 0, 24, red[:]}, {3, 0, 25, black}, {4, 41, 41, black}} {
		if got := px(views[c.view], c.x, c.y); !slices.Equal(got, c.want) {
			t.Fatalf("view %d (%d,%d) = %v, want %v", c.view, c.x, c.y, got, c.want)
		}
	}
	// Base-only (several OneVision images): padded square with int(0.5·255) = 127.
	views, _, err = tinyOV(t).Views(solid(92, 46, red), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || !slices.Equal(px(views[0], 20, 0), []uint8{127, 127, 127}) || !slices.Equal(px(views[0], 20, 23), red[:]) {
		t.Fatalf("base-only view %v %v", px(views[0], 20, 0), px(views[0], 20, 23))
	}
}

// TestFeaturesCrop checks that a 46-pixel view keeps only its top-left
// 42×42 pixels (what SigLIP's stride-14 conv sees), in raster patch order.
func TestFeaturesCrop(t *testing.T) {
	p := tinyOV(t)
	S := 46
	view := make([]float32, 3*S*S)
	for c := 0; c < 3; c++ {
		for y := 0; y < S; y++ {
			for x := 0; x < S; x++ {
				view[(c*S+y)*S+x] = float32(c*10000 + y*100 + x)
			}
		}
	}
	f, err := p.features([][]float32{view}, [3]int{1, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Shape, []int{9, 588}) {
		t.Fatalf("shape %v", f.Shape)
	}
	// row 5 = patch (1, 2): pixels y 14…27, x 28…41; column (c, y, x).
	row := f.Data[5*588 : 6*588]
	if row[0] != 1428 || row[13] != 1441 || row[14] != 1528 || row[196] != 11428 || row[587] != 22741 {
		t.Fatalf("patch (1,2) %v %v %v %v %v", row[0], row[13], row[14], row[196], row[587])
	}
	for _, v := range f.Data {
		if int(v)%100 >= 42 || (int(v)/100)%100 >= 42 {
			t.Fatalf("pixel %v outside the conv's reach", v)
		}
	}
}

func raw(img *media.RGB, hash uint64) media.Item {
	return media.Item{Modality: media.Image, Format: media.Raw, RGB: img, Hash: hash}
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	next, ov := tinyNeXT(t), tinyOV(t)
	img := solid(100, 60, [3]uint8{1, 2, 3})
	// NeXT: one marker, then an <image> token: both anyres (37 tokens each).
	p, err := next.Prepare(ctx, []int32{5, M, 6, imageTok, 7}, []media.Item{raw(img, 1), raw(img, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spans) != 2 || p.Spans[0].Len != 37 || p.Spans[1].Len != 37 || p.Spans[0].Start != 1 || p.Spans[1].Start != 39 || len(p.Tokens) != 77 {
		t.Fatalf("NeXT spans %+v, %d tokens", p.Spans, len(p.Tokens))
	}
	if g := p.Spans[0].Features.Grid; g != [3]int{5, 60, 100} || p.Spans[0].Features.Shape[0] != 45 {
		t.Fatalf("features %v %v", g, p.Spans[0].Features.Shape)
	}
	if p.Tokens[1] != imageTok || p.Tokens[37] != imageTok || p.Spans[0].Key == p.Spans[1].Key {
		t.Fatal("placeholder ids or keys")
	}
	// OneVision: one image is anyres (2×3 tiles, 6×9 cells: 9 + 6·10), two are
	// base views (g² + 1 = 10 each).
	p, err = ov.Prepare(ctx, []int32{5, M, 6}, []media.Item{raw(img, 1)})
	if err != nil || p.Spans[0].Len != 69 {
		t.Fatalf("OV single: %+v %v", p, err)
	}
	p, err = ov.Prepare(ctx, []int32{5, M, M, 6}, []media.Item{raw(img, 1), raw(solid(20, 90, [3]uint8{9, 9, 9}), 2)})
	if err != nil || p.Spans[0].Len != 10 || p.Spans[1].Len != 10 || p.Spans[1].Features.Grid != [3]int{1, 90, 20} {
		t.Fatalf("OV pair: %+v %v", p, err)
	}
	// An already expanded run is accepted at its exact length only.
	run := slices.Repeat([]int32{imageTok}, 37)
	if p, err = next.Prepare(ctx, append(append([]int32{5}, run...), 6), []media.Item{raw(img, 1)}); err != nil || len(p.Tokens) != 39 {
		t.Fatalf("expanded run: %v", err)
	}
	if _, err := next.Prepare(ctx, []int32{imageTok, imageTok, 6}, []media.Item{raw(img, 1)}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("short run: %v", err)
	}
	if _, err := next.Prepare(ctx, []int32{M, M}, []media.Item{raw(img, 1)}); !errors.Is(err, processors.ErrMediaCount) {
		t.Fatalf("count: %v", err)
	}
	if _, err := next.Prepare(ctx, []int32{M}, []media.Item{{Modality: media.Audio, Format: media.Raw}}); !errors.Is(err, processors.ErrBadMedia) {
		t.Fatalf("audio: %v", err)
	}
}

func TestPrepareArrays(t *testing.T) {
	ctx := context.Background()
	ov := tinyOV(t)
	S := 46
	frames := media.Array{Shape: []int{1, 3, 3, S, S}, Data: make([]float32, 3*3*S*S)}
	video := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Hash: 3, Arrays: map[string]media.Array{"pixel_values_videos": frames}}
	// video: 3 frames × ⌈3/2⌉² + 1 = 13, at a <video> run or a marker
	p, err := ov.Prepare(ctx, []int32{5, videoTok, 6}, []media.Item{video})
	if err != nil || p.Spans[0].Len != 13 || p.Spans[0].Features.Grid != [3]int{3, 0, 0} || p.Tokens[1] != videoTok {
		t.Fatalf("video: %+v %v", p, err)
	}
	if _, err := ov.Prepare(ctx, []int32{imageTok}, []media.Item{video}); !errors.Is(err, processors.ErrBadMedia) {
		t.Fatalf("video at <image>: %v", err)
	}
	if _, err := tinyNeXT(t).Prepare(ctx, []int32{M}, []media.Item{video}); !errors.Is(err, processors.ErrBadMedia) {
		t.Fatalf("video on NeXT: %v", err)
	}
	if _, err := ov.Prepare(ctx, []int32{videoTok}, []media.Item{raw(solid(9, 9, [3]uint8{}), 1)}); !errors.Is(err, processors.ErrBadMedia) {
		t.Fatalf("image at <video>: %v", err)
	}
	// image processor output: the views of a 100×60 image (1 + 2×3 tiles, 69 tokens), plus batch padding
	pv := media.Array{Shape: []int{1, 9, 3, S, S}, Data: make([]float32, 9*3*S*S)}
	sizes := media.Array{Shape: []int{1, 2}, Data: []float32{60, 100}}
	item := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Hash: 4, Arrays: map[string]media.Array{"pixel_values": pv, "image_sizes": sizes}}
	p, err = ov.Prepare(ctx, []int32{M}, []media.Item{item})
	if err != nil || p.Spans[0].Len != 69 || p.Spans[0].Features.Shape[0] != 7*9 {
		t.Fatalf("processor output: %+v %v", p, err)
	}
	for name, arrs := range map[string]map[string]media.Array{
		"no sizes":   {"pixel_values": pv},
		"bad sizes":  {"pixel_values": pv, "image_sizes": {Shape: []int{2}, Data: []float32{60.5, 100}}},
		"few views":  {"pixel_values": {Shape: []int{1, 2, 3, S, S}, Data: make([]float32, 2*3*S*S)}, "image_sizes": sizes},
		"bad shape":  {"pixel_values": {Shape: []int{1, 9, 3, S, S - 1}, Data: make([]float32, 9*3*S*(S-1))}, "image_sizes": sizes},
		"no pixels":  {"image_sizes": sizes},
		"bad frames": {"pixel_values_videos": {Shape: []int{1, 2, 3, S, S}, Data: make([]float32, 5)}},
	} {
		it := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}
		if _, err := ov.Prepare(ctx, []int32{M}, []media.Item{it}); !errors.Is(err, processors.ErrBadFeatures) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// precomputed embeddings: their row count is the run length
	pre := media.Item{Modality: media.Image, Format: media.Precomputed, Hash: 5,
		Arrays: map[string]media.Array{"feature": {Shape: []int{7, 4}, Data: make([]float32, 28)}}}
	if p, err = ov.Prepare(ctx, []int32{5, M, 6}, []media.Item{pre}); err != nil || p.Spans[0].Len != 7 || p.Spans[0].Embeds == nil {
		t.Fatalf("precomputed: %+v %v", p, err)
	}
}

// TestFromSpec builds the processor from a tiny HF directory and from GGUF
// metadata with the same content.
func TestFromSpec(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"architectures":["LlavaOnevisionForConditionalGeneration"],"text_config":{"hidden_size":64},
		"vision_config":{"image_size":46,"patch_size":14},"vision_aspect_ratio":"anyres_max_9"}`
	pre := `{"image_grid_pinpoints":[[46,46],[46,92],[92,46]],"size":{"height":46,"width":46},"image_mean":[0.5,0.5,0.5],
		"image_std":[0.5,0.5,0.5],"resample":3}`
	for name, body := range map[string]string{"config.json": cfg, "preprocessor_config.json": pre} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v := vocab{"<image>": imageTok, "<video>": videoTok}
	hp, err := FromSpec(processors.Spec{Dir: dir, Vocab: v})
	if err != nil {
		t.Fatal(err)
	}
	md := meta{"clip.vision.image_size": uint64(46), "clip.vision.patch_size": uint64(14),
		"clip.vision.image_mean": []float32{0.5, 0.5, 0.5}, "clip.vision.image_std": []float32{0.5, 0.5, 0.5},
		"clip.vision.image_grid_pinpoints": []int32{46, 46, 92, 46, 46, 92}, "clip.vision.image_aspect_ratio": "anyres_max_9",
		"clip.vision.projection_dim": uint64(64)}
	gp, err := FromSpec(processors.Spec{MMProj: md, Vocab: v})
	if err != nil {
		t.Fatal(err)
	}
	a, b := hp.(*Processor).Config(), gp.(*Processor).Config()
	if !slices.Equal(a.Pinpoints, b.Pinpoints) || a.MaxPatches != 9 || b.MaxPatches != 9 || !a.OneVision || !b.OneVision ||
		a.Hidden != 64 || b.Hidden != 64 || a.Video != videoTok || b.Video != videoTok || a.Mean != b.Mean || a.Filter != b.Filter {
		t.Fatalf("HF and GGUF configs differ:\n%+v\n%+v", a, b)
	}
	if _, err := FromSpec(processors.Spec{Dir: dir, Vocab: vocab{}}); !errors.Is(err, processors.ErrConfig) {
		t.Fatalf("no <image>: %v", err)
	}
	delete(md, "clip.vision.image_grid_pinpoints")
	if _, err := FromSpec(processors.Spec{MMProj: md, Vocab: v}); !errors.Is(err, processors.ErrConfig) {
		t.Fatalf("no pinpoints: %v", err)
	}
}

// FuzzPrepare feeds arbitrary tokens, pixel_values shapes and image sizes.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte{0xff}, uint8(9), uint8(3), uint8(46), uint16(60), uint16(100), false)
	f.Add([]byte{77, 0xff, 78}, uint8(7), uint8(3), uint8(46), uint16(60), uint16(100), true)
	f.Add([]byte{1, 0xff, 0xff}, uint8(1), uint8(3), uint8(46), uint16(0), uint16(9), false)
	p := tinyOV(f)
	f.Fuzz(func(t *testing.T, toks []byte, v, c, s uint8, h, w uint16, video bool) {
		tokens := make([]int32, len(toks))
		for i, b := range toks {
			tokens[i] = int32(b)
			if b == 0xff {
				tokens[i] = M
			}
		}
		n := int(v) * int(c) * int(s) * int(s)
		arrs := map[string]media.Array{}
		key := "pixel_values"
		if video {
			key = "pixel_values_videos"
		}
		arrs[key] = media.Array{Shape: []int{1, int(v), int(c), int(s), int(s)}, Data: make([]float32, n)}
		arrs["image_sizes"] = media.Array{Shape: []int{1, 2}, Data: []float32{float32(h), float32(w)}}
		it := media.Item{Modality: media.Image, Format: media.ProcessorOutput, Arrays: arrs}
		got, err := p.Prepare(context.Background(), tokens, []media.Item{it})
		if err != nil {
			return
		}
		sp := got.Spans[0]
		if n, err := p.Tokens(sp.Features.Grid); err != nil || n != sp.Len || sp.Features.Shape[0] != sp.Features.Grid[0]*9 {
			t.Fatalf("span %+v grid %v: %d %v", sp.Len, sp.Features.Grid, n, err)
		}
	})
}
