package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var sentinels = []error{ErrInvalid, ErrUnsupported, ErrTooLarge, ErrFetch, ErrForbidden, ErrDecode}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzParseContainers(f *testing.F) {
	for _, s := range []string{
		`null`, `"a.png"`, `["a", null, "b"]`, `[["a"], null, [], [null]]`, `["a", ["b"]]`,
		`{"url": "x", "detail": "low", "max_pixels": 5}`,
		`{"format": "processor_output", "pixel_values": [[1, 2], [3, 4]], "image_grid_thw": [[1, 2, 2]], "hash": 3}`,
		`[{"format": "precomputed_embedding", "feature": "AACAPwAAAEA=", "shape": [1, 2]}]`,
		`[[{"url": "a"}, {"url": "b", "content_hash": "sha256:00"}]]`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		refs, err := ParseSingle(data, Image)
		check := func(refs []Ref, err error) {
			if err != nil {
				if !isSentinel(err) {
					t.Fatalf("error without sentinel: %v", err)
				}
				return
			}
			for _, r := range refs {
				if r.Modality != Image {
					t.Fatalf("modality %v", r.Modality)
				}
				if r.Format == Raw && r.Src == "" {
					t.Fatal("raw ref without source")
				}
				for k, a := range r.Arrays {
					if a.Len() != len(a.Data) {
						t.Fatalf("%s: shape %v with %d elements", k, a.Shape, len(a.Data))
					}
				}
			}
		}
		check(refs, err)
		lists, err := ParseBatch(data, Image, int(n%5)+1)
		if err == nil && len(lists) != int(n%5)+1 {
			t.Fatalf("%d lists for a batch of %d", len(lists), n%5+1)
		}
		for _, l := range lists {
			check(l, err)
		}
	})
}

func FuzzParseArray(f *testing.F) {
	for _, s := range []string{`1`, `[]`, `[[1, 2], [3, 4]]`, `[[[1]], [[2]]]`, `[1, [2]]`, `{"shape": [1], "data": "AACAPw=="}`, `[-0.5e-3, 1E+2]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArray(data, 1<<16)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		if a.Len() != len(a.Data) || len(a.Shape) > maxRank {
			t.Fatalf("shape %v with %d elements", a.Shape, len(a.Data))
		}
	})
}

func addTestdataSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 1100 {
			f.Add(b)
		}
	}
}

// FuzzDecodeImage covers every decoder reachable from the core (PNG, JPEG
// through media/jpeg, GIF) and the RGB conversions.
func FuzzDecodeImage(f *testing.F) {
	addTestdataSeeds(f, "*.jpg")
	addTestdataSeeds(f, "*.gif")
	for _, img := range []image.Image{image.NewGray16(image.Rect(0, 0, 3, 2)), image.NewNRGBA(image.Rect(0, 0, 2, 2)),
		image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.Black, color.White})} {
		f.Add(encodePNG(f, img))
		var jb bytes.Buffer
		if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 50}); err == nil {
			f.Add(jb.Bytes())
		}
	}
	lim := Limits{MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		rgb, _, err := DecodeImage(data, lim)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		if rgb.W <= 0 || rgb.H <= 0 || int64(rgb.W)*int64(rgb.H) > lim.MaxPixels || len(rgb.Pix) != rgb.W*rgb.H*3 {
			t.Fatalf("bad image %dx%d with %d bytes", rgb.W, rgb.H, len(rgb.Pix))
		}
	})
}

// FuzzLoad resolves arbitrary source strings: URLs (fake fetcher), data
// URIs, paths (one allowed directory) and base64.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	png := encodePNG(f, image.NewGray(image.Rect(0, 0, 2, 2)))
	os.WriteFile(filepath.Join(dir, "a.png"), png, 0o644)
	fetch := &fakeFetcher{data: map[string][]byte{"http://h/a.png": png}}
	l, err := New(Config{AllowedDirs: []string{dir}, Fetcher: fetch, Limits: Limits{MaxBytes: 1 << 16, MaxPixels: 1 << 16}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"http://h/a.png", "https://h/b", "data:image/png;base64,iVBORw0KGgo=", "file://" + dir + "/a.png",
		dir + "/a.png", dir + "/../a.png", "/etc/passwd", "iVBORw0KGgo=", "ftp://x", "data:,x", "R0lGODlhAQABAAAAACw="} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, audio bool) {
		m := Image
		if audio {
			m = Audio
		}
		items, err := l.Load(context.Background(), []Ref{{Modality: m, Src: src}})
		if err != nil {
			var ie *ItemError
			if !errors.As(err, &ie) || ie.Index != 0 || !isSentinel(err) {
				t.Fatalf("unexpected error shape: %v", err)
			}
			return
		}
		it := items[0]
		if (it.RGB == nil) == (it.PCM == nil) {
			t.Fatalf("item has RGB %v, PCM %v", it.RGB != nil, it.PCM != nil)
		}
	})
}

func FuzzResample(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint16(44100), uint16(16000))
	f.Add(make([]byte, 400), uint16(8000), uint16(16000))
	f.Add(make([]byte, 64), uint16(3), uint16(65535))
	f.Fuzz(func(t *testing.T, data []byte, from, to uint16) {
		x := make([]float32, len(data)/2)
		for i := range x {
			x[i] = float32(int16(binary.LittleEndian.Uint16(data[2*i:]))) / 32768
		}
		if len(x) == 0 || from == 0 || to == 0 || len(x)*int(to)/int(from) > 1<<12 {
			return
		}
		p, err := Resample(&PCM{Rate: int(from), Samples: x}, int(to))
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatal(err)
			}
			return
		}
		if want := int(float64(len(x)) * float64(to) / float64(from)); len(p.Samples) != want || p.Rate != int(to) {
			t.Fatalf("%d samples at %d Hz, want %d at %d", len(p.Samples), p.Rate, want, to)
		}
		for _, v := range p.Samples {
			if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1e3 {
				t.Fatalf("sample %v", v)
			}
		}
	})
}
