// Package tensortest holds conformance checks every tensor backend's tests
// run: shape and dtype errors, and a fuzz driver of the op set.
package tensortest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

func f32(shape ...int) *tensor.Tensor {
	n, err := tensor.ByteSize(tensor.F32, shape)
	if err != nil {
		n = 0
	}
	return &tensor.Tensor{DType: tensor.F32, Shape: shape, Data: tensor.AlignedBytes(n)}
}

// ShapeErrors checks that malformed arguments to every op return an error
// wrapping tensor.ErrShape or tensor.ErrDType, and never panic.
func ShapeErrors(t *testing.T, be tensor.Backend) {
	w16 := &tensor.Tensor{DType: tensor.F16, Shape: []int{4, 8}, Data: make([]byte, 64)}
	short := &tensor.Tensor{DType: tensor.F32, Shape: []int{4, 8}, Data: make([]byte, 16)}
	q8 := &tensor.Tensor{DType: tensor.Q8_0, Shape: []int{2, 40}, Data: make([]byte, 200)}
	cases := []struct {
		name string
		run  func() error
	}{
		{"matmul k mismatch", func() error { return be.MatMul(f32(2, 4), f32(2, 7), w16) }},
		{"matmul dst shape", func() error { return be.MatMul(f32(3, 4), f32(2, 8), w16) }},
		{"matmul nil w", func() error { return be.MatMul(f32(2, 4), f32(2, 8), nil) }},
		{"matmul f16 activation", func() error { return be.MatMul(f32(4, 4), w16, w16) }},
		{"matmul short data", func() error { return be.MatMul(f32(4, 4), short, w16) }},
		{"matmul q8 partial block", func() error { return be.MatMul(f32(1, 2), f32(1, 40), q8) }},
		{"matmul rank-1 w", func() error { return be.MatMul(f32(1, 1), f32(1, 8), f32(8)) }},
		{"add shape", func() error { return be.Add(f32(2, 3), f32(2, 3), f32(3, 2)) }},
		{"add dst", func() error { return be.Add(f32(2, 4), f32(2, 3), f32(3)) }},
		{"mul nil", func() error { return be.Mul(f32(2, 3), nil, f32(3)) }},
		{"scale shape", func() error { return be.Scale(f32(2), f32(3), 1) }},
		{"act unknown", func() error { return be.Act(f32(3), f32(3), tensor.Activation(99)) }},
		{"swiglu up shape", func() error { return be.SwiGLU(f32(4), f32(4), f32(5)) }},
		{"rmsnorm w", func() error { return be.RMSNorm(f32(2, 4), f32(2, 4), f32(5), 1e-5) }},
		{"layernorm b", func() error { return be.LayerNorm(f32(2, 4), f32(2, 4), f32(4), f32(3), 1e-5) }},
		{"softmax dst", func() error { return be.Softmax(f32(2, 4), f32(4, 2)) }},
		{"rope rank", func() error {
			return be.RoPE(f32(2, 8), f32(2, 8), []int32{0, 1}, tensor.RoPE{Mode: tensor.RoPENeox, Dims: 8, Base: 1e4})
		}},
		{"rope odd dims", func() error {
			return be.RoPE(f32(1, 1, 8), f32(1, 1, 8), []int32{0}, tensor.RoPE{Dims: 7, Base: 1e4})
		}},
		{"rope positions", func() error {
			return be.RoPE(f32(2, 1, 8), f32(2, 1, 8), []int32{0}, tensor.RoPE{Dims: 8, Base: 1e4})
		}},
		{"rope sections", func() error {
			return be.RoPE(f32(1, 1, 8), f32(1, 1, 8), []int32{0, 0}, tensor.RoPE{Mode: tensor.RoPEMulti, Dims: 8, Base: 1e4, Sections: []int{1, 1}})
		}},
		{"rope zero base", func() error { return be.RoPE(f32(1, 1, 8), f32(1, 1, 8), []int32{0}, tensor.RoPE{Dims: 8}) }},
		{"gather id range", func() error { return be.Gather(f32(1, 8), w16, []int32{4}) }},
		{"gather negative id", func() error { return be.Gather(f32(1, 8), w16, []int32{-1}) }},
		{"gather dst", func() error { return be.Gather(f32(2, 8), w16, []int32{1}) }},
		{"setrows range", func() error { return be.SetRows(f32(3, 2), []int32{3}, f32(1, 2)) }},
		{"setrows width", func() error { return be.SetRows(f32(3, 2), []int32{0}, f32(1, 3)) }},
		{"concat sum", func() error { return be.Concat(f32(5, 2), 0, f32(2, 2), f32(2, 2)) }},
		{"concat axis", func() error { return be.Concat(f32(4, 2), 2, f32(2, 2), f32(2, 2)) }},
		{"concat off-axis", func() error { return be.Concat(f32(4, 2), 0, f32(2, 2), f32(2, 3)) }},
		{"conv1d channels", func() error { return be.Conv1D(f32(8, 2), f32(8, 3), f32(2, 4, 3), nil, 1, 1) }},
		{"conv1d too short", func() error { return be.Conv1D(f32(1, 2), f32(1, 3), f32(2, 3, 5), nil, 1, 0) }},
		{"conv1d stride 0", func() error { return be.Conv1D(f32(8, 2), f32(8, 3), f32(2, 3, 3), nil, 0, 1) }},
		{"conv2d dst", func() error {
			return be.Conv2D(f32(3, 2), f32(1, 4, 4), f32(2, 1, 2, 2), nil, [2]int{2, 2}, [2]int{0, 0})
		}},
		{"conv2d bias", func() error {
			return be.Conv2D(f32(4, 2), f32(1, 4, 4), f32(2, 1, 2, 2), f32(3), [2]int{2, 2}, [2]int{0, 0})
		}},
		{"avgpool k", func() error { return be.AvgPool1D(f32(1, 2), f32(1, 2), 2, 2) }},
		{"attention heads", func() error {
			return be.Attention(f32(1, 3, 4), f32(1, 3, 4), f32(2, 2, 4), f32(2, 2, 4), tensor.Attn{Scale: 1})
		}},
		{"attention causal range", func() error {
			return be.Attention(f32(2, 2, 4), f32(2, 2, 4), f32(2, 1, 4), f32(2, 1, 4), tensor.Attn{Scale: 1, Causal: true, QPos0: 1})
		}},
		{"attention kvlen", func() error {
			return be.Attention(f32(1, 2, 4), f32(1, 2, 4), f32(2, 1, 4), f32(2, 1, 4), tensor.Attn{KVLen: 3})
		}},
		{"attention v", func() error {
			return be.Attention(f32(1, 2, 4), f32(1, 2, 4), f32(2, 1, 4), f32(3, 1, 4), tensor.Attn{})
		}},
		{"argmax dst", func() error { return be.Argmax(make([]int32, 1), f32(2, 3)) }},
		{"negative dim", func() error {
			return be.Scale(&tensor.Tensor{DType: tensor.F32, Shape: []int{-1}}, &tensor.Tensor{DType: tensor.F32, Shape: []int{-1}}, 1)
		}},
		{"huge shape", func() error { return be.Scale(f32(1<<30, 1<<30), f32(1<<30, 1<<30), 1) }},
	}
	for _, c := range cases {
		err := safely(c.run)
		if err == nil {
			t.Errorf("%s: %s: no error", be.Name(), c.name)
			continue
		}
		if !errors.Is(err, tensor.ErrShape) && !errors.Is(err, tensor.ErrDType) {
			t.Errorf("%s: %s: error %v wraps neither ErrShape nor ErrDType", be.Name(), c.name, err)
		}
	}
	if _, err := be.Weight(tensor.Q8_0, []int{2, 40}, make([]byte, 100)); err == nil {
		t.Errorf("%s: Weight accepted a Q8_0 row of 40 elements", be.Name())
	}
	if _, err := be.Weight(tensor.F16, []int{2, 4}, make([]byte, 15)); err == nil {
		t.Errorf("%s: Weight accepted 15 bytes for F16[2 4]", be.Name())
	}
}

