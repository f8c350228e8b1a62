package imageproc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/media"
)

// sharedPIL finds ../shared/fixtures/pil relative to the module root.
func sharedPIL(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "fixtures", "pil")
	if _, err := os.Stat(filepath.Join(p, "index.json")); err != nil {
		t.Skipf("Pillow fixtures absent (%s): %v", p, err)
	}
	return p
}

func loadPNG(t *testing.T, path string) *media.RGB {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := media.DecodeImage(b, media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestResizeMatchesPillow compares every bilinear, bicubic and lanczos resize
// of the Pillow 9.4 fixtures byte for byte.
func TestResizeMatchesPillow(t *testing.T) {
	dir := sharedPIL(t)
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
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
	filters := map[string]Filter{"bilinear": Bilinear, "bicubic": Bicubic, "lanczos": Lanczos}
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
		want, err := os.ReadFile(filepath.Join(dir, c.File))
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
