// Package ogg registers an Ogg Vorbis decoder (github.com/jfreymuth/oggvorbis)
// with package media, mixed to mono.
//
// The three Vorbis header packets are demultiplexed and validated here first:
// the decoder sizes buffers from header fields (comment counts, codebook
// entries × dimensions), so those are bounded before it sees them.
package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/jfreymuth/oggvorbis"

	"github.com/sightline/sightline/media"
)

func init() {
	media.RegisterAudio(media.AudioCodec{Name: "ogg", Magic: "OggS", Probe: Probe, Decode: Decode})
}

// Bounds on the setup header (real encoders stay far below them).
const (
	maxEntries    = 1 << 20 // per codebook
	maxDimensions = 1024
	maxValues     = 1 << 22 // entries × dimensions per codebook
	maxAllValues  = 1 << 24 // over all codebooks
)

var errBad = errors.New("malformed Ogg Vorbis stream")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", media.ErrDecode, errBad, fmt.Sprintf(format, args...))
}

// stream is what the page walk finds.
type stream struct {
	packets  [][]byte // the first three packets
	granule  int64    // last non-negative granule position
	rate, ch int
}

// walk parses every page, collects the first three packets and the last
// granule position.
func walk(b []byte) (*stream, error) {
	s := &stream{granule: -1}
	var cur []byte
	for p := 0; p < len(b); {
		if len(b)-p < 27 || string(b[p:p+4]) != "OggS" {
			if p == 0 {
				return nil, bad("no Ogg page")
			}
			break // trailing garbage ends the stream, as decoders do
		}
		if b[p+4] != 0 {
			return nil, bad("Ogg version %d", b[p+4])
		}
		granule := int64(binary.LittleEndian.Uint64(b[p+6:]))
		nseg := int(b[p+26])
		if len(b)-p < 27+nseg {
			return nil, bad("truncated page header")
		}
		lacing := b[p+27 : p+27+nseg]
		body := p + 27 + nseg
		total := 0
		for _, l := range lacing {
			total += int(l)
		}
		if len(b)-body < total {
			return nil, bad("truncated page")
		}
		if granule >= 0 {
			s.granule = granule
		}
		for _, l := range lacing {
			if len(s.packets) < 3 {
				cur = append(cur, b[body:body+int(l)]...)
				if l < 255 {
					s.packets = append(s.packets, cur)
					cur = nil
				}
			}
			body += int(l)
		}
		p = body
	}
	if len(s.packets) < 3 {
		return nil, bad("fewer than three header packets")
	}
	if err := s.checkIdent(s.packets[0]); err != nil {
		return nil, err
	}
	if err := checkComment(s.packets[1]); err != nil {
		return nil, err
	}
	if err := checkSetup(s.packets[2]); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *stream) checkIdent(h []byte) error {
	if len(h) < 30 || h[0] != 1 || string(h[1:7]) != "vorbis" {
		return bad("missing identification header")
	}
	le := binary.LittleEndian
	if le.Uint32(h[7:]) != 0 {
		return bad("Vorbis version %d", le.Uint32(h[7:]))
	}
	s.ch = int(h[11])
	s.rate = int(le.Uint32(h[12:]))
	b0, b1 := h[28]&15, h[28]>>4
	if s.ch < 1 || s.rate < 1 || b0 < 6 || b1 > 13 || b0 > b1 || h[29]&1 == 0 {
		return bad("identification header: %d channels, %d Hz, block sizes 2^%d/2^%d", s.ch, s.rate, b0, b1)
	}
	return nil
}

func checkComment(h []byte) error {
	if len(h) < 7 || h[0] != 3 || string(h[1:7]) != "vorbis" {
		return bad("missing comment header")
	}
	h = h[7:]
	next := func() (int, bool) {
		if len(h) < 4 {
			return 0, false
		}
		n := int(binary.LittleEndian.Uint32(h))
		h = h[4:]
		return n, true
	}
	vendor, ok := next()
	if !ok || vendor > len(h) {
		return bad("comment header vendor string")
	}
	h = h[vendor:]
	count, ok := next()
	if !ok || count > len(h)/4 {
		return bad("comment header count")
	}
	for range count {
		n, ok := next()
		if !ok || n > len(h) {
			return bad("comment length")
		}
		h = h[n:]
	}
	return nil
}

// bitReader reads LSB-first bit fields and fails past the end.
type bitReader struct {
	b   []byte
	pos int // in bits
}

