package vit

import (
	"slices"
	"testing"

	"github.com/sightline/sightline/llm/input"
)

// hfWindowIndex follows transformers' get_window_index step by step: each
// frame's merged grid padded with -100 up to whole windows (a full extra
// window where a side divides evenly), cut into windows, read window by
// window, pads dropped; cu_window_seqlens accumulated in patch rows and
// made unique (torch.unique_consecutive).
func hfWindowIndex(grids [][3]int, M, vws int) (index []int32, cu []int) {
	cu = []int{0}
	id := 0
	for _, g := range grids {
		lh, lw := g[1]/M, g[2]/M
		padH, padW := vws-lh%vws, vws-lw%vws
		nh, nw := (lh+padH)/vws, (lw+padW)/vws
		padded := make([]int, g[0]*(lh+padH)*(lw+padW))
		for i := range padded {
			padded[i] = -100
		}
		for t := 0; t < g[0]; t++ {
			for y := 0; y < lh; y++ {
				for x := 0; x < lw; x++ {
					padded[(t*(lh+padH)+y)*(lw+padW)+x] = t*lh*lw + y*lw + x
				}
			}
		}
		for t := 0; t < g[0]; t++ {
			for wy := 0; wy < nh; wy++ {
				for wx := 0; wx < nw; wx++ {
					n := 0
					for iy := 0; iy < vws; iy++ {
						for ix := 0; ix < vws; ix++ {
							v := padded[(t*(lh+padH)+wy*vws+iy)*(lw+padW)+wx*vws+ix]
							if v != -100 {
								index = append(index, int32(v+id))
								n++
							}
						}
					}
					cu = append(cu, cu[len(cu)-1]+n*M*M)
				}
			}
		}
		id += g[0] * lh * lw
	}
	return index, slices.Compact(cu)
}

// TestWindowOrder compares windowOrder with transformers' get_window_index
// for single and batched images and frames, grids that divide into windows
// evenly and that leave partial windows, and window sizes from 1 unit up.
func TestWindowOrder(t *testing.T) {
	spans := func(grids ...[3]int) []*input.Span {
		var out []*input.Span
		for _, g := range grids {
			out = append(out, &input.Span{Features: &input.Features{Grid: g}})
		}
		return out
	}
	for _, tc := range []struct {
		grids  [][3]int
		M, win int
	}{
		{[][3]int{{1, 8, 8}}, 2, 4},
		{[][3]int{{1, 12, 16}}, 2, 4},
		{[][3]int{{1, 14, 20}}, 2, 4},
		{[][3]int{{1, 16, 16}}, 2, 4},
		{[][3]int{{1, 2, 2}}, 2, 4},
		{[][3]int{{1, 14, 20}, {1, 8, 8}, {2, 10, 6}}, 2, 4},
		{[][3]int{{3, 6, 10}}, 2, 2},
		{[][3]int{{1, 22, 34}}, 2, 8},
		{[][3]int{{1, 6, 6}}, 2, 1},
		{[][3]int{{1, 9, 12}}, 3, 2},
	} {
		units, wins := windowOrder(spans(tc.grids...), tc.M, tc.win)
		wantIdx, wantCu := hfWindowIndex(tc.grids, tc.M, tc.win)
		cu := []int{0}
		for i, w := range wins {
			if w.lo != cu[i] || w.hi <= w.lo {
				t.Fatalf("%v: windows %v are not consecutive and non-empty", tc.grids, wins)
			}
			cu = append(cu, w.hi)
		}
		if !slices.Equal(units, wantIdx) || !slices.Equal(cu, wantCu) {
			t.Errorf("%v merge %d window %d:\nunits %v\nwant  %v\ncu %v\nwant %v", tc.grids, tc.M, tc.win, units, wantIdx, cu, wantCu)
		}
	}
}
