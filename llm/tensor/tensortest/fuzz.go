package tensortest

import (
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

// reader hands out small values from fuzz input, zero when exhausted.
type reader struct{ b []byte }

func (r *reader) next() int {
	if len(r.b) == 0 {
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) dim() int { return r.next()%9 - 1 } // −1 … 7: includes invalid

func (r *reader) shape() []int {
	s := make([]int, r.next()%4+1)
	for i := range s {
		s[i] = r.dim()
	}
	return s
}

// tensor makes an F32 tensor of a fuzzed shape whose data may be short.
func (r *reader) tensor() *tensor.Tensor {
	if r.next()%16 == 0 {
		return nil
	}
	s := r.shape()
	n := 1
	for _, d := range s {
		if d > 0 {
			n *= d
		}
	}
	n = n*4 - r.next()%3*4
	dt := tensor.F32
	if r.next()%8 == 0 {
		dt = tensor.F16
	}
	return &tensor.Tensor{DType: dt, Shape: s, Data: make([]byte, max(n, 0))}
}

func (r *reader) weight() *tensor.Tensor {
	dt := tensor.DType(r.next() % (len(tensor.DTypes()) + 1)) // the last is invalid
	s := r.shape()
	n, err := tensor.ByteSize(dt, s)
	if err != nil {
		n = r.next() * 4
	}
	return &tensor.Tensor{DType: dt, Shape: s, Data: make([]byte, max(0, n-r.next()%2*2))}
}

func (r *reader) ids() []int32 {
	ids := make([]int32, r.next()%5)
	for i := range ids {
		ids[i] = int32(r.next()%12 - 2)
	}
	return ids
}

// Fuzz drives every op with fuzzed shapes, dtypes and lengths. An op must
// either return an error or succeed; it must never panic or overrun.
func Fuzz(f *testing.F, be tensor.Backend) {
	f.Add([]byte{0, 1, 2, 3, 1, 2, 3, 4, 1, 2})
	f.Add([]byte{3, 2, 3, 4, 0, 0, 2, 3, 4, 0, 0})
	f.Add([]byte{12, 2, 2, 4, 9, 0, 0, 9, 1, 2, 3, 4})
	f.Add([]byte{17, 2, 3, 5, 5, 0, 0, 2, 3, 5, 5, 0, 0, 2, 3, 5, 5, 0, 0, 2, 3, 5, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{b: data}
		op := r.next() % 19
		a, b, c, d := r.tensor(), r.tensor(), r.tensor(), r.tensor()
		var err error
		switch op {
		case 0:
			err = be.MatMul(a, b, r.weight())
		case 1:
			err = be.Add(a, b, c)
		case 2:
			err = be.Mul(a, b, c)
		case 3:
			err = be.Scale(a, b, 2)
		case 4:
			err = be.Act(a, b, tensor.Activation(r.next()%5))
		case 5:
			err = be.SwiGLU(a, b, c)
		case 6:
			err = be.RMSNorm(a, b, c, 1e-5)
		case 7:
			err = be.LayerNorm(a, b, c, d, 1e-5)
		case 8:
			err = be.Softmax(a, b)
		case 9:
			p := tensor.RoPE{Mode: tensor.RoPEMode(r.next() % 5), Dims: r.dim(), Base: float32(r.next()), Sections: []int{r.dim(), r.dim()}}
			pos := make([]int32, r.next()%20)
			err = be.RoPE(a, b, pos, p)
		case 10:
			err = be.Gather(a, r.weight(), r.ids())
		case 11:
			err = be.SetRows(a, r.ids(), b)
		case 12:
			err = be.Concat(a, r.next()%5-1, b, c)
		case 13:
			err = be.Conv1D(a, b, r.weight(), c, r.dim(), r.dim())
		case 14:
			err = be.Conv2D(a, b, r.weight(), c, [2]int{r.dim(), r.dim()}, [2]int{r.dim(), r.dim()})
		case 15:
			err = be.AvgPool1D(a, b, r.dim(), r.dim())
		case 16:
			err = be.Attention(a, b, c, d, tensor.Attn{Scale: 1, Causal: r.next()%2 == 0, QPos0: r.dim(), KVLen: r.dim()})
		case 17:
			dst := make([]int32, r.next()%6)
			err = be.Argmax(dst, a)
		case 18:
			w := r.weight()
			if w != nil {
				err = be.ToF32(w, make([]float32, max(0, w.Len()-r.next()%2)))
			}
		}
		_ = err
	})
}
