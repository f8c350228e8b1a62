package vit

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
)

// forwardQwen2VL is the Qwen2-VL tower: 2-D RoPE, attention per frame, then
// the patch merger.
//
//	X [R, Cols] ─patch─▶ [R, D] ─blocks (RoPE rows, cols)─▶ ─ln_q─▶
//	view [R/M², D·M²] ─mm.0, act, mm.2─▶ [R/M², Out]
func (e *Encoder) forwardQwen2VL(ctx context.Context, spans []*input.Span) (*tensor.Tensor, error) {
	c := &e.cfg
	h, err := e.patchEmbed(spans)
	if err != nil {
		return nil, err
	}
	hd := c.Hidden / c.Heads
	s := &sequence{
		x:       h,
		segs:    frameSegs(spans),
		rope:    &tensor.RoPE{Mode: tensor.RoPEVision, Dims: hd, Base: c.RopeTheta, Sections: []int{hd / 4, hd / 4}},
		ropePos: mergeRoPEPos(spans, c.Merge, h.Rows()),
	}
	if err := e.runBlocks(ctx, s); err != nil {
		return nil, err
	}
	if err := e.postNorm(h); err != nil {
		return nil, err
	}
	M2 := c.Merge * c.Merge
	x, err := h.View(h.Rows()/M2, c.Hidden*M2) // M² consecutive rows are one 2×2 block
	if err != nil {
		return nil, fmt.Errorf("vit: qwen2vl merger: %w", err)
	}
	return e.mlpProjector(x)
}

// frameSegs gives each frame of each image its own attention segment.
func frameSegs(spans []*input.Span) []seg {
	var segs []seg
	r := 0
	for _, sp := range spans {
		g := sp.Features.Grid
		for t := 0; t < g[0]; t++ {
			segs = append(segs, seg{r, r + g[1]*g[2]})
			r += g[1] * g[2]
		}
	}
	return segs
}

// mergeRoPEPos is the [2·S] (row, then column) patch positions of rows in
// the processor's merge-block order: frame, block row, block col, then the
// M×M patches of the block.
func mergeRoPEPos(spans []*input.Span, M, S int) []int32 {
	pos := make([]int32, 2*S)
	r := 0
	for _, sp := range spans {
		g := sp.Features.Grid
		for t := 0; t < g[0]; t++ {
			for bh := 0; bh < g[1]/M; bh++ {
				for bw := 0; bw < g[2]/M; bw++ {
					for mh := 0; mh < M; mh++ {
						for mw := 0; mw < M; mw++ {
							pos[r] = int32(bh*M + mh)
							pos[S+r] = int32(bw*M + mw)
							r++
						}
					}
				}
			}
		}
	}
	return pos
}
