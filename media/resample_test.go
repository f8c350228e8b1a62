package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// scipy.signal.resample(x, int(n·to/from)) goldens (testdata/README.md).
func TestResampleMatchesScipy(t *testing.T) {
	for _, c := range [][3]int{{44100, 16000, 4099}, {8000, 16000, 801}, {22050, 16000, 1024}, {16001, 16000, 3001}, {48000, 16000, 2400}} {
		base := filepath.Join("testdata", "resample", fmt.Sprintf("%d_%d_%d", c[0], c[1], c[2]))
		x, want := readF32(t, base+".in.f32"), readF32(t, base+".scipy.f32")
		got, err := Resample(&PCM{Rate: c[0], Samples: x}, c[1])
		if err != nil {
			t.Fatal(err)
		}
		if got.Rate != c[1] || len(got.Samples) != len(want) {
			t.Fatalf("%v: %d samples at %d Hz, want %d", c, len(got.Samples), got.Rate, len(want))
		}
		var maxd float64
		for i := range want {
			maxd = max(maxd, math.Abs(float64(got.Samples[i]-want[i])))
		}
		if maxd > 1e-6 {
			t.Errorf("%v: max diff %.3g from scipy", c, maxd)
		}
	}
}

func tone(rate, n int, hz, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)+0.4))
	}
	return x
}

// fitAmplitude is the least-squares amplitude of a hz sinusoid in the middle
// 80 % of y (away from edge effects).
func fitAmplitude(y []float32, rate int, hz float64) float64 {
	lo, hi := len(y)/10, len(y)-len(y)/10
	var ss, sc, cc, ys, yc float64
	for i := lo; i < hi; i++ {
		s, c := math.Sincos(2 * math.Pi * hz * float64(i) / float64(rate))
		ss, sc, cc = ss+s*s, sc+s*c, cc+c*c
		ys, yc = ys+float64(y[i])*s, yc+float64(y[i])*c
	}
	det := ss*cc - sc*sc
	a, b := (ys*cc-yc*sc)/det, (yc*ss-ys*sc)/det
	return math.Hypot(a, b)
}

func rmsMiddle(y []float32) float64 {
	lo, hi := len(y)/10, len(y)-len(y)/10
	var s float64
	for _, v := range y[lo:hi] {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(hi-lo))
}

// Anti-aliasing: 10 kHz folds to 6 kHz at 16 kHz unless filtered (a known
// pure-Go resampler lets it through at ~98 %). Both paths are checked.
func TestResampleAntiAliasing(t *testing.T) {
	const from, to = 44100, 16000
	n := from*3/2 + 37 // 1.5 s, not a whole number of cycles
	paths := map[string]func(x []float32, m int) []float32{
		"fft":  func(x []float32, m int) []float32 { return resampleFFT(x, m) },
		"sinc": func(x []float32, m int) []float32 { return resampleSinc(x, from, to, m) },
	}
	for name, f := range paths {
		m := int(float64(n) * to / from)
		alias := f(tone(from, n, 10000, 0.5), m)
		// 0.5 amplitude = RMS 0.354; ≥ 60 dB down means RMS ≤ 3.54e-4.
		db := 20 * math.Log10(rmsMiddle(alias)/(0.5/math.Sqrt2))
		pass := f(tone(from, n, 1000, 0.5), m)
		gain := 20 * math.Log10(fitAmplitude(pass, to, 1000)/0.5)
		t.Logf("%s: 10 kHz → %.1f dB, 1 kHz gain %.4f dB", name, db, gain)
		if db > -60 {
			t.Errorf("%s: 10 kHz tone only %.1f dB down", name, db)
		}
		if math.Abs(gain) > 0.1 {
			t.Errorf("%s: 1 kHz gain %.3f dB", name, gain)
		}
	}
}

// The sinc path (long clips) stays close to the FFT path away from the edges.
func TestResampleSincTracksFFT(t *testing.T) {
	x := make([]float32, 30000)
	for i := range x { // 382 Hz, 4.6 kHz and 6.5 kHz at 48 kHz: inside both pass-bands
		t := float64(i) / 48000
		x[i] = float32(0.3*math.Sin(2*math.Pi*382*t) + 0.2*math.Sin(2*math.Pi*4584*t) + 0.1*math.Sin(2*math.Pi*6500*t+1))
	}
	m := int(float64(len(x)) * 16000 / 48000)
	a, b := resampleFFT(x, m), resampleSinc(x, 48000, 16000, m)
	var maxd float64
	for i := m / 10; i < m-m/10; i++ {
		maxd = max(maxd, math.Abs(float64(a[i]-b[i])))
	}
	t.Logf("sinc vs fft: max diff %.2g", maxd)
	if maxd > 1e-3 {
		t.Errorf("sinc vs fft: max diff %.4f", maxd)
	}
}

func TestResampleEdgeCases(t *testing.T) {
	p := &PCM{Rate: 16000, Samples: []float32{1, 2}}
	if q, err := Resample(p, 16000); err != nil || q != p {
		t.Errorf("same rate: %v %v", q, err)
	}
	if _, err := Resample(&PCM{Rate: 44100, Samples: []float32{1, 2}}, 16000); !errors.Is(err, ErrDecode) {
		t.Errorf("too short: %v", err)
	}
	if _, err := Resample(&PCM{Rate: 44100, Samples: []float32{1}}, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero rate: %v", err)
	}
	// Lengths follow int(n·to/from) like SGLang: 1 s + 1 sample at 44.1 kHz.
	q, err := Resample(&PCM{Rate: 44100, Samples: make([]float32, 44101)}, 16000)
	if err != nil || len(q.Samples) != 16000 {
		t.Errorf("length %d, %v", len(q.Samples), err)
	}
	for _, n := range []int{3, 5, 7, 8, 9} {
		q, err := Resample(&PCM{Rate: 8000, Samples: tone(8000, n, 1000, 0.5)}, 16000)
		if err != nil || len(q.Samples) != 2*n {
			t.Errorf("upsample %d: %d, %v", n, len(q.Samples), err)
		}
	}
}

// dftPrefix against the O(n²) definition, for power-of-two, Bluestein and
// four-step sizes.
func TestDFTPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 8, 17, 100, 1000, 1 << 14} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(r.NormFloat64(), r.NormFloat64())
		}
		for _, inverse := range []bool{false, true} {
			k := min(n, 37)
			got := dftPrefix(func(j int) complex128 { return x[j] }, n, k, inverse)
			sign := -1.0
			if inverse {
				sign = 1
			}
			for i := range k {
				var want complex128
				for j := range n {
					want += x[j] * cmplx.Exp(complex(0, sign*2*math.Pi*float64(i*j%n)/float64(n)))
				}
				if cmplx.Abs(got[i]-want) > 1e-9*float64(n) {
					t.Fatalf("n=%d inverse=%v bin %d: %v want %v", n, inverse, i, got[i], want)
				}
			}
		}
	}
}
