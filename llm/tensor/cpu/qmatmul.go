//go:build cgo

package cpu

/*
#include "kern_dispatch.h"
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/sightline/sightline/llm/tensor"
)

// qstate is the scratch of MatMul with block-quantised weights (kern_q.h):
// the quantised activations of one call and each thread's unpacked columns.
type qstate struct {
	mu                  sync.Mutex // one quantised MatMul at a time owns the buffers
	bps, vl, cols, gemv int        // level geometry: blocks and lanes per step, GEMM tile and GEMV columns
	act                 []float32  // xq, xd, xs of the current call
	scr                 [][]float32
}

func (q *qstate) init(lv Level, threads int) {
	q.bps = int(C.k_qgeom(C.int(lv), 0))
	q.vl = int(C.k_qgeom(C.int(lv), 1))
	q.cols = int(C.k_qgeom(C.int(lv), 2))
	q.gemv = int(C.k_qgeom(C.int(lv), 3))
	q.scr = make([][]float32, threads)
}

// geom returns the padded blocks and halves per row of k elements, and the
// scratch floats one thread needs.
func (q *qstate) geom(k int) (nbp, nhp, scr int) {
	nbp = (k/32 + q.bps - 1) / q.bps * q.bps
	nhp = (2*nbp + q.vl - 1) / q.vl * q.vl
	return nbp, nhp, max(q.cols*(nbp*16+nbp*(q.vl/q.bps)+nhp), q.gemv*nhp)
}

func grow(buf []float32, n int) []float32 {
	if len(buf) >= n {
		return buf
	}
	return tensor.AlignedF32(n)
}

// qmatmul is MatMul with a row-major block-quantised w [n, k]: the rows of a
// are quantised (tensor.QuantizeAct), then the threads compute chunks of
// output columns.
func (b *Backend) qmatmul(dst, a, w *tensor.Tensor, m, n, k int) {
	q := &b.q
	q.mu.Lock()
	defer q.mu.Unlock()
	nbp, nhp, scr := q.geom(k)
	q.act = grow(q.act, m*(nbp*8+nbp+nhp))
	xq := unsafe.Pointer(unsafe.SliceData(q.act))
	xd := unsafe.Add(xq, m*nbp*32)
	xs := unsafe.Add(xd, m*nbp*4)
	lv := C.int(b.level)
	ap := fp(a)
	b.rows(m, m*k, func(lo, hi int) {
		C.qact_call(lv, ap, C.long(k), C.long(k), C.long(lo), C.long(hi), (*C.int8_t)(xq), (*C.float)(xd), (*C.float)(xs),
			C.long(nbp), C.long(nhp))
	})
	rb, _ := w.DType.RowBytes(k)
	t := min(b.threads, max(1, m*n*k/(1<<16)), n)
	for tid := 0; tid < t; tid++ {
		q.scr[tid] = grow(q.scr[tid], scr)
	}
	// Columns are handed out in chunks from a shared counter, about eight per
	// thread, so a thread slowed by the host takes fewer; every column is
	// computed whole by one thread, so the split never changes a result.
	chunk := max(q.gemv, (n+8*t-1)/(8*t))
	chunk = (chunk + q.gemv - 1) / q.gemv * q.gemv
	next := new(C.long) // the first column no thread has taken yet (C atomics)
	wp := (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(w.Data)))
	cp := fp(dst)
	b.pool.run(t, func(tid int) {
		C.qgemm_call(lv, C.int(w.DType), C.long(m), C.long(k), wp, C.long(rb), C.long(n), C.long(chunk), next,
			(*C.int8_t)(xq), (*C.float)(xd), (*C.float)(xs), C.long(nbp), C.long(nhp), cp, C.long(n), fs(q.scr[tid]))
	})
}
