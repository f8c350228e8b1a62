package vit

import (
	"context"
	"fmt"
	"math"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/processors/llavanext"
)

// forwardAnyRes is the LLaVA-NeXT / OneVision tower: every view of every
// span through the ViT and the projector, then each span's views packed
// into its placeholder rows.
//
//	X [R, Cols] (V views of g² rows per span) ─patch─▶ [R, D]
//	CLIP: per view [CLS; patches] + positions, pre-LN ─blocks─▶ drop CLS
//	SigLIP: + positions ─blocks─▶ (no post-LN: HF takes hidden_states[-1])
//	─mm.0, GELU, mm.2─▶ [R, Out] ─pack─▶ [Σ Len, Out]
func (e *Encoder) forwardAnyRes(ctx context.Context, spans []*input.Span) (*tensor.Tensor, error) {
	h, err := e.patchEmbed(spans)
	if err != nil {
		return nil, err
	}
	g := e.cfg.Geometry.Grid()
	var sizes []int // rows per view
	for _, sp := range spans {
		for v := 0; v < sp.Features.Grid[0]; v++ {
			sizes = append(sizes, g*g)
		}
	}
	x := h
	if e.cfg.ClassToken {
		s, err := e.clipSequence(h, sizes)
		if err != nil {
			return nil, err
		}
		if err := e.runBlocks(ctx, s); err != nil {
			return nil, err
		}
		if x, err = e.clipSelect(s.x, sizes); err != nil {
			return nil, err
		}
	} else {
		posIDs := make([]int32, 0, h.Rows())
		segs := make([]seg, 0, len(sizes))
		r := 0
		for _, n := range sizes {
			for i := 0; i < n; i++ {
				posIDs = append(posIDs, int32(i))
			}
			segs = append(segs, seg{r, r + n})
			r += n
		}
		if err := e.addPositions(h, posIDs); err != nil {
			return nil, err
		}
		if err := e.runBlocks(ctx, &sequence{x: h, segs: segs}); err != nil {
			return nil, err
		}
	}
	y, err := e.mlpProjector(x)
	if err != nil {
		return nil, err
	}
	return e.pack(y, spans)
}

// pack lays out each span's projected view rows y [Σ V·g², Out] as its
// placeholder rows [Len, Out] (host arithmetic on the arena's rows):
//
//	(V, H, W), V > 1: base rows, then for each row of the grid's unpadded
//	                  (and, past anyres_max, bilinearly resized) region its
//	                  cells and the newline
//	(1, H, W):        base rows, newline
//	(T, 0, 0):        every frame's g×g grid resized to ⌈g/2⌉², one newline
func (e *Encoder) pack(y *tensor.Tensor, spans []*input.Span) (*tensor.Tensor, error) {
	C, geo := e.cfg.Out, e.cfg.Geometry
	g := geo.Grid()
	g2 := g * g
	total := 0
	for _, sp := range spans {
		total += sp.Len
	}
	out := e.arena.F32(total, C)
	src, dst := y.F32(), out.F32()
	row := func(i int) []float32 { return src[i*C : (i+1)*C] }
	o, r := 0, 0 // next output row, first view row of the span
	put := func(v []float32) {
		copy(dst[o*C:(o+1)*C], v)
		o++
	}
	for i, sp := range spans {
		gr := sp.Features.Grid
		start := o
		switch {
		case gr[1] == 0 && gr[2] == 0: // video frames
			ps := llavanext.PooledSide(g)
			for f := 0; f < gr[0]; f++ {
				base := r + f*g2
				bilinear(dst[o*C:(o+ps*ps)*C], C, g, g, ps, ps, func(y, x int) []float32 { return row(base + y*g + x) })
				o += ps * ps
			}
			put(e.newline)
		case gr[0] == 1: // base view only
			for j := 0; j < g2; j++ {
				put(row(r + j))
			}
			put(e.newline)
		default:
			l, err := geo.Layout(gr[1], gr[2])
			if err != nil {
				return nil, fmt.Errorf("vit: span %d: %w", i, err)
			}
			for j := 0; j < g2; j++ {
				put(row(r + j))
			}
			cell := func(y, x int) []float32 {
				y, x = y+l.Top, x+l.Left
				tile := (y/g)*l.Cols + x/g
				return row(r + (1+tile)*g2 + (y%g)*g + x%g)
			}
			if l.Resized {
				grid := make([]float32, l.OutH*l.OutW*C)
				bilinear(grid, C, l.H, l.W, l.OutH, l.OutW, cell)
				for yy := 0; yy < l.OutH; yy++ {
					for xx := 0; xx < l.OutW; xx++ {
						put(grid[(yy*l.OutW+xx)*C : (yy*l.OutW+xx+1)*C])
					}
					put(e.newline)
				}
			} else {
				for yy := 0; yy < l.H; yy++ {
					for xx := 0; xx < l.W; xx++ {
						put(cell(yy, xx))
					}
					put(e.newline)
				}
			}
		}
		if o-start != sp.Len {
			return nil, fmt.Errorf("%w: span %d packs %d rows for %d placeholders", ErrInput, i, o-start, sp.Len)
		}
		r += gr[0] * g2
	}
	return out, nil
}

// bilinear resizes an h×w grid of C-wide rows (at(y, x)) to oh×ow into dst
// [oh·ow, C] as PyTorch's interpolate(mode="bilinear", align_corners=False,
// no antialias) does: source coordinate (i + 0.5)·in/out − 0.5, clamped at
// 0, weights in float32.
func bilinear(dst []float32, C, h, w, oh, ow int, at func(y, x int) []float32) {
	axis := func(in, out int) (i0, i1 []int, l0, l1 []float32) {
		i0, i1 = make([]int, out), make([]int, out)
		l0, l1 = make([]float32, out), make([]float32, out)
		scale := float32(in) / float32(out)
		for d := 0; d < out; d++ {
			if in == out {
				i0[d], i1[d], l0[d] = d, d, 1
				continue
			}
			src := max(scale*(float32(d)+0.5)-0.5, 0)
			a := min(int(float32(math.Floor(float64(src)))), in-1)
			lam := min(max(src-float32(a), 0), 1)
			i0[d], l1[d], l0[d] = a, lam, 1-lam
			i1[d] = a
			if a < in-1 {
				i1[d] = a + 1
			}
		}
		return
	}
	y0, y1, wy0, wy1 := axis(h, oh)
	x0, x1, wx0, wx1 := axis(w, ow)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			a, b := at(y0[oy], x0[ox]), at(y0[oy], x1[ox])
			c, d := at(y1[oy], x0[ox]), at(y1[oy], x1[ox])
			out := dst[(oy*ow+ox)*C : (oy*ow+ox+1)*C]
			for k := range out {
				out[k] = wy0[oy]*(wx0[ox]*a[k]+wx1[ox]*b[k]) + wy1[oy]*(wx0[ox]*c[k]+wx1[ox]*d[k])
			}
		}
	}
}
