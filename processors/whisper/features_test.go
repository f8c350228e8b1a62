package whisper

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refLogMel is an independent float64 transcription of Hugging Face's
// WhisperFeatureExtractor (numpy path): an explicit padded array, a direct
// DFT from a cosine table, a dense filterbank built from the Slaney formulas.
// It returns [NMel][frames].
func refLogMel(x []float32, p Params) [][]float64 {
	n := p.Samples
	sig := make([]float64, n)
	for i := 0; i < len(x) && i < n; i++ {
		sig[i] = float64(x[i])
	}
	half := p.NFFT / 2
	padded := make([]float64, n+2*half)
	copy(padded[half:], sig)
	for i := 1; i <= half; i++ { // numpy "reflect": the edge sample is not repeated
		padded[half-i] = sig[i]
		padded[half+n-1+i] = sig[n-1-i]
	}
	nFrames := 1 + (len(padded)-p.NFFT)/p.Hop
	bins := p.NFFT/2 + 1
	cos, sin := make([]float64, p.NFFT), make([]float64, p.NFFT)
	for i := range cos {
		cos[i] = math.Cos(2 * math.Pi * float64(i) / float64(p.NFFT))
		sin[i] = math.Sin(2 * math.Pi * float64(i) / float64(p.NFFT))
	}
	// Slaney mel scale.
	toMel := func(f float64) float64 {
		if f < 1000 {
			return f / (200.0 / 3)
		}
		return 15 + math.Log(f/1000)/(math.Log(6.4)/27)
	}
	toHz := func(m float64) float64 {
		if m < 15 {
			return m * 200 / 3
		}
		return 1000 * math.Pow(6.4, (m-15)/27)
	}
	pts := make([]float64, p.NMel+2)
	for i := range pts {
		pts[i] = toHz(toMel(p.FMin) + (toMel(p.FMax)-toMel(p.FMin))*float64(i)/float64(p.NMel+1))
	}
	fb := make([][]float64, p.NMel)
	for m := range fb {
		fb[m] = make([]float64, bins)
		left, centre, right := pts[m], pts[m+1], pts[m+2]
		for k := range fb[m] {
			f := float64(k) * float64(p.SampleRate) / float64(p.NFFT)
			var w float64
			switch {
			case f > left && f <= centre:
				w = (f - left) / (centre - left)
			case f > centre && f < right:
				w = (right - f) / (right - centre)
			}
			fb[m][k] = w * 2 / (right - left)
		}
	}
	out := make([][]float64, p.NMel)
	for m := range out {
		out[m] = make([]float64, nFrames)
	}
	frame, power := make([]float64, p.NFFT), make([]float64, bins)
	for t := 0; t < nFrames; t++ {
		silent := true
		for i := range frame {
			frame[i] = padded[t*p.Hop+i] * (0.5 - 0.5*cos[i])
			silent = silent && frame[i] == 0
		}
		for k := 0; k < bins && !silent; k++ {
			var re, im float64
			for i, v := range frame {
				j := k * i % p.NFFT
				re += v * cos[j]
				im -= v * sin[j]
			}
			power[k] = re*re + im*im
		}
		if silent {
			clear(power)
		}
		for m := range out {
			var s float64
			for k, w := range fb[m] {
				s += w * power[k]
			}
			out[m][t] = math.Log10(math.Max(s, 1e-10))
		}
	}
	mx := math.Inf(-1)
	for m := range out {
		out[m] = out[m][:nFrames-1]
		for _, v := range out[m] {
			mx = math.Max(mx, v)
		}
	}
	for m := range out {
		for t, v := range out[m] {
			out[m][t] = (math.Max(v, mx-8) + 4) / 4
		}
	}
	return out
}

func noisyTones(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		t := float64(i) / 16000
		x[i] = float32(0.3*math.Sin(2*math.Pi*440*t) + 0.2*math.Sin(2*math.Pi*3100*t+1) + 0.05*(r.Float64()*2-1))
	}
	return x
}

func TestExtractMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Params
		samples int
	}{
		{"128 mels, 1 s chunk, partial", withSamples(DefaultParams(128), 16000), 11111},
		{"80 mels, 1 s chunk, full", withSamples(DefaultParams(80), 16000), 16000},
		{"128 mels, 30 s chunk, 0.2 s clip", DefaultParams(128), 3200},
		{"80 mels, 2 s chunk, 1 sample", withSamples(DefaultParams(80), 32000), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewExtractor(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			x := noisyTones(tc.samples, uint64(tc.samples))
			got := e.Extract(x)
			want := refLogMel(x, tc.p)
			frames := tc.p.Frames()
			if len(got.Mel) != tc.p.NMel*frames || len(want[0]) != frames {
				t.Fatalf("%d values (reference %d frames), want %d×%d", len(got.Mel), len(want[0]), tc.p.NMel, frames)
			}
			var worst float64
			for m := range want {
				for f, w := range want[m] {
					worst = math.Max(worst, math.Abs(float64(got.Mel[m*frames+f])-w))
				}
			}
			t.Logf("max |Δ| vs the float64 reference: %.3g", worst)
			if worst > 2e-6 {
				t.Fatalf("features differ from the reference by %g", worst)
			}
		})
	}
}

