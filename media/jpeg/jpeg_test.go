package jpeg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
)

// toRGB expands a decoded image to RGB the way the fixtures were made
// (grey replicated; 3 channels as they are).
func toRGB(t *testing.T, img *Image) []uint8 {
	t.Helper()
	switch img.Channels {
	case 3:
		return img.Pix
	case 1:
		out := make([]uint8, 3*len(img.Pix))
		for i, v := range img.Pix {
			out[3*i], out[3*i+1], out[3*i+2] = v, v, v
		}
		return out
	}
	t.Fatalf("%d channels", img.Channels)
	return nil
}

func maxDiff(a, b []uint8) int {
	m := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		m = max(m, d, -d)
	}
	return m
}

// The 28 Pillow fixtures (testdata/pil): Pillow 9.4.0 with libjpeg-turbo
// decodes them to the .rgb files; this decoder must match exactly.
func TestPillowFixturesExact(t *testing.T) {
	dir, ok := fixtures.Find("pil")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if !ok || len(files) == 0 {
		t.Skip("no Pillow JPEG fixtures")
	}
	if len(files) != 28 {
		t.Fatalf("%d Pillow JPEG fixtures in %s, want 28", len(files), dir)
	}
	worst := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fixtures.ReadFile(f + ".rgb")
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(b, nil)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		got := toRGB(t, img)
		if len(got) != len(want) {
			t.Fatalf("%s: %d bytes, want %d", filepath.Base(f), len(got), len(want))
		}
		d := maxDiff(got, want)
		// kind: 420, 422, 444 (.prog) or gray
		parts := strings.Split(filepath.Base(f), ".")
		kind := strings.Join(parts[1:len(parts)-1], ".")
		kind = strings.TrimPrefix(kind, "q85.")
		worst[kind] = max(worst[kind], d)
		if d != 0 {
			t.Errorf("%s: max diff %d, want 0", filepath.Base(f), d)
		}
	}
	kinds := make([]string, 0, len(worst))
	for k := range worst {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("%-9s max diff %d", k, worst[k])
	}
}

// testdata/*.jpg: small files made with cjpeg/Pillow that exercise
// restarts, progressive restarts, every sampling libjpeg upsamples
// differently, RGB, YCCK, missing Huffman tables, non-interleaved
// sequential scans, interblock smoothing of truncated progressive files,
// and corrupt entropy data. NAME.jpg.raw is Pillow 9.4.0's decode
// (Image.open(f).tobytes(): L, RGB, or CMYK read as Adobe-inverted); files
// named err_* are ones Pillow refuses as truncated.
func TestPillowReferenceFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		name := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(b, nil)
		if strings.HasPrefix(name, "err_") {
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: %v, want ErrTruncated", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, err := os.ReadFile(f + ".raw")
		if err != nil {
			t.Fatal(err)
		}
		got := img.Pix
		if img.Channels == 4 {
			got = make([]uint8, len(img.Pix))
			for i, v := range img.Pix {
				got[i] = 255 - v
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d bytes, want %d", name, len(got), len(want))
			continue
		}
		if d := maxDiff(got, want); d != 0 {
			t.Errorf("%s (%v): max diff %d, want 0", name, img.ColorSpace, d)
		}
	}
}

// Every prefix of a file, with and without an EOI marker appended, either
// decodes or fails with one of the package errors; nothing panics.
func TestTruncatedAndCut(t *testing.T) {
	for _, name := range []string{"rst_420.jpg", "prog_rst_422.jpg", "mixed_prog.jpg", "ycck.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			for _, data := range [][]byte{b[:n], append(b[:n:n], 0xFF, mEOI)} {
				img, err := Decode(data, nil)
				switch {
				case err == nil:
					if len(img.Pix) != img.Width*img.Height*img.Channels {
						t.Fatalf("%s[:%d]: %d bytes for %dx%dx%d", name, n, len(img.Pix), img.Width, img.Height, img.Channels)
					}
				case !isPackageErr(err):
					t.Fatalf("%s[:%d]: %v", name, n, err)
				}
			}
			// Without EOI a cut file is always truncated (libjpeg waits
			// for more data).
			if n < len(b)-2 {
				if _, err := Decode(b[:n], nil); !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
					t.Fatalf("%s[:%d]: %v, want an error", name, n, err)
				}
			}
		}
	}
}

