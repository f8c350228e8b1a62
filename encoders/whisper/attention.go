package whisper

import (
	"github.com/sightline/sightline/llm/tensor"
)

// attend writes span j's rows of att [R, D] from q, k, v [R, D]: per head,
//
//	S = scale·Q_h·K_hᵀ [rows, kv]  →  softmax per row  →  S·V_h [rows, hd]
//
// with kv = j.real keys (the padded keys of the full window are left out:
// Hugging Face's −∞ mask). Two matrix products per head instead of the
// backend's per-query Attention kernel: over 1500 non-causal positions they
// run several times faster on the CPU backend.
func (e *Encoder) attend(att, q, k, v *tensor.Tensor, j job, scale float32) error {
	be, a := e.be, &e.arena
	D, H := e.cfg.D, e.cfg.Heads
	hd, rows, kv := D/H, j.rows, j.real
	qh, kh, vt := a.F32(rows, hd), a.F32(kv, hd), a.F32(hd, kv)
	sc, oh := a.F32(rows, kv), a.F32(rows, hd)
	qv, kvv, vv, av := q.F32(), k.F32(), v.F32(), att.F32()
	qd, kd, vd, od := qh.F32(), kh.F32(), vt.F32(), oh.F32()
	for h := 0; h < H; h++ {
		c0 := h * hd
		for r := 0; r < rows; r++ {
			copy(qd[r*hd:(r+1)*hd], qv[(j.off+r)*D+c0:])
		}
		for r := 0; r < kv; r++ {
			copy(kd[r*hd:(r+1)*hd], kvv[(j.off+r)*D+c0:])
			for c := 0; c < hd; c++ {
				vd[c*kv+r] = vv[(j.off+r)*D+c0+c]
			}
		}
		if err := be.MatMul(sc, qh, kh); err != nil {
			return err
		}
		if err := be.Scale(sc, sc, scale); err != nil {
			return err
		}
		if err := be.Softmax(sc, sc); err != nil {
			return err
		}
		if err := be.MatMul(oh, sc, vt); err != nil {
			return err
		}
		for r := 0; r < rows; r++ {
			copy(av[(j.off+r)*D+c0:(j.off+r)*D+c0+hd], od[r*hd:(r+1)*hd])
		}
	}
	return nil
}
