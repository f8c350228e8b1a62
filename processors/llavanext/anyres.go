package llavanext

import (
	"fmt"
	"math"
	"strconv"
)

// Res is a resolution in pixels, height first (Hugging Face's
// image_grid_pinpoints order).
type Res struct{ H, W int }

// maxSide bounds image sides and pinpoints: every product below stays far
// from overflow.
const maxSide = 1 << 16

// BestResolution is transformers' select_best_resolution: among the
// candidate resolutions, the one that keeps the most of an h×w image when
// it is scaled to fit (aspect kept, float64 scale, truncated sides), ties
// going to the least wasted area, then to the earlier candidate.
func BestResolution(h, w int, pins []Res) (Res, error) {
	if h <= 0 || w <= 0 || h > maxSide || w > maxSide {
		return Res{}, fmt.Errorf("llavanext: image size %dx%d", w, h)
	}
	if len(pins) == 0 {
		return Res{}, fmt.Errorf("llavanext: no grid pinpoints")
	}
	var best Res
	maxEff, minWaste, found := 0, 0, false
	for _, p := range pins {
		scale := math.Min(float64(p.W)/float64(w), float64(p.H)/float64(h))
		dw, dh := int(float64(w)*scale), int(float64(h)*scale)
		eff := min(dw*dh, w*h)
		waste := p.W*p.H - eff
		if eff > maxEff || (eff == maxEff && (!found || waste < minWaste)) {
			best, maxEff, minWaste, found = p, eff, waste, true
		}
	}
	return best, nil
}

// FitSize is transformers' get_patch_output_size: the (height, width) an
// h×w image takes inside target when scaled to touch its nearer sides.
func FitSize(h, w int, target Res) (nh, nw int) {
	sw := float64(target.W) / float64(w)
	sh := float64(target.H) / float64(h)
	if sw < sh {
		return min(int(math.Ceil(float64(h)*sw)), target.H), target.W
	}
	return target.H, min(int(math.Ceil(float64(w)*sh)), target.W)
}

// round7 is Python's int(round(x, 7)) for x ≥ 0: correctly rounded to 7
// decimals, then truncated.
func round7(x float64) int {
	v, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 7, 64), 64)
	if err != nil {
		return int(x)
	}
	return int(v)
}

// pyFloorDiv is Python's float floor division a // b for a ≥ 0, b > 0
// (fmod-based, as CPython computes it).
func pyFloorDiv(a, b float64) float64 {
	mod := math.Mod(a, b)
	div := (a - mod) / b
	if mod != 0 && (b < 0) != (mod < 0) {
		div--
	}
	if div == 0 {
		return 0
	}
	f := math.Floor(div)
	if div-f > 0.5 {
		f++
	}
	return f
}

// Layout is how one anyres image becomes tokens: the base view's g×g
// features, then the tiles' features as one (Rows·g)×(Cols·g) grid, cut to
// the image's aspect ratio (rows [Top, Top+H), columns [Left, Left+W)),
// bilinearly resized to OutH×OutW when it holds too many (OneVision's
// anyres_max), with one image_newline after each of its OutH rows.
//
//	grid cell (r, c) = tile (r/g)·Cols + c/g, patch (r%g)·g + c%g
type Layout struct {
	Best             Res // selected pinpoint
	Rows, Cols       int // tiles
	Grid             int // g: patches per view side
	Top, Left, H, W  int // unpadded region of the feature grid
	OutH, OutW       int // after anyres_max (H, W when not resized)
	Resized          bool
	BaseTokens, Size int // g², view side S
}

// Tokens is the embedding count: base view, grid and newlines.
func (l Layout) Tokens() int { return l.BaseTokens + l.OutH*(l.OutW+1) }

// Views is the number of encoder views: the base view and the tiles.
func (l Layout) Views() int { return 1 + l.Rows*l.Cols }

