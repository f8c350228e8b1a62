package wav

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sightline/sightline/media"
)

// build writes a WAV with the given fmt fields, extra chunks before "fmt "
// and "data", and raw data bytes.
type build struct {
	tag        uint16
	channels   int
	rate       int
	bits       int
	extensible uint16 // sub-format tag; 0: plain fmt chunk
	before     [][2]string
	data       []byte
	dataSize   uint32 // 0: len(data)
}

func (w build) bytes() []byte {
	var fmtc []byte
	le := binary.LittleEndian
	tag := w.tag
	if w.extensible != 0 {
		tag = tagExtensible
	}
	fmtc = le.AppendUint16(fmtc, tag)
	fmtc = le.AppendUint16(fmtc, uint16(w.channels))
	fmtc = le.AppendUint32(fmtc, uint32(w.rate))
	fmtc = le.AppendUint32(fmtc, uint32(w.rate*w.channels*w.bits/8))
	fmtc = le.AppendUint16(fmtc, uint16(w.channels*w.bits/8))
	fmtc = le.AppendUint16(fmtc, uint16(w.bits))
	if w.extensible != 0 {
		fmtc = le.AppendUint16(fmtc, 22)
		fmtc = le.AppendUint16(fmtc, uint16(w.bits))
		fmtc = le.AppendUint32(fmtc, 0)
		fmtc = le.AppendUint16(fmtc, w.extensible)
		fmtc = append(fmtc, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"...)
	}
	var b []byte
	chunk := func(id string, body []byte, size uint32) {
		b = append(b, id...)
		b = le.AppendUint32(b, size)
		b = append(b, body...)
		if len(body)%2 == 1 && id != "data" {
			b = append(b, 0)
		}
	}
	for _, c := range w.before {
		chunk(c[0], []byte(c[1]), uint32(len(c[1])))
	}
	chunk("fmt ", fmtc, uint32(len(fmtc)))
	size := w.dataSize
	if size == 0 {
		size = uint32(len(w.data))
	}
	chunk("data", w.data, size)
	return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(4+len(b)))...), append([]byte("WAVE"), b...)...)
}

func le16(v ...int16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
	}
	return b
}

