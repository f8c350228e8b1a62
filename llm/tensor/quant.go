package tensor

// Block layouts of the quantised dtypes (ggml's, little-endian). "d", "dmin"
// and "m" are F16; element e of a block is y[e]. Nibble rows: within a group of
// 2n elements stored in n bytes, element i < n is the low nibble of byte i and
// element n+i its high nibble.
//
//	Q8_0   [d][qs int8 ×32]                          y = d·qs
//	Q4_0   [d][qs ×16: 32 nibbles]                   y = d·(q−8)
//	Q4_1   [d][m][qs ×16]                            y = d·q + m
//	Q5_0   [d][qh u32][qs ×16]                       q = nibble | bit e of qh << 4;  y = d·(q−16)
//	Q5_1   [d][m][qh u32][qs ×16]                    y = d·q + m
//	IQ4_NL [d][qs ×16]                               y = d·kvalues[q]
//	Q2_K   [sc ×16][qs ×64][d][dmin]                 e = 128h+32j+l: q = qs[32h+l]>>2j & 3;
//	                                                 s = sc[e/16]: y = d·(s&15)·q − dmin·(s>>4)
//	Q3_K   [hmask ×32][qs ×64][sc ×12][d]            e = 128h+32j+l: q = (qs[32h+l]>>2j & 3) − 4·!(hmask[l]>>(4h+j) & 1);
//	                                                 y = d·(sc6[e/16]−32)·q
//	Q4_K   [d][dmin][sc ×12][qs ×128]                e = 64c+32h+l: q = qs[32c+l]>>4h & 15;
//	                                                 y = d·sc6[e/32]·q − dmin·m6[e/32]
//	Q5_K   [d][dmin][sc ×12][qh ×32][qs ×128]        as Q4_K with q |= (qh[e%32]>>(e/32) & 1) << 4
//	Q6_K   [ql ×128][qh ×64][sc int8 ×16][d]         e = 128h+r: q = (ql[64h+r%64]>>4(r/64) & 15) | (qh[32h+r%32]>>2(r/32) & 3)<<4;
//	                                                 y = d·sc[e/16]·(q−32)
//	IQ4_XS [d][sh u16][sl ×4][qs ×128]               e = 32b+16s+p: q = qs[16b+p]>>4s & 15;
//	                                                 ls = (sl[b/2]>>4(b%2) & 15 | (sh>>2b & 3)<<4) − 32;  y = d·ls·kvalues[q]
//
// The 6-bit scales of Q3_K (16 of them, sc6[i]) take their low nibble from
// byte i (i < 8) or the high nibble of byte i−8, and bits 4–5 from byte
// 8+i%4 at bit 2(i/4). Q4_K/Q5_K pack 8 scales and 8 mins (sc6, m6) into 12
// bytes: for j < 4 the low 6 bits of bytes j (scale) and j+4 (min); for
// j ≥ 4 the nibbles of byte j+4 (scale low, min high) with bits 4–5 from the
// top two bits of bytes j−4 (scale) and j (min).
//
// Products are rounded as written, left to right, with no fused
// multiply-add: (d·s)·q − (dmin·m).

// IQ4NLValues is the non-linear codebook of IQ4_NL and IQ4_XS.
var IQ4NLValues = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func f16At(b []byte) float32 { return F16ToF32(uint16(b[0]) | uint16(b[1])<<8) }

// nib returns element i of a 2n-element nibble row stored in q[:n].
func nib(q []byte, n, i int) int {
	if i < n {
		return int(q[i] & 15)
	}
	return int(q[i-n] >> 4)
}

// KScaleMin returns scale j and min j (6 bits each) of a Q4_K/Q5_K block's
// 12 scale bytes.
func KScaleMin(s []byte, j int) (sc, m uint8) {
	if j < 4 {
		return s[j] & 63, s[j+4] & 63
	}
	return s[j+4]&15 | s[j-4]>>6<<4, s[j+4]>>4 | s[j]>>6<<4
}

