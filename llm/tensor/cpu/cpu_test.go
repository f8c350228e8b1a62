//go:build cgo

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tensor/tensortest"
)

var dtypes = tensor.DTypes()

// blockK rounds k up to a whole number of dt's blocks.
func blockK(dt tensor.DType, k int) int { bs := dt.BlockSize(); return (k + bs - 1) / bs * bs }

// backends returns one backend per supported level and thread count.
func backends(t *testing.T, threads ...int) []*Backend {
	t.Helper()
	sup := Supported()
	has := map[Level]bool{}
	for _, l := range sup {
		has[l] = true
	}
	for _, l := range []Level{AVX512, AVX2, AVX2W16} {
		if !has[l] {
			t.Logf("level %v not supported by this CPU: not exercised here", l)
		}
	}
	var bs []*Backend
	for _, l := range sup {
		for _, n := range threads {
			b, err := New(tensor.Options{Threads: n, Level: l.String()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			bs = append(bs, b)
		}
	}
	return bs
}

func randF32(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

// weightBytes returns a random [n,k] weight of dtype dt (random codes and
// sub-scales for block types) and its exact dequantised values.
func weightBytes(t *testing.T, r *rand.Rand, dt tensor.DType, n, k int) ([]byte, []float32) {
	t.Helper()
	enc, dec, err := tensortest.RandomWeight(r, dt, n, k, 1)
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// mk unwraps (tensor, error) results: mk(t)(b.Alloc(...)).
func mk(t *testing.T) func(*tensor.Tensor, error) *tensor.Tensor {
	return func(tt *tensor.Tensor, err error) *tensor.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
}

// matmulTol bounds float32 accumulation error: a relative error of 1e-5 of Σ|a·w|.
func checkMatMul(t *testing.T, name string, got, want []float32, a, w []float32, m, n, k int) {
	t.Helper()
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var mag float64
			for p := 0; p < k; p++ {
				mag += math.Abs(float64(a[i*k+p]) * float64(w[j*k+p]))
			}
			g, r := got[i*n+j], want[i*n+j]
			if d := math.Abs(float64(g - r)); d > 1e-5*mag+1e-30 || math.IsNaN(float64(g)) {
				t.Fatalf("%s: [%d,%d] = %v, ref %v (|Σ| %v)", name, i, j, g, r, mag)
			}
		}
	}
}

func TestMatMulAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rb := ref.New()
	shapes := [][3]int{{1, 1, 32}, {1, 33, 64}, {2, 65, 96}, {3, 100, 160}, {7, 31, 288}, {13, 70, 64},
		{1, 130, 320}, {40, 47, 96}, {100, 64, 32}, {400, 40, 64}}
	bs := backends(t, 1, 3)
	for _, dt := range dtypes {
		for _, s := range shapes {
			m, n, k := s[0], s[1], blockK(dt, s[2])
			if !dt.Quantized() && k > 64 {
				k++ // k need not be a multiple of 32 for plain dtypes
			}
			if dt.BlockSize() == 256 && m*n > 2000 {
				m = max(1, 2000/n) // keep the reference's float64 work small
			}
			enc, wv := weightBytes(t, r, dt, n, k)
			av := randF32(r, m*k, 2)
			wr := mk(t)(rb.Weight(dt, []int{n, k}, enc))
			want := mk(t)(rb.Alloc(tensor.F32, m, n))
			if err := rb.MatMul(want, mk(t)(rb.FromF32(av, m, k)), wr); err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				a := mk(t)(b.FromF32(av, m, k))
				w := mk(t)(b.Weight(dt, []int{n, k}, enc))
				dst := mk(t)(b.Alloc(tensor.F32, m, n))
				if err := b.MatMul(dst, a, w); err != nil {
					t.Fatal(err)
				}
				checkMatMul(t, fmt.Sprintf("%s/%s/%v", b.Name(), dt, s), dst.F32(), want.F32(), av, wv, m, n, k)
				// a row-major weight is packed on the fly
				wrm := &tensor.Tensor{DType: dt, Shape: []int{n, k}, Data: enc}
				dst2 := mk(t)(b.Alloc(tensor.F32, m, n))
				if err := b.MatMul(dst2, a, wrm); err != nil {
					t.Fatal(err)
				}
				if !bitsEqual(dst.F32(), dst2.F32()) {
					t.Fatalf("%s/%s: row-major weight gives different bits", b.Name(), dt)
				}
			}
		}
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestBatchInvariance: every row of a MatMul is bit-identical whether computed
// alone (m=1), among a few rows, or among 512, for any thread count.
func TestBatchInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const m, n = 512, 70
	for _, l := range Supported() {
		for _, dt := range dtypes {
			k := blockK(dt, 320)
			enc, _ := weightBytes(t, r, dt, n, k)
			av := randF32(r, m*k, 1)
			var full []float32
			for _, threads := range []int{1, 3} {
				b, err := New(tensor.Options{Threads: threads, Level: l.String()})
				if err != nil {
					t.Fatal(err)
				}
				w := mk(t)(b.Weight(dt, []int{n, k}, enc))
				run := func(rows []float32, mm int) []float32 {
					dst := mk(t)(b.Alloc(tensor.F32, mm, n))
					if err := b.MatMul(dst, mk(t)(b.FromF32(rows, mm, k)), w); err != nil {
						t.Fatal(err)
					}
					return dst.F32()
				}
				got := run(av, m)
				if full == nil {
					full = got
				} else if !bitsEqual(full, got) {
					t.Fatalf("%v/%v: m=%d differs between thread counts", l, dt, m)
				}
				for _, i := range []int{0, 1, 255, 511} {
					if one := run(av[i*k:(i+1)*k], 1); !bitsEqual(one, full[i*n:(i+1)*n]) {
						t.Fatalf("%v/%v threads=%d: row %d alone differs from row %d of m=%d", l, dt, threads, i, i, m)
					}
				}
				for _, mm := range []int{2, 5, 37, 100} {
					lo := 3
					if part := run(av[lo*k:(lo+mm)*k], mm); !bitsEqual(part, full[lo*n:(lo+mm)*n]) {
						t.Fatalf("%v/%v threads=%d: rows [%d,%d) as m=%d differ from m=%d", l, dt, threads, lo, lo+mm, mm, m)
					}
				}
				b.Close()
			}
		}
	}
}
