package jpeg

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: any input decodes or fails with a package error, without
// panicking, and a decoded image agrees with its header.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(scanBomb(16, 8, 3))
	opts := &Options{MaxPixels: 1 << 18, MaxScans: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, opts)
		if err != nil {
			if !isPackageErr(err) {
				t.Fatalf("error without a package sentinel: %v", err)
			}
			return
		}
		cfg, err := DecodeConfig(data)
		if err != nil {
			t.Fatalf("decoded, but DecodeConfig fails: %v", err)
		}
		if img.Width != cfg.Width || img.Height != cfg.Height || img.Channels != cfg.Components {
			t.Fatalf("image %dx%dx%d, header %+v", img.Width, img.Height, img.Channels, cfg)
		}
		if img.Width <= 0 || img.Height <= 0 || int64(img.Width)*int64(img.Height) > opts.MaxPixels ||
			len(img.Pix) != img.Width*img.Height*img.Channels {
			t.Fatalf("bad image %dx%dx%d with %d bytes", img.Width, img.Height, img.Channels, len(img.Pix))
		}
	})
}
