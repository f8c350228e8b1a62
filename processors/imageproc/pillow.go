package imageproc

import (
	"fmt"
	"image"
	"math"

	"github.com/disintegration/imaging"
	"github.com/sightline/sightline/media"
)

// Filter is a Pillow resampling filter (Image.resize's resample argument).
type Filter uint8

const (
	Bilinear Filter = iota + 1 // PIL.Image.BILINEAR (2)
	Bicubic                    // PIL.Image.BICUBIC (3), a = −0.5
	Lanczos                    // PIL.Image.LANCZOS (1), a = 3
	Nearest                    // PIL.Image.NEAREST (0): point sampling, exact
	Box                        // PIL.Image.BOX (4): through disintegration/imaging (±1 level)
	Hamming                    // PIL.Image.HAMMING (5): through disintegration/imaging (±1 level)
)

// FilterFromPIL maps Pillow's integer resample codes (as stored in
// preprocessor_config.json) to a Filter.
func FilterFromPIL(code int) (Filter, error) {
	switch code {
	case 0:
		return Nearest, nil
	case 1:
		return Lanczos, nil
	case 2:
		return Bilinear, nil
	case 3:
		return Bicubic, nil
	case 4:
		return Box, nil
	case 5:
		return Hamming, nil
	}
	return 0, fmt.Errorf("imageproc: unsupported PIL resample filter %d (want 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box or 5 hamming)", code)
}

// Valid reports whether f is one of the filters above.
func (f Filter) Valid() bool { return f >= Bilinear && f <= Hamming }

func (f Filter) String() string {
	switch f {
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	case Lanczos:
		return "lanczos"
	case Nearest:
		return "nearest"
	case Box:
		return "box"
	case Hamming:
		return "hamming"
	}
	return fmt.Sprintf("Filter(%d)", uint8(f))
}

func (f Filter) support() float64 {
	switch f {
	case Bilinear:
		return 1
	case Bicubic:
		return 2
	}
	return 3
}

func (f Filter) eval(x float64) float64 {
	if x < 0 {
		x = -x
	}
	switch f {
	case Bilinear:
		if x < 1 {
			return 1 - x
		}
		return 0
	case Bicubic:
		const a = -0.5
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}
	if x < 3 {
		return sinc(x) * sinc(x/3)
	}
	return 0
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// precision is Pillow's fixed-point precision for 8-bit resampling.
const precision = 32 - 8 - 2

// coeffs computes Pillow's resampling kernel for one axis: for output pixel
// i, weights k[i*ksize : i*ksize+n[i]] apply to input pixels from lo[i].
func coeffs(in, out int, f Filter) (ksize int, lo, n []int, k []int32) {
	scale := float64(in) / float64(out)
	fscale := max(scale, 1)
	support := f.support() * fscale
	ksize = int(math.Ceil(support))*2 + 1
	lo, n = make([]int, out), make([]int, out)
	k = make([]int32, out*ksize)
	w := make([]float64, ksize)
	for i := 0; i < out; i++ {
		center := (float64(i) + 0.5) * scale
		ss := 1 / fscale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), in)
		cnt := xmax - xmin
		var ww float64
		for x := 0; x < cnt; x++ {
			w[x] = f.eval((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := 0; x < cnt; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[i*ksize+x] = int32(-0.5 + v*(1<<precision))
			} else {
				k[i*ksize+x] = int32(0.5 + v*(1<<precision))
			}
		}
		lo[i], n[i] = xmin, cnt
	}
	return ksize, lo, n, k
}

