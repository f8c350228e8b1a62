package imageproc

import (
	"errors"
	"slices"
	"testing"

	"github.com/sightline/sightline/media"
)

func ramp(w, h int) *media.RGB {
	img := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := (y*w + x) * 3
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(x), uint8(y), uint8(x+y)
		}
	}
	return img
}

func at(img *media.RGB, x, y int) []uint8 { return img.Pix[(y*img.W+x)*3 : (y*img.W+x)*3+3] }

func TestCropPadCenter(t *testing.T) {
	src := ramp(6, 4)
	c, err := Crop(src, 2, 1, 3, 2)
	if err != nil || c.W != 3 || c.H != 2 || !slices.Equal(at(c, 0, 0), []uint8{2, 1, 3}) || !slices.Equal(at(c, 2, 1), []uint8{4, 2, 6}) {
		t.Fatalf("Crop = %+v %v", c, err)
	}
	if _, err := Crop(src, 4, 0, 3, 1); !errors.Is(err, ErrSize) {
		t.Fatalf("crop outside: %v", err)
	}
	sq, err := PadSquare(src, [3]uint8{9, 9, 9})
	if err != nil || sq.W != 6 || sq.H != 6 || !slices.Equal(at(sq, 0, 0), []uint8{9, 9, 9}) || !slices.Equal(at(sq, 0, 1), []uint8{0, 0, 0}) || !slices.Equal(at(sq, 5, 5), []uint8{9, 9, 9}) {
		t.Fatalf("PadSquare = %v", err)
	}
	cc, err := CenterCrop(src, 2, 2) // top (4−2)/2 = 1, left (6−2)/2 = 2
	if err != nil || !slices.Equal(at(cc, 0, 0), []uint8{2, 1, 3}) {
		t.Fatalf("CenterCrop = %v %v", cc, err)
	}
	big, err := CenterCrop(src, 8, 6) // padded with zeros: top −1, left −1
	if err != nil || !slices.Equal(at(big, 0, 0), []uint8{0, 0, 0}) || !slices.Equal(at(big, 1, 1), []uint8{0, 0, 0}) || !slices.Equal(at(big, 2, 2), []uint8{1, 1, 2}) {
		t.Fatalf("CenterCrop larger = %v", err)
	}
}

func TestNormalize(t *testing.T) {
	img := &media.RGB{W: 2, H: 1, Pix: []uint8{255, 0, 51, 0, 255, 102}}
	got, err := Normalize(img, [3]float32{0.5, 0.5, 0}, [3]float32{0.5, 0.5, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -1, -1, 1, 0.2, 0.4}
	if !slices.Equal(got, want) {
		t.Fatalf("Normalize = %v, want %v", got, want)
	}
	if _, err := Normalize(&media.RGB{W: 2, H: 2, Pix: make([]uint8, 5)}, [3]float32{}, [3]float32{1, 1, 1}); !errors.Is(err, ErrSize) {
		t.Fatalf("short image: %v", err)
	}
}

func TestPatchifyRaster(t *testing.T) {
	// Planar 3×2×4 image whose value encodes (c, y, x); patch 2 → 2 patches.
	w, h := 4, 2
	chw := make([]float32, 3*w*h)
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				chw[c*w*h+y*w+x] = float32(100*c + 10*y + x)
			}
		}
	}
	rows, grid, err := Patchify([][]float32{chw}, w, h, PatchLayout{Patch: 2, Temporal: 1, Merge: 1})
	if err != nil || grid != [3]int{1, 1, 2} {
		t.Fatalf("grid %v %v", grid, err)
	}
	want := []float32{0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211, 2, 3, 12, 13, 102, 103, 112, 113, 202, 203, 212, 213}
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %v", rows)
	}
	if _, _, err := Patchify([][]float32{chw}, w, h, PatchLayout{Patch: 3}); !errors.Is(err, ErrSize) {
		t.Fatalf("patch 3 of 4×2: %v", err)
	}
}

func TestSmartResize(t *testing.T) {
	for _, tc := range []struct {
		w, h, ww, wh int
		llama        bool
	}{
		{1280, 720, 1288, 728, false},
		{80, 60, 112, 84, true},  // oracle: min 8 tokens
		{98, 70, 112, 56, false}, // 70/28 = 2.5 rounds to even (2) in Python
		{98, 70, 112, 84, true},  // and away from zero in llama.cpp
		// A side under 14 px rounds to 0 in transformers' smart_resize: the
		// image goes to the min_pixels branch (28×728), not 28×1988.
		{2000, 12, 728, 28, false},
		{12, 12, 56, 56, false},
	} {
		minPix, maxPix := 3136, 12845056
		f := SmartResize
		if tc.llama {
			f, minPix, maxPix = SmartResizeLlama, 8*784, 4096*784
		}
		w, h, err := f(tc.w, tc.h, 28, minPix, maxPix)
		if err != nil || w != tc.ww || h != tc.wh {
			t.Errorf("smart resize %d×%d (llama %v) = %d×%d %v, want %d×%d", tc.w, tc.h, tc.llama, w, h, err, tc.ww, tc.wh)
		}
	}
	if _, _, err := SmartResize(201, 1, 28, 3136, 12845056); !errors.Is(err, ErrAspect) {
		t.Errorf("aspect 201: %v", err)
	}
	if _, _, err := SmartResize(10, 10, 28, 100, 10); !errors.Is(err, ErrSize) {
		t.Errorf("max < factor²: %v", err)
	}
}

