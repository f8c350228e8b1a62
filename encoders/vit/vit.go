// Package vit is the vision encoder of the image families: a pre-norm ViT
// with its projector into the text model's width, in three flavours that
// share one forward pass (Hugging Face semantics throughout):
//
//	CLIP (LLaVA)      patch matmul, class token first, learned positions, pre-LN,
//	                  quick-GELU MLP, no post-LN; drop CLS; mm.0 → GELU(erf) → mm.2
//	Qwen2-VL          patch matmul over 2 frames, 2-D RoPE (rows, cols), full
//	                  attention per frame; ln_q, 2×2 merge (4 rows → 1), mm.0 → GELU(erf) → mm.2
//	SigLIP (Idefics3) patch matmul + bias, learned positions, tanh-GELU MLP,
//	                  post-LN; pixel shuffle (scale s: s×s rows → 1), fc without bias
//
// Input is input.Features: patch rows [N, 3·T·P·P] in the processor's order
// (raster for CLIP/SigLIP, 2×2-merge blocks for Qwen2-VL). Spans of one
// Encode call are batched: every matmul runs over all their rows, attention
// per image.
package vit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/media"
)

// Kind is the ViT flavour.
type Kind uint8

const (
	CLIP Kind = iota + 1
	Qwen2VL
	SigLIP
)

func (k Kind) String() string {
	switch k {
	case CLIP:
		return "clip"
	case Qwen2VL:
		return "qwen2vl"
	case SigLIP:
		return "siglip"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Config is the architecture of one encoder.
type Config struct {
	Kind                       Kind
	Hidden, Heads, FFN, Layers int
	Patch, Temporal            int // patch side, frames per patch (Qwen2-VL 2)
	Positions                  int // learned position rows (CLIP: 1+N, SigLIP: N); 0 for RoPE
	Eps                        float32
	Act                        tensor.Activation // ViT MLP activation
	ProjAct                    tensor.Activation // between mm.0 and mm.2 (CLIP, Qwen2-VL)
	RopeTheta                  float32           // Qwen2-VL
	Merge                      int               // Qwen2-VL spatial merge
	Scale                      int               // SigLIP pixel shuffle
	KeepCLS                    bool              // CLIP: keep the class token's row
	Out                        int               // text model width
}

// ErrConfig reports an unusable encoder configuration or weight set.
var ErrConfig = errors.New("vit: bad encoder configuration")

// ErrInput reports features the encoder cannot take.
var ErrInput = errors.New("vit: bad encoder input")

// Validate checks the configuration.
func (c *Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrConfig}, a...)...) }
	switch {
	case c.Kind < CLIP || c.Kind > SigLIP:
		return bad("kind %v", c.Kind)
	case c.Hidden <= 0 || c.Heads <= 0 || c.Hidden%c.Heads != 0 || c.FFN <= 0 || c.Layers < 0 || c.Out <= 0:
		return bad("hidden %d heads %d ffn %d layers %d out %d", c.Hidden, c.Heads, c.FFN, c.Layers, c.Out)
	case c.Hidden > 1<<15 || c.FFN > 1<<17 || c.Layers > 256 || c.Out > 1<<17:
		return bad("implausible sizes (hidden %d, ffn %d, layers %d, out %d)", c.Hidden, c.FFN, c.Layers, c.Out)
	case c.Patch <= 0 || c.Patch > 64 || c.Temporal <= 0 || c.Temporal > 16:
		return bad("patch %d temporal %d", c.Patch, c.Temporal)
	case !(c.Eps > 0):
		return bad("layer norm eps %v", c.Eps)
	}
	switch c.Kind {
	case CLIP, SigLIP:
		if c.Positions <= 0 {
			return bad("%v needs learned positions", c.Kind)
		}
	case Qwen2VL:
		hd := c.Hidden / c.Heads
		if c.Merge <= 0 || hd%4 != 0 || !(c.RopeTheta > 0) {
			return bad("qwen2vl merge %d head dim %d rope θ %v", c.Merge, hd, c.RopeTheta)
		}
	}
	if c.Kind == SigLIP && c.Scale <= 0 {
		return bad("pixel shuffle scale %d", c.Scale)
	}
	return nil
}

// Cols is the width of one patch row.
func (c *Config) Cols() int { return 3 * c.Temporal * c.Patch * c.Patch }

type block struct {
	ln1w, ln1b, ln2w, ln2b *tensor.Tensor // [Hidden]
	q, k, v, o             nn.Linear      // [Hidden, Hidden]
	up, down               nn.Linear      // [FFN, Hidden], [Hidden, FFN]
}