// Geometry is the anyres setup shared by a model's processor and encoder.
type Geometry struct {
	Size, Patch int   // view side S and patch side P (g = S/P, floored: the patch conv drops the rest)
	Pinpoints   []Res // candidate resolutions, multiples of S
	MaxPatches  int   // anyres_max_N (OneVision); 0: no limit (LLaVA-NeXT)
}

// Grid is g, the patches per view side.
func (g Geometry) Grid() int { return g.Size / g.Patch }

// Validate checks the geometry.
func (g Geometry) Validate() error {
	if g.Patch <= 0 || g.Size < g.Patch || g.Size > 1<<13 || g.Patch > 1<<10 {
		return fmt.Errorf("llavanext: view size %d, patch %d", g.Size, g.Patch)
	}
	if len(g.Pinpoints) == 0 || len(g.Pinpoints) > 1024 {
		return fmt.Errorf("llavanext: %d grid pinpoints", len(g.Pinpoints))
	}
	for _, p := range g.Pinpoints {
		if p.H <= 0 || p.W <= 0 || p.H > maxSide || p.W > maxSide || p.H%g.Size != 0 || p.W%g.Size != 0 {
			return fmt.Errorf("llavanext: grid pinpoint %dx%d (height×width) is not a positive multiple of the view size %d", p.H, p.W, g.Size)
		}
	}
	if g.MaxPatches < 0 || g.MaxPatches > 1<<10 {
		return fmt.Errorf("llavanext: anyres_max %d", g.MaxPatches)
	}
	return nil
}

// Layout computes the anyres layout of an h×w image as transformers'
// LLaVA-NeXT / OneVision models do (unpad_image, pack_image_features).
func (g Geometry) Layout(h, w int) (Layout, error) {
	if err := g.Validate(); err != nil {
		return Layout{}, err
	}
	best, err := BestResolution(h, w, g.Pinpoints)
	if err != nil {
		return Layout{}, err
	}
	gr := g.Grid()
	l := Layout{Best: best, Rows: best.H / g.Size, Cols: best.W / g.Size, Grid: gr, BaseTokens: gr * gr, Size: g.Size}
	ch, cw := l.Rows*gr, l.Cols*gr
	l.H, l.W = ch, cw
	if float64(w)/float64(h) > float64(cw)/float64(ch) {
		nh := round7(float64(h) * (float64(cw) / float64(w)))
		pad := (ch - nh) / 2 // nh ≤ ch: the image is wider than the grid
		l.Top, l.H = pad, ch-2*pad
	} else {
		nw := round7(float64(w) * (float64(ch) / float64(h)))
		pad := (cw - nw) / 2 // nw ≤ cw, up to rounding (checked below)
		l.Left, l.W = pad, cw-2*pad
	}
	if l.H < 0 || l.W < 0 || l.Top < 0 || l.Left < 0 || l.H > ch || l.W > cw {
		return Layout{}, fmt.Errorf("llavanext: %dx%d image: unpadding gives a %dx%d grid", w, h, l.W, l.H)
	}
	l.OutH, l.OutW = l.H, l.W
	if g.MaxPatches > 0 {
		ratio := math.Sqrt(float64(l.H*l.W) / float64(g.MaxPatches*gr*gr))
		if ratio > 1.1 {
			l.OutH, l.OutW = int(pyFloorDiv(float64(l.H), ratio)), int(pyFloorDiv(float64(l.W), ratio))
			l.Resized = true
			if l.OutH <= 0 || l.OutW <= 0 {
				return Layout{}, fmt.Errorf("llavanext: %dx%d image: anyres_max resizes its %dx%d grid to %dx%d", w, h, l.W, l.H, l.OutW, l.OutH)
			}
		}
	}
	return l, nil
}

// PooledSide is the side of a video frame's features after OneVision's 2×2
// bilinear pooling: ⌈g/2⌉.
func PooledSide(g int) int { return (g + 1) / 2 }
