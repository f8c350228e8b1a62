package media

import (
	"image"
)

// JPEG colour conversion as libjpeg-turbo (and so Pillow) does it: "fancy"
// triangular chroma upsampling, then the fixed-point YCbCr→RGB tables of
// jdcolor.c. Go's image/jpeg only hands back the planes; its own conversion
// replicates chroma and differs by up to ~100 levels at edges.
//
// Upsampling per chroma sample s[c] (c = 0..cw-1, cw = ceil(W·h/hmax)), with
// "near" the co-sited row and "far" the adjacent row on the output row's side
// (edges clamp to the first/last real row or column):
//
//	h2v1: out[2c]   = (3s[c] + s[c-1] + 1) >> 2    out[0]      = s[0]
//	      out[2c+1] = (3s[c] + s[c+1] + 2) >> 2    out[2cw-1]  = s[cw-1]
//	h2v2: S[c] = 3·near[c] + far[c]
//	      out[2c]   = (3S[c] + S[c-1] + 8) >> 4    out[0]      = (4S[0] + 8) >> 4
//	      out[2c+1] = (3S[c] + S[c+1] + 7) >> 4    out[2cw-1]  = (4S[cw-1] + 7) >> 4
//	h1v2: out[c]    = (3near[c] + far[c] + bias) >> 2, bias 1 above, 2 below
//
// libjpeg only upsamples "fancily" when cw > 2 (h2v1, h2v2); otherwise, and
// for 4:1:1 / 4:1:0, it replicates.

// yccTables are jdcolor.c's build_ycc_rgb_table, SCALEBITS 16.
type yccTables struct {
	crR, cbB [256]int32
	crG, cbG [256]int32
}

func newYCCTables() *yccTables {
	const scale = 16
	const half = 1 << (scale - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scale) + 0.5) }
	t := &yccTables{}
	for i := range 256 {
		x := int32(i - 128)
		t.crR[i] = (fix(1.40200)*x + half) >> scale
		t.cbB[i] = (fix(1.77200)*x + half) >> scale
		t.crG[i] = -fix(0.71414) * x
		t.cbG[i] = -fix(0.34414)*x + half
	}
	return t
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// jpegToRGB converts a decoded JPEG YCbCr image like libjpeg-turbo.
// m.Rect.Min must be (0,0).
func jpegToRGB(m *image.YCbCr) *RGB {
	r := m.Rect
	w, h := r.Dx(), r.Dy()
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	if w == 0 || h == 0 {
		return out
	}
	hs, vs := subsampling(m.SubsampleRatio)
	cw := (w + hs - 1) / hs // libjpeg's downsampled_width
	ch := (h + vs - 1) / vs
	// Caller guarantees r.Min == (0,0); planes may be MCU-padded.
	crow := func(plane []uint8, cy int) []uint8 {
		off := cy * m.CStride
		return plane[off : off+cw]
	}
	fancyH := hs == 2 && cw > 2
	fancyV := vs == 2 && (hs == 1 || fancyH)
	t := newYCCTables()
	cb := make([]uint8, cw*hs)
	cr := make([]uint8, cw*hs)
	var sum []int32
	if fancyV && hs == 2 {
		sum = make([]int32, cw)
	}
	for y := range h {
		cy := y / vs
		switch {
		case fancyV:
			far := cy - 1
			bias := int32(1)
			if y%2 == 1 {
				far, bias = cy+1, 2
			}
			far = max(0, min(far, ch-1))
			if hs == 2 {
				upH2V2(cb, crow(m.Cb, cy), crow(m.Cb, far), sum)
				upH2V2(cr, crow(m.Cr, cy), crow(m.Cr, far), sum)
			} else {
				upH1V2(cb, crow(m.Cb, cy), crow(m.Cb, far), bias)
				upH1V2(cr, crow(m.Cr, cy), crow(m.Cr, far), bias)
			}
		case fancyH:
			upH2V1(cb, crow(m.Cb, cy))
			upH2V1(cr, crow(m.Cr, cy))
		default:
			replicate(cb, crow(m.Cb, cy), hs)
			replicate(cr, crow(m.Cr, cy), hs)
		}
		yrow := m.Y[y*m.YStride:]
		o := out.Pix[y*w*3 : (y+1)*w*3]
		for x := range w {
			Y := int32(yrow[x])
			b, c := cb[x], cr[x]
			o[3*x] = clamp8(Y + t.crR[c])
			o[3*x+1] = clamp8(Y + (t.cbG[b]+t.crG[c])>>16)
			o[3*x+2] = clamp8(Y + t.cbB[b])
		}
	}
	return out
}

// subsampling returns the horizontal and vertical chroma factors.
func subsampling(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

func upH2V1(out, in []uint8) {
	n := len(in)
	out[0] = in[0]
	out[2*n-1] = in[n-1]
	for c := range n {
		v := 3 * int32(in[c])
		if c > 0 {
			out[2*c] = uint8((v + int32(in[c-1]) + 1) >> 2)
		}
		if c < n-1 {
			out[2*c+1] = uint8((v + int32(in[c+1]) + 2) >> 2)
		}
	}
}

func upH2V2(out, near, far []uint8, sum []int32) {
	n := len(near)
	for c := range n {
		sum[c] = 3*int32(near[c]) + int32(far[c])
	}
	out[0] = uint8((4*sum[0] + 8) >> 4)
	out[2*n-1] = uint8((4*sum[n-1] + 7) >> 4)
	for c := range n {
		if c > 0 {
			out[2*c] = uint8((3*sum[c] + sum[c-1] + 8) >> 4)
		}
		if c < n-1 {
			out[2*c+1] = uint8((3*sum[c] + sum[c+1] + 7) >> 4)
		}
	}
}

func upH1V2(out, near, far []uint8, bias int32) {
	for c := range near {
		out[c] = uint8((3*int32(near[c]) + int32(far[c]) + bias) >> 2)
	}
}

func replicate(out, in []uint8, f int) {
	for c, v := range in {
		for k := range f {
			out[c*f+k] = v
		}
	}
}
