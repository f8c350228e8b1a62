package jpeg

import (
	"bytes"
	"image"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
)

// bench720p is a 1280×720 4:2:0 baseline JPEG (Go's encoder, quality 85)
// of a busy pattern, as media's BenchmarkDecodeJPEG720p uses.
func bench720p(b *testing.B) []byte {
	m := image.NewYCbCr(image.Rect(0, 0, 1280, 720), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i * 7)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(i*3), uint8(i*5)
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, m, &stdjpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchFixture(b *testing.B, name string) []byte {
	dir, ok := fixtures.Find("pil")
	if !ok {
		b.Skip("no Pillow fixtures")
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchOurs(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// The standard library's decoder, for comparison: it returns planes
// (chroma not upsampled, no colour conversion), so it does less work.
func benchStd(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := stdjpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode720p(b *testing.B) { benchOurs(b, bench720p(b)) }
func BenchmarkStdlib720p(b *testing.B) { benchStd(b, bench720p(b)) }
func BenchmarkDecodeProg420(b *testing.B) {
	benchOurs(b, benchFixture(b, "blobs_160x120.q85.420.prog.jpg"))
}
func BenchmarkStdlibProg420(b *testing.B) {
	benchStd(b, benchFixture(b, "blobs_160x120.q85.420.prog.jpg"))
}
func BenchmarkDecode444(b *testing.B) { benchOurs(b, benchFixture(b, "blobs_160x120.q85.444.jpg")) }
func BenchmarkStdlib444(b *testing.B) { benchStd(b, benchFixture(b, "blobs_160x120.q85.444.jpg")) }
