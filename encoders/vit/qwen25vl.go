package vit

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
)

// forwardQwen25VL is the Qwen2.5-VL tower (Hugging Face
// Qwen2_5_VisionTransformerPretrainedModel): Qwen2-VL's patch embedding and
// 2-D RoPE, RMSNorm blocks with a gated SiLU MLP, and window attention.
//
// The M×M merge units (M² consecutive patch rows, see mergeRoPEPos) are
// regrouped window by window: a window is Window/Merge/Patch units square
// (the last row and column of windows of a frame may be smaller), its units
// in raster order. The blocks run on that order; a block attends within
// each window, or over each whole frame when it is one of FullAtt. After
// ln_q and the merger, each token goes back to its unit's raster place.
//
//	X [R, Cols] ─patch─▶ [R, D] ─regroup units into windows─▶ ─blocks─▶
//	─ln_q─▶ view [R/M², D·M²] ─mm.0, GELU, mm.2─▶ ─back to raster─▶ [R/M², Out]
//
// The regrouping costs two row gathers (R rows of D, R/M² rows of Out);
// attention stays one call per window, no mask.
func (e *Encoder) forwardQwen25VL(ctx context.Context, spans []*input.Span) (*tensor.Tensor, error) {
	c, be, a := &e.cfg, e.be, &e.arena
	h, err := e.patchEmbed(spans)
	if err != nil {
		return nil, err
	}
	S := h.Rows()
	M2 := c.Merge * c.Merge
	units, wins := windowOrder(spans, c.Merge, c.Window/c.Merge/c.Patch)
	rows := make([]int32, S) // window-order row i holds patch row rows[i]
	for i, u := range units {
		for k := 0; k < M2; k++ {
			rows[i*M2+k] = u*int32(M2) + int32(k)
		}
	}
	x := a.F32(S, c.Hidden)
	if err := be.Gather(x, h, rows); err != nil {
		return nil, fmt.Errorf("vit: qwen2.5-vl window order: %w", err)
	}
	raster := mergeRoPEPos(spans, c.Merge, S)
	pos := make([]int32, 2*S)
	for i, r := range rows {
		pos[i], pos[S+i] = raster[r], raster[S+int(r)]
	}
	hd := c.Hidden / c.Heads
	s := &sequence{
		x:       x,
		segs:    frameSegs(spans), // frames stay contiguous: windows never span two
		winSegs: wins,
		rope:    &tensor.RoPE{Mode: tensor.RoPEVision, Dims: hd, Base: c.RopeTheta, Sections: []int{hd / 4, hd / 4}},
		ropePos: pos,
	}
	if err := e.runBlocks(ctx, s); err != nil {
		return nil, err
	}
	if err := e.postNorm(x); err != nil {
		return nil, err
	}
	merged, err := x.View(S/M2, c.Hidden*M2)
	if err != nil {
		return nil, fmt.Errorf("vit: qwen2.5-vl merger: %w", err)
	}
	y, err := e.mlpProjector(merged)
	if err != nil {
		return nil, err
	}
	out := a.F32(S/M2, c.Out)
	if err := be.SetRows(out, units, y); err != nil {
		return nil, fmt.Errorf("vit: qwen2.5-vl raster order: %w", err)
	}
	return out, nil
}

// windowOrder is Hugging Face's get_window_index for a batch: units[i] is
// the merge unit (in the processor's raster order over every span and
// frame) at window-order place i, and wins the windows' row ranges (in
// patch rows, M² per unit). A window is win×win units; each frame's grid
// is cut from its top-left corner, the last windows of a row or column
// keeping what is left.
func windowOrder(spans []*input.Span, M, win int) (units []int32, wins []seg) {
	M2 := M * M
	base, r := 0, 0
	for _, sp := range spans {
		g := sp.Features.Grid
		lh, lw := g[1]/M, g[2]/M
		for t := 0; t < g[0]; t++ {
			for wy := 0; wy < lh; wy += win {
				for wx := 0; wx < lw; wx += win {
					n := 0
					for y := wy; y < min(wy+win, lh); y++ {
						for x := wx; x < min(wx+win, lw); x++ {
							units = append(units, int32(base+y*lw+x))
							n++
						}
					}
					wins = append(wins, seg{r, r + n*M2})
					r += n * M2
				}
			}
			base += lh * lw
		}
	}
	return units, wins
}
