package media

import "image"

// Lossy WebP colour conversion as libwebp (and so Pillow) does it. VP8 stores
// BT.601 limited-range YUV 4:2:0; golang.org/x/image/webp returns the planes
// as an image.YCbCr whose own (full-range JFIF) conversion is wrong for VP8.
//
// Chroma: libwebp's "fancy" upsampler works on pairs of output rows
// (2k-1, 2k) between chroma rows k-1 ("top") and k ("cur"); the first row,
// and the last row of an even-height image, use a single chroma row for both.
// Per channel, with tl/t the top row at columns x-1/x and l/c the cur row:
//
//	avg  = tl + t + l + c + 8
//	d12  = (avg + 2(t + l)) >> 3        d03 = (avg + 2(tl + c)) >> 3
//	top row:    out[2x-1] = (d12 + tl) >> 1    out[2x] = (d03 + t) >> 1
//	bottom row: out[2x-1] = (d03 + l) >> 1     out[2x] = (d12 + c) >> 1
//	column 0 (and the last column of an even width):
//	            top (3tl + l + 2) >> 2,  bottom (3l + tl + 2) >> 2
//
// RGB: 14-bit fixed point, MultHi(v, k) = v·k >> 8, then >> 6 with clipping.

func webpToRGB(m *image.YCbCr) *RGB {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	if w == 0 || h == 0 {
		return out
	}
	hs, vs := subsampling(m.SubsampleRatio)
	if hs != 2 || vs != 2 {
		// VP8 is always 4:2:0; anything else is converted per pixel.
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				writeWebP(out.Pix[(y*w+x)*3:], m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
		return out
	}
	cw, ch := (w+1)/2, (h+1)/2
	crow := func(plane []uint8, cy int) []uint8 { return plane[cy*m.CStride:][:cw] }
	row := func(y int) []uint8 { return out.Pix[y*w*3:][:w*3] }
	yrow := func(y int) []uint8 { return m.Y[y*m.YStride:][:w] }
	webpPair(yrow(0), nil, crow(m.Cb, 0), crow(m.Cr, 0), crow(m.Cb, 0), crow(m.Cr, 0), row(0), nil)
	for k := 1; 2*k-1 < h; k++ {
		top, bot := 2*k-1, 2*k
		cur := min(k, ch-1)
		if bot >= h {
			// Last row of an even-height image: one chroma row.
			webpPair(yrow(top), nil, crow(m.Cb, k-1), crow(m.Cr, k-1), crow(m.Cb, k-1), crow(m.Cr, k-1), row(top), nil)
			break
		}
		webpPair(yrow(top), yrow(bot), crow(m.Cb, k-1), crow(m.Cr, k-1), crow(m.Cb, cur), crow(m.Cr, cur), row(top), row(bot))
	}
	return out
}

// webpPair emits one or two output rows (libwebp's UpsampleRgbLinePair).
func webpPair(topY, botY, topU, topV, curU, curV, topDst, botDst []uint8) {
	n := len(topY)
	type uv struct{ u, v int32 }
	at := func(u, v []uint8, x int) uv { return uv{int32(u[x]), int32(v[x])} }
	edge := func(near, far uv) (int32, int32) {
		return (3*near.u + far.u + 2) >> 2, (3*near.v + far.v + 2) >> 2
	}
	tl, l := at(topU, topV, 0), at(curU, curV, 0)
	u, v := edge(tl, l)
	writeWebP(topDst, topY[0], uint8(u), uint8(v))
	if botY != nil {
		u, v = edge(l, tl)
		writeWebP(botDst, botY[0], uint8(u), uint8(v))
	}
	for x := 1; x <= (n-1)/2; x++ {
		t, c := at(topU, topV, x), at(curU, curV, x)
		avgU, avgV := tl.u+t.u+l.u+c.u+8, tl.v+t.v+l.v+c.v+8
		d12u, d12v := (avgU+2*(t.u+l.u))>>3, (avgV+2*(t.v+l.v))>>3
		d03u, d03v := (avgU+2*(tl.u+c.u))>>3, (avgV+2*(tl.v+c.v))>>3
		writeWebP(topDst[(2*x-1)*3:], topY[2*x-1], uint8((d12u+tl.u)>>1), uint8((d12v+tl.v)>>1))
		writeWebP(topDst[2*x*3:], topY[2*x], uint8((d03u+t.u)>>1), uint8((d03v+t.v)>>1))
		if botY != nil {
			writeWebP(botDst[(2*x-1)*3:], botY[2*x-1], uint8((d03u+l.u)>>1), uint8((d03v+l.v)>>1))
			writeWebP(botDst[2*x*3:], botY[2*x], uint8((d12u+c.u)>>1), uint8((d12v+c.v)>>1))
		}
		tl, l = t, c
	}
	if n%2 == 0 {
		u, v := edge(tl, l)
		writeWebP(topDst[(n-1)*3:], topY[n-1], uint8(u), uint8(v))
		if botY != nil {
			u, v = edge(l, tl)
			writeWebP(botDst[(n-1)*3:], botY[n-1], uint8(u), uint8(v))
		}
	}
}

// writeWebP stores libwebp's VP8YUVToR/G/B of (y, u, v) at dst[0:3].
func writeWebP(dst []uint8, y, u, v uint8) {
	mh := func(x uint8, k int32) int32 { return int32(x) * k >> 8 }
	clip := func(x int32) uint8 {
		if x&^(256<<6-1) == 0 {
			return uint8(x >> 6)
		}
		if x < 0 {
			return 0
		}
		return 255
	}
	yy := mh(y, 19077)
	dst[0] = clip(yy + mh(v, 26149) - 14234)
	dst[1] = clip(yy - mh(u, 6419) - mh(v, 13320) + 8708)
	dst[2] = clip(yy + mh(u, 33050) - 17685)
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
