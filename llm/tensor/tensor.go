package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// Layout says how a tensor's bytes are arranged. RowMajor is the only layout
// every backend understands; other values are private to the backend that made
// the tensor (for example the CPU backend's panel-packed MatMul weights).
type Layout uint8

// RowMajor is the default layout: the last dimension is contiguous and, for
// block types, blocks run along the last dimension.
const RowMajor Layout = 0

// Tensor is a handle to an n-dimensional array owned by a backend.
// Host backends keep the bytes in Data; device backends use Dev.
type Tensor struct {
	DType  DType
	Shape  []int // outermost first
	Layout Layout
	Data   []byte // host storage; for F32 tensors, 4-byte aligned
	Dev    any    // device handle (GPU backends), nil on the host
}

// Len is the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Cols is the size of the last dimension; Rows the product of the others.
func (t *Tensor) Cols() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// Rows is the product of every dimension but the last.
func (t *Tensor) Rows() int {
	if len(t.Shape) == 0 {
		return 1
	}
	n := 1
	for _, d := range t.Shape[:len(t.Shape)-1] {
		n *= d
	}
	return n
}

// F32 views the data of a host F32 tensor as []float32 (nil otherwise).
func (t *Tensor) F32() []float32 {
	if t == nil || t.DType != F32 || len(t.Data) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(t.Data))), len(t.Data)/4)
}

func (t *Tensor) String() string {
	if t == nil {
		return "<nil tensor>"
	}
	return fmt.Sprintf("%v%v", t.DType, t.Shape)
}

// View returns a tensor sharing t's storage with a new shape of the same
// element count. Only row-major host tensors can be viewed.
func (t *Tensor) View(shape ...int) (*Tensor, error) {
	if t.Layout != RowMajor || t.Dev != nil {
		return nil, fmt.Errorf("%w: cannot view a non-row-major tensor %v", ErrShape, t)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative dimension in %v", ErrShape, shape)
		}
		n *= d
	}
	if n != t.Len() {
		return nil, fmt.Errorf("%w: cannot view %v as %v", ErrShape, t, shape)
	}
	return &Tensor{DType: t.DType, Shape: append([]int(nil), shape...), Data: t.Data}, nil
}

// Slice returns rows [i, j) of the outermost dimension, sharing storage.
func (t *Tensor) Slice(i, j int) (*Tensor, error) {
	if t.Layout != RowMajor || t.Dev != nil || len(t.Shape) == 0 {
		return nil, fmt.Errorf("%w: cannot slice %v", ErrShape, t)
	}
	if i < 0 || j < i || j > t.Shape[0] {
		return nil, fmt.Errorf("%w: rows [%d,%d) out of range for %v", ErrShape, i, j, t)
	}
	inner := 1
	for _, d := range t.Shape[1:] {
		inner *= d
	}
	rb, err := t.DType.RowBytes(inner)
	if err != nil {
		return nil, err
	}
	shape := append([]int{j - i}, t.Shape[1:]...)
	return &Tensor{DType: t.DType, Shape: shape, Data: t.Data[i*rb : j*rb : j*rb]}, nil
}

// ByteSize is the encoded size of a row-major tensor of this dtype and shape.
func ByteSize(dt DType, shape []int) (int, error) {
	if len(shape) == 0 {
		return dt.RowBytes(1)
	}
	rows := 1
	for _, d := range shape[:len(shape)-1] {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, shape)
		}
		if d != 0 && rows > maxElems/d {
			return 0, fmt.Errorf("%w: %v is too large", ErrShape, shape)
		}
		rows *= d
	}
	last := shape[len(shape)-1]
	if last < 0 {
		return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, shape)
	}
	rb, err := dt.RowBytes(last)
	if err != nil {
		return 0, err
	}
	if rb != 0 && rows > maxElems/rb {
		return 0, fmt.Errorf("%w: %v is too large", ErrShape, shape)
	}
	return rows * rb, nil
}

// maxElems bounds any tensor's size in bytes: shape products beyond it are
// rejected before they can overflow.
const maxElems = math.MaxInt / 16

// AlignedF32 allocates n zeroed float32s whose first element is 64-byte aligned.
func AlignedF32(n int) []float32 {
	buf := make([]float32, n+16)
	off := (64 - int(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64)) % 64 / 4
	return buf[off : off+n : off+n]
}

// AlignedBytes allocates n zeroed bytes whose first byte is 64-byte aligned.
func AlignedBytes(n int) []byte {
	f := AlignedF32((n + 3) / 4)
	if len(f) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), n)
}

// BytesOfF32 views a []float32 as its bytes.
func BytesOfF32(f []float32) []byte {
	if len(f) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}
