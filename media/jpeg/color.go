package jpeg

// Upsampling as libjpeg-turbo's jdsample.c does it with do_fancy_upsampling
// on (its default, which Pillow keeps), chosen per component from the
// ratio of the largest sampling factors to its own:
//
//	ratio 1×1: nothing to do
//	ratio 2×1: "fancy" triangular filter if the component is wider than 2
//	           samples, else replication
//	ratio 1×2: fancy vertical filter
//	ratio 2×2: fancy in both directions if wider than 2 samples, else
//	           replication
//	otherwise (4:1:1, 4:1:0, 3×1, ...): replication
//
// With sample s[c] (c = 0..w-1, w = the component's downsampled width) and,
// vertically, "near" the component row the output row falls in and "far"
// the adjacent row on the output row's side (both clamped to the
// component's real rows):
//
//	2×1: out[2c]   = (3s[c] + s[c-1] + 1) >> 2    out[0]    = s[0]
//	     out[2c+1] = (3s[c] + s[c+1] + 2) >> 2    out[2w-1] = s[w-1]
//	1×2: out[c]    = (3near[c] + far[c] + bias) >> 2, bias 1 above, 2 below
//	2×2: S[c] = 3near[c] + far[c]
//	     out[2c]   = (3S[c] + S[c-1] + 8) >> 4    out[0]    = (4S[0] + 8) >> 4
//	     out[2c+1] = (3S[c] + S[c+1] + 7) >> 4    out[2w-1] = (4S[w-1] + 7) >> 4
//
// libjpeg's merged upsampler (jdmerge.c) is only used with fancy upsampling
// off, which Pillow does not do (except in draft mode).

type upKind uint8

const (
	kindFull upKind = iota
	kindH2V1
	kindH1V2
	kindH2V2
	kindReplicate
)

type upsampler struct {
	c          *component
	kind       upKind
	hExp, vExp int
	buf        []uint8
	sum        []int32
}

func newUpsampler(c *component, maxH, maxV, width int) *upsampler {
	u := &upsampler{c: c, hExp: maxH / c.h, vExp: maxV / c.v}
	switch {
	case u.hExp == 1 && u.vExp == 1:
		u.kind = kindFull
		return u
	case u.hExp == 2 && u.vExp == 1 && c.sw > 2:
		u.kind = kindH2V1
	case u.hExp == 1 && u.vExp == 2:
		u.kind = kindH1V2
	case u.hExp == 2 && u.vExp == 2 && c.sw > 2:
		u.kind = kindH2V2
		u.sum = make([]int32, c.sw)
	default:
		u.kind = kindReplicate
	}
	u.buf = make([]uint8, max(c.sw*u.hExp, width))
	return u
}

// planeRow returns component row r (its real samples only).
func (u *upsampler) planeRow(r int) []uint8 {
	stride := u.c.bw * 8
	return u.c.plane[r*stride : r*stride+u.c.sw]
}

// row returns output row y of the component, at least width samples.
func (u *upsampler) row(y int) []uint8 {
	switch u.kind {
	case kindFull:
		return u.planeRow(y)
	case kindH2V1:
		upH2V1(u.buf, u.planeRow(y))
		return u.buf
	case kindH1V2, kindH2V2:
		near := y / 2
		far, bias := near-1, int32(1)
		if y%2 == 1 {
			far, bias = near+1, 2
		}
		far = max(0, min(far, u.c.sh-1))
		if u.kind == kindH1V2 {
			upH1V2(u.buf, u.planeRow(near), u.planeRow(far), bias)
		} else {
			upH2V2(u.buf, u.planeRow(near), u.planeRow(far), u.sum)
		}
		return u.buf
	}
	in := u.planeRow(y / u.vExp)
	for c, v := range in {
		for k := range u.hExp {
			u.buf[c*u.hExp+k] = v
		}
	}
	return u.buf
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

// yccTables are jdcolor.c's build_ycc_rgb_table in 16-bit fixed point:
// R = Y + crR[Cr], B = Y + cbB[Cb], G = Y + (cbG[Cb] + crG[Cr]) >> 16 with
// the rounding half already in cbG.
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
	return uint8(min(max(v, 0), 255))
}

// output runs the IDCT of buffered coefficients and then upsamples and
// converts each row into the output image.
func (d *decoder) output() (*Image, error) {
	if d.multiScan {
		d.idctAll()
	}
	w, h := d.width, d.height
	cs := d.colorSpace()
	img := &Image{Width: w, Height: h, Channels: len(d.comps), ColorSpace: cs}
	img.Pix = make([]uint8, w*h*img.Channels)
	ups := make([]*upsampler, len(d.comps))
	for i := range d.comps {
		ups[i] = newUpsampler(&d.comps[i], d.maxH, d.maxV, w)
	}
	var t *yccTables
	if cs == YCbCr || cs == YCCK {
		t = newYCCTables()
	}
	var rows [4][]uint8
	for y := range h {
		for i, u := range ups {
			rows[i] = u.row(y)[:w]
		}
		o := img.Pix[y*w*img.Channels : (y+1)*w*img.Channels]
		switch cs {
		case Gray:
			copy(o, rows[0])
		case RGB:
			for x := range w {
				o[3*x], o[3*x+1], o[3*x+2] = rows[0][x], rows[1][x], rows[2][x]
			}
		case YCbCr:
			yr, cbr, crr := rows[0], rows[1], rows[2]
			for x := range w {
				Y := int32(yr[x])
				cb, cr := cbr[x], crr[x]
				o[3*x] = clamp8(Y + t.crR[cr])
				o[3*x+1] = clamp8(Y + (t.cbG[cb]+t.crG[cr])>>16)
				o[3*x+2] = clamp8(Y + t.cbB[cb])
			}
		case CMYK:
			for x := range w {
				o[4*x], o[4*x+1], o[4*x+2], o[4*x+3] = rows[0][x], rows[1][x], rows[2][x], rows[3][x]
			}
		case YCCK:
			// jdcolor.c's ycck_cmyk_convert: the inverse of YCbCr→RGB,
			// K as stored.
			for x := range w {
				Y := int32(rows[0][x])
				cb, cr := rows[1][x], rows[2][x]
				o[4*x] = clamp8(255 - (Y + t.crR[cr]))
				o[4*x+1] = clamp8(255 - (Y + (t.cbG[cb]+t.crG[cr])>>16))
				o[4*x+2] = clamp8(255 - (Y + t.cbB[cb]))
				o[4*x+3] = rows[3][x]
			}
		}
	}
	return img, nil
}

// idctAll transforms the buffered coefficients of a multi-scan file.
// Components that no scan reached (no quantisation table latched) come
// out as mid-grey, as libjpeg's zeroed multiplier table makes them.
func (d *decoder) idctAll() {
	smooth := d.smoothingOK()
	var zero [64]int16
	for i := range d.comps {
		c := &d.comps[i]
		q := c.q
		if q == nil {
			q = &zero
		}
		if smooth {
			d.idctSmooth(c)
			continue
		}
		stride := c.bw * 8
		for by := range c.bh {
			for bx := range c.bw {
				bi := by*c.storeW + bx
				idct((*[64]int16)(c.coef[bi*64:bi*64+64]), q, c.plane[by*8*stride+bx*8:], stride, &d.limit)
			}
		}
	}
}
