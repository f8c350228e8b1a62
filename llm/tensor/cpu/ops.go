//go:build cgo

package cpu

/*
#include "kern_dispatch.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/sightline/sightline/llm/tensor"
)

// threadsFor picks how many threads an op over `work` elements uses.
func (b *Backend) threadsFor(work int) int {
	if work < parallelMin {
		return 1
	}
	return b.threads
}

// rows runs f over [0, n) split into contiguous row ranges across threads.
func (b *Backend) rows(n, work int, f func(lo, hi int)) {
	t := min(b.threadsFor(work), n)
	if t <= 1 {
		f(0, n)
		return
	}
	b.pool.run(t, func(tid int) {
		lo, hi := split(n, t, tid)
		if lo < hi {
			f(lo, hi)
		}
	})
}

func (b *Backend) MatMul(dst, a, w *tensor.Tensor) error {
	m, n, k, err := tensor.CheckMatMul(dst, a, w)
	if err != nil {
		return err
	}
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 {
		clear(dst.F32()[:m*n])
		return nil
	}
	if w.DType.Quantized() {
		if w.Layout != tensor.RowMajor {
			return fmt.Errorf("%w: MatMul: quantised weight in layout %d", tensor.ErrShape, w.Layout)
		}
		if !aliasFree(dst, a) || !aliasFree(dst, w) {
			return fmt.Errorf("%w: MatMul: dst overlaps an input", tensor.ErrShape)
		}
		b.qmatmul(dst, a, w, m, n, k)
		return nil
	}
	switch w.Layout {
	case layoutPanels:
	case tensor.RowMajor:
		w = pack(w.DType, []int{n, k}, w.Data)
	default:
		return fmt.Errorf("%w: MatMul: unknown weight layout %d", tensor.ErrShape, w.Layout)
	}
	if !aliasFree(dst, a) || !aliasFree(dst, w) {
		return fmt.Errorf("%w: MatMul: dst overlaps an input", tensor.ErrShape)
	}
	np := (n + nr - 1) / nr
	ps := panelStride(w.DType, k)
	ap, wp, cp := fp(a), (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(w.Data))), fp(dst)
	dt := dtCode(w.DType)
	// Split over panels when there are enough, else over rows; either way each
	// output element is computed by exactly one thread in the same order.
	t := min(b.threads, max(1, m*n*k/(1<<16)))
	byRows := np < 2*t && m >= 2*b.mr*t
	if !byRows {
		t = min(t, np)
	}
	b.pool.run(t, func(tid int) {
		if byRows {
			lo, hi := split(m/b.mr, t, tid)
			lo *= b.mr
			hi *= b.mr
			if tid == t-1 {
				hi = m
			}
			if lo >= hi {
				return
			}
			C.gemm_call(C.int(b.level), C.long(hi-lo), C.long(n), C.long(k),
				(*C.float)(unsafe.Add(unsafe.Pointer(ap), lo*k*4)), C.long(k), wp, dt, C.long(ps),
				(*C.float)(unsafe.Add(unsafe.Pointer(cp), lo*n*4)), C.long(n), 0, C.long(np),
				fs(b.abuf[tid]), fs(b.bbuf[tid]))
			return
		}
		lo, hi := split(np, t, tid)
		if lo >= hi {
			return
		}
		C.gemm_call(C.int(b.level), C.long(m), C.long(n), C.long(k), ap, C.long(k), wp, dt, C.long(ps),
			cp, C.long(n), C.long(lo), C.long(hi), fs(b.abuf[tid]), fs(b.bbuf[tid]))
	})
	return nil
}

// aliasFree reports whether x's storage does not overlap dst's.
func aliasFree(dst, x *tensor.Tensor) bool {
	if len(dst.Data) == 0 || len(x.Data) == 0 {
		return true
	}
	d0 := uintptr(unsafe.Pointer(unsafe.SliceData(dst.Data)))
	x0 := uintptr(unsafe.Pointer(unsafe.SliceData(x.Data)))
	return d0+uintptr(len(dst.Data)) <= x0 || x0+uintptr(len(x.Data)) <= d0
}

func (b *Backend) binary(op string, dst, a, bt *tensor.Tensor, mul int) error {
	rows, cols, bcast, err := tensor.CheckBinary(op, dst, a, bt)
	if err != nil {
		return err
	}
	bc := 0
	if bcast {
		bc = 1
	}
	b.rows(rows, rows*cols, func(lo, hi int) {
		off := lo * cols
		boff := off
		if bcast {
			boff = 0
		}
		C.k_binop(C.int(b.level), fs(dst.F32()[off:]), fs(a.F32()[off:]), fs(bt.F32()[boff:]),
			C.long(hi-lo), C.long(cols), C.int(bc), C.int(mul))
	})
	return nil
}

func (b *Backend) Add(dst, a, bt *tensor.Tensor) error { return b.binary("Add", dst, a, bt, 0) }
func (b *Backend) Mul(dst, a, bt *tensor.Tensor) error { return b.binary("Mul", dst, a, bt, 1) }

// elems runs f over [0, n) elements in chunks across threads.
func (b *Backend) elems(n int, f func(lo, hi int)) { b.rows(n, n, f) }

func (b *Backend) Scale(dst, a *tensor.Tensor, s float32) error {
	n, err := tensor.CheckUnary("Scale", dst, a)
	if err != nil {
		return err
	}
	b.elems(n, func(lo, hi int) {
		C.k_scale(C.int(b.level), fs(dst.F32()[lo:]), fs(a.F32()[lo:]), C.long(hi-lo), C.float(s))
	})
	return nil
}

func (b *Backend) Act(dst, x *tensor.Tensor, f tensor.Activation) error {
	n, err := tensor.CheckAct(dst, x, f)
	if err != nil {
		return err
	}
	b.elems(n, func(lo, hi int) {
		C.k_act(C.int(b.level), fs(dst.F32()[lo:]), fs(x.F32()[lo:]), C.long(hi-lo), C.int(f))
	})
	return nil
}

func (b *Backend) SwiGLU(dst, gate, up *tensor.Tensor) error {
	n, err := tensor.CheckUnary("SwiGLU", dst, gate)
	if err != nil {
		return err
	}
	if _, err := tensor.CheckUnary("SwiGLU", dst, up); err != nil {
		return err
	}
	b.elems(n, func(lo, hi int) {
		C.k_swiglu(C.int(b.level), fs(dst.F32()[lo:]), fs(gate.F32()[lo:]), fs(up.F32()[lo:]), C.long(hi-lo))
	})
	return nil
}

func (b *Backend) RMSNorm(dst, x, w *tensor.Tensor, eps float32) error {
	rows, cols, err := tensor.CheckNorm("RMSNorm", dst, x, w, nil)
	if err != nil {
		return err
	}
	b.rows(rows, rows*cols, func(lo, hi int) {
		C.k_rmsnorm(C.int(b.level), fs(dst.F32()[lo*cols:]), fs(x.F32()[lo*cols:]), fp(w), C.long(hi-lo), C.long(cols), C.float(eps))
	})
	return nil
}

func (b *Backend) LayerNorm(dst, x, w, bias *tensor.Tensor, eps float32) error {
	rows, cols, err := tensor.CheckNorm("LayerNorm", dst, x, w, bias)
	if err != nil {
		return err
	}
	b.rows(rows, rows*cols, func(lo, hi int) {
		C.k_layernorm(C.int(b.level), fs(dst.F32()[lo*cols:]), fs(x.F32()[lo*cols:]), fp(w), fp(bias),
			C.long(hi-lo), C.long(cols), C.float(eps))
	})
	return nil
}

func (b *Backend) Softmax(dst, x *tensor.Tensor) error {
	if _, err := tensor.CheckUnary("Softmax", dst, x); err != nil {
		return err
	}
	rows, cols := x.Rows(), x.Cols()
	b.rows(rows, rows*cols, func(lo, hi int) {
		C.k_softmax(C.int(b.level), fs(dst.F32()[lo*cols:]), fs(x.F32()[lo*cols:]), C.long(hi-lo), C.long(cols))
	})
	return nil
}

func (b *Backend) RoPE(dst, x *tensor.Tensor, pos []int32, p tensor.RoPE) error {
	T, H, D, err := tensor.CheckRoPE(dst, x, pos, p)
	if err != nil {
		return err
	}
	if T*H*D == 0 {
		return nil
	}
	half := p.Dims / 2
	cos, sin := make([]float32, T*half), make([]float32, T*half)
	p.Angles(pos, T, cos, sin)
	adj := 0
	if p.Mode == tensor.RoPENorm {
		adj = 1
	}
	C.rope_apply(fp(dst), fp(x), C.long(T), C.long(H), C.long(D), C.long(p.Dims), C.int(adj), fs(cos), fs(sin))
	return nil
}

func (b *Backend) Gather(dst, table *tensor.Tensor, ids []int32) error {
	d, err := tensor.CheckGather(dst, table, ids)
	if err != nil {
		return err
	}
	if table.Layout != tensor.RowMajor && table.Layout != layoutPanels {
		return fmt.Errorf("%w: Gather: unknown layout %d", tensor.ErrShape, table.Layout)
	}
	dv := dst.F32()
	for i, id := range ids {
		weightRow(table, int(id), d, dv[i*d:(i+1)*d])
	}
	return nil
}

func (b *Backend) SetRows(dst *tensor.Tensor, rows []int32, src *tensor.Tensor) error {
	if err := tensor.CheckSetRows(dst, rows, src); err != nil {
		return err
	}
	d := dst.Cols()
	dv, sv := dst.F32(), src.F32()
	for i, r := range rows {
		copy(dv[int(r)*d:(int(r)+1)*d], sv[i*d:(i+1)*d])
	}
	return nil
}

func (b *Backend) Concat(dst *tensor.Tensor, axis int, srcs ...*tensor.Tensor) error {
	outer, inner, err := tensor.CheckConcat(dst, axis, srcs)
	if err != nil {
		return err
	}
	dv := dst.F32()
	off := 0
	for o := 0; o < outer; o++ {
		for i, s := range srcs {
			off += copy(dv[off:off+inner[i]], s.F32()[o*inner[i]:(o+1)*inner[i]])
		}
	}
	return nil
}

func (b *Backend) AvgPool1D(dst, x *tensor.Tensor, k, stride int) error {
	_, C, TOut, err := tensor.CheckAvgPool1D(dst, x, k, stride)
	if err != nil {
		return err
	}
	xv := x.F32()
	out := make([]float32, TOut*C)
	inv := 1 / float32(k)
	for t := 0; t < TOut; t++ {
		for c := 0; c < C; c++ {
			var s float32
			for j := 0; j < k; j++ {
				s += xv[(t*stride+j)*C+c]
			}
			out[t*C+c] = s * inv
		}
	}
	copy(dst.F32(), out)
	return nil
}

func (b *Backend) Attention(dst, q, k, v *tensor.Tensor, a tensor.Attn) error {
	s, err := tensor.CheckAttention(dst, q, k, v, a)
	if err != nil {
		return err
	}
	items := s.Tq * s.H
	if items == 0 || s.Dv == 0 {
		return nil
	}
	for _, in := range []*tensor.Tensor{q, k, v} {
		if !aliasFree(dst, in) {
			return fmt.Errorf("%w: Attention: dst overlaps an input", tensor.ErrShape)
		}
	}
	if s.Tq >= gemmAttnMin && s.KVLen >= gemmAttnMin {
		return b.attentionGEMM(dst, q, k, v, a, s)
	}
	causal := 0
	if a.Causal {
		causal = 1
	}
	t := min(b.threads, max(1, items*s.Tk*s.D/(1<<14)), items)
	b.pool.run(t, func(tid int) {
		lo, hi := split(items, t, tid)
		if lo >= hi {
			return
		}
		if len(b.scores[tid]) < s.Tk {
			b.scores[tid] = make([]float32, s.Tk)
		}
		C.attn_call(C.int(b.level), fp(q), fp(k), fp(v), fp(dst), C.long(s.Tq), C.long(s.H), C.long(s.D), C.long(s.Tk),
			C.long(s.Hkv), C.long(s.Dv), C.long(s.KVLen), C.long(a.QPos0), C.int(causal), C.float(a.Scale),
			C.long(lo), C.long(hi), fs(b.scores[tid]))
	})
	return nil
}

func (b *Backend) PagedAttention(dst, q, k, v *tensor.Tensor, a tensor.PagedAttn) error {
	s, err := tensor.CheckPagedAttention(dst, q, k, v, a)
	if err != nil {
		return err
	}
	for _, in := range []*tensor.Tensor{q, k, v} {
		if !aliasFree(dst, in) {
			return fmt.Errorf("%w: PagedAttention: dst overlaps an input", tensor.ErrShape)
		}
	}
	rowSeq := make([]int32, s.Tq)
	for i := range rowSeq {
		rowSeq[i] = -1
	}
	info := make([]int32, 0, 4*len(a.Seqs))
	var pages []int32
	maxKV, work := 1, 0
	for i, sq := range a.Seqs {
		for r := sq.QStart; r < sq.QStart+sq.QLen; r++ {
			rowSeq[r] = int32(i)
		}
		info = append(info, int32(sq.QStart), int32(sq.QLen), int32(sq.KVLen), int32(len(pages)))
		pages = append(pages, sq.Pages[:(sq.KVLen+a.PageSize-1)/a.PageSize]...)
		maxKV = max(maxKV, sq.KVLen)
		work += sq.QLen * sq.KVLen
	}
	items := s.Tq * s.H
	if items == 0 || len(a.Seqs) == 0 {
		return nil
	}
	if len(pages) == 0 {
		pages = []int32{0}
	}
	t := min(b.threads, max(1, work*s.H*s.D/(1<<14)), items)
	b.pool.run(t, func(tid int) {
		lo, hi := split(items, t, tid)
		if lo >= hi {
			return
		}
		if len(b.scores[tid]) < maxKV {
			b.scores[tid] = make([]float32, maxKV)
		}
		C.pattn_call(C.int(b.level), fp(q), fp(k), fp(v), fp(dst), C.long(s.Tq), C.long(s.H), C.long(s.D),
			C.long(s.Hkv), C.long(s.Dv), C.long(a.PageSize), C.float(a.Scale),
			(*C.int32_t)(unsafe.Pointer(&rowSeq[0])), (*C.int32_t)(unsafe.Pointer(&info[0])),
			(*C.int32_t)(unsafe.Pointer(&pages[0])), C.long(lo), C.long(hi), fs(b.scores[tid]))
	})
	return nil
}

func (b *Backend) Argmax(dst []int32, x *tensor.Tensor) error {
	m, n, err := tensor.CheckArgmax(dst, x)
	if err != nil {
		return err
	}
	xv := x.F32()
	for i := 0; i < m; i++ {
		row := xv[i*n : (i+1)*n]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		dst[i] = int32(best)
	}
	return nil
}