func TestLongestEdge(t *testing.T) {
	for _, tc := range []struct{ w, h, max, ww, wh int }{
		{800, 600, 1536, 1536, 1152}, {600, 800, 1536, 1152, 1536}, {1000, 333, 364, 364, 122}, {10, 10, 364, 364, 364},
	} {
		w, h, err := LongestEdge(tc.w, tc.h, tc.max)
		if err != nil || w != tc.ww || h != tc.wh {
			t.Errorf("LongestEdge(%d, %d, %d) = %d, %d; want %d, %d", tc.w, tc.h, tc.max, w, h, tc.ww, tc.wh)
		}
	}
	for _, tc := range []struct{ w, h, m, ww, wh int }{{1536, 1152, 364, 1820, 1456}, {364, 200, 364, 364, 364}, {100, 500, 364, 364, 728}} {
		w, h, err := CeilToMultiple(tc.w, tc.h, tc.m)
		if err != nil || w != tc.ww || h != tc.wh {
			t.Errorf("CeilToMultiple(%d, %d, %d) = %d, %d; want %d, %d", tc.w, tc.h, tc.m, w, h, tc.ww, tc.wh)
		}
	}
	w, h, err := SizeLlamaLongestEdge(80, 60, 56, 224)
	if err != nil || w != 224 || h != 168 {
		t.Errorf("SizeLlamaLongestEdge = %d×%d %v", w, h, err)
	}
}

func TestResizeLlama(t *testing.T) {
	src := ramp(8, 4)
	for _, algo := range []LlamaAlgo{LlamaBilinear, LlamaBicubic} {
		same, err := ResizeLlama(src, 8, 4, algo)
		if err != nil || !slices.Equal(same.Pix, src.Pix) {
			t.Fatalf("%v identity: %v", algo, err)
		}
		up, err := ResizeLlama(src, 15, 7, algo)
		if err != nil || up.W != 15 || up.H != 7 {
			t.Fatalf("%v: %v", algo, err)
		}
		// Corners map onto corners for the bilinear resizer; the bicubic
		// one starts at the top-left pixel too.
		if !slices.Equal(at(up, 0, 0), at(src, 0, 0)) {
			t.Errorf("%v top-left %v", algo, at(up, 0, 0))
		}
	}
	bl, _ := ResizeLlama(src, 15, 7, LlamaBilinear)
	if !slices.Equal(at(bl, 14, 6), at(src, 7, 3)) {
		t.Errorf("bilinear bottom-right %v, want %v", at(bl, 14, 6), at(src, 7, 3))
	}
	padded, err := ResizeLlamaPad(src, 8, 8, LlamaBicubic, [3]uint8{1, 2, 3})
	if err != nil || !slices.Equal(at(padded, 0, 1), []uint8{1, 2, 3}) || !slices.Equal(at(padded, 0, 2), at(src, 0, 0)) || !slices.Equal(at(padded, 7, 6), []uint8{1, 2, 3}) {
		t.Fatalf("ResizeLlamaPad: %v", err)
	}
}

// FuzzResize resizes arbitrary small images to arbitrary sizes with every
// filter: results have the requested size, and bad sizes are errors.
func FuzzResize(f *testing.F) {
	f.Add(uint8(5), uint8(3), uint8(9), uint8(2), uint8(1), []byte{1, 2, 3})
	f.Add(uint8(1), uint8(1), uint8(40), uint8(40), uint8(0), []byte{255})
	f.Add(uint8(0), uint8(3), uint8(1), uint8(1), uint8(4), []byte{})
	f.Fuzz(func(t *testing.T, sw, sh, dw, dh, which uint8, seed []byte) {
		src := &media.RGB{W: int(sw), H: int(sh), Pix: make([]uint8, int(sw)*int(sh)*3)}
		for i := range src.Pix {
			if len(seed) > 0 {
				src.Pix[i] = seed[i%len(seed)] + uint8(i)
			}
		}
		var out *media.RGB
		var err error
		switch which % 5 {
		case 0, 1, 2:
			out, err = Resize(src, int(dw), int(dh), Filter(which%5+1))
		case 3:
			out, err = ResizeLlama(src, int(dw), int(dh), LlamaBilinear)
		default:
			out, err = ResizeLlamaPad(src, int(dw), int(dh), LlamaBicubic, [3]uint8{1, 2, 3})
		}
		if err != nil {
			return
		}
		if out.W != int(dw) || out.H != int(dh) || len(out.Pix) != int(dw)*int(dh)*3 {
			t.Fatalf("%dx%d → %dx%d gave %dx%d (%d bytes)", sw, sh, dw, dh, out.W, out.H, len(out.Pix))
		}
	})
}
