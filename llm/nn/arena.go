package nn

import "github.com/sightline/sightline/llm/tensor"

// Arena hands out F32 activation tensors and reuses their memory across
// forward passes: a pass asks for buffers in the same order every time, so
// buffer i is reused (and grown when a longer batch needs more). Not safe for
// concurrent use; tensors are valid until the next Reset.
type Arena struct {
	bufs [][]float32
	next int
}

// Reset makes every buffer available again.
func (a *Arena) Reset() { a.next = 0 }

// F32 returns an uninitialised row-major F32 tensor of the given shape.
func (a *Arena) F32(shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if a.next == len(a.bufs) {
		a.bufs = append(a.bufs, nil)
	}
	if cap(a.bufs[a.next]) < n {
		a.bufs[a.next] = tensor.AlignedF32(max(n, 2*cap(a.bufs[a.next])))
	}
	buf := a.bufs[a.next][:n]
	a.next++
	return &tensor.Tensor{DType: tensor.F32, Shape: append([]int(nil), shape...), Data: tensor.BytesOfF32(buf)}
}
