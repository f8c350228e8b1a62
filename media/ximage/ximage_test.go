package ximage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/media"
)

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each file's .rgb is Pillow 9.4.0's Image.open(f).convert("RGB")
// (testdata/README.md). Lossy WebP goes through package media's libwebp
// conversion; x/image's own YCbCr colours are off by ~10 levels.
func TestDecodeMatchesPillow(t *testing.T) {
	for _, c := range []struct{ file, codec string }{
		{"lossy_odd.webp", "webp"},   // 37×29 4:2:0
		{"lossy_even.webp", "webp"},  // 40×30
		{"lossy_alpha.webp", "webp"}, // VP8X + ALPH: alpha dropped
		{"lossless.webp", "webp"},    // VP8L
		{"rgb.bmp", "bmp"},
		{"p.bmp", "bmp"},
		{"rgba.tiff", "tiff"},
		{"l.tiff", "tiff"},
	} {
		got, codec, err := media.DecodeImage(read(t, c.file), media.Limits{})
		if err != nil || codec != c.codec {
			t.Fatalf("%s: %s %v", c.file, codec, err)
		}
		want := read(t, c.file+".rgb")
		if len(got.Pix) != len(want) {
			t.Fatalf("%s: %d bytes, want %d", c.file, len(got.Pix), len(want))
		}
		for i := range want {
			if got.Pix[i] != want[i] {
				t.Fatalf("%s: byte %d (pixel %d,%d) = %d, want %d", c.file, i, (i/3)%got.W, (i/3)/got.W, got.Pix[i], want[i])
			}
		}
	}
}

func FuzzXImage(f *testing.F) {
	for _, name := range []string{"lossy_odd.webp", "lossless.webp", "p.bmp", "l.tiff"} {
		f.Add(read(f, name))
	}
	lim := media.Limits{MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		rgb, _, err := media.DecodeImage(data, lim)
		if err != nil {
			return
		}
		if int64(rgb.W)*int64(rgb.H) > lim.MaxPixels || len(rgb.Pix) != 3*rgb.W*rgb.H {
			t.Fatalf("%dx%d with %d bytes", rgb.W, rgb.H, len(rgb.Pix))
		}
	})
}
