package ref

import (
	"math"

	"github.com/sightline/sightline/llm/tensor"
)

func (*Backend) RoPE(dst, x *tensor.Tensor, pos []int32, p tensor.RoPE) error {
	T, H, D, err := tensor.CheckRoPE(dst, x, pos, p)
	if err != nil {
		return err
	}
	half := p.Dims / 2
	cos, sin := make([]float32, T*half), make([]float32, T*half)
	p.Angles(pos, T, cos, sin)
	xv, dv := x.F32(), dst.F32()
	for t := 0; t < T; t++ {
		for h := 0; h < H; h++ {
			base := (t*H + h) * D
			head := append([]float32(nil), xv[base:base+D]...)
			copy(dv[base:base+D], head)
			for i := 0; i < half; i++ {
				a, b := p.Pairs(i)
				c, s := float64(cos[t*half+i]), float64(sin[t*half+i])
				x0, x1 := float64(head[a]), float64(head[b])
				dv[base+a] = float32(x0*c - x1*s)
				dv[base+b] = float32(x0*s + x1*c)
			}
		}
	}
	return nil
}

func (*Backend) Gather(dst, table *tensor.Tensor, ids []int32) error {
	d, err := tensor.CheckGather(dst, table, ids)
	if err != nil {
		return err
	}
	if err := rowMajor("Gather", table); err != nil {
		return err
	}
	dv := dst.F32()
	for i, id := range ids {
		row(table, int(id), d, dv[i*d:(i+1)*d])
	}
	return nil
}

func (*Backend) SetRows(dst *tensor.Tensor, rows []int32, src *tensor.Tensor) error {
	if err := tensor.CheckSetRows(dst, rows, src); err != nil {
		return err
	}
	d := dst.Cols()
	dv, sv := dst.F32(), src.F32()
	for i, r := range rows {
		copy(dv[int(r)*d:(int(r)+1)*d], sv[i*d:(i+1)*d])
	}
	return nil
}

func (*Backend) Concat(dst *tensor.Tensor, axis int, srcs ...*tensor.Tensor) error {
	outer, inner, err := tensor.CheckConcat(dst, axis, srcs)
	if err != nil {
		return err
	}
	dv := dst.F32()
	off := 0
	for o := 0; o < outer; o++ {
		for i, s := range srcs {
			off += copy(dv[off:off+inner[i]], s.F32()[o*inner[i]:(o+1)*inner[i]])
		}
	}
	return nil
}

// weightF32 decodes a whole row-major weight.
func weightF32(w *tensor.Tensor) []float32 {
	out := make([]float32, w.Len())
	rows := w.Shape[0]
	cols := w.Len() / max(rows, 1)
	for r := 0; r < rows; r++ {
		row(w, r, cols, out[r*cols:(r+1)*cols])
	}
	return out
}

func (*Backend) Conv1D(dst, x, w, b *tensor.Tensor, stride, pad int) error {
	s, err := tensor.CheckConv1D(dst, x, w, b, stride, pad)
	if err != nil {
		return err
	}
	if err := rowMajor("Conv1D", w); err != nil {
		return err
	}
	wv, xv := weightF32(w), x.F32()
	out := make([]float32, s.TOut*s.OC)
	for t := 0; t < s.TOut; t++ {
		for o := 0; o < s.OC; o++ {
			var acc float64
			if b != nil {
				acc = float64(b.F32()[o])
			}
			for c := 0; c < s.C; c++ {
				for k := 0; k < s.K; k++ {
					ti := t*stride - pad + k
					if ti < 0 || ti >= s.T {
						continue
					}
					acc += float64(xv[ti*s.C+c]) * float64(wv[(o*s.C+c)*s.K+k])
				}
			}
			out[t*s.OC+o] = float32(acc)
		}
	}
	copy(dst.F32(), out)
	return nil
}

func (*Backend) Conv2D(dst, x, w, b *tensor.Tensor, stride, pad [2]int) error {
	s, err := tensor.CheckConv2D(dst, x, w, b, stride, pad)
	if err != nil {
		return err
	}
	if err := rowMajor("Conv2D", w); err != nil {
		return err
	}
	wv, xv := weightF32(w), x.F32()
	out := make([]float32, s.OH*s.OW*s.OC)
	for oy := 0; oy < s.OH; oy++ {
		for ox := 0; ox < s.OW; ox++ {
			for o := 0; o < s.OC; o++ {
				var acc float64
				if b != nil {
					acc = float64(b.F32()[o])
				}
				for c := 0; c < s.C; c++ {
					for ky := 0; ky < s.KH; ky++ {
						iy := oy*s.SH - s.PH + ky
						if iy < 0 || iy >= s.H {
							continue
						}
						for kx := 0; kx < s.KW; kx++ {
							ix := ox*s.SW - s.PW + kx
							if ix < 0 || ix >= s.W {
								continue
							}
							acc += float64(xv[(c*s.H+iy)*s.W+ix]) * float64(wv[((o*s.C+c)*s.KH+ky)*s.KW+kx])
						}
					}
				}
				out[(oy*s.OW+ox)*s.OC+o] = float32(acc)
			}
		}
	}
	copy(dst.F32(), out)
	return nil
}

