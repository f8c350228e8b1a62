// Package wav registers a WAV (RIFF/WAVE) decoder with package media:
// integer PCM of 8, 16, 24 and 32 bits and IEEE float32, plain or
// WAVE_FORMAT_EXTENSIBLE, any channel count (mixed to mono).
//
// The RIFF structure is walked and validated here first (every chunk must fit
// in the data, which bounds all allocations); the validated fmt and data
// chunks are then handed, as a canonical stream, to github.com/go-audio/wav
// for sample decoding.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	goaudio "github.com/go-audio/audio"
	gowav "github.com/go-audio/wav"

	"github.com/sightline/sightline/media"
)

func init() {
	media.RegisterAudio(media.AudioCodec{Name: "wav", Magic: "RIFF????WAVE", Probe: Probe, Decode: Decode})
}

// WAVE format tags.
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagExtensible = 0xFFFE
	maxChannels   = 256
)

// header is the validated content of a WAV file.
type header struct {
	format   uint16 // tagPCM or tagFloat (extensible resolved)
	channels int
	rate     int
	bits     int // container bits per sample
	fmtChunk []byte
	data     []byte // whole frames only
}

func (h *header) frames() int64 { return int64(len(h.data) / (h.channels * h.bits / 8)) }

// parse walks the RIFF chunks. A data chunk whose declared size runs past the
// end (streamed WAVs write 0 or 0xFFFFFFFF) is cut to the bytes present.
func parse(b []byte) (*header, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not a RIFF/WAVE file", media.ErrDecode)
	}
	h := &header{}
	var haveFmt bool
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int64(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		rest := int64(len(b) - p)
		if id == "data" {
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", media.ErrDecode)
			}
			if size > rest {
				size = rest
			}
			frame := h.channels * h.bits / 8
			h.data = b[p : p+int(size)/frame*frame]
			return h, nil
		}
		if size > rest {
			return nil, fmt.Errorf("%w: %q chunk of %d bytes overruns the file", media.ErrDecode, id, size)
		}
		if id == "fmt " {
			if err := h.parseFmt(b[p : p+int(size)]); err != nil {
				return nil, err
			}
			haveFmt = true
		}
		p += int(size + size&1)
	}
	if !haveFmt {
		return nil, fmt.Errorf("%w: no fmt chunk", media.ErrDecode)
	}
	return nil, fmt.Errorf("%w: no data chunk", media.ErrDecode)
}

func (h *header) parseFmt(f []byte) error {
	if len(f) < 16 {
		return fmt.Errorf("%w: fmt chunk of %d bytes", media.ErrDecode, len(f))
	}
	le := binary.LittleEndian
	h.format = le.Uint16(f)
	h.channels = int(le.Uint16(f[2:]))
	h.rate = int(le.Uint32(f[4:]))
	blockAlign := int(le.Uint16(f[12:]))
	h.bits = int(le.Uint16(f[14:]))
	if h.format == tagExtensible {
		if len(f) < 40 || le.Uint16(f[16:]) < 22 {
			return fmt.Errorf("%w: short WAVE_FORMAT_EXTENSIBLE fmt chunk", media.ErrDecode)
		}
		h.format = le.Uint16(f[24:]) // first two bytes of the sub-format GUID
	}
	h.fmtChunk = f[:16]
	switch {
	case h.channels < 1 || h.channels > maxChannels:
		return fmt.Errorf("%w: %d channels", media.ErrUnsupported, h.channels)
	case h.rate < 1:
		return fmt.Errorf("%w: sample rate %d", media.ErrDecode, h.rate)
	case h.format == tagPCM && h.bits != 8 && h.bits != 16 && h.bits != 24 && h.bits != 32:
		return fmt.Errorf("%w: %d-bit integer PCM", media.ErrUnsupported, h.bits)
	case h.format == tagFloat && h.bits != 32:
		return fmt.Errorf("%w: %d-bit float PCM", media.ErrUnsupported, h.bits)
	case h.format != tagPCM && h.format != tagFloat:
		return fmt.Errorf("%w: WAVE format tag 0x%04x (only PCM and float)", media.ErrUnsupported, h.format)
	case blockAlign != h.channels*h.bits/8:
		return fmt.Errorf("%w: block align %d for %d channels of %d bits", media.ErrDecode, blockAlign, h.channels, h.bits)
	}
	return nil
}