func withSamples(p Params, n int) Params {
	p.Samples = n
	return p
}

func TestExtractFrames(t *testing.T) {
	e, err := NewExtractor(DefaultParams(128))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ samples, frames int }{
		{1, 1}, {159, 1}, {160, 1}, {161, 2}, {16000, 100}, {16001, 101}, {479999, 3000}, {480000, 3000}, {480001, 3000},
	} {
		c := e.Extract(make([]float32, tc.samples))
		if c.Frames != tc.frames || len(c.Mel) != 128*3000 {
			t.Errorf("%d samples: %d real frames, %d values; want %d, %d", tc.samples, c.Frames, len(c.Mel), tc.frames, 128*3000)
		}
	}
	chunks := e.Chunks(make([]float32, 65*16000))
	if len(chunks) != 3 || chunks[0].Frames != 3000 || chunks[1].Frames != 3000 || chunks[2].Frames != 500 {
		t.Fatalf("65 s gave %d chunks", len(chunks))
	}
}

// TestPureTonePeak checks that a pure tone peaks sharply in a mel bin whose
// triangle contains it, next to or at the one centred nearest to it (area
// normalisation favours the narrower, lower neighbour).
func TestPureTonePeak(t *testing.T) {
	for _, nMel := range []int{80, 128} {
		p := DefaultParams(nMel)
		e, err := NewExtractor(p)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := hzToMel(0), hzToMel(8000)
		for _, f := range []float64{1500, 2600, 4000, 6200} {
			x := make([]float32, 16000)
			for i := range x {
				x[i] = float32(0.5 * math.Sin(2*math.Pi*f*float64(i)/16000))
			}
			c := e.Extract(x)
			best, nearest := 0, 0
			for m := 0; m < nMel; m++ {
				if c.Mel[m*3000+50] > c.Mel[best*3000+50] {
					best = m
				}
				centre := melToHz(lo + (hi-lo)*float64(m+1)/float64(nMel+1))
				prev := melToHz(lo + (hi-lo)*float64(nearest+1)/float64(nMel+1))
				if math.Abs(centre-f) < math.Abs(prev-f) {
					nearest = m
				}
			}
			left := melToHz(lo + (hi-lo)*float64(best)/float64(nMel+1))
			right := melToHz(lo + (hi-lo)*float64(best+2)/float64(nMel+1))
			if best < nearest-1 || best > nearest+1 || f <= left || f >= right {
				t.Errorf("%d mels, %v Hz: peak in bin %d (%.0f..%.0f Hz), nearest centre is bin %d", nMel, f, best, left, right, nearest)
			}
			if d := c.Mel[best*3000+50] - c.Mel[(best-6)*3000+50]; d < 0.5 {
				t.Errorf("%d mels, %v Hz: peak only %v above bin %d", nMel, f, d, best-6)
			}
			// far from the tone the clip is silent: the floor max−8 (scaled: peak−2)
			if floor := c.Mel[0*3000+50]; math.Abs(float64(floor)-float64(maxOf(c.Mel)-2)) > 1e-6 {
				t.Errorf("%d mels, %v Hz: bin 0 is %v, want the floor %v", nMel, f, floor, maxOf(c.Mel)-2)
			}
		}
	}
}

func maxOf(v []float32) float32 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// TestPadding checks that every frame past the clip (and its reflection
// window) holds the floor value max(−10, max−8), scaled.
func TestPadding(t *testing.T) {
	e, err := NewExtractor(DefaultParams(80))
	if err != nil {
		t.Fatal(err)
	}
	x := noisyTones(8000, 3) // 0.5 s: frame t reads samples [160t−200, 160t+200)
	c := e.Extract(x)
	peak := float64(maxOf(c.Mel))
	floor := math.Max(-1.5, peak-2)
	for m := 0; m < 80; m++ {
		for f := 0; f < 3000; f++ {
			v := float64(c.Mel[m*3000+f])
			if v < floor-1e-6 {
				t.Fatalf("mel %d frame %d = %v below the floor %v", m, f, v, floor)
			}
			if f >= 52 && math.Abs(v-floor) > 1e-6 {
				t.Fatalf("padding frame %d mel %d = %v, want the floor %v", f, m, v, floor)
			}
		}
	}
	if c.Mel[10*3000+10] <= float32(floor)+0.1 {
		t.Fatalf("a frame inside the clip is at the floor")
	}
}
