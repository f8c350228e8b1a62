package media

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
)

// 30 s at 44.1 kHz → 16 kHz: the FFT (scipy) path, Bluestein sizes.
func BenchmarkResample30s(b *testing.B) {
	x := tone(44100, 30*44100+17, 440, 0.5)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Resample(&PCM{Rate: 44100, Samples: x}, 16000); err != nil {
			b.Fatal(err)
		}
	}
}

// 60 s at 44.1 kHz → 16 kHz: past fftMaxConv, the windowed-sinc path.
func BenchmarkResample60sSinc(b *testing.B) {
	x := tone(44100, 60*44100, 440, 0.5)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Resample(&PCM{Rate: 44100, Samples: x}, 16000); err != nil {
			b.Fatal(err)
		}
	}
}

// 1280×720 4:2:0 JPEG to RGB, decoded by media/jpeg as libjpeg-turbo does.
func BenchmarkDecodeJPEG720p(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 1280, 720), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i * 7)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(i*3), uint8(i*5)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := DecodeImage(buf.Bytes(), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A progressive 4:2:0 photo-like JPEG (Pillow fixture) to RGB.
func BenchmarkDecodeJPEGProgressive(b *testing.B) {
	dir, ok := fixtures.Find("pil")
	if !ok {
		b.Skip("no Pillow fixtures")
	}
	data, err := os.ReadFile(filepath.Join(dir, "blobs_160x120.q85.420.prog.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := DecodeImage(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
