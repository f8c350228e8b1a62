package vit

import (
	"context"
	"fmt"
	"math"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
)

// block is one pre-norm transformer layer.
type block struct {
	ln1w, ln1b, ln2w, ln2b *tensor.Tensor // [Hidden]; biases nil for RMSNorm (Qwen2.5-VL)
	q, k, v, o             nn.Linear      // [Hidden, Hidden]
	up, down               nn.Linear      // [FFN, Hidden], [Hidden, FFN]
	gate                   nn.Linear      // [FFN, Hidden] (gated MLP: down(act(gate(x))·up(x))); W nil otherwise
	full                   bool           // Qwen2.5-VL: attends over whole frames, not windows
}

// seg is one image (or frame) of a batch: rows [lo, hi) of the sequence.
type seg struct{ lo, hi int }

// sequence is a batch's hidden states and their attention layout.
type sequence struct {
	x       *tensor.Tensor // [S, D], updated in place by the blocks
	segs    []seg          // attention runs within each segment
	winSegs []seg          // Qwen2.5-VL: the windows, for the blocks that are not full
	rope    *tensor.RoPE   // 2-D RoPE on q, k (Qwen2-VL); nil for none
	ropePos []int32        // [2·S]: row positions, then column positions
}

// work is one pass's scratch, shared by every layer.
type work struct {
	norm, tmp        *tensor.Tensor // [S, D]
	q, k, v, att     *tensor.Tensor // [S, H, hd]
	q2, k2, v2, att2 *tensor.Tensor // the same storage as [S, D]
	up, gate         *tensor.Tensor // [S, FFN] (gate only for gated MLPs)
	heads, winHeads  []headSeg      // per segment, per window
	scale            float32        // 1/√hd
}

// headSeg is one segment's rows [hi-lo, H, hd] of q, k, v and att.
type headSeg struct{ q, k, v, att *tensor.Tensor }

// patchEmbed gathers the spans' patch rows X [R, Cols] and returns X·Wᵀ (+b) [R, D].
func (e *Encoder) patchEmbed(spans []*input.Span) (*tensor.Tensor, error) {
	c, a := &e.cfg, &e.arena
	R := 0
	for _, sp := range spans {
		R += sp.Features.Shape[0]
	}
	x := a.F32(R, c.Cols())
	xv := x.F32()
	off := 0
	for _, sp := range spans {
		off += copy(xv[off:], sp.Features.Data)
	}
	h := a.F32(R, c.Hidden)
	if err := e.patch.Forward(e.be, h, x); err != nil {
		return nil, fmt.Errorf("vit: patch embedding: %w", err)
	}
	return h, nil
}

// addPositions adds the learned position rows ids to x [len(ids), D].
func (e *Encoder) addPositions(x *tensor.Tensor, ids []int32) error {
	pos := e.arena.F32(len(ids), e.cfg.Hidden)
	if err := e.be.Gather(pos, e.pos, ids); err != nil {
		return fmt.Errorf("vit: position embeddings: %w", err)
	}
	if err := e.be.Add(x, x, pos); err != nil {
		return fmt.Errorf("vit: position embeddings: %w", err)
	}
	return nil
}

// norm is the tower's per-row norm: RMSNorm for Qwen2.5-VL (w only),
// LayerNorm for the others.
func (e *Encoder) norm(dst, x, w, b *tensor.Tensor) error {
	if e.cfg.Kind == Qwen25VL {
		return e.be.RMSNorm(dst, x, w, e.cfg.Eps)
	}
	return e.be.LayerNorm(dst, x, w, b, e.cfg.Eps)
}

// postNorm applies the final norm (SigLIP post-LN, Qwen2(.5)-VL ln_q) to x [S, D].
func (e *Encoder) postNorm(x *tensor.Tensor) error {
	if err := e.norm(x, x, e.postW, e.postB); err != nil {
		return fmt.Errorf("vit: post layer norm: %w", err)
	}
	return nil
}

// runBlocks runs every layer over s.x [S, D].
func (e *Encoder) runBlocks(ctx context.Context, s *sequence) error {
	w, err := e.newWork(s)
	if err != nil {
		return err
	}
	for li := range e.blocks {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("vit: layer %d: %w", li, err)
		}
		if err := e.attention(&e.blocks[li], s, w); err != nil {
			return fmt.Errorf("vit: layer %d: %w", li, err)
		}
		if err := e.mlp(&e.blocks[li], s, w); err != nil {
			return fmt.Errorf("vit: layer %d: %w", li, err)
		}
	}
	return nil
}

// newWork allocates the scratch of a pass over s and its per-segment views.
func (e *Encoder) newWork(s *sequence) (*work, error) {
	c, a := &e.cfg, &e.arena
	S, D, H := s.x.Rows(), c.Hidden, c.Heads
	hd := D / H
	w := &work{norm: a.F32(S, D)}
	w.q, w.k, w.v = a.F32(S, H, hd), a.F32(S, H, hd), a.F32(S, H, hd)
	w.att = a.F32(S, H, hd)
	w.tmp = a.F32(S, D)
	w.up = a.F32(S, c.FFN)
	if len(e.blocks) > 0 && e.blocks[0].gate.W != nil {
		w.gate = a.F32(S, c.FFN)
	}
	w.scale = float32(1 / math.Sqrt(float64(hd)))
	var err error
	for _, p := range [...]struct{ dst, src **tensor.Tensor }{{&w.q2, &w.q}, {&w.k2, &w.k}, {&w.v2, &w.v}, {&w.att2, &w.att}} {
		if *p.dst, err = (*p.src).View(S, D); err != nil {
			return nil, fmt.Errorf("vit: scratch: %w", err)
		}
	}
	if w.heads, err = w.views(s.segs); err != nil {
		return nil, err
	}
	if w.winHeads, err = w.views(s.winSegs); err != nil {
		return nil, err
	}
	return w, nil
}

