//go:build cgo

package cpu

/*
#cgo CFLAGS: -O3 -std=gnu11 -Wno-psabi
#cgo LDFLAGS: -lm
#include "kern_dispatch.h"

*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/sightline/sightline/llm/tensor"
)

// Level is a kernel dispatch level.
type Level int

// Dispatch levels, best last. AVX2W16 runs the AVX-512 kernel source on AVX2
// (two 8-lane halves per vector) so tests can exercise it without AVX-512.
const (
	Scalar  Level = C.LEVEL_SCALAR
	AVX2    Level = C.LEVEL_AVX2
	AVX2W16 Level = C.LEVEL_AVX2W16
	AVX512  Level = C.LEVEL_AVX512
)

var levelNames = map[Level]string{Scalar: "scalar", AVX2: "avx2", AVX2W16: "avx2w16", AVX512: "avx512"}

func (l Level) String() string { return levelNames[l] }

// Supported lists the levels this CPU can run, best first.
func Supported() []Level {
	var ls []Level
	if runtime.GOARCH == "amd64" {
		x := cpu.X86
		avx2 := x.HasAVX2 && x.HasFMA && x.HasAVX && x.HasF16C
		if avx2 && x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ {
			ls = append(ls, AVX512)
		}
		if avx2 {
			ls = append(ls, AVX2, AVX2W16)
		}
	}
	return append(ls, Scalar)
}

// ParseLevel maps a level name ("" = best supported) to a level this CPU runs.
func ParseLevel(name string) (Level, error) {
	sup := Supported()
	if name == "" {
		return sup[0], nil
	}
	for _, l := range sup {
		if strings.EqualFold(name, l.String()) {
			return l, nil
		}
	}
	var names []string
	for _, l := range sup {
		names = append(names, l.String())
	}
	return 0, fmt.Errorf("cpu: dispatch level %q not supported on this CPU (have %s)", name, strings.Join(names, ", "))
}

func init() {
	tensor.Register("cpu", func(o tensor.Options) (tensor.Backend, error) { return New(o) })
}

// Layout of MatMul weights packed by this backend (see the package comment).
const layoutPanels tensor.Layout = 1

const (
	nr          = C.NR
	scratchA    = C.MC_MAX * C.KC
	scratchB    = C.KC * C.NR
	parallelMin = 1 << 15 // elements below which elementwise ops run on one thread
)

// Backend is the CPU backend.
type Backend struct {
	level   Level
	threads int
	mr      int
	pool    *pool
	abuf    [][]float32 // per-thread GEMM scratch
	bbuf    [][]float32
	scores  [][]float32 // per-thread attention scratch
	q       qstate      // quantised MatMul scratch
}

var _ tensor.Backend = (*Backend)(nil)

// New creates a CPU backend with o.Threads workers (≤ 0: one per CPU) at
// dispatch level o.Level ("" = best supported).
func New(o tensor.Options) (*Backend, error) {
	lv, err := ParseLevel(o.Level)
	if err != nil {
		return nil, err
	}
	n := o.Threads
	if n <= 0 {
		n = runtime.NumCPU()
	}
	b := &Backend{level: lv, threads: n, mr: int(C.k_mr(C.int(lv))), pool: newPool(n)}
	b.q.init(lv, n)
	for t := 0; t < n; t++ {
		b.abuf = append(b.abuf, tensor.AlignedF32(scratchA))
		b.bbuf = append(b.bbuf, tensor.AlignedF32(scratchB))
		b.scores = append(b.scores, nil)
	}
	return b, nil
}

func (b *Backend) Name() string { return "cpu-" + b.level.String() }

// Level is the dispatch level in use; Threads the worker count.
func (b *Backend) Level() Level { return b.level }
func (b *Backend) Threads() int { return b.threads }

func (b *Backend) Close() error { b.pool.close(); return nil }

func (*Backend) Free(*tensor.Tensor) {}

func (*Backend) Alloc(dt tensor.DType, shape ...int) (*tensor.Tensor, error) {
	n, err := tensor.ByteSize(dt, shape)
	if err != nil {
		return nil, err
	}
	return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: tensor.AlignedBytes(n)}, nil
}

func (b *Backend) FromF32(src []float32, shape ...int) (*tensor.Tensor, error) {
	t, err := b.Alloc(tensor.F32, shape...)
	if err != nil {
		return nil, err
	}
	if len(src) != t.Len() {
		return nil, fmt.Errorf("%w: FromF32: %d values for shape %v", tensor.ErrShape, len(src), shape)
	}
	copy(t.F32(), src)
	return t, nil
}

func dtCode(d tensor.DType) C.int {
	switch d {
	case tensor.F16:
		return C.DT_F16
	case tensor.BF16:
		return C.DT_BF16
	}
	return C.DT_F32
}

// panelStride is the byte size of one packed panel of a [n, k] F32, F16 or
// BF16 weight.
func panelStride(dt tensor.DType, k int) int {
	if dt == tensor.F32 {
		return k * nr * 4
	}
	return k * nr * 2
}

func matrixDims(shape []int) (n, k int) {
	n, k = shape[0], 1
	for _, d := range shape[1:] {
		k *= d
	}
	return n, k
}

// pack returns the panel layout of a row-major weight.
func pack(dt tensor.DType, shape []int, data []byte) *tensor.Tensor {
	n, k := matrixDims(shape)
	np := (n + nr - 1) / nr
	buf := tensor.AlignedBytes(np * panelStride(dt, k))
	if n > 0 && k > 0 {
		C.pack_panels(dtCode(dt), (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(data))), C.long(n), C.long(k),
			(*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(buf))))
	}
	return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Layout: layoutPanels, Data: buf}
}

func (b *Backend) Weight(dt tensor.DType, shape []int, data []byte) (*tensor.Tensor, error) {
	need, err := tensor.ByteSize(dt, shape)
	if err != nil {
		return nil, err
	}
	if len(data) != need {
		return nil, fmt.Errorf("%w: Weight %v %v: %d bytes, want %d", tensor.ErrShape, dt, shape, len(data), need)
	}
	if len(shape) < 2 || dt.Quantized() { // quantised weights stay in ggml's row-major blocks
		return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: data}, nil
	}
	return pack(dt, shape, data), nil
}

// weightRow decodes row r (of k elements) of a weight in either layout.
func weightRow(w *tensor.Tensor, r, k int, dst []float32) {
	if w.Layout == tensor.RowMajor {
		rb, _ := w.DType.RowBytes(k)
		_ = tensor.DecodeRow(w.DType, w.Data[r*rb:(r+1)*rb], dst)
		return
	}
	p, l := r/nr, r%nr
	pan := w.Data[p*panelStride(w.DType, k):]
	switch w.DType {
	case tensor.F32:
		f := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(pan))), k*nr)
		for j := range dst {
			dst[j] = f[j*nr+l]
		}
	case tensor.F16, tensor.BF16:
		h := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(pan))), k*nr)
		for j := range dst {
			if w.DType == tensor.F16 {
				dst[j] = tensor.F16ToF32(h[j*nr+l])
			} else {
				dst[j] = tensor.BF16ToF32(h[j*nr+l])
			}
		}
	}
}

func (b *Backend) ToF32(t *tensor.Tensor, dst []float32) error {
	if t == nil || t.Dev != nil {
		return fmt.Errorf("%w: ToF32: %v is not a host tensor", tensor.ErrShape, t)
	}
	if len(dst) != t.Len() {
		return fmt.Errorf("%w: ToF32: dst has %d values for %v", tensor.ErrShape, len(dst), t)
	}
	if len(dst) == 0 {
		return nil
	}
	if t.Layout == layoutPanels {
		n, k := matrixDims(t.Shape)
		for r := 0; r < n; r++ {
			weightRow(t, r, k, dst[r*k:(r+1)*k])
		}
		return nil
	}
	if t.Layout != tensor.RowMajor {
		return fmt.Errorf("%w: ToF32: unknown layout %d", tensor.ErrShape, t.Layout)
	}
	need, err := tensor.ByteSize(t.DType, t.Shape)
	if err != nil {
		return err
	}
	if len(t.Data) < need {
		return fmt.Errorf("%w: ToF32: %v has %d bytes, needs %d", tensor.ErrShape, t, len(t.Data), need)
	}
	return tensor.DecodeRow(t.DType, t.Data, dst)
}

func fp(t *tensor.Tensor) *C.float {
	if t == nil || len(t.Data) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(unsafe.SliceData(t.Data)))
}

func fs(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(unsafe.SliceData(s)))
}
