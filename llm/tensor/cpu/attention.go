//go:build cgo

package cpu

/*
#include "kern_dispatch.h"
*/
import "C"

import (
	"github.com/sightline/sightline/llm/tensor"
)

// gemmAttnMin is the query and key count from which dense attention runs as
// two matrix multiplications per head (encoders over hundreds or thousands
// of positions) instead of one dot product per query-key pair. Paged
// (decoder) attention never takes this path: its per-row order must not
// depend on how many rows share a call.
const gemmAttnMin = 64

// attentionGEMM computes, per query head h: S = Q_h·K_hᵀ·scale [Tq, L]
// (L = KVLen), a row softmax over each row's visible keys (exact zeros after
// them), and O_h = S·V_h through the MatMul kernels.
func (b *Backend) attentionGEMM(dst, q, k, v *tensor.Tensor, a tensor.Attn, s tensor.AttnShape) error {
	L := s.KVLen
	group := s.H / s.Hkv
	qh := tensor.AlignedF32(s.Tq * s.D)
	kh := tensor.AlignedF32(L * s.D)
	vt := tensor.AlignedF32(s.Dv * L)
	sc := tensor.AlignedF32(s.Tq * L)
	oh := tensor.AlignedF32(s.Tq * s.Dv)
	qv, kv, vv, dv := q.F32(), k.F32(), v.F32(), dst.F32()
	t := func(data []float32, shape ...int) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.F32, Shape: shape, Data: tensor.BytesOfF32(data)}
	}
	for kvh := 0; kvh < s.Hkv; kvh++ {
		for j := 0; j < L; j++ {
			copy(kh[j*s.D:(j+1)*s.D], kv[(j*s.Hkv+kvh)*s.D:])
			for c := 0; c < s.Dv; c++ {
				vt[c*L+j] = vv[(j*s.Hkv+kvh)*s.Dv+c]
			}
		}
		kw := pack(tensor.F32, []int{L, s.D}, tensor.BytesOfF32(kh))
		vw := pack(tensor.F32, []int{s.Dv, L}, tensor.BytesOfF32(vt))
		for h := kvh * group; h < (kvh+1)*group; h++ {
			for i := 0; i < s.Tq; i++ {
				copy(qh[i*s.D:(i+1)*s.D], qv[(i*s.H+h)*s.D:])
			}
			if err := b.MatMul(t(sc, s.Tq, L), t(qh, s.Tq, s.D), kw); err != nil {
				return err
			}
			b.rows(s.Tq, s.Tq*L, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					n := L
					if a.Causal {
						n = min(n, a.QPos0+i+1)
					}
					row := sc[i*L : (i+1)*L]
					C.k_scale(C.int(b.level), fs(row), fs(row), C.long(n), C.float(a.Scale))
					C.k_softmax(C.int(b.level), fs(row), fs(row), 1, C.long(n))
					clear(row[n:])
				}
			})
			if err := b.MatMul(t(oh, s.Tq, s.Dv), t(sc, s.Tq, L), vw); err != nil {
				return err
			}
			for i := 0; i < s.Tq; i++ {
				copy(dv[(i*s.H+h)*s.Dv:(i*s.H+h+1)*s.Dv], oh[i*s.Dv:(i+1)*s.Dv])
			}
		}
	}
	return nil
}