func isPackageErr(err error) bool {
	for _, s := range []error{ErrFormat, ErrUnsupported, ErrTruncated, ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// A small valid JPEG to edit: 48x40 grey, progressive with restarts.
func tinyJPEG(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "gray_prog_rst.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHeaderErrors(t *testing.T) {
	base := tinyJPEG(t)
	sof := bytes.Index(base, []byte{0xFF, mSOF2})
	if sof < 0 {
		t.Fatal("no SOF2")
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(base)) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"no SOI", []byte("GIF89a"), ErrFormat},
		{"arithmetic", edit(func(b []byte) []byte { b[sof+1] = 0xCA; return b }), ErrUnsupported},
		{"lossless", edit(func(b []byte) []byte { b[sof+1] = 0xC3; return b }), ErrUnsupported},
		{"12-bit", edit(func(b []byte) []byte { b[sof+4] = 12; return b }), ErrUnsupported},
		{"zero width", edit(func(b []byte) []byte { b[sof+7], b[sof+8] = 0, 0; return b }), ErrFormat},
		{"DNL height", edit(func(b []byte) []byte { b[sof+5], b[sof+6] = 0, 0; return b }), ErrUnsupported},
		{"65535 wide", edit(func(b []byte) []byte { b[sof+7], b[sof+8] = 0xFF, 0xFF; return b }), ErrUnsupported},
		{"sampling 0", edit(func(b []byte) []byte { b[sof+11] = 0x01; return b }), ErrFormat},
		{"quant table 5", edit(func(b []byte) []byte { b[sof+12] = 5; return b }), ErrFormat},
		{"header only", base[:sof+12], ErrTruncated},
		{"SOS first", append([]byte{0xFF, mSOI}, base[bytes.Index(base, []byte{0xFF, mSOS}):]...), ErrFormat},
		{"EOI first", []byte{0xFF, mSOI, 0xFF, mEOI}, ErrFormat},
		{"unknown marker", []byte{0xFF, mSOI, 0xFF, 0x05, 0, 2}, ErrFormat},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.data, nil); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := Decode(base, &Options{MaxPixels: 100}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxPixels: %v", err)
	}
	cfg, err := DecodeConfig(base)
	if err != nil || cfg != (Config{Width: 48, Height: 40, Components: 1, Progressive: true}) {
		t.Errorf("DecodeConfig: %+v %v", cfg, err)
	}
}

// naturalOrder is the JPEG zig-zag scan: anti-diagonals in alternating
// directions.
func TestNaturalOrder(t *testing.T) {
	k := 0
	for s := range 15 {
		for i := range s + 1 {
			r, c := i, s-i // down-left
			if s%2 == 0 {
				r, c = s-i, i // up-right
			}
			if r > 7 || c > 7 {
				continue
			}
			if int(naturalOrder[k]) != 8*r+c {
				t.Fatalf("zig-zag %d: %d, want %d", k, naturalOrder[k], 8*r+c)
			}
			k++
		}
	}
	for k := 64; k < len(naturalOrder); k++ {
		if naturalOrder[k] != 63 {
			t.Fatalf("entry %d past the end: %d", k, naturalOrder[k])
		}
	}
}

// Component planes with odd sizes exercise every edge case of the
// upsamplers; a flat chroma plane must come out as exactly the flat colour.
func TestUpsamplingEdges(t *testing.T) {
	for _, f := range [][2]int{{2, 2}, {2, 1}, {1, 2}, {4, 1}, {4, 2}, {1, 1}, {3, 1}, {1, 4}} {
		for _, size := range [][2]int{{1, 1}, {2, 2}, {3, 1}, {4, 3}, {5, 7}, {9, 2}, {17, 5}} {
			w, h := size[0], size[1]
			d := &decoder{width: w, height: h, maxH: f[0], maxV: f[1], jfif: true}
			d.comps = []component{{h: f[0], v: f[1]}, {h: 1, v: 1}, {h: 1, v: 1}}
			for i := range d.comps {
				c := &d.comps[i]
				c.bw, c.bh = ceilDiv(w*c.h, d.maxH*8), ceilDiv(h*c.v, d.maxV*8)
				c.sw, c.sh = ceilDiv(w*c.h, d.maxH), ceilDiv(h*c.v, d.maxV)
				c.plane = make([]uint8, c.bw*8*c.bh*8)
			}
			for i := range d.comps[0].plane {
				d.comps[0].plane[i] = uint8(11 * i)
			}
			for i := range d.comps[1].plane {
				d.comps[1].plane[i], d.comps[2].plane[i] = uint8(37*i), uint8(255-29*i)
			}
			if img, err := d.output(); err != nil || len(img.Pix) != 3*w*h {
				t.Fatalf("%v %v: %v", f, size, err)
			}
			for i := range d.comps[1].plane {
				d.comps[1].plane[i], d.comps[2].plane[i] = 90, 160
			}
			img, _ := d.output()
			tab := newYCCTables()
			for p := range w * h {
				y := int32(d.comps[0].plane[(p/w)*d.comps[0].bw*8+p%w])
				if img.Pix[3*p] != clamp8(y+tab.crR[160]) || img.Pix[3*p+2] != clamp8(y+tab.cbB[90]) {
					t.Fatalf("%v %v: pixel %d = %v", f, size, p, img.Pix[3*p:3*p+3])
				}
			}
		}
	}
}
