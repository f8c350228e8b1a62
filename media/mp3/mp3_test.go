package mp3

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/media"
)

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each file is compared with libsndfile's decode through soundfile (mpg123,
// gapless), which is what SGLang's load_audio returns (testdata/README.md).
func TestDecodeMatchesLibsndfile(t *testing.T) {
	tests := []struct {
		file   string
		rate   int
		frames int
		g      gapless
	}{
		// lame -b 96, 0.1 s at 44.1 kHz mono: Info frame + LAME tag, trimmed to the source length.
		{"t44.mp3", 44100, 4410, gapless{spf: 1152, info: true, lame: true, frames: 5, delay: 576, padding: 774}},
		// lame -b 64, 0.15 s at 22.05 kHz stereo: MPEG-2, 576 samples per frame.
		{"t22.mp3", 22050, 3307, gapless{spf: 576, info: true, lame: true, frames: 8, delay: 576, padding: 725}},
		// lame -t (no Info frame): nothing to trim; every frame is kept, like libsndfile.
		{"t44_notag.mp3", 44100, 5760, gapless{spf: 1152}},
	}
	for _, tt := range tests {
		b := read(t, tt.file)
		g, err := parseFirst(b)
		if err != nil || g != tt.g {
			t.Errorf("%s: header %+v %v, want %+v", tt.file, g, err, tt.g)
		}
		info, err := Probe(b)
		if err != nil || info.Rate != tt.rate || info.Frames != int64(tt.frames) {
			t.Fatalf("%s: probe %+v %v", tt.file, info, err)
		}
		p, codec, err := media.DecodeAudio(b, media.Limits{})
		if err != nil || codec != "mp3" {
			t.Fatalf("%s: %v", tt.file, err)
		}
		raw := read(t, tt.file+".sf.f32")
		if len(p.Samples) != tt.frames || len(raw)/4 != tt.frames || p.Rate != tt.rate {
			t.Fatalf("%s: %d samples at %d Hz, want %d (reference %d)", tt.file, len(p.Samples), p.Rate, tt.frames, len(raw)/4)
		}
		var maxd, sum float64
		for i := range p.Samples {
			want := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			d := math.Abs(float64(p.Samples[i] - want))
			maxd, sum = max(maxd, d), sum+d
		}
		// go-mp3 rounds to 16 bits where mpg123 keeps float (≤ 2 LSB), and
		// differs by up to ~11 LSB in the last frame of the MPEG-2 file.
		mean := sum / float64(len(p.Samples))
		t.Logf("%s: max diff %.2g, mean %.2g", tt.file, maxd, mean)
		if maxd > 1e-3 || mean > 5e-5 {
			t.Errorf("%s: max diff %.3g, mean %.3g from libsndfile", tt.file, maxd, mean)
		}
	}
}

func TestGaplessWindow(t *testing.T) {
	g := gapless{spf: 1152, info: true, lame: true, frames: 5, delay: 576, padding: 774}
	// Info frame + 5 audio frames decoded: keep [1152+576+529, +5·1152−576−774).
	if s, e := g.window(6 * 1152); s != 2257 || e != 2257+4410 {
		t.Errorf("window = [%d, %d)", s, e)
	}
	if s, e := g.window(3000); s != 2257 || e != 3000 {
		t.Errorf("short stream window = [%d, %d)", s, e)
	}
	if s, e := (gapless{spf: 576, info: true}).window(2000); s != 576 || e != 2000 {
		t.Errorf("Info without LAME tag = [%d, %d)", s, e)
	}
	if s, e := (gapless{spf: 1152, info: true, lame: true, frames: 1, delay: 4000}).window(5000); s != 0 || e != 0 {
		t.Errorf("delay beyond the data = [%d, %d)", s, e)
	}
}

func TestDecodeErrors(t *testing.T) {
	b := read(t, "t44.mp3")
	if _, err := Decode(b, 4409); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("maxFrames: %v", err)
	}
	if _, err := parseFirst([]byte{0xff, 0xfb, 0xf0, 0x00}); !errors.Is(err, media.ErrUnsupported) {
		t.Errorf("bad bitrate index: %v", err)
	}
	if _, err := parseFirst([]byte{0xff, 0xfd, 0x90, 0x00}); !errors.Is(err, media.ErrUnsupported) {
		t.Errorf("layer II: %v", err)
	}
	// A huge ID3v2 size must not be trusted (go-mp3 would allocate it).
	bomb := append([]byte("ID3\x03\x00\x00\x7f\x7f\x7f\x7f"), b...)
	if _, _, err := media.DecodeAudio(bomb, media.Limits{}); !errors.Is(err, media.ErrDecode) {
		t.Errorf("ID3 bomb: %v", err)
	}
	tagged := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x04abcd"), b...)
	if p, _, err := media.DecodeAudio(tagged, media.Limits{}); err != nil || len(p.Samples) != 4410 {
		t.Errorf("ID3-tagged: %v", err)
	}
}

func FuzzMP3(f *testing.F) {
	f.Add(read(f, "t22.mp3"))
	f.Add(read(f, "t44_notag.mp3")[:600])
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := media.DecodeAudio(data, media.Limits{MaxAudio: 1e9 * 20})
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
