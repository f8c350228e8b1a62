// Package whisper prepares audio for Whisper-style encoders (Qwen2-Audio):
// the log-mel feature extractor of Hugging Face's WhisperFeatureExtractor,
// the real-length token count rule, and the Qwen2-Audio processor that
// expands each audio placeholder into its run of tokens with one Span per
// 30 s chunk.
package whisper

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// ErrParams reports feature-extractor settings outside what is supported.
var ErrParams = errors.New("whisper: unsupported feature extractor settings")

// Params are the feature extractor's constants (preprocessor_config.json).
type Params struct {
	SampleRate int     // Hz (sampling_rate, 16000)
	NFFT       int     // window and FFT length (n_fft, 400)
	Hop        int     // samples between frames (hop_length, 160)
	NMel       int     // mel bins (feature_size / num_mel_bins: 80 or 128)
	Samples    int     // samples per chunk (n_samples, 480000 = 30 s)
	FMin, FMax float64 // filterbank range in Hz (0 and SampleRate/2)
}

// DefaultParams are Whisper's constants with nMel mel bins.
func DefaultParams(nMel int) Params {
	return Params{SampleRate: 16000, NFFT: 400, Hop: 160, NMel: nMel, Samples: 480000, FMin: 0, FMax: 8000}
}

// Frames is the number of mel frames per chunk (nb_max_frames, 3000).
func (p Params) Frames() int { return p.Samples / p.Hop }

// Validate bounds every field, so an extractor's tables stay small.
func (p Params) Validate() error {
	switch {
	case p.SampleRate < 1000 || p.SampleRate > 192000:
		return fmt.Errorf("%w: sampling rate %d Hz", ErrParams, p.SampleRate)
	case p.NFFT < 8 || p.NFFT > 1<<14 || p.NFFT%2 != 0:
		return fmt.Errorf("%w: n_fft %d (want an even size in 8..16384)", ErrParams, p.NFFT)
	case p.Hop < 1 || p.Hop > p.NFFT:
		return fmt.Errorf("%w: hop length %d with n_fft %d", ErrParams, p.Hop, p.NFFT)
	case p.NMel < 1 || p.NMel > 512:
		return fmt.Errorf("%w: %d mel bins (want 1..512)", ErrParams, p.NMel)
	case p.Samples < p.NFFT || p.Samples > 120*p.SampleRate || p.Samples%p.Hop != 0:
		return fmt.Errorf("%w: chunk of %d samples (want a multiple of the hop, ≥ n_fft, ≤ 120 s)", ErrParams, p.Samples)
	case !(p.FMin >= 0) || !(p.FMax > p.FMin) || p.FMax > 96000:
		return fmt.Errorf("%w: mel range %v..%v Hz at %d Hz", ErrParams, p.FMin, p.FMax, p.SampleRate)
	}
	return nil
}

// Extractor computes Whisper log-mel features. Safe for concurrent use.
type Extractor struct {
	p      Params
	window []float64 // periodic Hann, len NFFT
	// filters in sparse form: mel m weighs power bins [lo[m], lo[m]+len(w[m])).
	lo []int
	w  [][]float64
}

// NewExtractor builds the window and the Slaney mel filterbank for p.
func NewExtractor(p Params) (*Extractor, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &Extractor{p: p, window: make([]float64, p.NFFT)}
	for i := range e.window {
		e.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(p.NFFT))
	}
	full := MelFilters(p.NFFT/2+1, p.NMel, p.FMin, p.FMax, p.SampleRate)
	bins := p.NFFT/2 + 1
	e.lo, e.w = make([]int, p.NMel), make([][]float64, p.NMel)
	for m := 0; m < p.NMel; m++ {
		lo, hi := bins, 0
		for k := 0; k < bins; k++ {
			if full[k*p.NMel+m] != 0 {
				lo, hi = min(lo, k), k+1
			}
		}
		if hi <= lo {
			continue // an empty filter (too many mels for n_fft) weighs nothing
		}
		e.lo[m] = lo
		for k := lo; k < hi; k++ {
			e.w[m] = append(e.w[m], full[k*p.NMel+m])
		}
	}
	return e, nil
}

// Params returns the extractor's constants.
func (e *Extractor) Params() Params { return e.p }

// Chunk is one chunk's features.
type Chunk struct {
	Mel    []float32 // [NMel, Frames] row-major (HF input_features layout)
	Frames int       // real mel frames L = ⌈samples/Hop⌉ (the feature attention mask's sum)
}

