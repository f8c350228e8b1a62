package media

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxAudioRate bounds sample rates, so MaxAudio bounds decoded memory.
const maxAudioRate = 192000

// AudioInfo is what a codec's probe reads from the header, before decoding.
type AudioInfo struct {
	Rate     int   // Hz
	Channels int   // ≥ 1
	Frames   int64 // samples per channel; -1 when the header does not say
}

// AudioCodec is one audio container/codec. Decoders register in init
// (see media/wav, media/flac, media/ogg, media/mp3).
type AudioCodec struct {
	Name string
	// Magic is a prefix of the encoded bytes; '?' matches any byte. A codec
	// may be registered several times with different magics.
	Magic string
	// Probe reads the header only; it must not allocate in proportion to
	// header fields.
	Probe func(b []byte) (AudioInfo, error)
	// Decode returns mono samples (the mean of the channels) scaled to
	// [-1, 1] at the native rate. It must stop with an ErrTooLarge error once
	// more than maxFrames frames would be produced.
	Decode func(b []byte, maxFrames int64) (*PCM, error)
}

var (
	audioMu     sync.Mutex
	audioCodecs atomic.Pointer[[]AudioCodec]
)

// RegisterAudio adds a codec. Call it from init; it is not meant for use
// while requests are being decoded.
func RegisterAudio(c AudioCodec) {
	if c.Name == "" || c.Magic == "" || c.Probe == nil || c.Decode == nil {
		panic("media: RegisterAudio: incomplete codec " + c.Name)
	}
	audioMu.Lock()
	defer audioMu.Unlock()
	var next []AudioCodec
	if cur := audioCodecs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, c)
	audioCodecs.Store(&next)
}

// AudioCodecs lists the registered codec names.
func AudioCodecs() []string {
	var names []string
	if cur := audioCodecs.Load(); cur != nil {
		for _, c := range *cur {
			if !contains(names, c.Name) {
				names = append(names, c.Name)
			}
		}
	}
	return names
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sniffAudio(b []byte) (AudioCodec, bool) {
	cur := audioCodecs.Load()
	if cur == nil {
		return AudioCodec{}, false
	}
	for _, c := range *cur {
		if matchMagic(c.Magic, b) {
			return c, true
		}
	}
	return AudioCodec{}, false
}

func matchMagic(magic string, b []byte) bool {
	if len(b) < len(magic) {
		return false
	}
	for i := 0; i < len(magic); i++ {
		if magic[i] != '?' && magic[i] != b[i] {
			return false
		}
	}
	return true
}

// DecodeAudio decodes an encoded clip with the registered codecs to mono
// float32 at its native rate. Bytes, sample rate and the duration announced
// by the header are checked before decoding; the duration again while
// decoding. Samples are clamped to [-1, 1] (NaN becomes 0). It returns the
// clip and the codec name.
func DecodeAudio(b []byte, lim Limits) (*PCM, string, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: %d bytes exceeds %d", ErrTooLarge, len(b), lim.MaxBytes)
	}
	b, err := skipID3v2(b)
	if err != nil {
		return nil, "", err
	}
	c, ok := sniffAudio(b)
	if !ok {
		names := AudioCodecs()
		if len(names) == 0 {
			return nil, "", fmt.Errorf("%w: no audio codecs registered (import media/all)", ErrUnsupported)
		}
		return nil, "", fmt.Errorf("%w: not a recognised audio format (%s; supported: %s)", ErrUnsupported, sniffHint(b), strings.Join(names, ", "))
	}
	var info AudioInfo
	if perr := guard(func() { info, err = c.Probe(b) }); perr != nil {
		return nil, c.Name, perr
	}
	if err != nil {
		return nil, c.Name, asDecodeErr(c.Name, err)
	}
	if info.Rate <= 0 || info.Rate > maxAudioRate {
		return nil, c.Name, fmt.Errorf("%w: %s sample rate %d Hz outside 1..%d", ErrUnsupported, c.Name, info.Rate, maxAudioRate)
	}
	if info.Channels < 1 {
		return nil, c.Name, fmt.Errorf("%w: %s has %d channels", ErrDecode, c.Name, info.Channels)
	}
	maxFrames := int64(lim.MaxAudio.Seconds() * float64(info.Rate))
	if info.Frames > maxFrames {
		return nil, c.Name, fmt.Errorf("%w: %s clip of %v exceeds %v", ErrTooLarge, c.Name,
			time.Duration(float64(info.Frames)/float64(info.Rate)*float64(time.Second)).Round(time.Millisecond), lim.MaxAudio)
	}
	var p *PCM
	if perr := guard(func() { p, err = c.Decode(b, maxFrames) }); perr != nil {
		return nil, c.Name, perr
	}
	if err != nil {
		return nil, c.Name, asDecodeErr(c.Name, err)
	}
	if int64(len(p.Samples)) > maxFrames {
		return nil, c.Name, fmt.Errorf("%w: %s clip exceeds %v", ErrTooLarge, c.Name, lim.MaxAudio)
	}
	if p.Rate != info.Rate {
		return nil, c.Name, fmt.Errorf("%w: %s rate changed from %d to %d Hz", ErrUnsupported, c.Name, info.Rate, p.Rate)
	}
	if len(p.Samples) == 0 {
		return nil, c.Name, fmt.Errorf("%w: %s clip has no samples", ErrDecode, c.Name)
	}
	for i, v := range p.Samples {
		switch {
		case v != v:
			p.Samples[i] = 0
		case v > 1:
			p.Samples[i] = 1
		case v < -1:
			p.Samples[i] = -1
		}
	}
	return p, c.Name, nil
}

