package jpeg

// The "islow" inverse DCT of libjpeg (jidctint.c): the Loeffler–Ligtenberg–
// Moschytz factorisation in 13-bit fixed point. The column pass keeps two
// extra bits (pass1Bits); the row pass removes them together with the
// constant scaling and the factor 8 of the 2-D transform, rounding to
// nearest (DESCALE adds half before the arithmetic shift). Temporaries are
// int (libjpeg's JLONG, 64-bit on 64-bit targets); the work array holds C
// ints, so its values are truncated to 32 bits exactly as libjpeg's are.
const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446  // round(0.298631336 * 2^13)
	fix0_390180644 = 3196  // round(0.390180644 * 2^13)
	fix0_541196100 = 4433  // round(0.541196100 * 2^13)
	fix0_765366865 = 6270  // round(0.765366865 * 2^13)
	fix0_899976223 = 7373  // round(0.899976223 * 2^13)
	fix1_175875602 = 9633  // round(1.175875602 * 2^13)
	fix1_501321110 = 12299 // round(1.501321110 * 2^13)
	fix1_847759065 = 15137 // round(1.847759065 * 2^13)
	fix1_961570560 = 16069 // round(1.961570560 * 2^13)
	fix2_053119869 = 16819 // round(2.053119869 * 2^13)
	fix2_562915447 = 20995 // round(2.562915447 * 2^13)
	fix3_072711026 = 25172 // round(3.072711026 * 2^13)
)

// buildLimit fills libjpeg's post-IDCT range-limit table. The IDCT output
// lacks the +128 level shift; the table adds it and clamps to 0..255 for
// values in [-512, 511], and is indexed by the value & 1023 so that wild
// values wrap instead of indexing out of range (libjpeg's RANGE_MASK).
func (d *decoder) buildLimit() {
	for i := range d.limit {
		switch {
		case i < 128:
			d.limit[i] = uint8(i + 128)
		case i < 512:
			d.limit[i] = 255
		case i < 1024-128:
			d.limit[i] = 0
		default:
			d.limit[i] = uint8(i - (1024 - 128))
		}
	}
}

// descale is libjpeg's DESCALE: divide by 2^n, rounding half up.
func descale(x int, n uint) int { return (x + 1<<(n-1)) >> n }

// idct transforms one block (natural order) dequantised by q into 8×8
// samples at dst with the given stride.
func idct(blk *[64]int16, q *[64]int16, dst []uint8, stride int, limit *[1024]uint8) {
	var ws [64]int32
	// Pass 1: columns. Dequantising multiplies two 16-bit values into a C
	// int, as DEQUANTIZE does.
	for c := range 8 {
		if blk[8+c] == 0 && blk[16+c] == 0 && blk[24+c] == 0 && blk[32+c] == 0 &&
			blk[40+c] == 0 && blk[48+c] == 0 && blk[56+c] == 0 {
			// AC terms all zero: every output is the scaled DC.
			dc := int32(int(int32(blk[c])*int32(q[c])) << pass1Bits)
			for r := range 8 {
				ws[8*r+c] = dc
			}
			continue
		}
		// Even part.
		z2 := int(int32(blk[16+c]) * int32(q[16+c]))
		z3 := int(int32(blk[48+c]) * int32(q[48+c]))
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2 = int(int32(blk[c]) * int32(q[c]))
		z3 = int(int32(blk[32+c]) * int32(q[32+c]))
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		// Odd part.
		t0 := int(int32(blk[56+c]) * int32(q[56+c]))
		t1 := int(int32(blk[40+c]) * int32(q[40+c]))
		t2 := int(int32(blk[24+c]) * int32(q[24+c]))
		t3 := int(int32(blk[8+c]) * int32(q[8+c]))
		t0, t1, t2, t3 = oddPart(t0, t1, t2, t3)
		const n = constBits - pass1Bits
		ws[c] = int32(descale(tmp10+t3, n))
		ws[56+c] = int32(descale(tmp10-t3, n))
		ws[8+c] = int32(descale(tmp11+t2, n))
		ws[48+c] = int32(descale(tmp11-t2, n))
		ws[16+c] = int32(descale(tmp12+t1, n))
		ws[40+c] = int32(descale(tmp12-t1, n))
		ws[24+c] = int32(descale(tmp13+t0, n))
		ws[32+c] = int32(descale(tmp13-t0, n))
	}
	// Pass 2: rows, into samples.
	const n = constBits + pass1Bits + 3
	for r := range 8 {
		w := ws[8*r : 8*r+8 : 8*r+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := limit[int32(descale(int(w[0]), pass1Bits+3))&1023]
			for i := range out {
				out[i] = v
			}
			continue
		}
		z2, z3 := int(w[2]), int(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (int(w[0]) + int(w[4])) << constBits
		tmp1 := (int(w[0]) - int(w[4])) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		t0, t1, t2, t3 := oddPart(int(w[7]), int(w[5]), int(w[3]), int(w[1]))
		out[0] = limit[int32(descale(tmp10+t3, n))&1023]
		out[7] = limit[int32(descale(tmp10-t3, n))&1023]
		out[1] = limit[int32(descale(tmp11+t2, n))&1023]
		out[6] = limit[int32(descale(tmp11-t2, n))&1023]
		out[2] = limit[int32(descale(tmp12+t1, n))&1023]
		out[5] = limit[int32(descale(tmp12-t1, n))&1023]
		out[3] = limit[int32(descale(tmp13+t0, n))&1023]
		out[4] = limit[int32(descale(tmp13-t0, n))&1023]
	}
}

// oddPart is the odd half of the 1-D transform ("figure 8" of the paper):
// inputs are the coefficients 7, 5, 3, 1, outputs tmp0..tmp3.
func oddPart(t0, t1, t2, t3 int) (int, int, int, int) {
	z1 := t0 + t3
	z2 := t1 + t2
	z3 := t0 + t2
	z4 := t1 + t3
	z5 := (z3 + z4) * fix1_175875602 // sqrt(2) * c3
	t0 *= fix0_298631336             // sqrt(2) * (-c1+c3+c5-c7)
	t1 *= fix2_053119869             // sqrt(2) * ( c1+c3-c5+c7)
	t2 *= fix3_072711026             // sqrt(2) * ( c1+c3+c5-c7)
	t3 *= fix1_501321110             // sqrt(2) * ( c1+c3-c5-c7)
	z1 *= -fix0_899976223            // sqrt(2) * ( c7-c3)
	z2 *= -fix2_562915447            // sqrt(2) * (-c1-c3)
	z3 = z3*-fix1_961570560 + z5     // sqrt(2) * (-c3-c5)
	z4 = z4*-fix0_390180644 + z5     // sqrt(2) * ( c5-c3)
	return t0 + z1 + z3, t1 + z2 + z4, t2 + z2 + z3, t3 + z1 + z4
}
