// Package tensor defines Sightline's compute contract: dtypes, the Tensor handle,
// the Backend and Ops interfaces every backend implements, and a registry of
// backends. It imports only the standard library and internal/registry.
package tensor

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

// The block-quantised dtypes are GGUF's (ggml's) types of the same name, with
// ggml's block layouts byte for byte (see quant.go). A block of BlockSize()
// consecutive elements along the last dimension is BlockBytes() bytes.
const (
	F32    DType = iota // IEEE binary32
	F16                 // IEEE binary16
	BF16                // bfloat16 (upper half of a binary32)
	Q8_0                // 32 int8 values, one F16 scale (34 bytes)
	Q4_0                // 32 4-bit values − 8, one F16 scale (18 bytes)
	Q4_1                // 32 4-bit values, F16 scale and offset (20 bytes)
	Q5_0                // 32 5-bit values − 16, one F16 scale (22 bytes)
	Q5_1                // 32 5-bit values, F16 scale and offset (24 bytes)
	Q2_K                // 256 2-bit values, 16 × 4-bit scales and mins (84 bytes)
	Q3_K                // 256 3-bit values, 16 × 6-bit scales (110 bytes)
	Q4_K                // 256 4-bit values, 8 × 6-bit scales and mins (144 bytes)
	Q5_K                // 256 5-bit values, 8 × 6-bit scales and mins (176 bytes)
	Q6_K                // 256 6-bit values, 16 × int8 scales (210 bytes)
	IQ4_NL              // 32 4-bit indices into a 16-entry non-linear table, F16 scale (18 bytes)
	IQ4_XS              // 256 IQ4_NL indices, 8 × 6-bit scales (136 bytes)
	numDTypes
)

// Q8Block is the number of values in one Q8_0 block; Q8BlockBytes its size in bytes.
const (
	Q8Block      = 32
	Q8BlockBytes = 2 + Q8Block
)

// dtypeInfo describes one dtype's name and block geometry.
type dtypeInfo struct {
	name         string
	block, bytes int // elements per block, bytes per block
}

var dtypes = [numDTypes]dtypeInfo{
	F32: {"F32", 1, 4}, F16: {"F16", 1, 2}, BF16: {"BF16", 1, 2},
	Q8_0: {"Q8_0", 32, 34}, Q4_0: {"Q4_0", 32, 18}, Q4_1: {"Q4_1", 32, 20},
	Q5_0: {"Q5_0", 32, 22}, Q5_1: {"Q5_1", 32, 24},
	Q2_K: {"Q2_K", 256, 84}, Q3_K: {"Q3_K", 256, 110}, Q4_K: {"Q4_K", 256, 144},
	Q5_K: {"Q5_K", 256, 176}, Q6_K: {"Q6_K", 256, 210},
	IQ4_NL: {"IQ4_NL", 32, 18}, IQ4_XS: {"IQ4_XS", 256, 136},
}

func (d DType) String() string {
	if d.Valid() {
		return dtypes[d].name
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Valid reports whether d is one of the dtypes above.
func (d DType) Valid() bool { return d < numDTypes }

// Quantized reports whether d is a block-quantised type (Q*, IQ*).
func (d DType) Quantized() bool { return d.Valid() && dtypes[d].block > 1 }

// DTypes lists every valid dtype in order.
func DTypes() []DType {
	out := make([]DType, numDTypes)
	for i := range out {
		out[i] = DType(i)
	}
	return out
}

// ParseDType finds a dtype by name, ignoring case ("q4_k", "F16").
func ParseDType(name string) (DType, bool) {
	for i, t := range dtypes {
		if strings.EqualFold(t.name, name) {
			return DType(i), true
		}
	}
	return 0, false
}

// BlockSize is the number of elements that share one encoded block (1 for
// plain types; 0 for invalid dtypes).
func (d DType) BlockSize() int {
	if d.Valid() {
		return dtypes[d].block
	}
	return 0
}

// BlockBytes is the encoded size of one block.
func (d DType) BlockBytes() int {
	if d.Valid() {
		return dtypes[d].bytes
	}
	return 0
}

// ErrShape reports a shape or dtype mismatch; every Ops method wraps it.
var ErrShape = errors.New("tensor: bad shape")

// ErrDType reports a dtype an operation does not support.
var ErrDType = errors.New("tensor: unsupported dtype")

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