// views slices q, k, v and att into each segment's rows (no copies).
func (w *work) views(segs []seg) ([]headSeg, error) {
	out := make([]headSeg, len(segs))
	var err error
	for i, sg := range segs {
		hs := &out[i]
		for _, p := range [...]struct{ dst, src **tensor.Tensor }{{&hs.q, &w.q}, {&hs.k, &w.k}, {&hs.v, &w.v}, {&hs.att, &w.att}} {
			if *p.dst, err = (*p.src).Slice(sg.lo, sg.hi); err != nil {
				return nil, fmt.Errorf("vit: segment %d [%d, %d): %w", i, sg.lo, sg.hi, err)
			}
		}
	}
	return out, nil
}

// attention: x += o(Attn(RoPE(q), RoPE(k), v)), q, k, v = LN1(x)·W [S, H, hd],
// attending within each segment (each window, for a windowed block).
func (e *Encoder) attention(l *block, s *sequence, w *work) error {
	be := e.be
	if err := e.norm(w.norm, s.x, l.ln1w, l.ln1b); err != nil {
		return fmt.Errorf("ln1: %w", err)
	}
	for _, p := range [...]struct {
		name string
		dst  *tensor.Tensor
		w    *nn.Linear
	}{{"q", w.q2, &l.q}, {"k", w.k2, &l.k}, {"v", w.v2, &l.v}} {
		if err := p.w.Forward(be, p.dst, w.norm); err != nil {
			return fmt.Errorf("%s projection: %w", p.name, err)
		}
	}
	if s.rope != nil {
		if err := be.RoPE(w.q, w.q, s.ropePos, *s.rope); err != nil {
			return fmt.Errorf("q rope: %w", err)
		}
		if err := be.RoPE(w.k, w.k, s.ropePos, *s.rope); err != nil {
			return fmt.Errorf("k rope: %w", err)
		}
	}
	heads := w.heads
	if s.winSegs != nil && !l.full {
		heads = w.winHeads
	}
	for i, h := range heads {
		if err := be.Attention(h.att, h.q, h.k, h.v, tensor.Attn{Scale: w.scale}); err != nil {
			return fmt.Errorf("attention, segment %d: %w", i, err)
		}
	}
	if err := l.o.Forward(be, w.tmp, w.att2); err != nil {
		return fmt.Errorf("output projection: %w", err)
	}
	if err := be.Add(s.x, s.x, w.tmp); err != nil {
		return fmt.Errorf("attention residual: %w", err)
	}
	return nil
}

// mlp: x += down(act(up(LN2(x)))), up [S, FFN]; gated:
// x += down(act(gate(LN2(x)))·up(LN2(x))).
func (e *Encoder) mlp(l *block, s *sequence, w *work) error {
	be, c := e.be, &e.cfg
	if err := e.norm(w.norm, s.x, l.ln2w, l.ln2b); err != nil {
		return fmt.Errorf("ln2: %w", err)
	}
	if err := l.up.Forward(be, w.up, w.norm); err != nil {
		return fmt.Errorf("mlp up: %w", err)
	}
	act := w.up
	if l.gate.W != nil {
		act = w.gate
		if w.gate == nil {
			return fmt.Errorf("%w: gated and plain MLP layers mixed", ErrConfig)
		}
		if err := l.gate.Forward(be, w.gate, w.norm); err != nil {
			return fmt.Errorf("mlp gate: %w", err)
		}
		if c.Act == tensor.SiLU {
			if err := be.SwiGLU(w.gate, w.gate, w.up); err != nil {
				return fmt.Errorf("mlp swiglu: %w", err)
			}
		} else {
			if err := be.Act(w.gate, w.gate, c.Act); err != nil {
				return fmt.Errorf("mlp activation: %w", err)
			}
			if err := be.Mul(w.gate, w.gate, w.up); err != nil {
				return fmt.Errorf("mlp gating: %w", err)
			}
		}
	} else if err := be.Act(w.up, w.up, c.Act); err != nil {
		return fmt.Errorf("mlp activation: %w", err)
	}
	if err := l.down.Forward(be, w.tmp, act); err != nil {
		return fmt.Errorf("mlp down: %w", err)
	}
	if err := be.Add(s.x, s.x, w.tmp); err != nil {
		return fmt.Errorf("mlp residual: %w", err)
	}
	return nil
}

// mlpProjector maps x [rows, in] through mm.0 → ProjAct → mm.2 to [rows, Out]
// (CLIP: in = D; Qwen2-VL: in = D·M²).
func (e *Encoder) mlpProjector(x *tensor.Tensor) (*tensor.Tensor, error) {
	be, a := e.be, &e.arena
	mid := a.F32(x.Rows(), e.mm0.Out())
	if err := e.mm0.Forward(be, mid, x); err != nil {
		return nil, fmt.Errorf("vit: projector mm.0: %w", err)
	}
	if err := be.Act(mid, mid, e.cfg.ProjAct); err != nil {
		return nil, fmt.Errorf("vit: projector activation: %w", err)
	}
	y := a.F32(x.Rows(), e.cfg.Out)
	if err := e.mm2.Forward(be, y, mid); err != nil {
		return nil, fmt.Errorf("vit: projector mm.2: %w", err)
	}
	return y, nil
}
