//go:build cgo

package cpu

/*
#include "kern_dispatch.h"
*/
import "C"

import (
	"time"

	"github.com/sightline/sightline/llm/tensor"
)

// ProbeFMA measures the FP32 FMA peak of this backend's level and threads in
// GFLOP/s: independent FMA chains in registers, no memory traffic.
func (b *Backend) ProbeFMA() float64 {
	const iters = 20_000_000
	flops := make([]float64, b.threads)
	sinks := make([]float32, b.threads)
	b.pool.run(b.threads, func(tid int) { C.k_fma_probe(C.int(b.level), 1_000_000, (*C.float)(&sinks[tid])) }) // warm up
	start := time.Now()
	b.pool.run(b.threads, func(tid int) {
		flops[tid] = float64(C.k_fma_probe(C.int(b.level), iters, (*C.float)(&sinks[tid])))
	})
	el := time.Since(start).Seconds()
	var total float64
	for _, f := range flops {
		total += f
	}
	return total / el / 1e9
}

// ProbeTriad measures STREAM-triad bandwidth (c = a + s·b, 3 arrays of mb MiB
// each) in GB/s, counting 3 streams of traffic, best of reps.
func (b *Backend) ProbeTriad(mb, reps int) float64 {
	n := mb << 20 / 4
	a, bb, c := tensor.AlignedF32(n), tensor.AlignedF32(n), tensor.AlignedF32(n)
	for i := range a {
		a[i], bb[i] = float32(i%7), float32(i%5)
	}
	best := 0.0
	for r := 0; r < reps+1; r++ {
		start := time.Now()
		b.pool.run(b.threads, func(tid int) {
			lo, hi := split(n, b.threads, tid)
			C.k_triad(C.int(b.level), fs(c[lo:hi]), fs(a[lo:hi]), fs(bb[lo:hi]), C.long(hi-lo), 1.5)
		})
		if gbs := 3 * float64(n) * 4 / time.Since(start).Seconds() / 1e9; r > 0 && gbs > best {
			best = gbs
		}
	}
	return best
}

// ProbeRead measures streaming read bandwidth (a sum over mb MiB split across
// the threads) in GB/s, best of reps: the roofline of a memory-bound GEMV.
func (b *Backend) ProbeRead(mb, reps int) float64 {
	n := mb << 20 / 4
	a := tensor.AlignedF32(n)
	for i := range a {
		a[i] = float32(i % 7)
	}
	sinks := make([]float32, b.threads)
	best := 0.0
	for r := 0; r < reps+1; r++ {
		start := time.Now()
		b.pool.run(b.threads, func(tid int) {
			lo, hi := split(n, b.threads, tid)
			sinks[tid] = float32(C.k_read(C.int(b.level), fs(a[lo:hi]), C.long(hi-lo)))
		})
		if gbs := float64(n) * 4 / time.Since(start).Seconds() / 1e9; r > 0 && gbs > best {
			best = gbs
		}
	}
	return best
}