// Chunks splits samples (mono, SampleRate Hz) into Samples-long chunks and
// extracts each one's features independently, as the HF extractor does for
// one clip of up to 30 s.
func (e *Extractor) Chunks(samples []float32) []Chunk {
	var out []Chunk
	for off := 0; off < len(samples); off += e.p.Samples {
		out = append(out, e.Extract(samples[off:min(len(samples), off+e.p.Samples)]))
	}
	return out
}

// Extract computes the features of one chunk; samples beyond Samples are ignored.
//
//	samples ─ zero-pad to Samples ─ reflect-pad NFFT/2 each side
//	frame t = padded[t·Hop, t·Hop+NFFT) · Hann → |rfft|² → mel → log10(max(·,1e-10))
//	drop the last frame; x = max(x, max(x)−8); (x+4)/4
func (e *Extractor) Extract(samples []float32) Chunk {
	p := e.p
	if len(samples) > p.Samples {
		samples = samples[:p.Samples]
	}
	half := p.NFFT / 2
	n := p.Samples
	// padded is the zero-padded chunk reflected (numpy "reflect") at both ends.
	padded := make([]float64, n+2*half)
	for i, v := range samples {
		padded[half+i] = float64(v)
	}
	for i := 1; i <= half; i++ {
		padded[half-i] = padded[half+i]
		padded[half+n-1+i] = padded[half+n-1-i]
	}
	frames := p.Frames()
	bins := half + 1
	fft := fourier.NewFFT(p.NFFT)
	buf := make([]float64, p.NFFT)
	coef := make([]complex128, bins)
	power := make([]float64, bins)
	logmel := make([]float64, p.NMel*frames)
	mx := math.Inf(-1)
	for t := 0; t < frames; t++ {
		zero := true
		for i, v := range padded[t*p.Hop : t*p.Hop+p.NFFT] {
			buf[i] = v * e.window[i]
			zero = zero && buf[i] == 0
		}
		if zero {
			clear(power)
		} else {
			fft.Coefficients(coef, buf)
			for k, c := range coef {
				power[k] = real(c)*real(c) + imag(c)*imag(c)
			}
		}
		for m := 0; m < p.NMel; m++ {
			var s float64
			for k, w := range e.w[m] {
				s += w * power[e.lo[m]+k]
			}
			v := math.Log10(math.Max(s, 1e-10))
			logmel[m*frames+t] = v
			mx = math.Max(mx, v)
		}
	}
	mel := make([]float32, len(logmel))
	for i, v := range logmel {
		mel[i] = float32((math.Max(v, mx-8) + 4) / 4)
	}
	return Chunk{Mel: mel, Frames: (len(samples) + p.Hop - 1) / p.Hop}
}

// hzToMel is the Slaney mel scale: linear below 1 kHz, logarithmic above.
func hzToMel(f float64) float64 {
	if f >= 1000 {
		return 15 + math.Log(f/1000)*27/math.Log(6.4)
	}
	return 3 * f / 200
}

func melToHz(m float64) float64 {
	if m >= 15 {
		return 1000 * math.Exp(math.Log(6.4)/27*(m-15))
	}
	return 200 * m / 3
}

// MelFilters is HF's mel_filter_bank(bins, nMel, fmin, fmax, rate,
// norm="slaney", mel_scale="slaney"): [bins, nMel] row-major, triangles
// between mel-spaced edges over FFT bin frequencies 0..rate/2, each scaled by
// 2/(right edge − left edge) in Hz.
func MelFilters(bins, nMel int, fmin, fmax float64, rate int) []float64 {
	lo, hi := hzToMel(fmin), hzToMel(fmax)
	edges := make([]float64, nMel+2)
	step := (hi - lo) / float64(nMel+1) // np.linspace
	for i := range edges {
		m := lo + float64(i)*step
		if i == nMel+1 {
			m = hi
		}
		edges[i] = melToHz(m)
	}
	out := make([]float64, bins*nMel)
	fstep := float64(rate/2) / float64(max(bins-1, 1))
	for k := 0; k < bins; k++ {
		f := float64(k) * fstep
		for m := 0; m < nMel; m++ {
			down := (f - edges[m]) / (edges[m+1] - edges[m])
			up := (edges[m+2] - f) / (edges[m+2] - edges[m+1])
			v := math.Max(0, math.Min(down, up))
			out[k*nMel+m] = v * 2 / (edges[m+2] - edges[m])
		}
	}
	return out
}