func (r *bitReader) read(n int) (uint32, error) {
	if n > 32 || r.pos+n > 8*len(r.b) {
		return 0, bad("setup header truncated")
	}
	var v uint32
	for i := range n {
		bit := (r.b[(r.pos+i)>>3] >> ((r.pos + i) & 7)) & 1
		v |= uint32(bit) << i
	}
	r.pos += n
	return v, nil
}

func ilog(x uint32) int {
	n := 0
	for x > 0 {
		n++
		x >>= 1
	}
	return n
}

// lookup1Values is the largest r with r^dims ≤ entries.
func lookup1Values(entries, dims int) int {
	r := int(math.Floor(math.Pow(float64(entries), 1/float64(dims))))
	pow := func(r int) int {
		v := 1
		for range dims {
			v *= r
			if v > entries {
				return entries + 1
			}
		}
		return v
	}
	for r > 0 && pow(r) > entries {
		r--
	}
	for pow(r+1) <= entries {
		r++
	}
	return r
}

// checkSetup walks the codebooks of the setup header, bounding their sizes.
func checkSetup(h []byte) error {
	if len(h) < 7 || h[0] != 5 || string(h[1:7]) != "vorbis" {
		return bad("missing setup header")
	}
	r := &bitReader{b: h[7:]}
	count, err := r.read(8)
	if err != nil {
		return err
	}
	all := 0
	for range count + 1 {
		if sync, err := r.read(24); err != nil || sync != 0x564342 {
			return bad("codebook sync")
		}
		d, _ := r.read(16)
		e, err := r.read(24)
		if err != nil {
			return err
		}
		dims, entries := int(d), int(e)
		if dims < 1 || dims > maxDimensions || entries < 2 || entries > maxEntries || dims*entries > maxValues {
			return bad("codebook of %d entries × %d dimensions", entries, dims)
		}
		if all += dims * entries; all > maxAllValues {
			return bad("codebooks too large")
		}
		ordered, err := r.read(1)
		if err != nil {
			return err
		}
		if ordered == 0 {
			sparse, err := r.read(1)
			if err != nil {
				return err
			}
			for range entries {
				used := uint32(1)
				if sparse == 1 {
					if used, err = r.read(1); err != nil {
						return err
					}
				}
				if used == 1 {
					if _, err := r.read(5); err != nil {
						return err
					}
				}
			}
		} else {
			if _, err := r.read(5); err != nil {
				return err
			}
			for cur, length := 0, 1; cur < entries; length++ {
				num, err := r.read(ilog(uint32(entries - cur)))
				if err != nil {
					return err
				}
				if cur += int(num); cur > entries || length > 32 {
					return bad("codebook lengths")
				}
			}
		}
		lookup, err := r.read(4)
		if err != nil {
			return err
		}
		switch lookup {
		case 0:
			continue
		case 1, 2:
		default:
			return bad("codebook lookup type %d", lookup)
		}
		if _, err := r.read(32); err != nil {
			return err
		}
		if _, err := r.read(32); err != nil {
			return err
		}
		vb, err := r.read(4)
		if err != nil {
			return err
		}
		if _, err := r.read(1); err != nil {
			return err
		}
		values := entries * dims
		if lookup == 1 {
			values = lookup1Values(entries, dims)
		}
		if r.pos+values*int(vb+1) > 8*len(r.b) {
			return bad("codebook values truncated")
		}
		r.pos += values * int(vb+1)
	}
	return nil
}

// Probe validates the headers and reads the length from the last granule position.
func Probe(b []byte) (media.AudioInfo, error) {
	s, err := walk(b)
	if err != nil {
		return media.AudioInfo{}, err
	}
	return media.AudioInfo{Rate: s.rate, Channels: s.ch, Frames: s.granule}, nil
}

// Decode decodes to mono float32 at the native rate.
func Decode(b []byte, maxFrames int64) (*media.PCM, error) {
	s, err := walk(b)
	if err != nil {
		return nil, err
	}
	r, err := oggvorbis.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: vorbis: %v", media.ErrDecode, err)
	}
	if r.Channels() != s.ch || r.SampleRate() != s.rate {
		return nil, bad("decoder disagrees with the header")
	}
	mix := media.Mixer{Channels: s.ch, MaxFrames: maxFrames}
	buf := make([]float32, 4096*s.ch)
	for {
		n, err := r.Read(buf)
		n -= n % s.ch
		if n > 0 {
			if err := mix.Add(buf[:n]); err != nil {
				return nil, err
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: vorbis: %v", media.ErrDecode, err)
		}
		if n == 0 {
			return nil, bad("decoder made no progress")
		}
	}
	return &media.PCM{Rate: s.rate, Samples: mix.Samples}, nil
}
