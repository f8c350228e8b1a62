package tensor

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
)

var quantTypes = []DType{Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS}

// TestDequantGoldens: every quantised type decodes the golden blocks of
// testdata/quant (an independent float32 reference of ggml's layouts, edge
// scales and codes included; see testdata/README.md) bit for bit.
func TestDequantGoldens(t *testing.T) {
	for _, dt := range quantTypes {
		raw, err := fixtures.ReadFile(filepath.Join(fixtures.Root(), "testdata", "quant", dt.String()+".bin"))
		if err != nil {
			t.Fatalf("%v: %v", dt, err)
		}
		n := int(binary.LittleEndian.Uint32(raw))
		blocks := raw[4 : 4+n*dt.BlockBytes()]
		want := raw[4+n*dt.BlockBytes():]
		if len(want) != 4*n*dt.BlockSize() {
			t.Fatalf("%v: golden file holds %d value bytes for %d blocks", dt, len(want), n)
		}
		got := make([]float32, n*dt.BlockSize())
		if err := DecodeRow(dt, blocks, got); err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			w := math.Float32frombits(binary.LittleEndian.Uint32(want[4*i:]))
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				t.Fatalf("%v: block %d element %d = %v (%#08x), golden %v (%#08x)", dt, i/dt.BlockSize(), i%dt.BlockSize(),
					g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
}

// quantTol is the largest RMS error of EncodeRow→DecodeRow relative to the
// RMS of uniform random values.
var quantTol = map[DType]float64{Q8_0: 0.006, Q4_0: 0.1, Q4_1: 0.08, Q5_0: 0.05, Q5_1: 0.04, Q2_K: 0.4, Q3_K: 0.2,
	Q4_K: 0.09, Q5_K: 0.045, Q6_K: 0.025, IQ4_NL: 0.1, IQ4_XS: 0.1}

func TestQuantizeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	for _, dt := range quantTypes {
		n := 4 * 256
		x := make([]float32, n)
		for i := range x {
			x[i] = (r.Float32()*2 - 1) * float32(math.Pow(10, float64(i/256-2))) // four decades
		}
		enc, err := EncodeRow(dt, nil, x)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := dt.RowBytes(n); len(enc) != want {
			t.Fatalf("%v: %d bytes, want %d", dt, len(enc), want)
		}
		y := make([]float32, n)
		if err := DecodeRow(dt, enc, y); err != nil {
			t.Fatal(err)
		}
		for s := 0; s < n; s += 256 {
			var e2, x2 float64
			for i := s; i < s+256; i++ {
				e2 += float64((y[i] - x[i]) * (y[i] - x[i]))
				x2 += float64(x[i] * x[i])
			}
			if rel := math.Sqrt(e2 / x2); rel > quantTol[dt] || math.IsNaN(rel) {
				t.Errorf("%v: relative RMS error %.4f at scale 1e%d (tolerance %v)", dt, rel, s/256-2, quantTol[dt])
			}
		}
		// degenerate blocks: zeros, a constant, one outlier, non-finite values
		for _, fill := range []func(i int) float32{
			func(int) float32 { return 0 },
			func(int) float32 { return -0.75 },
			func(i int) float32 { return float32(i%3) * 1e-3 * float32(1+999*(i/200)) },
			func(i int) float32 { return []float32{float32(math.NaN()), float32(math.Inf(1)), 1}[i%3] },
		} {
			b := make([]float32, 256)
			for i := range b {
				b[i] = fill(i)
			}
			enc, err := EncodeRow(dt, nil, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := DecodeRow(dt, enc, y[:256]); err != nil {
				t.Fatal(err)
			}
			if b[0] == 0 && b[1] == 0 {
				for i, v := range y[:256] {
					if v != 0 {
						t.Fatalf("%v: zero block decodes to %v at %d", dt, v, i)
					}
				}
			}
			if b[0] == -0.75 {
				for i, v := range y[:256] {
					if math.Abs(float64(v)+0.75) > 0.75*quantTol[dt] {
						t.Fatalf("%v: constant −0.75 decodes to %v at %d", dt, v, i)
					}
				}
			}
		}
	}
}

func TestDTypeTable(t *testing.T) {
	for _, dt := range DTypes() {
		back, ok := ParseDType(dt.String())
		if !ok || back != dt {
			t.Errorf("%v does not parse back", dt)
		}
		if dt.Quantized() != (dt.BlockSize() > 1) {
			t.Errorf("%v: Quantized %v with block %d", dt, dt.Quantized(), dt.BlockSize())
		}
	}
	if _, ok := ParseDType("q4_k"); !ok {
		t.Error("names are case-insensitive")
	}
	if DType(numDTypes).Valid() || DType(numDTypes).BlockSize() != 0 {
		t.Error("out-of-range dtype is valid")
	}
}

// TestQuantizeAct pins the activation quantiser: scale max|x|/127, ties to
// even, clamping, zero blocks.
func TestQuantizeAct(t *testing.T) {
	x := make([]float32, 64)
	x[0], x[1], x[2], x[3] = 127, -63.5, 62.5, 0.5 // scale 1: ties go to even
	x[4] = float32(math.NaN())
	q, d := make([]int8, 64), make([]float32, 2)
	QuantizeAct(x, q, d)
	if d[0] != 1 || d[1] != 0 {
		t.Fatalf("scales %v", d)
	}
	for i, want := range []int8{127, -64, 62, 0, 127} {
		if q[i] != want {
			t.Errorf("q[%d] = %d, want %d", i, q[i], want)
		}
	}
	for _, v := range q[32:] {
		if v != 0 {
			t.Fatal("zero block has non-zero codes")
		}
	}
	r := rand.New(rand.NewPCG(2, 3))
	for i := range x {
		x[i] = r.Float32()*6 - 3
	}
	QuantizeAct(x, q, d)
	for i, v := range x {
		if e := math.Abs(float64(v - d[i/32]*float32(q[i]))); e > float64(d[i/32])*0.5001 {
			t.Fatalf("x[%d] = %v quantised to %d·%v", i, v, q[i], d[i/32])
		}
	}
}