// Encoder is a loaded vision encoder; it implements encoders.Encoder.
type Encoder struct {
	cfg          Config
	be           tensor.Backend
	patch        nn.Linear      // [Hidden, Cols]
	cls          *tensor.Tensor // [1, Hidden] (CLIP)
	pos          *tensor.Tensor // [Positions, Hidden]
	preW, preB   *tensor.Tensor // [Hidden] (CLIP)
	postW, postB *tensor.Tensor // [Hidden] (SigLIP post-LN, Qwen2-VL ln_q)
	blocks       []block
	mm0, mm2     nn.Linear // CLIP: [Out', Hidden], [Out, Out']; Qwen2-VL: [M, 4·Hidden], [Out, M]
	fc           nn.Linear // SigLIP: [Out, Hidden·s²]
	closer       io.Closer

	mu    sync.Mutex
	arena nn.Arena
}

var _ encoders.Encoder = (*Encoder)(nil)

// Config returns the encoder's architecture.
func (e *Encoder) Config() Config { return e.cfg }

// Modality implements encoders.Encoder.
func (e *Encoder) Modality() media.Modality { return media.Image }

// Close releases the weight files the encoder was loaded from.
func (e *Encoder) Close() error {
	if e.closer == nil {
		return nil
	}
	return e.closer.Close()
}

// OutRows is the embedding row count for n patch rows.
func (c *Config) OutRows(n int) int {
	switch c.Kind {
	case CLIP:
		if c.KeepCLS {
			return n + 1
		}
		return n
	case Qwen2VL:
		return n / (c.Merge * c.Merge)
	}
	return n / (c.Scale * c.Scale)
}

// check validates one span's features.
func (e *Encoder) check(sp *input.Span) error {
	f := sp.Features
	c := &e.cfg
	if f == nil {
		return fmt.Errorf("%w: span has no features", ErrInput)
	}
	if len(f.Shape) != 2 || f.Shape[1] != c.Cols() || f.Shape[0] <= 0 || len(f.Data) != f.Shape[0]*f.Shape[1] {
		return fmt.Errorf("%w: features %v (%d values), want [N, %d]", ErrInput, f.Shape, len(f.Data), c.Cols())
	}
	n := f.Shape[0]
	g := f.Grid
	if g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[0]*g[1]*g[2] != n {
		return fmt.Errorf("%w: grid %v does not hold %d patches", ErrInput, g, n)
	}
	switch c.Kind {
	case CLIP:
		if n+1 != c.Positions || g[0] != 1 {
			return fmt.Errorf("%w: %d patches, the encoder takes %d", ErrInput, n, c.Positions-1)
		}
	case SigLIP:
		if n != c.Positions || g[0] != 1 || g[1]%c.Scale != 0 || g[2]%c.Scale != 0 {
			return fmt.Errorf("%w: %d patches (grid %v), the encoder takes %d", ErrInput, n, g, c.Positions)
		}
	case Qwen2VL:
		if g[1]%c.Merge != 0 || g[2]%c.Merge != 0 {
			return fmt.Errorf("%w: grid %v is not a multiple of the merge size %d", ErrInput, g, c.Merge)
		}
	}
	if want := c.OutRows(n); sp.Len != want {
		return fmt.Errorf("%w: span of %d placeholders, the image gives %d embeddings", ErrInput, sp.Len, want)
	}
	return nil
}

// maxBatchRows bounds the patch rows one forward pass holds.
const maxBatchRows = 1 << 14

