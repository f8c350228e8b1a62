// Package mp3 registers an MPEG-1/2/2.5 Layer III decoder
// (github.com/hajimehoshi/go-mp3) with package media, mixed to mono.
//
// go-mp3 decodes every frame, including a Xing/Info header frame, and keeps
// the encoder delay and padding. When the first frame is a Xing/Info frame
// with a LAME tag, the output is trimmed like mpg123's gapless mode (and so
// libsndfile/soundfile, which SGLang uses):
//
//	go-mp3:  | info frame (spf) | delay + 529 | audio … | padding − 529 |
//	kept:                                     [ frames·spf − delay − padding ]
//
// 529 is the decoder's synthesis delay (in samples). Without a LAME tag only
// the Info frame is dropped; without an Info frame nothing is.
package mp3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/sightline/sightline/media"
)

func init() {
	// Frame sync for MPEG-1, 2 and 2.5 Layer III, with and without CRC
	// (leading ID3v2 tags are skipped by package media).
	for _, m := range []string{"\xff\xfb", "\xff\xfa", "\xff\xf3", "\xff\xf2", "\xff\xe3", "\xff\xe2"} {
		media.RegisterAudio(media.AudioCodec{Name: "mp3", Magic: m, Probe: Probe, Decode: Decode})
	}
}

const decoderDelay = 529

// gapless describes the first frame: whether it is a Xing/Info frame, and
// the LAME tag's encoder delay and padding.
type gapless struct {
	spf            int  // samples per frame
	info           bool // first frame is a Xing/Info frame
	lame           bool
	frames         int // Xing frame count, excluding the Info frame (0 if absent)
	delay, padding int
}

var bitrates = [2][16]int{ // kbit/s, Layer III: [MPEG-1, MPEG-2/2.5]
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
}

var rates = [3]int{44100, 48000, 32000}

// parseFirst inspects the first frame header and any Xing/Info + LAME tag.
func parseFirst(b []byte) (gapless, error) {
	var g gapless
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return g, fmt.Errorf("%w: mp3: no frame sync", media.ErrDecode)
	}
	h := binary.BigEndian.Uint32(b)
	version := (h >> 19) & 3 // 0: 2.5, 2: 2, 3: 1
	layer := (h >> 17) & 3
	brIdx, srIdx := (h>>12)&15, (h>>10)&3
	mono := (h>>6)&3 == 3
	if version == 1 || layer != 1 || brIdx == 0 || brIdx == 15 || srIdx == 3 {
		return g, fmt.Errorf("%w: mp3: first frame is not a Layer III frame", media.ErrUnsupported)
	}
	mpeg1 := version == 3
	g.spf = 576
	side := 17
	if mono {
		side = 9
	}
	if mpeg1 {
		g.spf = 1152
		side = 32
		if mono {
			side = 17
		}
	}
	rate := rates[srIdx]
	if version == 2 {
		rate /= 2
	} else if version == 0 {
		rate /= 4
	}
	br := bitrates[0][brIdx]
	if !mpeg1 {
		br = bitrates[1][brIdx]
	}
	size := 144000 * br / rate
	if !mpeg1 {
		size = 72000 * br / rate
	}
	size += int(h>>9) & 1
	frame := b[:min(len(b), size)]
	x := 4 + side
	if len(frame) < x+8 || (string(frame[x:x+4]) != "Xing" && string(frame[x:x+4]) != "Info") {
		return g, nil
	}
	g.info = true
	flags := binary.BigEndian.Uint32(frame[x+4:])
	p := x + 8
	if flags&1 != 0 {
		if len(frame) < p+4 {
			return g, nil
		}
		g.frames = int(binary.BigEndian.Uint32(frame[p:]))
		p += 4
	}
	if flags&2 != 0 {
		p += 4
	}
	if flags&4 != 0 {
		p += 100
	}
	if flags&8 != 0 {
		p += 4
	}
	// LAME tag: 9-byte encoder string, …, delay/padding (12 bits each) at +21.
	if len(frame) < p+24 || g.frames == 0 {
		return g, nil
	}
	if tag := string(frame[p : p+4]); tag != "LAME" && tag != "Lavf" && tag != "Lavc" && tag != "L3.9" {
		return g, nil
	}
	d := frame[p+21:]
	g.lame = true
	g.delay = int(d[0])<<4 | int(d[1])>>4
	g.padding = int(d[1]&15)<<8 | int(d[2])
	return g, nil
}

// window returns the [start, end) range of go-mp3's output frames to keep,
// given how many it produced.
func (g gapless) window(total int64) (int64, int64) {
	if !g.info {
		return 0, total
	}
	start := int64(g.spf)
	if !g.lame {
		return min(start, total), total
	}
	start += int64(g.delay + decoderDelay)
	end := start + int64(g.frames)*int64(g.spf) - int64(g.delay+g.padding)
	end = min(end, total)
	if start >= end {
		return 0, 0
	}
	return start, end
}

// Probe reads the first frame and counts the frames (go-mp3 scans headers).
func Probe(b []byte) (media.AudioInfo, error) {
	g, err := parseFirst(b)
	if err != nil {
		return media.AudioInfo{}, err
	}
	d, err := gomp3.NewDecoder(bytes.NewReader(b))
	if err != nil {
		return media.AudioInfo{}, fmt.Errorf("%w: mp3: %v", media.ErrDecode, err)
	}
	start, end := g.window(d.Length() / 4)
	return media.AudioInfo{Rate: d.SampleRate(), Channels: 2, Frames: end - start}, nil
}

// Decode decodes to mono float32 in [-1, 1], trimmed as described above.
func Decode(b []byte, maxFrames int64) (*media.PCM, error) {
	g, err := parseFirst(b)
	if err != nil {
		return nil, err
	}
	d, err := gomp3.NewDecoder(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: mp3: %v", media.ErrDecode, err)
	}
	start, end := g.window(d.Length() / 4)
	if end-start > maxFrames {
		return nil, fmt.Errorf("%w: %d frames exceed %d", media.ErrTooLarge, end-start, maxFrames)
	}
	mix := media.Mixer{Channels: 2, MaxFrames: maxFrames}
	raw := make([]byte, 4*4096)
	f := make([]float32, 2*4096)
	var pos int64 // frames read so far
	for pos < end {
		n, err := io.ReadFull(d, raw)
		n -= n % 4
		k := 0
		for i := 0; i < n; i += 4 {
			if fr := pos + int64(i/4); fr >= start && fr < end {
				f[k] = float32(int16(binary.LittleEndian.Uint16(raw[i:]))) / 32768
				f[k+1] = float32(int16(binary.LittleEndian.Uint16(raw[i+2:]))) / 32768
				k += 2
			}
		}
		pos += int64(n / 4)
		if k > 0 {
			if err := mix.Add(f[:k]); err != nil {
				return nil, err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: mp3: %v", media.ErrDecode, err)
		}
	}
	return &media.PCM{Rate: d.SampleRate(), Samples: mix.Samples}, nil
}
