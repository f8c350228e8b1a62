// Package ref is the pure-Go reference backend: every op written as plainly
// as possible, accumulating in float64. It is the oracle the optimised
// kernels are tested against and the backend used when cgo is off. MatMul
// with a block-quantised weight first quantises the activations as
// tensor.QuantizeAct defines (the CPU backend's integer kernels do the same),
// then multiplies the dequantised values exactly.
package ref

import (
	"fmt"
	"math"

	"github.com/sightline/sightline/llm/tensor"
)

func init() {
	tensor.Register("ref", func(tensor.Options) (tensor.Backend, error) { return New(), nil })
}

// Backend implements tensor.Backend in pure Go on row-major host tensors.
type Backend struct{}

// New returns the reference backend.
func New() *Backend { return &Backend{} }

var _ tensor.Backend = (*Backend)(nil)

func (*Backend) Name() string { return "ref" }

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

func (*Backend) ToF32(t *tensor.Tensor, dst []float32) error {
	if t == nil || t.Layout != tensor.RowMajor || t.Dev != nil {
		return fmt.Errorf("%w: ToF32: %v is not a row-major host tensor", tensor.ErrShape, t)
	}
	if len(dst) != t.Len() {
		return fmt.Errorf("%w: ToF32: dst has %d values for %v", tensor.ErrShape, len(dst), t)
	}
	if len(dst) == 0 {
		return nil
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

func (*Backend) Weight(dt tensor.DType, shape []int, data []byte) (*tensor.Tensor, error) {
	need, err := tensor.ByteSize(dt, shape)
	if err != nil {
		return nil, err
	}
	if len(data) != need {
		return nil, fmt.Errorf("%w: Weight %v %v: %d bytes, want %d", tensor.ErrShape, dt, shape, len(data), need)
	}
	return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: data}, nil
}

func (*Backend) Free(*tensor.Tensor) {}

func (*Backend) Close() error { return nil }

// row decodes row r of a row-major weight [rows, cols].
func row(w *tensor.Tensor, r, cols int, dst []float32) {
	rb, _ := w.DType.RowBytes(cols)
	_ = tensor.DecodeRow(w.DType, w.Data[r*rb:(r+1)*rb], dst)
}

func rowMajor(op string, ts ...*tensor.Tensor) error {
	for _, t := range ts {
		if t != nil && t.Layout != tensor.RowMajor {
			return fmt.Errorf("%w: %s: ref backend reads only row-major tensors, got %v", tensor.ErrShape, op, t)
		}
	}
	return nil
}

func (*Backend) MatMul(dst, a, w *tensor.Tensor) error {
	m, n, k, err := tensor.CheckMatMul(dst, a, w)
	if err != nil {
		return err
	}
	if err := rowMajor("MatMul", w); err != nil {
		return err
	}
	av, dv := a.F32(), dst.F32()
	a64 := make([]float64, m*k)
	for i, x := range av[:m*k] {
		a64[i] = float64(x)
	}
	if w.DType.Quantized() {
		a64 = quantizedActs(av[:m*k])
	}
	wr := make([]float32, k)
	out := make([]float32, m*n)
	for j := 0; j < n; j++ {
		row(w, j, k, wr)
		for i := 0; i < m; i++ {
			var s float64
			for p, x := range a64[i*k : (i+1)*k] {
				s += x * float64(wr[p])
			}
			out[i*n+j] = float32(s)
		}
	}
	copy(dv, out)
	return nil
}

// quantizedActs returns rows of activations as MatMul with a block-quantised
// weight sees them: tensor.QuantizeAct's codes times their block scales (exact
// in float64).
func quantizedActs(a []float32) []float64 {
	q := make([]int8, len(a))
	d := make([]float32, len(a)/tensor.ActBlock)
	tensor.QuantizeAct(a, q, d)
	out := make([]float64, len(a))
	for i := range a {
		out[i] = float64(d[i/tensor.ActBlock]) * float64(q[i])
	}
	return out
}

func binary(op string, dst, a, b *tensor.Tensor, f func(x, y float32) float32) error {
	rows, cols, bcast, err := tensor.CheckBinary(op, dst, a, b)
	if err != nil {
		return err
	}
	av, bv, dv := a.F32(), b.F32(), dst.F32()
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			y := float32(0)
			if bcast {
				y = bv[c]
			} else {
				y = bv[r*cols+c]
			}
			dv[r*cols+c] = f(av[r*cols+c], y)
		}
	}
	return nil
}

