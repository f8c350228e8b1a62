package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/fixtures"
)

// diffStats compares RGB bytes: max absolute difference and mean.
func diffStats(t *testing.T, got *RGB, want []byte) (int, float64) {
	t.Helper()
	if len(got.Pix) != len(want) {
		t.Fatalf("got %d bytes (%dx%d), want %d", len(got.Pix), got.W, got.H, len(want))
	}
	maxd, sum := 0, 0
	for i := range want {
		d := int(got.Pix[i]) - int(want[i])
		d = max(d, -d)
		maxd = max(maxd, d)
		sum += d
	}
	return maxd, float64(sum) / float64(len(want))
}

// Pillow 9.4.0 decodes of the testdata files (see testdata/README.md).
func TestDecodeImageMatchesPillow(t *testing.T) {
	tests := []struct {
		file    string
		maxDiff int
		mean    float64
	}{
		// media/jpeg reproduces libjpeg-turbo exactly: islow IDCT, "fancy"
		// chroma upsampling (Go's image/jpeg replicates chroma and is off by
		// up to 117 levels on these), jdcolor.c tables.
		{"checker_64x48.q85.420.jpg", 0, 0},
		{"checker_64x48.q85.422.jpg", 0, 0},
		{"checker_64x48.q85.444.prog.jpg", 0, 0},
		{"noise_50x37.q85.420.prog.jpg", 0, 0},
		{"gradient_83x61.gray.jpg", 0, 0},
		{"s440.jpg", 0, 0},   // cjpeg -sample 1x2
		{"s411.jpg", 0, 0},   // cjpeg -sample 4x1 (libjpeg replicates)
		{"cmyk.jpg", 0, 0},   // Adobe CMYK, Pillow's cmyk2rgb
		{"cmykk.jpg", 0, 0},  // CMYK with K ramping 0..255
		{"ptrans.gif", 0, 0}, // transparent index keeps its stored colour
		{"offset.gif", 0, 0}, // first frame smaller than the screen
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", tt.file+".rgb"))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := DecodeImage(b, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		maxd, mean := diffStats(t, got, want)
		t.Logf("%-32s max %d mean %.4f", tt.file, maxd, mean)
		if maxd > tt.maxDiff || mean > tt.mean {
			t.Errorf("%s: max diff %d mean %.4f, want ≤ %d, ≤ %.2f", tt.file, maxd, mean, tt.maxDiff, tt.mean)
		}
	}
}

// All 28 JPEG cases of the Pillow fixtures, testdata/pil (decoded .rgb files
// gzipped) or ../shared/fixtures/pil (4 images × 4:2:0/4:2:2/4:4:4, baseline
// and progressive, plus grey): bit-exact.
func TestDecodeJPEGSharedPillowFixtures(t *testing.T) {
	dir, _ := fixtures.Find("pil")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if dir == "" || len(files) == 0 {
		t.Skip("no Pillow JPEG fixtures: neither testdata/pil nor ../shared/fixtures/pil")
	}
	if len(files) != 28 {
		t.Fatalf("%d Pillow JPEG fixtures in %s, want 28", len(files), dir)
	}
	worst, total, n := 0, 0.0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fixtures.ReadFile(f + ".rgb") // or .rgb.gz
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := DecodeImage(b, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		maxd, mean := diffStats(t, got, want)
		if maxd != 0 {
			t.Errorf("%s: max %d mean %.4f, want exactly Pillow's pixels", filepath.Base(f), maxd, mean)
		}
		worst, total, n = max(worst, maxd), total+mean, n+1
	}
	t.Logf("%d JPEGs vs Pillow: worst max diff %d, average mean diff %.4f", n, worst, total/float64(n))
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Conversions checked against Pillow's convert("RGB") while writing them.
func TestDecodeImageModes(t *testing.T) {
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgba.Pix = []uint8{200, 100, 50, 0, 10, 20, 30, 128} // alpha dropped, not composited
	g16 := image.NewGray16(image.Rect(0, 0, 3, 1))
	g16.Pix = []uint8{0, 7, 0, 255, 4, 0} // 7, 255, 1024 → Pillow clips to 255
	n64 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	n64.Pix = []uint8{0x12, 0x34, 0xab, 0xcd, 0xff, 0x01, 0x00, 0x10} // high bytes, alpha dropped
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{9, 8, 7, 0}})
	pal.Pix = []uint8{1, 0}
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix = []uint8{17, 250}
	tests := []struct {
		name string
		img  image.Image
		want []uint8
	}{
		{"nrgba", rgba, []uint8{200, 100, 50, 10, 20, 30}},
		{"gray16", g16, []uint8{7, 7, 7, 255, 255, 255, 255, 255, 255}},
		{"nrgba64", n64, []uint8{0x12, 0xab, 0xff}},
		{"paletted+trns", pal, []uint8{9, 8, 7, 1, 2, 3}},
		{"gray", gray, []uint8{17, 17, 17, 250, 250, 250}},
	}
	for _, tt := range tests {
		got, codec, err := DecodeImage(encodePNG(t, tt.img), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if codec != "png" || !bytes.Equal(got.Pix, tt.want) {
			t.Errorf("%s: %s %v, want png %v", tt.name, codec, got.Pix, tt.want)
		}
	}
	// CMYK (Pillow 9.4.0's cmyk2rgb: nk - c·nk/255 with nk = 255 - k),
	// through toRGB directly.
	cmyk := image.NewCMYK(image.Rect(0, 0, 2, 1))
	cmyk.Pix = []uint8{10, 20, 30, 40, 200, 0, 100, 100}
	if got := toRGB(cmyk, "tiff").Pix; !bytes.Equal(got, []uint8{207, 198, 190, 33, 155, 94}) {
		t.Errorf("cmyk: %v", got)
	}
}

