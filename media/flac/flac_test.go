package flac

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/wav"
)

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The FLAC files were encoded by the flac tool from the WAVs next to them
// (testdata/README.md); lossless means identical samples.
func TestDecodeMatchesSourceWAV(t *testing.T) {
	for _, c := range []struct {
		name           string
		rate, channels int
		frames         int64
	}{
		{"st8k", 8000, 2, 800},  // 16-bit stereo
		{"m24", 16000, 1, 1600}, // 24-bit mono (source is WAVE_FORMAT_EXTENSIBLE)
	} {
		info, err := Probe(read(t, c.name+".flac"))
		if err != nil || info.Rate != c.rate || info.Channels != c.channels || info.Frames != c.frames {
			t.Fatalf("%s: probe %+v %v", c.name, info, err)
		}
		got, codec, err := media.DecodeAudio(read(t, c.name+".flac"), media.Limits{})
		if err != nil || codec != "flac" {
			t.Fatalf("%s: %v", c.name, err)
		}
		want, _, err := media.DecodeAudio(read(t, c.name+".wav"), media.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Rate != c.rate || int64(len(got.Samples)) != c.frames || len(want.Samples) != len(got.Samples) {
			t.Fatalf("%s: %d samples at %d Hz", c.name, len(got.Samples), got.Rate)
		}
		for i := range want.Samples {
			if got.Samples[i] != want.Samples[i] {
				t.Fatalf("%s: sample %d = %v, want %v", c.name, i, got.Samples[i], want.Samples[i])
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	b := read(t, "st8k.flac")
	if _, err := Decode(b, 799); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("maxFrames: %v", err)
	}
	if _, _, err := media.DecodeAudio(b[:len(b)/2], media.Limits{}); !errors.Is(err, media.ErrDecode) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := Probe([]byte("fLaC\x00\x00")); !errors.Is(err, media.ErrDecode) {
		t.Errorf("short header: %v", err)
	}
}

func FuzzFLAC(f *testing.F) {
	f.Add(read(f, "tiny.flac"))
	f.Add(read(f, "st8k.flac"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Probe(data); err != nil {
			return
		}
		p, _, err := media.DecodeAudio(data, media.Limits{})
		if err != nil {
			return
		}
		for _, v := range p.Samples {
			if v < -1 || v > 1 {
				t.Fatalf("sample %v", v)
			}
		}
	})
}