// safely runs f, turning a panic into an error that fails the caller's check.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// scaleOffsets are the byte offsets of the F16 scale fields in one block.
var scaleOffsets = map[tensor.DType][]int{
	tensor.Q8_0: {0}, tensor.Q4_0: {0}, tensor.Q4_1: {0, 2}, tensor.Q5_0: {0}, tensor.Q5_1: {0, 2},
	tensor.IQ4_NL: {0}, tensor.Q2_K: {80, 82}, tensor.Q3_K: {108}, tensor.Q4_K: {0, 2}, tensor.Q5_K: {0, 2},
	tensor.Q6_K: {208}, tensor.IQ4_XS: {0},
}

// RandomWeight returns a row-major [n, k] weight of dtype dt with random
// content: for block types every code and sub-scale bit is random and the F16
// scales are finite, in ±scale/8 (so products stay moderate), for plain types
// values are uniform in ±scale. It also returns the dequantised values.
func RandomWeight(r *rand.Rand, dt tensor.DType, n, k int, scale float32) ([]byte, []float32, error) {
	vals := make([]float32, n*k)
	if !dt.Quantized() {
		for i := range vals {
			vals[i] = (r.Float32()*2 - 1) * scale
		}
		enc, err := tensor.EncodeRow(dt, nil, vals)
		if err != nil {
			return nil, nil, err
		}
		return enc, vals, tensor.DecodeRow(dt, enc, vals)
	}
	size, err := tensor.ByteSize(dt, []int{n, k})
	if err != nil {
		return nil, nil, err
	}
	enc := make([]byte, size)
	for i := range enc {
		enc[i] = byte(r.Uint32())
	}
	for b := 0; b < size/dt.BlockBytes(); b++ {
		for _, o := range scaleOffsets[dt] {
			h := tensor.F32ToF16((r.Float32()*2 - 1) * scale / 8)
			enc[b*dt.BlockBytes()+o], enc[b*dt.BlockBytes()+o+1] = byte(h), byte(h>>8)
		}
	}
	return enc, vals, tensor.DecodeRow(dt, enc, vals)
}

// Agreement compares got with want: the largest |got−want|, the largest
// |want| and their Pearson correlation (NaN when either is constant).
func Agreement(got, want []float32) (maxDiff, maxAbs, corr float64) {
	var sg, sw, sgg, sww, sgw float64
	for i := range want {
		a, b := float64(got[i]), float64(want[i])
		maxAbs, maxDiff = max(maxAbs, math.Abs(b)), max(maxDiff, math.Abs(a-b))
		sg, sw, sgg, sww, sgw = sg+a, sw+b, sgg+a*a, sww+b*b, sgw+a*b
	}
	n := float64(len(want))
	return maxDiff, maxAbs, (sgw - sg*sw/n) / math.Sqrt((sgg-sg*sg/n)*(sww-sw*sw/n))
}