// pngWithSize rewrites the IHDR of a tiny PNG to claim w×h.
func pngWithSize(t *testing.T, w, h uint32) []byte {
	b := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecodeImageLimits(t *testing.T) {
	var ms0, ms1 runtime.MemStats
	bomb := pngWithSize(t, 100000, 100000) // 10^10 pixels in 70 bytes
	runtime.ReadMemStats(&ms0)
	_, _, err := DecodeImage(bomb, Limits{})
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100000x100000") {
		t.Errorf("bomb: %v", err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 1<<20 {
		t.Errorf("bomb allocated %d bytes before failing", alloc)
	}
	var gifBomb bytes.Buffer
	g := &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black})},
		Delay: []int{0}, Config: image.Config{Width: 60000, Height: 60000, ColorModel: color.Palette{color.Black}}}
	if err := gif.EncodeAll(&gifBomb, g); err != nil {
		t.Fatal(err)
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
		msg  string
	}{
		{"gif screen bomb", gifBomb.Bytes(), Limits{}, ErrTooLarge, "3600000000 pixels"},
		{"pixels", jpg.Bytes(), Limits{MaxPixels: 1199}, ErrTooLarge, "40x30 image has 1200 pixels, more than 1199"},
		{"bytes", jpg.Bytes(), Limits{MaxBytes: 100}, ErrTooLarge, "exceeds 100"},
		{"zero size", pngWithSize(t, 0, 5), Limits{}, ErrDecode, "png"},
		{"not an image", []byte("RIFFabcdWAVEfmt "), Limits{}, ErrUnsupported, `starts with "RIFFabcd"`},
		{"binary", []byte{0, 1, 2}, Limits{}, ErrUnsupported, "starts with 00 01 02"},
		{"truncated png", encodePNG(t, image.NewGray(image.Rect(0, 0, 64, 64)))[:60], Limits{}, ErrDecode, "png"},
		{"empty", nil, Limits{}, ErrUnsupported, "not a recognised image format"},
	}
	for _, tt := range tests {
		_, _, err := DecodeImage(tt.data, tt.lim)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %v containing %q", tt.name, err, tt.want, tt.msg)
		}
	}
}

// checkBomb asserts that a small file whose header claims a huge image is
// refused with ErrTooLarge quickly and without a large allocation.
func checkBomb(t *testing.T, name string, data []byte, wantCodec string) {
	t.Helper()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	_, codec, err := DecodeImage(data, Limits{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, ErrTooLarge) || codec != wantCodec {
		t.Errorf("%s: %s %v, want %s ErrTooLarge", name, codec, err, wantCodec)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 1<<20 {
		t.Errorf("%s: allocated %d bytes before failing", name, alloc)
	}
	if elapsed > time.Second {
		t.Errorf("%s: took %v", name, elapsed)
	}
}

// One header bomb per built-in format; media/ximage tests WebP, BMP, TIFF.
func TestDecodeImageHeaderBombs(t *testing.T) {
	checkBomb(t, "png 100000x100000", pngWithSize(t, 100000, 100000), "png")

	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	jpg := jb.Bytes()
	i := bytes.Index(jpg, []byte{0xff, 0xc0}) // SOF0: length(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(jpg[i+5:], 65535)
	binary.BigEndian.PutUint16(jpg[i+7:], 65535)
	checkBomb(t, "jpeg 65535x65535", jpg, "jpeg")

	// Logical screen 65535x65535, no frames at all.
	gifHdr := []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00;")
	checkBomb(t, "gif 65535x65535", gifHdr, "gif")
}
