package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
)

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
	default:
		bs, bb := d.BlockSize(), d.BlockBytes()
		for b := 0; b < len(dst)/bs; b++ {
			decodeBlock(d, src[b*bb:(b+1)*bb], dst[b*bs:(b+1)*bs])
		}
	}
	return nil
}

// EncodeRow converts src to dtype d, appending to dst. Q8_0 quantises each
// block of 32 as ggml's reference quantiser does (d = max|x|/127,
// q = round(x/d)); the other block types use this package's quantisers
// (quantize.go), which write valid ggml blocks but need not pick the same
// scales as llama.cpp's.
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
	default:
		bs := d.BlockSize()
		for b := 0; b < len(src); b += bs {
			dst = encodeBlock(d, dst, src[b:b+bs])
		}
	}
	return dst, nil
}