func (*Backend) Add(dst, a, b *tensor.Tensor) error {
	return binary("Add", dst, a, b, func(x, y float32) float32 { return x + y })
}

func (*Backend) Mul(dst, a, b *tensor.Tensor) error {
	return binary("Mul", dst, a, b, func(x, y float32) float32 { return x * y })
}

func (*Backend) Scale(dst, a *tensor.Tensor, s float32) error {
	n, err := tensor.CheckUnary("Scale", dst, a)
	if err != nil {
		return err
	}
	av, dv := a.F32(), dst.F32()
	for i := 0; i < n; i++ {
		dv[i] = av[i] * s
	}
	return nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Activate evaluates f at x in float64, the reference definition of each activation.
func Activate(f tensor.Activation, x float64) float64 {
	switch f {
	case tensor.SiLU:
		return x * sigmoid(x)
	case tensor.GELU:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case tensor.GELUTanh:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case tensor.QuickGELU:
		return x * sigmoid(1.702*x)
	}
	return math.NaN()
}

func (*Backend) Act(dst, x *tensor.Tensor, f tensor.Activation) error {
	n, err := tensor.CheckAct(dst, x, f)
	if err != nil {
		return err
	}
	xv, dv := x.F32(), dst.F32()
	for i := 0; i < n; i++ {
		dv[i] = float32(Activate(f, float64(xv[i])))
	}
	return nil
}

func (*Backend) SwiGLU(dst, gate, up *tensor.Tensor) error {
	n, err := tensor.CheckUnary("SwiGLU", dst, gate)
	if err != nil {
		return err
	}
	if _, err := tensor.CheckUnary("SwiGLU", dst, up); err != nil {
		return err
	}
	g, u, d := gate.F32(), up.F32(), dst.F32()
	for i := 0; i < n; i++ {
		d[i] = float32(Activate(tensor.SiLU, float64(g[i])) * float64(u[i]))
	}
	return nil
}

func (*Backend) RMSNorm(dst, x, w *tensor.Tensor, eps float32) error {
	rows, cols, err := tensor.CheckNorm("RMSNorm", dst, x, w, nil)
	if err != nil {
		return err
	}
	xv, dv := x.F32(), dst.F32()
	for r := 0; r < rows; r++ {
		xr := xv[r*cols : (r+1)*cols]
		var ss float64
		for _, v := range xr {
			ss += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(ss/float64(cols)+float64(eps))
		for c, v := range xr {
			y := float64(v) * inv
			if w != nil {
				y *= float64(w.F32()[c])
			}
			dv[r*cols+c] = float32(y)
		}
	}
	return nil
}

func (*Backend) LayerNorm(dst, x, w, b *tensor.Tensor, eps float32) error {
	rows, cols, err := tensor.CheckNorm("LayerNorm", dst, x, w, b)
	if err != nil {
		return err
	}
	xv, dv := x.F32(), dst.F32()
	for r := 0; r < rows; r++ {
		xr := xv[r*cols : (r+1)*cols]
		var mean, vr float64
		for _, v := range xr {
			mean += float64(v)
		}
		mean /= float64(cols)
		for _, v := range xr {
			d := float64(v) - mean
			vr += d * d
		}
		inv := 1 / math.Sqrt(vr/float64(cols)+float64(eps))
		for c, v := range xr {
			y := (float64(v) - mean) * inv
			if w != nil {
				y *= float64(w.F32()[c])
			}
			if b != nil {
				y += float64(b.F32()[c])
			}
			dv[r*cols+c] = float32(y)
		}
	}
	return nil
}

func (*Backend) Softmax(dst, x *tensor.Tensor) error {
	if _, err := tensor.CheckUnary("Softmax", dst, x); err != nil {
		return err
	}
	rows, cols := x.Rows(), x.Cols()
	xv, dv := x.F32(), dst.F32()
	for r := 0; r < rows; r++ {
		softmax(xv[r*cols:(r+1)*cols], dv[r*cols:(r+1)*cols])
	}
	return nil
}

func softmax(x, dst []float32) {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	e := make([]float64, len(x))
	for i, v := range x {
		e[i] = math.Exp(float64(v) - mx)
		sum += e[i]
	}
	for i := range x {
		dst[i] = float32(e[i] / sum)
	}
}