func TestDecodeFormats(t *testing.T) {
	f32 := func(v ...float32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	i24 := []byte{0x00, 0x00, 0x40, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff} // 2^22, -2^22, -1
	i32 := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 1<<30), uint32(0x80000000))
	tests := []struct {
		name string
		w    build
		want []float32
	}{
		{"u8", build{tag: tagPCM, channels: 1, rate: 8000, bits: 8, data: []byte{0, 128, 255, 64}}, []float32{-1, 0, 127.0 / 128, -0.5}},
		{"s16", build{tag: tagPCM, channels: 1, rate: 16000, bits: 16, data: le16(-32768, 16384, 1)}, []float32{-1, 0.5, 1.0 / 32768}},
		{"s16 stereo mean", build{tag: tagPCM, channels: 2, rate: 16000, bits: 16, data: le16(16384, -16384, 32767, 32767)}, []float32{0, 32767.0 / 32768}},
		{"s24", build{tag: tagPCM, channels: 1, rate: 48000, bits: 24, data: i24}, []float32{0.5, -0.5, -1.0 / (1 << 23)}},
		{"s32", build{tag: tagPCM, channels: 1, rate: 48000, bits: 32, data: i32}, []float32{0.5, -1}},
		{"f32", build{tag: tagFloat, channels: 1, rate: 22050, bits: 32, data: f32(0.25, -0.75)}, []float32{0.25, -0.75}},
		{"extensible f32 3ch", build{channels: 3, rate: 22050, bits: 32, extensible: tagFloat, data: f32(0.3, 0.6, 0.9)}, []float32{0.6}},
		{"extensible s24", build{channels: 1, rate: 96000, bits: 24, extensible: tagPCM, data: i24[:6]}, []float32{0.5, -0.5}},
		{"chunks before fmt", build{tag: tagPCM, channels: 1, rate: 8000, bits: 16, data: le16(8192),
			before: [][2]string{{"LIST", "INFOIART\xff\xff\xff\x7f"}, {"junk", "odd"}}}, []float32{0.25}},
		{"odd byte count", build{tag: tagPCM, channels: 1, rate: 8000, bits: 16, data: append(le16(8192, 4096), 7)}, []float32{0.25, 0.125}},
		{"streamed size", build{tag: tagPCM, channels: 1, rate: 8000, bits: 16, data: le16(8192, 4096), dataSize: 0xffffffff}, []float32{0.25, 0.125}},
	}
	for _, tt := range tests {
		b := tt.w.bytes()
		info, err := Probe(b)
		if err != nil {
			t.Fatalf("%s: probe: %v", tt.name, err)
		}
		if info.Rate != tt.w.rate || info.Channels != tt.w.channels || info.Frames != int64(len(tt.want)) {
			t.Errorf("%s: info %+v", tt.name, info)
		}
		p, codec, err := media.DecodeAudio(b, media.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if codec != "wav" || p.Rate != tt.w.rate || len(p.Samples) != len(tt.want) {
			t.Fatalf("%s: %s %d Hz %v, want %v", tt.name, codec, p.Rate, p.Samples, tt.want)
		}
		for i := range tt.want {
			if math.Abs(float64(p.Samples[i]-tt.want[i])) > 1e-7 {
				t.Errorf("%s: sample %d = %v, want %v", tt.name, i, p.Samples[i], tt.want[i])
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	ok := build{tag: tagPCM, channels: 1, rate: 8000, bits: 16, data: le16(1, 2, 3, 4)}
	overrun := ok
	overrun.before = [][2]string{{"LIST", "abcd"}}
	ob := overrun.bytes()
	binary.LittleEndian.PutUint32(ob[16:], 1<<30) // LIST claims 1 GiB
	noData := ok.bytes()[:36]
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"12-bit", build{tag: tagPCM, channels: 1, rate: 8000, bits: 12, data: le16(1)}.bytes(), media.ErrUnsupported, "12-bit integer PCM"},
		{"f64", build{tag: tagFloat, channels: 1, rate: 8000, bits: 64, data: make([]byte, 8)}.bytes(), media.ErrUnsupported, "64-bit float"},
		{"mp3 in wav", build{tag: 0x55, channels: 1, rate: 8000, bits: 16, data: le16(1)}.bytes(), media.ErrUnsupported, "format tag 0x0055"},
		{"no channels", build{tag: tagPCM, channels: 0, rate: 8000, bits: 16, data: le16(1)}.bytes(), media.ErrUnsupported, "0 channels"},
		{"chunk overrun", ob, media.ErrDecode, `"LIST" chunk of 1073741824 bytes overruns`},
		{"no data", noData, media.ErrDecode, "no data chunk"},
		{"data before fmt", []byte("RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00"), media.ErrDecode, "data chunk before fmt"},
		{"short fmt", []byte("RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00"), media.ErrDecode, "fmt chunk of 4 bytes"},
	}
	for _, tt := range tests {
		_, _, err := media.DecodeAudio(tt.data, media.Limits{})
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %v containing %q", tt.name, err, tt.want, tt.msg)
		}
	}
	if _, err := Decode(ok.bytes(), 3); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("maxFrames: %v", err)
	}
}

func FuzzWAV(f *testing.F) {
	f.Add(build{tag: tagPCM, channels: 2, rate: 8000, bits: 16, data: le16(1, 2, 3, 4)}.bytes())
	f.Add(build{tag: tagPCM, channels: 1, rate: 8000, bits: 24, data: make([]byte, 9), before: [][2]string{{"LIST", "INFOx"}}}.bytes())
	f.Add(build{channels: 3, rate: 44100, bits: 32, extensible: tagFloat, data: make([]byte, 24)}.bytes())
	f.Add(build{tag: tagPCM, channels: 1, rate: 8000, bits: 8, data: []byte{1, 2, 3}, dataSize: 0xffffffff}.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		info, perr := Probe(data)
		p, err := Decode(data, 1<<16)
		if (perr == nil) != (err == nil) && !errors.Is(err, media.ErrTooLarge) {
			t.Fatalf("probe %v but decode %v", perr, err)
		}
		if err != nil {
			return
		}
		if int64(len(p.Samples)) != info.Frames || p.Rate != info.Rate {
			t.Fatalf("decoded %d frames at %d Hz, probe said %+v", len(p.Samples), p.Rate, info)
		}
		if h, _ := parse(data); h.format == tagPCM {
			for _, v := range p.Samples {
				if v < -1 || v > 1 {
					t.Fatalf("integer PCM decoded to %v", v)
				}
			}
		}
	})
}
