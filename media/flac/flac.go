// Package flac registers a FLAC decoder (github.com/mewkiz/flac) with package
// media: any bit depth up to 32 and any channel layout, mixed to mono.
package flac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	mflac "github.com/mewkiz/flac"

	"github.com/sightline/sightline/media"
)

func init() {
	media.RegisterAudio(media.AudioCodec{Name: "flac", Magic: "fLaC", Probe: Probe, Decode: Decode})
}

// Probe reads STREAMINFO (other metadata blocks are skipped, not parsed).
func Probe(b []byte) (media.AudioInfo, error) {
	s, err := mflac.New(bytes.NewReader(b))
	if err != nil {
		return media.AudioInfo{}, fmt.Errorf("%w: flac: %v", media.ErrDecode, err)
	}
	frames := int64(s.Info.NSamples)
	if frames == 0 {
		frames = -1 // unknown
	}
	return media.AudioInfo{Rate: int(s.Info.SampleRate), Channels: int(s.Info.NChannels), Frames: frames}, nil
}

// Decode decodes every frame to mono float32 in [-1, 1].
func Decode(b []byte, maxFrames int64) (*media.PCM, error) {
	s, err := mflac.New(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: flac: %v", media.ErrDecode, err)
	}
	info := s.Info
	mix := media.Mixer{Channels: 1, MaxFrames: maxFrames}
	var buf []float32
	for {
		f, err := s.ParseNext()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: flac frame: %v", media.ErrDecode, err)
		}
		bps := int(f.BitsPerSample)
		if bps == 0 {
			bps = int(info.BitsPerSample)
		}
		if bps < 4 || bps > 32 || len(f.Subframes) == 0 {
			return nil, fmt.Errorf("%w: flac frame with %d bits, %d channels", media.ErrDecode, bps, len(f.Subframes))
		}
		n := int(f.BlockSize)
		for _, sf := range f.Subframes {
			if len(sf.Samples) < n {
				return nil, fmt.Errorf("%w: flac subframe has %d of %d samples", media.ErrDecode, len(sf.Samples), n)
			}
		}
		// Mean over channels, scaled by 2^-(bps-1).
		scale := 1 / (math.Ldexp(1, bps-1) * float64(len(f.Subframes)))
		buf = append(buf[:0], make([]float32, n)...)
		for i := range n {
			var acc float64
			for _, sf := range f.Subframes {
				acc += float64(sf.Samples[i])
			}
			buf[i] = float32(acc * scale)
		}
		if err := mix.Add(buf); err != nil {
			return nil, err
		}
	}
	return &media.PCM{Rate: int(info.SampleRate), Samples: mix.Samples}, nil
}
