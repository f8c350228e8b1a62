package media_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/wav"
)

// wav16 builds a 16-bit PCM WAV of interleaved samples.
func wav16(rate, channels int, samples []int16) []byte {
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+2*len(samples)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*2))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*2))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(2*len(samples)))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func sine(rate, n int, hz float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(16000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return s
}

func TestLoadAudioResamples(t *testing.T) {
	l, err := media.New(media.Config{TargetRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	src := base64.StdEncoding.EncodeToString(wav16(44100, 1, sine(44100, 22050, 440)))
	items, err := l.Load(context.Background(), []media.Ref{{Modality: media.Audio, Src: "data:audio/wav;base64," + src}})
	if err != nil {
		t.Fatal(err)
	}
	p := items[0].PCM
	if items[0].Codec != "wav" || p.Rate != 16000 || len(p.Samples) != 8000 || p.Duration() != 500*time.Millisecond {
		t.Fatalf("got %s %d Hz, %d samples", items[0].Codec, p.Rate, len(p.Samples))
	}
	// Content: the 440 Hz sine at 16 kHz (interior; the FFT method wraps at the edges).
	for i := 1000; i < 7000; i += 97 {
		want := 16000.0 / 32768 * math.Sin(2*math.Pi*440*float64(i)/16000)
		if math.Abs(float64(p.Samples[i])-want) > 2e-3 {
			t.Fatalf("sample %d = %.5f, want %.5f", i, p.Samples[i], want)
		}
	}
	// Same audio at the native rate is left alone.
	native, _ := media.New(media.Config{})
	items, err = native.Load(context.Background(), []media.Ref{{Modality: media.Audio, Src: src}})
	if err != nil || items[0].PCM.Rate != 44100 || len(items[0].PCM.Samples) != 22050 {
		t.Fatalf("native: %v", err)
	}
}

func TestDecodeAudioLimitsAndErrors(t *testing.T) {
	long := wav16(8000, 2, make([]int16, 2*8000*6)) // 6 s stereo
	id3 := append([]byte("ID3\x03\x00\x00\x00\x00\x00\x05hello"), wav16(8000, 1, sine(8000, 100, 300))...)
	badID3 := append([]byte("ID3\x03\x00\x00\x7f\x7f\x7f\x7f"), wav16(8000, 1, nil)...)
	floatWAV := wav16(8000, 1, make([]int16, 8))
	binary.LittleEndian.PutUint16(floatWAV[20:], 3)  // IEEE float
	binary.LittleEndian.PutUint16(floatWAV[34:], 32) // bits
	binary.LittleEndian.PutUint16(floatWAV[32:], 4)  // block align
	binary.LittleEndian.PutUint32(floatWAV[28:], 8000*4)
	for i, v := range []float32{float32(math.NaN()), 2, -3, 0.25} {
		binary.LittleEndian.PutUint32(floatWAV[44+4*i:], math.Float32bits(v))
	}
	p, codec, err := media.DecodeAudio(floatWAV, media.Limits{})
	if err != nil || codec != "wav" || len(p.Samples) != 4 {
		t.Fatalf("float wav: %v %v", p, err)
	}
	if want := []float32{0, 1, -1, 0.25}; !equalF32(p.Samples, want) {
		t.Errorf("clamping: %v, want %v", p.Samples, want)
	}
	if p, _, err := media.DecodeAudio(id3, media.Limits{}); err != nil || len(p.Samples) != 100 {
		t.Errorf("ID3-prefixed: %v", err)
	}
	tests := []struct {
		name string
		data []byte
		lim  media.Limits
		want error
		msg  string
	}{
		{"duration", long, media.Limits{MaxAudio: 5 * time.Second}, media.ErrTooLarge, "wav clip of 6s exceeds 5s"},
		{"bytes", long, media.Limits{MaxBytes: 1000}, media.ErrTooLarge, "exceeds 1000"},
		{"unknown", []byte("fLaX...."), media.Limits{}, media.ErrUnsupported, "not a recognised audio format"},
		{"bad id3", badID3, media.Limits{}, media.ErrDecode, "ID3v2 tag"},
		{"empty", wav16(8000, 1, nil), media.Limits{}, media.ErrDecode, "no samples"},
		{"rate", wav16(400000, 1, make([]int16, 4)), media.Limits{}, media.ErrUnsupported, "sample rate 400000 Hz"},
	}
	for _, tt := range tests {
		_, _, err := media.DecodeAudio(tt.data, tt.lim)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %v containing %q", tt.name, err, tt.want, tt.msg)
		}
	}
	if names := media.AudioCodecs(); !strings.Contains(strings.Join(names, ","), "wav") {
		t.Errorf("codecs: %v", names)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMixer(t *testing.T) {
	m := media.Mixer{Channels: 3, MaxFrames: 2}
	if err := m.Add([]float32{0.3, 0.6, 0.9, -1, 0, 1}); err != nil {
		t.Fatal(err)
	}
	if !equalF32(m.Samples, []float32{0.6, 0}) {
		t.Errorf("mean: %v", m.Samples)
	}
	if err := m.Add([]float32{1, 1, 1}); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("limit: %v", err)
	}
}
