// Package imageproc holds the deterministic image operations vision
// processors are built from: resizing with Pillow's filters (what Hugging
// Face image processors use) and with llama.cpp's clip resizers (what GGUF
// users get from llama.cpp), padding, cropping, normalisation to float32 and
// patchification in Hugging Face's pixel_values layouts.
//
// Images are *media.RGB (8-bit RGB, row-major). Every function validates its
// sizes and returns an error wrapping ErrSize instead of panicking or
// allocating without bound.
package imageproc

import (
	"errors"
	"fmt"

	"github.com/sightline/sightline/media"
)

// ErrSize reports an invalid or too large image size.
var ErrSize = errors.New("imageproc: bad image size")

// MaxPixels bounds any image this package allocates (width × height).
const MaxPixels = 1 << 27

// check validates img and returns its pixel count.
func check(img *media.RGB) error {
	if img == nil {
		return fmt.Errorf("%w: nil image", ErrSize)
	}
	if img.W <= 0 || img.H <= 0 || int64(img.W)*int64(img.H) > MaxPixels {
		return fmt.Errorf("%w: %dx%d", ErrSize, img.W, img.H)
	}
	if len(img.Pix) != img.W*img.H*3 {
		return fmt.Errorf("%w: %dx%d image has %d bytes, want %d", ErrSize, img.W, img.H, len(img.Pix), img.W*img.H*3)
	}
	return nil
}

// New returns a w×h image filled with colour c.
func New(w, h int, c [3]uint8) (*media.RGB, error) {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d", ErrSize, w, h)
	}
	img := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for i := 0; i < len(img.Pix); i += 3 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = c[0], c[1], c[2]
	}
	return img, nil
}

// Paste draws src onto dst with its top-left corner at (x, y), clipping
// what falls outside dst.
func Paste(dst, src *media.RGB, x, y int) {
	for sy := 0; sy < src.H; sy++ {
		dy := sy + y
		if dy < 0 || dy >= dst.H {
			continue
		}
		for sx := 0; sx < src.W; sx++ {
			dx := sx + x
			if dx < 0 || dx >= dst.W {
				continue
			}
			copy(dst.Pix[(dy*dst.W+dx)*3:(dy*dst.W+dx)*3+3], src.Pix[(sy*src.W+sx)*3:])
		}
	}
}

// Crop returns the w×h region of src at (x, y); it must lie inside src.
func Crop(src *media.RGB, x, y, w, h int) (*media.RGB, error) {
	if err := check(src); err != nil {
		return nil, err
	}
	if x < 0 || y < 0 || w <= 0 || h <= 0 || x+w > src.W || y+h > src.H {
		return nil, fmt.Errorf("%w: crop %dx%d at (%d,%d) outside %dx%d", ErrSize, w, h, x, y, src.W, src.H)
	}
	out := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for r := 0; r < h; r++ {
		copy(out.Pix[r*w*3:(r+1)*w*3], src.Pix[((y+r)*src.W+x)*3:])
	}
	return out, nil
}

// CenterCrop crops src to w×h around its centre the way Hugging Face's
// center_crop does (top = (H−h)/2, left = (W−w)/2, rounded down), padding
// with zeros where the crop is larger than the image.
func CenterCrop(src *media.RGB, w, h int) (*media.RGB, error) {
	if err := check(src); err != nil {
		return nil, err
	}
	out, err := New(w, h, [3]uint8{})
	if err != nil {
		return nil, err
	}
	top := floorDiv(src.H-h, 2)
	left := floorDiv(src.W-w, 2)
	Paste(out, src, -left, -top)
	return out, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// PadSquare pads src to a square of side max(W, H) filled with c, the image
// centred as Hugging Face's pad-to-square does (the extra pixel, if any, goes
// after it).
func PadSquare(src *media.RGB, c [3]uint8) (*media.RGB, error) {
	if err := check(src); err != nil {
		return nil, err
	}
	if src.W == src.H {
		return src, nil
	}
	side := max(src.W, src.H)
	out, err := New(side, side, c)
	if err != nil {
		return nil, err
	}
	Paste(out, src, (side-src.W)/2, (side-src.H)/2)
	return out, nil
}

// Normalize converts img to planar float32 [3, H, W] with
// (x/255 − mean[c]) / std[c] per channel, evaluated in float32 as llama.cpp
// and Hugging Face (rescale, then normalize) do.
func Normalize(img *media.RGB, mean, std [3]float32) ([]float32, error) {
	if err := check(img); err != nil {
		return nil, err
	}
	n := img.W * img.H
	out := make([]float32, 3*n)
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			x := float32(img.Pix[i*3+c]) / 255
			out[c*n+i] = (x - mean[c]) / std[c]
		}
	}
	return out, nil
}

// PatchLayout describes how planar images become rows of patches.
type PatchLayout struct {
	Patch    int // patch side in pixels
	Temporal int // frames per patch (Qwen2-VL: 2; 1 for CLIP/SigLIP)
	Merge    int // merge block side: rows are ordered block by block (1: raster order)
}

// Patchify turns frames (each planar [3, H, W], all the same size) into
// patch rows [N, 3·Temporal·P·P] in Hugging Face's layout: columns ordered
// (channel, frame, y, x); rows ordered (t, block row, block column, row in
// block, column in block). The last frame is repeated to fill a temporal
// patch, as Qwen2-VL's processor does. It returns the rows and the grid
// (t, H/P, W/P).
func Patchify(frames [][]float32, w, h int, l PatchLayout) ([]float32, [3]int, error) {
	P, T, M := l.Patch, max(l.Temporal, 1), max(l.Merge, 1)
	if P <= 0 || w <= 0 || h <= 0 || len(frames) == 0 || w%(P*M) != 0 || h%(P*M) != 0 {
		return nil, [3]int{}, fmt.Errorf("%w: %dx%d is not a multiple of patch %d × merge %d", ErrSize, w, h, P, M)
	}
	for _, f := range frames {
		if len(f) != 3*w*h {
			return nil, [3]int{}, fmt.Errorf("%w: frame has %d values, want %d", ErrSize, len(f), 3*w*h)
		}
	}
	for len(frames)%T != 0 {
		frames = append(frames, frames[len(frames)-1])
	}
	gt, gh, gw := len(frames)/T, h/P, w/P
	cols := 3 * T * P * P
	out := make([]float32, gt*gh*gw*cols)
	row := 0
	for t := 0; t < gt; t++ {
		for bh := 0; bh < gh/M; bh++ {
			for bw := 0; bw < gw/M; bw++ {
				for mh := 0; mh < M; mh++ {
					for mw := 0; mw < M; mw++ {
						py, px := (bh*M+mh)*P, (bw*M+mw)*P
						dst := out[row*cols : (row+1)*cols]
						i := 0
						for c := 0; c < 3; c++ {
							for ft := 0; ft < T; ft++ {
								f := frames[t*T+ft]
								for y := 0; y < P; y++ {
									base := c*w*h + (py+y)*w + px
									i += copy(dst[i:i+P], f[base:base+P])
								}
							}
						}
						row++
					}
				}
			}
		}
	}
	return out, [3]int{gt, gh, gw}, nil
}
