package media

import (
	"fmt"
	"math"
)

// fftMaxConv bounds the FFT resampler's convolution size (about 100 MB of
// transient complex128 buffers); longer clips use the windowed-sinc path.
const fftMaxConv = 1 << 21

// Resample converts p to rate Hz (anti-aliased), returning p itself when the
// rates match. The output has floor(n·rate/p.Rate) samples, like SGLang's
// load_audio.
//
// Clips whose transforms fit fftMaxConv (to 16 kHz: about 44 s at 44.1 kHz,
// 37 s at 48 kHz, 65 s at 8 kHz) are resampled exactly like
// scipy.signal.resample (what SGLang uses): spectrum truncated or
// zero-padded, the Nyquist bin split or folded as scipy does, periodic
// boundary. Longer clips use a Kaiser-windowed sinc
// (≥ 90 dB stop-band, pass-band to 90 % of the lower Nyquist) so memory stays
// linear.
func Resample(p *PCM, rate int) (*PCM, error) {
	if p.Rate == rate {
		return p, nil
	}
	if rate <= 0 || p.Rate <= 0 {
		return nil, fmt.Errorf("%w: resample %d Hz → %d Hz", ErrInvalid, p.Rate, rate)
	}
	n := len(p.Samples)
	m := int(float64(n) * float64(rate) / float64(p.Rate))
	if m < 1 {
		return nil, fmt.Errorf("%w: clip of %d samples is too short to resample from %d to %d Hz", ErrDecode, n, p.Rate, rate)
	}
	var out []float32
	if nyq := min(m, n)/2 + 1; n+nyq-1 <= fftMaxConv && 2*m-1 <= fftMaxConv {
		out = resampleFFT(p.Samples, m)
	} else {
		out = resampleSinc(p.Samples, p.Rate, rate, m)
	}
	return &PCM{Rate: rate, Samples: out}, nil
}

// resampleFFT is scipy.signal.resample(x, m) for real x.
func resampleFFT(x []float32, m int) []float32 {
	n := len(x)
	N := min(m, n)
	nyq := N/2 + 1
	X := dftPrefix(func(j int) complex128 { return complex(float64(x[j]), 0) }, n, nyq, false)
	if N%2 == 0 {
		switch {
		case m < n:
			X[N/2] *= 2
		case m > n:
			X[N/2] *= 0.5
		}
	}
	// Hermitian spectrum of length m as irfft reads it: imaginary parts of
	// the DC and (even m) Nyquist bins are ignored.
	at := func(k int) complex128 {
		var c complex128
		switch {
		case k == 0:
			c = complex(real(X[0]), 0)
		case 2*k == m:
			if k < nyq {
				c = complex(real(X[k]), 0)
			}
		case 2*k < m:
			if k < nyq {
				c = X[k]
			}
		default:
			if m-k < nyq {
				c = conj(X[m-k])
			}
		}
		return c
	}
	y := dftPrefix(at, m, m, true)
	out := make([]float32, m)
	scale := 1 / float64(n) // irfft's 1/m times scipy's m/n
	for i := range out {
		out[i] = float32(real(y[i]) * scale)
	}
	return out
}

// Windowed-sinc design: Kaiser β for ≥ 90 dB, transition band from 90 % to
// 100 % of the lower Nyquist, kernel tabulated at sincOversample points per
// input sample (scaled) and linearly interpolated.
const (
	sincAtten      = 90.0
	sincOversample = 512
)

func resampleSinc(x []float32, from, to, m int) []float32 {
	fc := 0.5 * float64(min(from, to)) / float64(from) // lower Nyquist, cycles per input sample
	tw := 0.1 * fc                                     // transition width
	cut := fc - tw/2                                   // 6 dB point
	beta := 0.1102 * (sincAtten - 8.7)
	half := int(math.Ceil((sincAtten-7.95)/(14.36*tw)/2)) + 1 // half-length in input samples
	// Kernel k(d) = 2·cut·sinc(2·cut·d)·kaiser(d/half), d in input samples.
	nt := half*sincOversample + 2
	table := make([]float64, nt)
	i0b := besselI0(beta)
	for i := range table {
		d := float64(i) / sincOversample
		r := d / float64(half)
		if r > 1 {
			continue
		}
		table[i] = 2 * cut * sinc(2*cut*d) * besselI0(beta*math.Sqrt(1-r*r)) / i0b
	}
	// Phase-major copy for contiguous inner loops: pm[p][q] holds the value
	// and slope (to the next table point) at distance (p + q·O)/O.
	pm := make([][]float64, sincOversample)
	for p := range pm {
		row := make([]float64, 0, 2*half)
		for q := 0; q < half; q++ {
			i := p + q*sincOversample
			if i+1 >= nt {
				break
			}
			row = append(row, table[i], table[i+1]-table[i])
		}
		pm[p] = row
	}
	out := make([]float32, m)
	n := len(x)
	step := float64(n) / float64(m) // scipy's grid: m samples over the same span
	// Taps left of t sit at distances frac, frac+1, …; right of t at
	// 1-frac, 2-frac, …: each side steps one table row per tap with a single
	// interpolation fraction.
	side := func(dist0 float64, k0, dir int) float64 {
		p := dist0 * sincOversample
		i0 := int(p)
		f := p - float64(i0)
		var row []float64
		if i0 < sincOversample {
			row = pm[i0]
		} else { // dist0 == 1: distances 1, 2, … are entries 1, 2, … of phase 0
			row = pm[0][2:]
			f = 0
		}
		var acc float64
		if dir > 0 {
			xs := x[min(k0, n):min(n, k0+len(row)/2)]
			for q, v := range xs {
				acc += (row[2*q] + f*row[2*q+1]) * float64(v)
			}
			return acc
		}
		for q := 0; 2*q+1 < len(row) && k0-q >= 0; q++ {
			acc += (row[2*q] + f*row[2*q+1]) * float64(x[k0-q])
		}
		return acc
	}
	for j := range out {
		t := float64(j) * step
		c := int(math.Floor(t))
		frac := t - float64(c)
		out[j] = float32(side(frac, c, -1) + side(1-frac, c+1, 1))
	}
	return out
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0 (series).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
