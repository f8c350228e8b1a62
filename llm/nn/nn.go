// Package nn holds the building blocks shared by decoders and encoders:
// parameter loading from a weights.Source and linear layers. No package state.
package nn

import (
	"errors"
	"fmt"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// Params loads named tensors from a weight source onto a backend.
type Params struct {
	Src weights.Source
	Be  tensor.Backend
}

// Has reports whether the source holds a tensor called name.
func (p Params) Has(name string) bool {
	_, _, err := p.Src.Tensor(name)
	return err == nil || !errors.Is(err, weights.ErrNotFound)
}

// Matrix loads name as a MatMul/Gather weight with the given shape (outermost
// first; nil accepts the stored shape).
func (p Params) Matrix(name string, shape ...int) (*tensor.Tensor, error) {
	info, data, err := p.Src.Tensor(name)
	if err != nil {
		return nil, err
	}
	if err := wantShape(name, info.Shape, shape); err != nil {
		return nil, err
	}
	return p.Be.Weight(info.DType, info.Shape, data)
}

// Vector loads name as a row-major F32 tensor (norm weights, biases,
// position tables) whatever its stored dtype.
func (p Params) Vector(name string, shape ...int) (*tensor.Tensor, error) {
	info, data, err := p.Src.Tensor(name)
	if err != nil {
		return nil, err
	}
	if err := wantShape(name, info.Shape, shape); err != nil {
		return nil, err
	}
	vals := make([]float32, info.NumElements())
	if err := tensor.DecodeRow(info.DType, data, vals); err != nil {
		return nil, fmt.Errorf("nn: %s: %w", name, err)
	}
	return p.Be.FromF32(vals, info.Shape...)
}

// VectorF32 loads name and returns its values as a Go slice.
func (p Params) VectorF32(name string) ([]float32, error) {
	info, data, err := p.Src.Tensor(name)
	if err != nil {
		return nil, err
	}
	vals := make([]float32, info.NumElements())
	if err := tensor.DecodeRow(info.DType, data, vals); err != nil {
		return nil, fmt.Errorf("nn: %s: %w", name, err)
	}
	return vals, nil
}

// ErrShape reports a stored tensor whose shape differs from the config's.
var ErrShape = errors.New("nn: tensor shape does not match the model config")

func wantShape(name string, got, want []int) error {
	if want == nil {
		return nil
	}
	if len(got) != len(want) {
		return fmt.Errorf("%w: %s is %v, want %v", ErrShape, name, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("%w: %s is %v, want %v", ErrShape, name, got, want)
		}
	}
	return nil
}

// Linear is y = x·Wᵀ (+ b).
type Linear struct {
	W *tensor.Tensor // [out, in], a backend Weight
	B *tensor.Tensor // [out] F32, or nil
}

// Linear loads weight w ([out, in]) and, if present (or required), bias b ([out]).
func (p Params) Linear(w, b string, out, in int, requireBias bool) (Linear, error) {
	var l Linear
	var err error
	if l.W, err = p.Matrix(w, out, in); err != nil {
		return l, err
	}
	if b != "" && (requireBias || p.Has(b)) {
		if l.B, err = p.Vector(b, out); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Forward computes dst [m, out] from x [m, in].
func (l Linear) Forward(be tensor.Backend, dst, x *tensor.Tensor) error {
	if err := be.MatMul(dst, x, l.W); err != nil {
		return err
	}
	if l.B != nil {
		return be.Add(dst, dst, l.B)
	}
	return nil
}

// Out is the output width.
func (l Linear) Out() int { return l.W.Shape[0] }