// Q3Scale returns scale i of a Q3_K block's 12 scale bytes, in [−32, 31].
func Q3Scale(s []byte, i int) int {
	lo := s[i%8] >> (4 * (i / 8)) & 15
	hi := s[8+i%4] >> (2 * (i / 4)) & 3
	return int(lo|hi<<4) - 32
}

// IQ4XSScale returns scale b of an IQ4_XS block (bytes 2–7), in [−32, 31].
func IQ4XSScale(blk []byte, b int) int {
	sh := uint16(blk[2]) | uint16(blk[3])<<8
	lo := blk[4+b/2] >> (4 * (b % 2)) & 15
	hi := uint8(sh>>(2*b)) & 3
	return int(lo|hi<<4) - 32
}

// decodeBlock dequantises one block of dtype d into y (len BlockSize()).
func decodeBlock(d DType, blk []byte, y []float32) {
	switch d {
	case Q8_0:
		s := f16At(blk)
		for i := range 32 {
			y[i] = float32(int8(blk[2+i])) * s
		}
	case Q4_0, IQ4_NL:
		s := f16At(blk)
		for i := range 32 {
			q := nib(blk[2:], 16, i)
			if d == Q4_0 {
				y[i] = float32(q-8) * s
			} else {
				y[i] = float32(IQ4NLValues[q]) * s
			}
		}
	case Q4_1:
		s, m := f16At(blk), f16At(blk[2:])
		for i := range 32 {
			y[i] = float32(s*float32(nib(blk[4:], 16, i))) + m
		}
	case Q5_0, Q5_1:
		off := 2
		if d == Q5_1 {
			off = 4
		}
		qh := uint32(blk[off]) | uint32(blk[off+1])<<8 | uint32(blk[off+2])<<16 | uint32(blk[off+3])<<24
		s := f16At(blk)
		for i := range 32 {
			q := nib(blk[off+4:], 16, i) | int(qh>>i&1)<<4
			if d == Q5_0 {
				y[i] = float32(q-16) * s
			} else {
				y[i] = float32(s*float32(q)) + f16At(blk[2:])
			}
		}
	case Q2_K:
		dd, dmin := f16At(blk[80:]), f16At(blk[82:])
		for e := range 256 {
			h, j, l := e/128, e%128/32, e%32
			q := blk[16+32*h+l] >> (2 * j) & 3
			s := blk[e/16]
			dl, ml := dd*float32(s&15), dmin*float32(s>>4)
			y[e] = float32(dl*float32(q)) - ml
		}
	case Q3_K:
		dd := f16At(blk[108:])
		for e := range 256 {
			h, j, l := e/128, e%128/32, e%32
			q := int(blk[32+32*h+l]>>(2*j)) & 3
			if blk[l]>>(4*h+j)&1 == 0 {
				q -= 4
			}
			y[e] = dd * float32(Q3Scale(blk[96:108], e/16)) * float32(q)
		}
	case Q4_K, Q5_K:
		dd, dmin := f16At(blk), f16At(blk[2:])
		qs := blk[16:]
		if d == Q5_K {
			qs = blk[48:]
		}
		for e := range 256 {
			c, h, l := e/64, e%64/32, e%32
			q := int(qs[32*c+l]>>(4*h)) & 15
			if d == Q5_K {
				q |= int(blk[16+l]>>(e/32)&1) << 4
			}
			sc, m := KScaleMin(blk[4:16], e/32)
			d1, m1 := dd*float32(sc), dmin*float32(m)
			y[e] = float32(d1*float32(q)) - m1
		}
	case Q6_K:
		dd := f16At(blk[208:])
		for e := range 256 {
			h, r := e/128, e%128
			q := int(blk[64*h+r%64]>>(4*(r/64)))&15 | int(blk[128+32*h+r%32]>>(2*(r/32))&3)<<4
			y[e] = dd * float32(int8(blk[192+e/16])) * float32(q-32)
		}
	case IQ4_XS:
		dd := f16At(blk)
		for e := range 256 {
			b, s, p := e/32, e%32/16, e%16
			q := blk[8+16*b+p] >> (4 * s) & 15
			dl := dd * float32(IQ4XSScale(blk, b))
			y[e] = dl * float32(IQ4NLValues[q])
		}
	}
}
