package imageproc

import (
	"fmt"
	"math"

	"github.com/sightline/sightline/media"
)

// The resizers below reproduce llama.cpp's clip preprocessing (mtmd-image.cpp
// img_tool) for GGUF models, so that a GGUF user gets the pixels llama.cpp
// feeds its encoder. They are not Pillow's filters: the bilinear one maps the
// corner pixels onto each other (x·(W−1)/(W'−1)) and truncates, the bicubic one is a 4×4 Catmull-Rom-like
// kernel without antialiasing. llama.cpp is built with floating-point
// contraction (FMA) on, which the fma helpers below mirror.

// LlamaAlgo selects one of llama.cpp's clip resizers.
type LlamaAlgo uint8

const (
	LlamaBilinear LlamaAlgo = iota + 1 // RESIZE_ALGO_BILINEAR
	LlamaBicubic                       // RESIZE_ALGO_BICUBIC
)

func (a LlamaAlgo) String() string {
	switch a {
	case LlamaBilinear:
		return "llama-bilinear"
	case LlamaBicubic:
		return "llama-bicubic"
	}
	return fmt.Sprintf("LlamaAlgo(%d)", uint8(a))
}

// fma32 is a float32 fused multiply-add (a·b + c rounded once).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// ResizeLlama resizes src to w×h with llama.cpp's resizer algo, stretching.
func ResizeLlama(src *media.RGB, w, h int, algo LlamaAlgo) (*media.RGB, error) {
	if err := check(src); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels {
		return nil, fmt.Errorf("%w: resize to %dx%d", ErrSize, w, h)
	}
	if w == src.W && h == src.H {
		return &media.RGB{W: w, H: h, Pix: append([]uint8(nil), src.Pix...)}, nil
	}
	switch algo {
	case LlamaBilinear:
		return llamaBilinear(src, w, h), nil
	case LlamaBicubic:
		return llamaBicubic(src, w, h), nil
	}
	return nil, fmt.Errorf("imageproc: unknown llama.cpp resize algorithm %v", algo)
}

// ResizeLlamaPad is llama.cpp's "resize with padding": the image is scaled to
// fit w×h keeping its aspect ratio (sides rounded up), then centred on a
// canvas of colour pad.
func ResizeLlamaPad(src *media.RGB, w, h int, algo LlamaAlgo, pad [3]uint8) (*media.RGB, error) {
	if err := check(src); err != nil {
		return nil, err
	}
	if w == src.W && h == src.H {
		return &media.RGB{W: w, H: h, Pix: append([]uint8(nil), src.Pix...)}, nil
	}
	sw := float32(w) / float32(src.W)
	sh := float32(h) / float32(src.H)
	s := min(sw, sh)
	nw := min(int(math.Ceil(float64(float32(src.W)*s))), w)
	nh := min(int(math.Ceil(float64(float32(src.H)*s))), h)
	if nw <= 0 || nh <= 0 {
		return nil, fmt.Errorf("%w: %dx%d scales to %dx%d", ErrSize, src.W, src.H, nw, nh)
	}
	scaled, err := ResizeLlama(src, nw, nh, algo)
	if err != nil {
		return nil, err
	}
	out, err := New(w, h, pad)
	if err != nil {
		return nil, err
	}
	Paste(out, scaled, (w-nw)/2, (h-nh)/2)
	return out, nil
}

func llamaBilinear(src *media.RGB, w, h int) *media.RGB {
	out := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	var xr, yr float32
	if w > 1 {
		xr = float32(src.W-1) / float32(w-1)
	}
	if h > 1 {
		yr = float32(src.H-1) / float32(h-1)
	}
	lerp := func(s, e, t float32) float32 { return fma32(e-s, t, s) }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			px, py := float32(x)*xr, float32(y)*yr
			x0 := min(int(px), src.W-1)
			y0 := min(int(py), src.H-1)
			x1, y1 := min(x0+1, src.W-1), min(y0+1, src.H-1)
			xf, yf := px-float32(x0), py-float32(y0)
			for c := 0; c < 3; c++ {
				at := func(yy, xx int) float32 { return float32(src.Pix[(yy*src.W+xx)*3+c]) }
				top := lerp(at(y0, x0), at(y0, x1), xf)
				bot := lerp(at(y1, x0), at(y1, x1), xf)
				out.Pix[(y*w+x)*3+c] = uint8(lerp(top, bot, yf))
			}
		}
	}
	return out
}

// cubic evaluates llama.cpp's cubic through p0..p3 at fraction d ∈ [0, 1)
// from p1; coefficients in double, stored float, polynomial in float with
// contraction.
func cubic(p0, p1, p2, p3, d float32) float32 {
	d0, d2, d3 := p0-p1, p2-p1, p3-p1
	a0 := p1
	a1 := float32(-1.0/3*float64(d0) + float64(d2) - 1.0/6*float64(d3))
	a2 := float32(1.0/2*float64(d0) + 1.0/2*float64(d2))
	a3 := float32(-1.0/6*float64(d0) - 1.0/2*float64(d2) + 1.0/6*float64(d3))
	r := fma32(a1, d, a0)
	r = fma32(a2*d, d, r)
	return fma32(a3*d*d, d, r)
}

func llamaBicubic(src *media.RGB, w, h int) *media.RGB {
	out := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	nx, ny := src.W, src.H
	tx := float32(nx) / float32(w)
	ty := float32(ny) / float32(h)
	clamp := func(v, lo, hi int) int { return max(lo, min(v, hi)) }
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			x := int(tx * float32(j))
			y := int(ty * float32(i))
			dx := fma32(tx, float32(j), -float32(x))
			dy := fma32(ty, float32(i), -float32(y))
			for k := 0; k < 3; k++ {
				var C [4]float32
				for jj := 0; jj < 4; jj++ {
					r := clamp(y-1+jj, 0, ny-1) * nx
					at := func(xx int) float32 { return float32(src.Pix[(r+clamp(xx, 0, nx-1))*3+k]) }
					C[jj] = cubic(at(x-1), at(x), at(x+1), at(x+2), dx)
				}
				cc := cubic(C[0], C[1], C[2], C[3], dy)
				v := math.Round(float64(cc))
				out.Pix[(i*w+j)*3+k] = uint8(min(max(v, 0), 255))
			}
		}
	}
	return out
}

// SizeLlamaLongestEdge is llama.cpp's calc_size_preserved_ratio(size, align,
// longest_edge): scale so the longer side is longestEdge, then round each side
// up to a multiple of align (float32 arithmetic).
func SizeLlamaLongestEdge(w, h, align, longestEdge int) (int, int, error) {
	if w <= 0 || h <= 0 || align <= 0 || longestEdge <= 0 {
		return 0, 0, fmt.Errorf("%w: %dx%d align %d longest edge %d", ErrSize, w, h, align, longestEdge)
	}
	s := min(float32(longestEdge)/float32(w), float32(longestEdge)/float32(h))
	up := func(x float32) int { return int(math.Ceil(float64(x/float32(align)))) * align }
	return up(float32(w) * s), up(float32(h) * s), nil
}
