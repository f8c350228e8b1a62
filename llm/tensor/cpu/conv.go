//go:build cgo

package cpu

import "github.com/sightline/sightline/llm/tensor"

// Convolutions lower to im2col + MatMul: each output position's receptive
// field becomes one row of cols, laid out as the weight's [C][K...] order.

func (b *Backend) Conv1D(dst, x, w, bias *tensor.Tensor, stride, pad int) error {
	s, err := tensor.CheckConv1D(dst, x, w, bias, stride, pad)
	if err != nil {
		return err
	}
	cols := tensor.AlignedF32(s.TOut * s.C * s.K)
	xv := x.F32()
	for t := 0; t < s.TOut; t++ {
		row := cols[t*s.C*s.K:]
		for c := 0; c < s.C; c++ {
			for k := 0; k < s.K; k++ {
				if ti := t*stride - pad + k; ti >= 0 && ti < s.T {
					row[c*s.K+k] = xv[ti*s.C+c]
				}
			}
		}
	}
	return b.convOut(dst, cols, s.TOut, s.C*s.K, w, bias)
}

func (b *Backend) Conv2D(dst, x, w, bias *tensor.Tensor, stride, pad [2]int) error {
	s, err := tensor.CheckConv2D(dst, x, w, bias, stride, pad)
	if err != nil {
		return err
	}
	kk := s.C * s.KH * s.KW
	cols := tensor.AlignedF32(s.OH * s.OW * kk)
	xv := x.F32()
	for oy := 0; oy < s.OH; oy++ {
		for ox := 0; ox < s.OW; ox++ {
			row := cols[(oy*s.OW+ox)*kk:]
			for c := 0; c < s.C; c++ {
				for ky := 0; ky < s.KH; ky++ {
					iy := oy*s.SH - s.PH + ky
					if iy < 0 || iy >= s.H {
						continue
					}
					for kx := 0; kx < s.KW; kx++ {
						if ix := ox*s.SW - s.PW + kx; ix >= 0 && ix < s.W {
							row[(c*s.KH+ky)*s.KW+kx] = xv[(c*s.H+iy)*s.W+ix]
						}
					}
				}
			}
		}
	}
	return b.convOut(dst, cols, s.OH*s.OW, kk, w, bias)
}

func (b *Backend) convOut(dst *tensor.Tensor, cols []float32, rows, k int, w, bias *tensor.Tensor) error {
	a := &tensor.Tensor{DType: tensor.F32, Shape: []int{rows, k}, Data: tensor.BytesOfF32(cols)}
	if err := b.MatMul(dst, a, w); err != nil {
		return err
	}
	if bias != nil {
		return b.Add(dst, dst, bias)
	}
	return nil
}
