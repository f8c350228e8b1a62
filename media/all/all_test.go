package all

import (
	"bytes"
	"image"
	"slices"
	"testing"

	"github.com/sightline/sightline/media"
)

func TestEverythingRegistered(t *testing.T) {
	got := media.AudioCodecs()
	for _, want := range []string{"wav", "flac", "ogg", "mp3"} {
		if !slices.Contains(got, want) {
			t.Errorf("audio codec %s missing from %v", want, got)
		}
	}
	// Minimal headers: BMP (BITMAPINFOHEADER 1×1 24-bit) and a VP8L WebP.
	bmp := []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x18\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\x00")
	webp := []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	for name, b := range map[string][]byte{"bmp": bmp, "webp": webp} {
		if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || format != name {
			t.Errorf("%s: format %q, %v", name, format, err)
		}
	}
}
