// Package tensor defines Sightline's compute contract: dtypes, the Tensor handle,
// the Backend and Ops interfaces every backend implements, and a registry of
// backends. It imports only the standard library and internal/registry.
package tensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// DType is the element type of a tensor.
type DType uint8

const (
	F32  DType = iota // IEEE binary32
	F16               // IEEE binary16
	BF16              // bfloat16 (upper half of a binary32)
	Q8_0              // GGUF Q8_0: blocks of 32 int8 values with one F16 scale (34 bytes)
)

// Q8Block is the number of values in one Q8_0 block; Q8BlockBytes its size in bytes.
const (
	Q8Block      = 32
	Q8BlockBytes = 2 + Q8Block
)

var dtypeNames = [...]string{F32: "F32", F16: "F16", BF16: "BF16", Q8_0: "Q8_0"}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Valid reports whether d is one of the dtypes above.
func (d DType) Valid() bool { return int(d) < len(dtypeNames) }

// BlockSize is the number of elements that share one encoded block (1 for plain types).
func (d DType) BlockSize() int {
	if d == Q8_0 {
		return Q8Block
	}
	return 1
}

// BlockBytes is the encoded size of one block.
func (d DType) BlockBytes() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	case Q8_0:
		return Q8BlockBytes
	}
	return 0
}

// ErrShape reports a shape or dtype mismatch; every Ops method wraps it.
var ErrShape = errors.New("tensor: bad shape")

// ErrDType reports a dtype an operation does not support.
var ErrDType = errors.New("tensor: unsupported dtype")

// RowBytes is the encoded size of a row of n elements. n must be a multiple of
// the block size.
func (d DType) RowBytes(n int) (int, error) {
	if !d.Valid() {
		return 0, fmt.Errorf("%w %v", ErrDType, d)
	}
	if n < 0 || n%d.BlockSize() != 0 {
		return 0, fmt.Errorf("%w: %d %v elements is not a whole number of %d-element blocks", ErrShape, n, d, d.BlockSize())
	}
	return n / d.BlockSize() * d.BlockBytes(), nil
}

// F16ToF32 converts an IEEE half to float32 exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf/NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// subnormal half: normalise
	e := uint32(113)
	for man&0x400 == 0 {
		man <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
}

// F32ToF16 rounds a float32 to the nearest half (ties to even), as F16C's
// vcvtps2ph with rounding mode 0 does.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff { // Inf/NaN
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal or zero in half
		if e < -10 {
			return sign
		}
		man |= 0x800000
		shift := uint32(14 - e)
		h := man >> shift
		rem := man & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is correct (rounds up to Inf at the top)
	}
	return sign | uint16(h)
}

// BF16ToF32 widens a bfloat16 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 rounds a float32 to the nearest bfloat16 (ties to even); NaN stays NaN.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// DecodeRow converts the encoded row src of len(dst) elements of dtype d to float32.
func DecodeRow(d DType, src []byte, dst []float32) error {
	need, err := d.RowBytes(len(dst))
	if err != nil {
		return err
	}
	if len(src) < need {
		return fmt.Errorf("%w: row of %d %v elements needs %d bytes, have %d", ErrShape, len(dst), d, need, len(src))
	}
	switch d {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case Q8_0:
		for b := 0; b < len(dst)/Q8Block; b++ {
			blk := src[b*Q8BlockBytes:]
			scale := F16ToF32(binary.LittleEndian.Uint16(blk))
			for j := 0; j < Q8Block; j++ {
				dst[b*Q8Block+j] = float32(int8(blk[2+j])) * scale
			}
		}
	}
	return nil
}

// EncodeRow converts src to dtype d, appending to dst. Q8_0 quantises each block
// of 32 as ggml's reference quantiser does: d = max|x|/127, q = round(x/d).
func EncodeRow(d DType, dst []byte, src []float32) ([]byte, error) {
	if _, err := d.RowBytes(len(src)); err != nil {
		return dst, err
	}
	switch d {
	case F32:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	case F16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, F32ToF16(v))
		}
	case BF16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, F32ToBF16(v))
		}
	case Q8_0:
		for b := 0; b < len(src); b += Q8Block {
			blk := src[b : b+Q8Block]
			var amax float32
			for _, v := range blk {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			scale := amax / 127
			var inv float32
			if scale != 0 {
				inv = 1 / scale
			}
			dst = binary.LittleEndian.AppendUint16(dst, F32ToF16(scale))
			for _, v := range blk {
				dst = append(dst, byte(int8(math.Round(float64(v*inv)))))
			}
		}
	}
	return dst, nil
}
