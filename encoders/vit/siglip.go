package vit

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
)

// forwardSigLIP is the Idefics3 tower: SigLIP, then the pixel-shuffle
// connector.
//
//	X [R, Cols] ─patch─▶ [R, D] ─+positions─▶ ─blocks─▶ ─post-LN─▶
//	pixel shuffle [R/s², D·s²] ─fc─▶ [R/s², Out]
func (e *Encoder) forwardSigLIP(ctx context.Context, spans []*input.Span) (*tensor.Tensor, error) {
	h, err := e.patchEmbed(spans)
	if err != nil {
		return nil, err
	}
	posIDs := make([]int32, 0, h.Rows())
	segs := make([]seg, 0, len(spans))
	r := 0
	for _, sp := range spans {
		n := sp.Features.Shape[0]
		for i := 0; i < n; i++ {
			posIDs = append(posIDs, int32(i))
		}
		segs = append(segs, seg{r, r + n})
		r += n
	}
	if err := e.addPositions(h, posIDs); err != nil {
		return nil, err
	}
	s := &sequence{x: h, segs: segs}
	if err := e.runBlocks(ctx, s); err != nil {
		return nil, err
	}
	if err := e.postNorm(h); err != nil {
		return nil, err
	}
	x, err := e.pixelShuffle(h, spans)
	if err != nil {
		return nil, err
	}
	y := e.arena.F32(x.Rows(), e.cfg.Out)
	if err := e.fc.Forward(e.be, y, x); err != nil {
		return nil, fmt.Errorf("vit: connector fc: %w", err)
	}
	return y, nil
}

// pixelShuffle maps seq [R, D] to [R/s², D·s²]: output row (i, j) of a
// gh×gw image concatenates the s×s input rows (i·s+dy, j·s+dx), dy-major.
func (e *Encoder) pixelShuffle(seq *tensor.Tensor, spans []*input.Span) (*tensor.Tensor, error) {
	s, D := e.cfg.Scale, e.cfg.Hidden
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
	sh := e.arena.F32(len(ids), D)
	if err := e.be.Gather(sh, seq, ids); err != nil {
		return nil, fmt.Errorf("vit: pixel shuffle: %w", err)
	}
	x, err := sh.View(len(ids)/(s*s), D*s*s)
	if err != nil {
		return nil, fmt.Errorf("vit: pixel shuffle: %w", err)
	}
	return x, nil
}
