package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
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

// v22.ogg: oggenc -q 3 of 0.2 s stereo 22.05 kHz (440 Hz left, 660 Hz
// right); v22.ogg.sf.f32 is libvorbis's decode through soundfile (what
// SGLang uses), channel-averaged.
func TestDecodeMatchesLibvorbis(t *testing.T) {
	b := read(t, "v22.ogg")
	info, err := Probe(b)
	if err != nil || info.Rate != 22050 || info.Channels != 2 || info.Frames != 4410 {
		t.Fatalf("probe %+v %v", info, err)
	}
	p, codec, err := media.DecodeAudio(b, media.Limits{})
	if err != nil || codec != "ogg" {
		t.Fatal(err)
	}
	raw := read(t, "v22.ogg.sf.f32")
	if len(p.Samples) != len(raw)/4 || p.Rate != 22050 {
		t.Fatalf("%d samples at %d Hz, want %d", len(p.Samples), p.Rate, len(raw)/4)
	}
	var maxd float64
	for i := range p.Samples {
		want := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		maxd = max(maxd, math.Abs(float64(p.Samples[i]-want)))
	}
	if maxd > 1e-5 {
		t.Errorf("max diff %.3g from libvorbis", maxd)
	}
}

// page builds one Ogg page holding the given packets (each < 255·255 bytes).
func page(flags byte, granule int64, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := []byte("OggS\x00")
	h = append(h, flags)
	h = binary.LittleEndian.AppendUint64(h, uint64(granule))
	h = append(h, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(len(lacing)))
	out := append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(out[22:], crc32.Checksum(out, crc32.MakeTable(0x04c11db7)))
	return out
}

func ident(ch byte, rate uint32) []byte {
	h := append([]byte("\x01vorbis"), 0, 0, 0, 0, ch)
	h = binary.LittleEndian.AppendUint32(h, rate)
	h = append(h, make([]byte, 12)...)
	return append(h, 0xb8, 1) // block sizes 2^8 / 2^11, framing bit
}

// Header fields that would make the decoder allocate gigabytes are rejected
// before it runs.
func TestHeaderBombsRejected(t *testing.T) {
	comment := func(count uint32) []byte {
		c := append([]byte("\x03vorbis"), 0, 0, 0, 0)
		return binary.LittleEndian.AppendUint32(c, count)
	}
	// Setup header: one codebook with 2^24-1 entries × 65535 dimensions,
	// lengths "ordered" so a few bits describe them all.
	setup := []byte("\x05vorbis\x00")
	setup = append(setup, 0x42, 0x43, 0x56, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"comment count", append(page(2, 0, ident(1, 8000)), page(0, 0, comment(0xfffffff0), setup)...), "comment header count"},
		{"codebook", append(page(2, 0, ident(1, 8000)), page(0, 0, comment(0), setup)...), "16777215 entries × 65535 dimensions"},
		{"channels", append(page(2, 0, ident(0, 8000)), page(0, 0, comment(0), setup)...), "0 channels"},
		{"missing packets", page(2, 0, ident(1, 8000)), "fewer than three header packets"},
		{"not ogg", []byte("OggX"), "no Ogg page"},
	}
	for _, tt := range tests {
		_, err := Probe(tt.data)
		if !errors.Is(err, media.ErrDecode) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.msg)
		}
	}
	b := read(t, "v22.ogg")
	if _, err := Decode(b, 4000); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("maxFrames: %v", err)
	}
	if _, err := Decode(b[:len(b)-100], 1<<20); err != nil && !errors.Is(err, media.ErrDecode) {
		t.Errorf("truncated: %v", err)
	}
}

func TestLookup1Values(t *testing.T) {
	for _, c := range [][3]int{{81, 4, 3}, {80, 4, 2}, {1 << 20, 1, 1 << 20}, {100, 2, 10}, {5, 65535, 1}} {
		if got := lookup1Values(c[0], c[1]); got != c[2] {
			t.Errorf("lookup1Values(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func FuzzOgg(f *testing.F) {
	b := read(f, "v22.ogg")
	f.Add(b)
	// The header pages alone (no audio), and a re-paged copy.
	if i := bytes.Index(b[4:], []byte("OggS")); i > 0 {
		f.Add(b[:i+4])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
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