func clip8(v int32) uint8 {
	v >>= precision
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Resize resizes src to w×h exactly as Pillow's Image.resize((w, h),
// resample=f) does for an RGB image (separable passes, horizontal first,
// antialiased when downscaling, 22-bit fixed-point accumulation).
func Resize(src *media.RGB, w, h int, f Filter) (*media.RGB, error) {
	if err := check(src); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels {
		return nil, fmt.Errorf("%w: resize to %dx%d", ErrSize, w, h)
	}
	switch f {
	case Nearest:
		return resizeNearest(src, w, h), nil
	case Box:
		return resizeImaging(src, w, h, imaging.Box), nil
	case Hamming:
		return resizeImaging(src, w, h, imaging.Hamming), nil
	}
	if f < Bilinear || f > Lanczos {
		return nil, fmt.Errorf("imageproc: unknown filter %v", f)
	}
	cur := src
	if w != src.W {
		ks, lo, n, k := coeffs(src.W, w, f)
		out := &media.RGB{W: w, H: cur.H, Pix: make([]uint8, w*cur.H*3)}
		for y := 0; y < cur.H; y++ {
			row := cur.Pix[y*cur.W*3:]
			for x := 0; x < w; x++ {
				kk := k[x*ks:]
				var s [3]int32
				s[0], s[1], s[2] = 1<<(precision-1), 1<<(precision-1), 1<<(precision-1)
				for j := 0; j < n[x]; j++ {
					p := (lo[x] + j) * 3
					s[0] += int32(row[p]) * kk[j]
					s[1] += int32(row[p+1]) * kk[j]
					s[2] += int32(row[p+2]) * kk[j]
				}
				o := (y*w + x) * 3
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = clip8(s[0]), clip8(s[1]), clip8(s[2])
			}
		}
		cur = out
	}
	if h != src.H {
		ks, lo, n, k := coeffs(src.H, h, f)
		out := &media.RGB{W: cur.W, H: h, Pix: make([]uint8, cur.W*h*3)}
		for y := 0; y < h; y++ {
			kk := k[y*ks:]
			for x := 0; x < cur.W; x++ {
				var s [3]int32
				s[0], s[1], s[2] = 1<<(precision-1), 1<<(precision-1), 1<<(precision-1)
				for j := 0; j < n[y]; j++ {
					p := ((lo[y]+j)*cur.W + x) * 3
					s[0] += int32(cur.Pix[p]) * kk[j]
					s[1] += int32(cur.Pix[p+1]) * kk[j]
					s[2] += int32(cur.Pix[p+2]) * kk[j]
				}
				o := (y*cur.W + x) * 3
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = clip8(s[0]), clip8(s[1]), clip8(s[2])
			}
		}
		cur = out
	}
	if cur == src {
		cur = &media.RGB{W: src.W, H: src.H, Pix: append([]uint8(nil), src.Pix...)}
	}
	return cur, nil
}

// resizeNearest is Pillow's NEAREST resize (ImagingScaleAffine): the source
// coordinate starts at scale/2 and advances by scale per output pixel, in
// float64, truncated.
func resizeNearest(src *media.RGB, w, h int) *media.RGB {
	sx, sy := float64(src.W)/float64(w), float64(src.H)/float64(h)
	xin := make([]int, w)
	xo := sx * 0.5
	for x := range xin {
		xin[x] = min(int(xo), src.W-1)
		xo += sx
	}
	out := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	yo := sy * 0.5
	for y := 0; y < h; y++ {
		row := src.Pix[min(int(yo), src.H-1)*src.W*3:]
		for x, xi := range xin {
			copy(out.Pix[(y*w+x)*3:(y*w+x)*3+3], row[xi*3:xi*3+3])
		}
		yo += sy
	}
	return out
}

// resizeImaging resizes with a disintegration/imaging filter: the Pillow
// filters without reference fixtures here (box, hamming), whose imaging
// counterparts use the same kernels and an 8-bit intermediate like Pillow
// (within one level on the filters that could be measured).
func resizeImaging(src *media.RGB, w, h int, f imaging.ResampleFilter) *media.RGB {
	in := image.NewNRGBA(image.Rect(0, 0, src.W, src.H))
	for i := 0; i < src.W*src.H; i++ {
		copy(in.Pix[4*i:4*i+3], src.Pix[3*i:3*i+3])
		in.Pix[4*i+3] = 0xff
	}
	res := imaging.Resize(in, w, h, f)
	out := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for y := 0; y < h; y++ {
		row := res.Pix[y*res.Stride:]
		for x := 0; x < w; x++ {
			copy(out.Pix[(y*w+x)*3:(y*w+x)*3+3], row[4*x:4*x+3])
		}
	}
	return out
}