// Probe reads rate, channels and frame count from the header.
func Probe(b []byte) (media.AudioInfo, error) {
	h, err := parse(b)
	if err != nil {
		return media.AudioInfo{}, err
	}
	return media.AudioInfo{Rate: h.rate, Channels: h.channels, Frames: h.frames()}, nil
}

// Decode decodes to mono float32 in [-1, 1] at the native rate.
func Decode(b []byte, maxFrames int64) (*media.PCM, error) {
	h, err := parse(b)
	if err != nil {
		return nil, err
	}
	frames := h.frames()
	if frames > maxFrames {
		return nil, fmt.Errorf("%w: %d frames exceed %d", media.ErrTooLarge, frames, maxFrames)
	}
	// Canonical stream for go-audio: RIFF header, the 16-byte fmt chunk
	// (tag rewritten from EXTENSIBLE), and the data chunk.
	canon := make([]byte, 0, 44)
	canon = append(canon, "RIFF"...)
	canon = binary.LittleEndian.AppendUint32(canon, uint32(36+len(h.data)))
	canon = append(canon, "WAVEfmt "...)
	canon = binary.LittleEndian.AppendUint32(canon, 16)
	canon = binary.LittleEndian.AppendUint16(canon, h.format)
	canon = append(canon, h.fmtChunk[2:16]...)
	canon = append(canon, "data"...)
	canon = binary.LittleEndian.AppendUint32(canon, uint32(len(h.data)))
	d := gowav.NewDecoder(&concat{parts: [][]byte{canon, h.data}})
	if err := d.FwdToPCM(); err != nil {
		return nil, fmt.Errorf("%w: %v", media.ErrDecode, err)
	}
	scale := 1 / math.Ldexp(1, h.bits-1)
	mix := media.Mixer{Channels: h.channels, MaxFrames: maxFrames}
	mix.Grow(frames)
	chunk := max(1, 4096/h.channels) * h.channels
	buf := &goaudio.IntBuffer{Data: make([]int, chunk)}
	f := make([]float32, chunk)
	left := frames * int64(h.channels)
	for left > 0 {
		n, err := d.PCMBuffer(buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %v", media.ErrDecode, err)
		}
		n = int(min(int64(n), left))
		n -= n % h.channels
		if n == 0 {
			break
		}
		for i, v := range buf.Data[:n] {
			switch {
			case h.format == tagFloat:
				f[i] = math.Float32frombits(uint32(v))
			case h.bits == 8:
				f[i] = float32(v-128) / 128
			default:
				f[i] = float32(float64(v) * scale)
			}
		}
		if err := mix.Add(f[:n]); err != nil {
			return nil, err
		}
		left -= int64(n)
	}
	if int64(len(mix.Samples)) != frames {
		return nil, fmt.Errorf("%w: decoded %d of %d frames", media.ErrDecode, len(mix.Samples), frames)
	}
	return &media.PCM{Rate: h.rate, Samples: mix.Samples}, nil
}

// concat is an io.ReadSeeker over consecutive byte slices (no copying).
type concat struct {
	parts [][]byte
	off   int64
}

func (c *concat) size() int64 {
	var n int64
	for _, p := range c.parts {
		n += int64(len(p))
	}
	return n
}

func (c *concat) Read(p []byte) (int, error) {
	off, n := c.off, 0
	for _, part := range c.parts {
		if off >= int64(len(part)) {
			off -= int64(len(part))
			continue
		}
		k := copy(p[n:], part[off:])
		n += k
		off = 0
		if n == len(p) {
			break
		}
	}
	c.off += int64(n)
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *concat) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += c.off
	case io.SeekEnd:
		offset += c.size()
	}
	if offset < 0 {
		return 0, errors.New("wav: negative seek")
	}
	c.off = offset
	return offset, nil
}

var _ io.ReadSeeker = (*concat)(nil)