// asDecodeErr keeps sentinel errors and wraps anything else as ErrDecode.
func asDecodeErr(codec string, err error) error {
	for _, s := range []error{ErrTooLarge, ErrUnsupported, ErrDecode, ErrInvalid} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("%w: %s: %v", ErrDecode, codec, err)
}

// Mixer accumulates interleaved frames of any channel count into mono
// samples (the channel mean), enforcing a frame limit. Codecs use it.
type Mixer struct {
	Channels  int
	MaxFrames int64
	Samples   []float32
}

// Add appends interleaved frames (len(v) must be a multiple of Channels),
// each sample already scaled to [-1, 1].
func (m *Mixer) Add(v []float32) error {
	n := len(v) / m.Channels
	if int64(len(m.Samples)+n) > m.MaxFrames {
		return fmt.Errorf("%w: clip longer than %d frames", ErrTooLarge, m.MaxFrames)
	}
	if m.Channels == 1 {
		m.Samples = append(m.Samples, v[:n]...)
		return nil
	}
	inv := 1 / float64(m.Channels)
	for f := range n {
		var s float64
		for _, x := range v[f*m.Channels : (f+1)*m.Channels] {
			s += float64(x)
		}
		m.Samples = append(m.Samples, float32(s*inv))
	}
	return nil
}

// Grow reserves room for n more frames when n is within the limit.
func (m *Mixer) Grow(n int64) {
	if n > 0 && int64(len(m.Samples))+n <= m.MaxFrames && n < math.MaxInt32 {
		m.Samples = append(make([]float32, 0, len(m.Samples)+int(n)), m.Samples...)
	}
}

// skipID3v2 drops leading ID3v2 tags (MP3, sometimes FLAC), so codecs see
// their own bytes and never size a buffer from the tag header.
func skipID3v2(b []byte) ([]byte, error) {
	for len(b) >= 10 && string(b[:3]) == "ID3" {
		if b[6]|b[7]|b[8]|b[9] >= 0x80 {
			return nil, fmt.Errorf("%w: bad ID3v2 tag size", ErrDecode)
		}
		n := 10 + (int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9]))
		if b[5]&0x10 != 0 {
			n += 10 // footer
		}
		if n > len(b) {
			return nil, fmt.Errorf("%w: ID3v2 tag of %d bytes exceeds the data", ErrDecode, n)
		}
		b = b[n:]
	}
	return b, nil
}
