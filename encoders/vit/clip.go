package vit

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
)

// forwardCLIP is the LLaVA tower. The feature layer is chosen at load time:
// e.blocks stops there (HF vision_feature_layer, -2 by default; an mmproj
// stores only the layers that run).
//
//	X [R, Cols] ─patch─▶ [R, D] ─(CLS first, + positions, pre-LN)─▶ [R+n, D]
//	─blocks─▶ drop CLS rows (unless KeepCLS) ─mm.0, act, mm.2─▶ [Σ Len, Out]
func (e *Encoder) forwardCLIP(ctx context.Context, spans []*input.Span) (*tensor.Tensor, error) {
	h, err := e.patchEmbed(spans)
	if err != nil {
		return nil, err
	}
	sizes := make([]int, len(spans))
	for i, sp := range spans {
		sizes[i] = sp.Features.Shape[0]
	}
	s, err := e.clipSequence(h, sizes)
	if err != nil {
		return nil, err
	}
	if err := e.runBlocks(ctx, s); err != nil {
		return nil, err
	}
	x, err := e.clipSelect(s.x, sizes)
	if err != nil {
		return nil, err
	}
	return e.mlpProjector(x)
}

// clipSequence builds each image's [CLS; patches] + positions, pre-LN:
// h [R, D] → [R+n, D] for n images of sizes[i] patch rows (Σ sizes = R).
func (e *Encoder) clipSequence(h *tensor.Tensor, sizes []int) (*sequence, error) {
	be, a, D := e.be, &e.arena, e.cfg.Hidden
	R := h.Rows()
	S := R + len(sizes)
	seq := a.F32(S, D)
	patchRows := make([]int32, 0, R)
	clsRows := make([]int32, 0, len(sizes))
	posIDs := make([]int32, 0, S)
	segs := make([]seg, 0, len(sizes))
	r := 0
	for _, n := range sizes {
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
		return nil, fmt.Errorf("vit: clip patch rows: %w", err)
	}
	clsRep := a.F32(len(sizes), D) // the class embedding, once per image
	if err := be.Gather(clsRep, e.cls, make([]int32, len(sizes))); err != nil {
		return nil, fmt.Errorf("vit: clip class embedding: %w", err)
	}
	if err := be.SetRows(seq, clsRows, clsRep); err != nil {
		return nil, fmt.Errorf("vit: clip class embedding: %w", err)
	}
	if err := e.addPositions(seq, posIDs); err != nil {
		return nil, err
	}
	if err := be.LayerNorm(seq, seq, e.preW, e.preB, e.cfg.Eps); err != nil {
		return nil, fmt.Errorf("vit: clip pre layer norm: %w", err)
	}
	return &sequence{x: seq, segs: segs}, nil
}

// clipSelect drops each image's CLS row from seq [R+n, D] → [R, D]
// (HF vision_feature_select_strategy "default"); KeepCLS ("full") keeps seq.
func (e *Encoder) clipSelect(seq *tensor.Tensor, sizes []int) (*tensor.Tensor, error) {
	if e.cfg.KeepCLS {
		return seq, nil
	}
	ids := make([]int32, 0, seq.Rows()-len(sizes))
	r := 0
	for _, n := range sizes {
		for i := 0; i < n; i++ {
			ids = append(ids, int32(r+1+i))
		}
		r += n + 1
	}
	x := e.arena.F32(len(ids), e.cfg.Hidden)
	if err := e.be.Gather(x, seq, ids); err != nil {
		return nil, fmt.Errorf("vit: clip feature select: %w", err)
	}
	return x, nil
}