func (*Backend) AvgPool1D(dst, x *tensor.Tensor, k, stride int) error {
	_, C, TOut, err := tensor.CheckAvgPool1D(dst, x, k, stride)
	if err != nil {
		return err
	}
	xv := x.F32()
	out := make([]float32, TOut*C)
	for t := 0; t < TOut; t++ {
		for c := 0; c < C; c++ {
			var s float64
			for j := 0; j < k; j++ {
				s += float64(xv[(t*stride+j)*C+c])
			}
			out[t*C+c] = float32(s / float64(k))
		}
	}
	copy(dst.F32(), out)
	return nil
}

func (*Backend) Attention(dst, q, k, v *tensor.Tensor, a tensor.Attn) error {
	s, err := tensor.CheckAttention(dst, q, k, v, a)
	if err != nil {
		return err
	}
	qv, kv, vv := q.F32(), k.F32(), v.F32()
	out := make([]float32, s.Tq*s.H*s.Dv)
	group := s.H / s.Hkv
	scores := make([]float64, s.Tk)
	for i := 0; i < s.Tq; i++ {
		last := s.KVLen - 1
		if a.Causal {
			last = min(last, a.QPos0+i)
		}
		for h := 0; h < s.H; h++ {
			kh := h / group
			qr := qv[(i*s.H+h)*s.D : (i*s.H+h+1)*s.D]
			mx := math.Inf(-1)
			for j := 0; j <= last; j++ {
				kr := kv[(j*s.Hkv+kh)*s.D : (j*s.Hkv+kh+1)*s.D]
				var d float64
				for c := range qr {
					d += float64(qr[c]) * float64(kr[c])
				}
				scores[j] = d * float64(a.Scale)
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := 0; j <= last; j++ {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			o := out[(i*s.H+h)*s.Dv : (i*s.H+h+1)*s.Dv]
			for c := range o {
				var acc float64
				for j := 0; j <= last; j++ {
					acc += scores[j] * float64(vv[(j*s.Hkv+kh)*s.Dv+c])
				}
				o[c] = float32(acc / sum)
			}
		}
	}
	copy(dst.F32(), out)
	return nil
}

func (*Backend) Argmax(dst []int32, x *tensor.Tensor) error {
	m, n, err := tensor.CheckArgmax(dst, x)
	if err != nil {
		return err
	}
	xv := x.F32()
	for i := 0; i < m; i++ {
		best := 0
		for j := 1; j < n; j++ {
			if xv[i*n+j] > xv[i*n+best] {
				best = j
			}
		}
		dst[i] = int32(best)
	}
	return nil
}

func (b *Backend) PagedAttention(dst, q, k, v *tensor.Tensor, a tensor.PagedAttn) error {
	s, err := tensor.CheckPagedAttention(dst, q, k, v, a)
	if err != nil {
		return err
	}
	// Gather each sequence's keys into contiguous tensors and run dense attention.
	kRow, vRow := s.Hkv*s.D, s.Hkv*s.Dv
	for _, sq := range a.Seqs {
		if sq.QLen == 0 {
			continue
		}
		kk := make([]float32, sq.KVLen*kRow)
		vv := make([]float32, sq.KVLen*vRow)
		for j := 0; j < sq.KVLen; j++ {
			slot := int(sq.Pages[j/a.PageSize])*a.PageSize + j%a.PageSize
			copy(kk[j*kRow:], k.F32()[slot*kRow:(slot+1)*kRow])
			copy(vv[j*vRow:], v.F32()[slot*vRow:(slot+1)*vRow])
		}
		kt, _ := b.FromF32(kk, sq.KVLen, s.Hkv, s.D)
		vt, _ := b.FromF32(vv, sq.KVLen, s.Hkv, s.Dv)
		qt, _ := q.Slice(sq.QStart, sq.QStart+sq.QLen)
		ot, _ := dst.Slice(sq.QStart, sq.QStart+sq.QLen)
		if err := b.Attention(ot, qt, kt, vt, tensor.Attn{Scale: a.Scale, Causal: true, QPos0: sq.KVLen - sq.QLen}); err != nil {
			return err
		}
	}
	return nil
}