// Encode implements encoders.Encoder: one [span.Len, Out] tensor per span.
func (e *Encoder) Encode(ctx context.Context, spans []*input.Span) ([]*tensor.Tensor, error) {
	for i, sp := range spans {
		if err := e.check(sp); err != nil {
			return nil, fmt.Errorf("span %d: %w", i, err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*tensor.Tensor, 0, len(spans))
	for lo := 0; lo < len(spans); {
		hi, rows := lo, 0
		for hi < len(spans) && (hi == lo || rows+spans[hi].Features.Shape[0] <= maxBatchRows) {
			rows += spans[hi].Features.Shape[0]
			hi++
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := e.forward(ctx, spans[lo:hi])
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
		lo = hi
	}
	return out, nil
}

// seg is one image (or frame) of a batch: rows [lo, hi) of the sequence.
type seg struct{ lo, hi int }

// forward runs one batch of spans.
//
//	X [R, Cols] ──patch──▶ [R, D] ──(CLS, positions)──▶ S [R', D] ──blocks──▶ S
//	──(post-LN)──▶ projector ──▶ [Σ span.Len, Out] ──▶ one tensor per span
func (e *Encoder) forward(ctx context.Context, spans []*input.Span) ([]*tensor.Tensor, error) {
	c := &e.cfg
	be := e.be
	a := &e.arena
	a.Reset()
	D, H := c.Hidden, c.Heads
	hd := D / H

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
	h := a.F32(R, D)
	if err := e.patch.Forward(be, h, x); err != nil {
		return nil, err
	}

	// Sequence layout and attention segments.
	var segs []seg
	seq := h
	switch c.Kind {
	case CLIP:
		S := R + len(spans)
		seq = a.F32(S, D)
		patchRows := make([]int32, 0, R)
		clsRows := make([]int32, 0, len(spans))
		posIDs := make([]int32, 0, S)
		r := 0
		for _, sp := range spans {
			n := sp.Features.Shape[0]
			clsRows = append(clsRows, int32(r))
			posIDs = append(posIDs, 0)
			for i := 0; i < n; i++ {
				patchRows = append(patchRows, int32(r+1+i))
				posIDs = append(posIDs, int32(1+i))
			}
			segs = append(segs, seg{r, r + n + 1})
			r += n + 1
		}
		if err := be.SetRows(seq, patchRows, h); err != nil {
			return nil, err
		}
		clsRep := a.F32(len(spans), D)
		if err := be.Gather(clsRep, e.cls, make([]int32, len(spans))); err != nil {
			return nil, err
		}
		if err := be.SetRows(seq, clsRows, clsRep); err != nil {
			return nil, err
		}
		pos := a.F32(S, D)
		if err := be.Gather(pos, e.pos, posIDs); err != nil {
			return nil, err
		}
		if err := be.Add(seq, seq, pos); err != nil {
			return nil, err
		}
		if err := be.LayerNorm(seq, seq, e.preW, e.preB, c.Eps); err != nil {
			return nil, err
		}
	case SigLIP:
		posIDs := make([]int32, 0, R)
		r := 0
		for _, sp := range spans {
			n := sp.Features.Shape[0]
			for i := 0; i < n; i++ {
				posIDs = append(posIDs, int32(i))
			}
			segs = append(segs, seg{r, r + n})
			r += n
		}
		pos := a.F32(R, D)
		if err := be.Gather(pos, e.pos, posIDs); err != nil {
			return nil, err
		}
		if err := be.Add(seq, seq, pos); err != nil {
			return nil, err
		}
	case Qwen2VL:
		r := 0
		for _, sp := range spans {
			g := sp.Features.Grid
			for t := 0; t < g[0]; t++ {
				segs = append(segs, seg{r, r + g[1]*g[2]})
				r += g[1] * g[2]
			}
		}
	}
	S := seq.Rows()

	var rope tensor.RoPE
	var ropePos []int32
	if c.Kind == Qwen2VL {
		rope = tensor.RoPE{Mode: tensor.RoPEVision, Dims: hd, Base: c.RopeTheta, Sections: []int{hd / 4, hd / 4}}
		ropePos = make([]int32, 2*S)
		r := 0
		M := c.Merge
		for _, sp := range spans {
			g := sp.Features.Grid
			for t := 0; t < g[0]; t++ {
				for bh := 0; bh < g[1]/M; bh++ {
					for bw := 0; bw < g[2]/M; bw++ {
						for mh := 0; mh < M; mh++ {
							for mw := 0; mw < M; mw++ {
								ropePos[r] = int32(bh*M + mh)
								ropePos[S+r] = int32(bw*M + mw)
								r++
							}
						}
					}
				}
			}
		}
	}

	norm := a.F32(S, D)
	q, k, v := a.F32(S, H, hd), a.F32(S, H, hd), a.F32(S, H, hd)
	att := a.F32(S, H, hd)
	tmp := a.F32(S, D)
	up := a.F32(S, c.FFN)
	scale := float32(1 / math.Sqrt(float64(hd)))
	for li := range e.blocks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l := &e.blocks[li]
		if err := be.LayerNorm(norm, seq, l.ln1w, l.ln1b, c.Eps); err != nil {
			return nil, err
		}
		for _, p := range []struct {
			dst *tensor.Tensor
			w   nn.Linear
		}{{q, l.q}, {k, l.k}, {v, l.v}} {
			d2, _ := p.dst.View(S, D)
			if err := p.w.Forward(be, d2, norm); err != nil {
				return nil, err
			}
		}
		if c.Kind == Qwen2VL {
			if err := be.RoPE(q, q, ropePos, rope); err != nil {
				return nil, err
			}
			if err := be.RoPE(k, k, ropePos, rope); err != nil {
				return nil, err
			}
		}
		for _, s := range segs {
			qs, _ := q.Slice(s.lo, s.hi)
			ks, _ := k.Slice(s.lo, s.hi)
			vs, _ := v.Slice(s.lo, s.hi)
			ds, _ := att.Slice(s.lo, s.hi)
			if err := be.Attention(ds, qs, ks, vs, tensor.Attn{Scale: scale}); err != nil {
				return nil, err
			}
		}
		att2, _ := att.View(S, D)
		if err := l.o.Forward(be, tmp, att2); err != nil {
			return nil, err
		}
		if err := be.Add(seq, seq, tmp); err != nil {
			return nil, err
		}
		if err := be.LayerNorm(norm, seq, l.ln2w, l.ln2b, c.Eps); err != nil {
			return nil, err
		}
		if err := l.up.Forward(be, up, norm); err != nil {
			return nil, err
		}
		if err := be.Act(up, up, c.Act); err != nil {
			return nil, err
		}
		if err := l.down.Forward(be, tmp, up); err != nil {
			return nil, err
		}
		if err := be.Add(seq, seq, tmp); err != nil {
			return nil, err
		}
	}
	if e.postW != nil {
		if err := be.LayerNorm(seq, seq, e.postW, e.postB, c.Eps); err != nil {
			return nil, err
		}
	}

	proj, err := e.project(seq, spans)
	if err != nil {
		return nil, err
	}
	// Copy each span's rows out of the arena into its own tensor.
	out := make([]*tensor.Tensor, len(spans))
	r := 0
	for i, sp := range spans {
		t, err := be.Alloc(tensor.F32, sp.Len, c.Out)
		if err != nil {
			return nil, err
		}
		ids := make([]int32, sp.Len)
		for j := range ids {
			ids[j] = int32(r + j)
		}
		if err := be.Gather(t, proj, ids); err != nil {
			return nil, err
		}
		out[i] = t
		r += sp.Len
	}
	return out, nil
}

// project maps the encoder output seq to [Σ span.Len, Out].
func (e *Encoder) project(seq *tensor.Tensor, spans []*input.Span) (*tensor.Tensor, error) {
	c := &e.cfg
	be, a := e.be, &e.arena
	D := c.Hidden
	mlp := func(x *tensor.Tensor) (*tensor.Tensor, error) {
		mid := a.F32(x.Rows(), e.mm0.Out())
		if err := e.mm0.Forward(be, mid, x); err != nil {
			return nil, err
		}
		if err := be.Act(mid, mid, c.ProjAct); err != nil {
			return nil, err
		}
		y := a.F32(x.Rows(), c.Out)
		return y, e.mm2.Forward(be, y, mid)
	}
	switch c.Kind {
	case CLIP:
		x := seq
		if !c.KeepCLS {
			var ids []int32
			r := 0
			for _, sp := range spans {
				n := sp.Features.Shape[0]
				for i := 0; i < n; i++ {
					ids = append(ids, int32(r+1+i))
				}
				r += n + 1
			}
			x = a.F32(len(ids), D)
			if err := be.Gather(x, seq, ids); err != nil {
				return nil, err
			}
		}
		return mlp(x)
	case Qwen2VL:
		M2 := c.Merge * c.Merge
		x, err := seq.View(seq.Rows()/M2, D*M2)
		if err != nil {
			return nil, err
		}
		return mlp(x)
	}
	// SigLIP pixel shuffle: output row (i, j) of a g×g image concatenates the
	// s×s input rows (i·s+dy, j·s+dx), dy-major.
	s := c.Scale
	ids := make([]int32, 0, seq.Rows())
	r := 0
	for _, sp := range spans {
		gh, gw := sp.Features.Grid[1], sp.Features.Grid[2]
		for i := 0; i < gh/s; i++ {
			for j := 0; j < gw/s; j++ {
				for dy := 0; dy < s; dy++ {
					for dx := 0; dx < s; dx++ {
						ids = append(ids, int32(r+(i*s+dy)*gw+j*s+dx))
					}
				}
			}
		}
		r += gh * gw
	}
	sh := a.F32(len(ids), D)
	if err := be.Gather(sh, seq, ids); err != nil {
		return nil, err
	}
	x, err := sh.View(len(ids)/(s*s), D*s*s)
	if err != nil {
		return nil, err
	}
	y := a.F32(x.Rows(), c.Out)
	return y, e.fc.Forward(be, y, x)
}
