package imageproc

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
	"github.com/sightline/sightline/media"
)

// pilFixtures is the Pillow fixture folder: testdata/pil of the repository
// (the .rgb files gzipped; read them with fixtures.ReadFile) or
// ../shared/fixtures/pil.
func pilFixtures(t *testing.T) string {
	t.Helper()
	p, ok := fixtures.Find("pil")
	if !ok || !fixtures.Exists(filepath.Join(p, "index.json")) {
		t.Skip("Pillow fixtures absent: neither testdata/pil nor ../shared/fixtures/pil")
	}
	return p
}

func loadPNG(t *testing.T, path string) *media.RGB {
	t.Helper()
	b, err := fixtures.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := media.DecodeImage(b, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestResizeMatchesPillow compares every bilinear, bicubic, lanczos and nearest resize
// of the Pillow 9.4 fixtures byte for byte.
func TestResizeMatchesPillow(t *testing.T) {
	dir := pilFixtures(t)
	raw, err := fixtures.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Resize []struct {
			Source, Filter, File string
			Width, Height        int
		} `json:"resize"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	filters := map[string]Filter{"bilinear": Bilinear, "bicubic": Bicubic, "lanczos": Lanczos, "nearest": Nearest}
	n := 0
	for _, c := range idx.Resize {
		f, ok := filters[c.Filter]
		if !ok {
			continue
		}
		src := loadPNG(t, filepath.Join(dir, c.Source))
		got, err := Resize(src, c.Width, c.Height, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fixtures.ReadFile(filepath.Join(dir, c.File)) // or c.File+".gz"
		if err != nil {
			t.Fatal(err)
		}
		diff, worst := 0, 0
		for i := range want {
			d := int(got.Pix[i]) - int(want[i])
			if d != 0 {
				diff++
				worst = max(worst, d, -d)
			}
		}
		if diff != 0 {
			t.Errorf("%s: %d of %d bytes differ (worst %d levels)", c.File, diff, len(want), worst)
		}
		n++
	}
	if n < 60 {
		t.Fatalf("only %d resize cases checked", n)
	}
}

// TestResizeBoxHamming: the filters resized through disintegration/imaging.
// A 2× box downscale averages each 2×2 block (±1 level); hamming keeps a
// flat image flat; both honour the requested size.
func TestResizeBoxHamming(t *testing.T) {
	for code, want := range map[int]Filter{0: Nearest, 4: Box, 5: Hamming} {
		if f, err := FilterFromPIL(code); err != nil || f != want {
			t.Fatalf("FilterFromPIL(%d) = %v, %v", code, f, err)
		}
	}
	if _, err := FilterFromPIL(6); err == nil {
		t.Fatal("PIL filter 6 accepted")
	}
	src := ramp(40, 30)
	got, err := Resize(src, 20, 15, Box)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 15; y++ {
		for x := 0; x < 20; x++ {
			for c := 0; c < 3; c++ {
				sum := 0
				for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					sum += int(at(src, 2*x+d[0], 2*y+d[1])[c])
				}
				if g := int(at(got, x, y)[c]); g < sum/4-1 || g > (sum+3)/4+1 {
					t.Fatalf("box (%d,%d) channel %d = %d, block mean %.2f", x, y, c, g, float64(sum)/4)
				}
			}
		}
	}
	flat, _ := New(33, 17, [3]uint8{10, 128, 250})
	for _, size := range [][2]int{{7, 5}, {66, 40}, {33, 17}} {
		out, err := Resize(flat, size[0], size[1], Hamming)
		if err != nil {
			t.Fatal(err)
		}
		if out.W != size[0] || out.H != size[1] {
			t.Fatalf("hamming to %v gave %dx%d", size, out.W, out.H)
		}
		for i := 0; i < len(out.Pix); i += 3 {
			if out.Pix[i] != 10 || out.Pix[i+1] != 128 || out.Pix[i+2] != 250 {
				t.Fatalf("hamming changed a flat image: %v", out.Pix[i:i+3])
			}
		}
	}
}
