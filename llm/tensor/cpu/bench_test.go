//go:build cgo

package cpu

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

// benchThreads is the thread count of the targets.
const benchThreads = 2

var roofline struct {
	once             sync.Once
	read, triad, fma float64
}

// machineLimits measures, once per run, this machine's triad bandwidth and
// FMA peak at the best level with benchThreads threads.
func machineLimits(b *testing.B) (gbs, gflops float64) {
	roofline.once.Do(func() {
		be, err := New(tensor.Options{Threads: benchThreads})
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		roofline.read = be.ProbeRead(512, 3)
		roofline.triad = be.ProbeTriad(256, 3)
		roofline.fma = be.ProbeFMA()
		fmt.Printf("machine: level %v, %d threads: streaming read %.1f GB/s, triad %.1f GB/s, FMA peak %.1f GFLOP/s\n",
			be.Level(), benchThreads, roofline.read, roofline.triad, roofline.fma)
	})
	return roofline.read, roofline.fma
}

func BenchmarkProbe(b *testing.B) {
	be, err := New(tensor.Options{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	b.Run("triad", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(be.ProbeTriad(256, 1), "GB/s")
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(be.ProbeRead(512, 1), "GB/s")
		}
	})
	b.Run("fma", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(be.ProbeFMA(), "GFLOP/s")
		}
	})
}

// BenchmarkMatMul covers Qwen2-0.5B's matrix shapes. m=1 reports GB/s of
// weights read and the fraction of the streaming read bandwidth; m ≥ 64 reports
// GFLOP/s and the fraction of the FMA peak.
func BenchmarkMatMul(b *testing.B) {
	shapes := [][2]int{{896, 896}, {896, 4864}, {4864, 896}, {896, 151936}}
	r := rand.New(rand.NewPCG(1, 1))
	be, err := New(tensor.Options{Threads: benchThreads})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	for _, dt := range dtypes {
		for _, s := range shapes {
			k, n := s[0], s[1]
			if k%dt.BlockSize() != 0 {
				continue
			}
			var w *tensor.Tensor
			for _, m := range []int{1, 4, 8, 16, 64, 512} {
				b.Run(fmt.Sprintf("%v/k%d_n%d/m%d", dt, k, n, m), func(b *testing.B) {
					gbs, peak := machineLimits(b)
					if w == nil {
						vals := make([]float32, n*k)
						for i := range vals {
							vals[i] = r.Float32() - 0.5
						}
						enc, err := tensor.EncodeRow(dt, nil, vals)
						if err != nil {
							b.Fatal(err)
						}
						if w, err = be.Weight(dt, []int{n, k}, enc); err != nil {
							b.Fatal(err)
						}
					}
					a, _ := be.FromF32(make([]float32, m*k), m, k)
					dst, _ := be.Alloc(tensor.F32, m, n)
					for b.Loop() {
						if err := be.MatMul(dst, a, w); err != nil {
							b.Fatal(err)
						}
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					if m == 1 {
						wb, _ := tensor.ByteSize(dt, []int{n, k})
						rate := float64(wb) / sec / 1e9
						b.ReportMetric(rate, "GB/s")
						b.ReportMetric(100*rate/gbs, "%read")
					} else {
						rate := 2 * float64(m) * float64(n) * float64(k) / sec / 1e9
						b.ReportMetric(rate, "GFLOP/s")
						b.ReportMetric(100*rate/peak, "%peak")
					}
				})
			}
		}
	}
}
