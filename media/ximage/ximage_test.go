package ximage

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

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

// patched returns a copy of testdata file name with f applied.
func patched(t *testing.T, name string, f func(b []byte)) []byte {
	b := read(t, name)
	f(b)
	return b
}

// tiffWithSize rewrites the ImageWidth and ImageLength tags of a
// little-endian TIFF (65535 for SHORT tags, w and h for LONG ones).
func tiffWithSize(t *testing.T, name string, w, h uint32) []byte {
	b := read(t, name)
	le := binary.LittleEndian
	if string(b[:4]) != "II*\x00" {
		t.Fatalf("%s is not a little-endian TIFF", name)
	}
	ifd := le.Uint32(b[4:])
	n := int(le.Uint16(b[ifd:]))
	for i := range n {
		e := b[int(ifd)+2+12*i:]
		v := w
		switch le.Uint16(e) {
		case 256: // ImageWidth
		case 257: // ImageLength
			v = h
		default:
			continue
		}
		if le.Uint16(e[2:]) == 3 { // SHORT
			le.PutUint32(e[8:], 65535)
		} else {
			le.PutUint32(e[8:], v)
		}
	}
	return b
}

// Headers that claim a huge image are refused with ErrTooLarge before the
// decoder allocates pixels, for every format registered here.
func TestHeaderBombs(t *testing.T) {
	le := binary.LittleEndian
	bombs := []struct {
		name, codec string
		data        []byte
	}{
		// VP8 frame header at 26: 14-bit width, 14-bit height.
		{"webp VP8 16383x16383", "webp", patched(t, "lossy_odd.webp", func(b []byte) {
			le.PutUint16(b[26:], 0x3fff)
			le.PutUint16(b[28:], 0x3fff)
		})},
		// VP8L header at 20: 0x2f, then width-1 and height-1 in 14 bits each.
		{"webp VP8L 16384x16384", "webp", patched(t, "lossless.webp", func(b []byte) {
			le.PutUint32(b[21:], 0x3fff|0x3fff<<14)
		})},
		// VP8X canvas at 24: width-1 and height-1 in 24 bits each.
		{"webp VP8X 20000x20000", "webp", patched(t, "lossy_alpha.webp", func(b []byte) {
			copy(b[24:], []byte{0x1f, 0x4e, 0, 0x1f, 0x4e, 0}) // 19999
		})},
		{"webp VP8X 100000x100000", "webp", patched(t, "lossy_alpha.webp", func(b []byte) {
			copy(b[24:], []byte{0x9f, 0x86, 0x01, 0x9f, 0x86, 0x01}) // 99999
		})},
		{"bmp 100000x100000", "bmp", patched(t, "rgb.bmp", func(b []byte) {
			le.PutUint32(b[18:], 100000)
			le.PutUint32(b[22:], 100000)
		})},
		{"bmp top-down 100000x100000", "bmp", patched(t, "p.bmp", func(b []byte) {
			le.PutUint32(b[18:], 100000)
			le.PutUint32(b[22:], uint32(0xffffffff-100000+1)) // -100000
		})},
		{"tiff 100000x100000", "tiff", tiffWithSize(t, "l.tiff", 100000, 100000)},
		{"tiff rgba 100000x100000", "tiff", tiffWithSize(t, "rgba.tiff", 100000, 100000)},
	}
	for _, c := range bombs {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		start := time.Now()
		_, codec, err := media.DecodeImage(c.data, media.Limits{})
		elapsed := time.Since(start)
		runtime.ReadMemStats(&ms1)
		if !errors.Is(err, media.ErrTooLarge) || codec != c.codec {
			t.Errorf("%s: %s %v, want %s ErrTooLarge", c.name, codec, err, c.codec)
		}
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: allocated %d bytes before failing", c.name, alloc)
		}
		if elapsed > time.Second {
			t.Errorf("%s: took %v", c.name, elapsed)
		}
	}
}
