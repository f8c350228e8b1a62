package tensor

import (
	"encoding/binary"
	"math"
)

// This file's quantisers write one block of each quantised dtype (layouts in
// quant.go). They are simple round-to-nearest schemes: each (sub-)block's
// scale maps its extreme value onto the end of the code range, super-block
// scales are chosen so the largest sub-block scale uses the full range of its
// bits, and every code is rounded against the scales as stored (F16 and
// integer sub-scales). They serve tests and generated models; llama.cpp's
// quantisers search scales more carefully. Any input, NaN and ±Inf included,
// yields a well-formed block.

// rnd rounds v to the nearest integer (ties to even) clamped to [lo, hi]; NaN gives lo.
func rnd(v float32, lo, hi int) int {
	r := math.RoundToEven(float64(v))
	if !(r >= float64(lo)) {
		return lo
	}
	if r > float64(hi) {
		return hi
	}
	return int(r)
}

// f16r rounds v to F16, returning the bits and their value.
func f16r(v float32) (uint16, float32) {
	h := F32ToF16(v)
	return h, F16ToF32(h)
}

func div(x, d float32) float32 {
	if d == 0 || d != d {
		return 0
	}
	return x / d
}

// extreme returns the element of largest magnitude (the first on ties) and the range.
func extreme(x []float32) (ext, lo, hi float32) {
	lo, hi = x[0], x[0]
	for _, v := range x {
		if abs32(v) > abs32(ext) {
			ext = v
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return ext, lo, hi
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

func nearestIQ4(v float32) int {
	best, bd := 0, float32(math.Inf(1))
	for i, k := range IQ4NLValues {
		if d := abs32(v - float32(k)); d < bd {
			best, bd = i, d
		}
	}
	return best
}

// putNibbles packs 2n codes into q[:n] as a nibble row.
func putNibbles(q []byte, codes []int) {
	n := len(codes) / 2
	for i := 0; i < n; i++ {
		q[i] = byte(codes[i]&15 | codes[n+i]&15<<4)
	}
}

// encodeBlock appends one block of dtype d holding x (len BlockSize()).
func encodeBlock(d DType, dst []byte, x []float32) []byte {
	blk := make([]byte, d.BlockBytes())
	le := binary.LittleEndian
	codes := make([]int, len(x))
	switch d {
	case Q8_0:
		ext, _, _ := extreme(x)
		scale := abs32(ext) / 127
		inv := div(1, scale)
		le.PutUint16(blk, F32ToF16(scale))
		for i, v := range x {
			r := math.Round(float64(v * inv)) // half away from zero, as ggml
			blk[2+i] = byte(int8(max(-127, min(127, r))))
			if r != r {
				blk[2+i] = 0
			}
		}
	case Q4_0, Q5_0, IQ4_NL:
		ext, _, _ := extreme(x)
		div0, off, top := float32(-8), 8, 15
		switch d {
		case Q5_0:
			div0, off, top = -16, 16, 31
		case IQ4_NL:
			div0 = -127
		}
		h, s := f16r(ext / div0)
		le.PutUint16(blk, h)
		for i, v := range x {
			if d == IQ4_NL {
				codes[i] = nearestIQ4(div(v, s))
			} else {
				codes[i] = rnd(div(v, s), -off, top-off) + off
			}
		}
		if d == Q5_0 {
			putQ5(blk[2:], codes)
		} else {
			putNibbles(blk[2:], codes)
		}
	case Q4_1, Q5_1:
		_, lo, hi := extreme(x)
		top := 15
		if d == Q5_1 {
			top = 31
		}
		h, s := f16r((hi - lo) / float32(top))
		hm, m := f16r(lo)
		le.PutUint16(blk, h)
		le.PutUint16(blk[2:], hm)
		for i, v := range x {
			codes[i] = rnd(div(v-m, s), 0, top)
		}
		if d == Q5_1 {
			putQ5(blk[4:], codes)
		} else {
			putNibbles(blk[4:], codes)
		}
	case Q2_K, Q4_K, Q5_K:
		encodeKMin(d, blk, x, codes)
	case Q3_K, Q6_K, IQ4_XS:
		encodeKSym(d, blk, x, codes)
	}
	return append(dst, blk...)
}

// putQ5 stores 32 5-bit codes as [qh u32][16 nibble bytes].
func putQ5(b []byte, codes []int) {
	var qh uint32
	for i, c := range codes {
		qh |= uint32(c>>4&1) << i
	}
	binary.LittleEndian.PutUint32(b, qh)
	putNibbles(b[4:], codes)
}

// encodeKMin quantises the scale-and-min super-blocks (Q2_K: 16 × 16,
// Q4_K/Q5_K: 8 × 32): y ≈ d·sc·q − dmin·m with sub-block minimum ≤ 0.
func encodeKMin(d DType, blk []byte, x []float32, codes []int) {
	sub, qtop, stop := 32, 15, 63
	switch d {
	case Q2_K:
		sub, qtop, stop = 16, 3, 15
	case Q5_K:
		qtop = 31
	}
	ns := 256 / sub
	scale, mins := make([]float32, ns), make([]float32, ns)
	var smax, mmax float32
	for s := range ns {
		_, lo, hi := extreme(x[s*sub : (s+1)*sub])
		lo = min(lo, 0)
		scale[s], mins[s] = (hi-lo)/float32(qtop), -lo
		smax, mmax = max(smax, scale[s]), max(mmax, mins[s])
	}
	hd, dd := f16r(smax / float32(stop))
	hm, dmin := f16r(mmax / float32(stop))
	sc, mn := make([]int, ns), make([]int, ns)
	for s := range ns {
		sc[s], mn[s] = rnd(div(scale[s], dd), 0, stop), rnd(div(mins[s], dmin), 0, stop)
		dl, ml := dd*float32(sc[s]), dmin*float32(mn[s])
		for i := s * sub; i < (s+1)*sub; i++ {
			codes[i] = rnd(div(x[i]+ml, dl), 0, qtop)
		}
	}
	le := binary.LittleEndian
	if d == Q2_K {
		le.PutUint16(blk[80:], hd)
		le.PutUint16(blk[82:], hm)
		for s := range ns {
			blk[s] = byte(sc[s] | mn[s]<<4)
		}
		for e, c := range codes {
			h, j, l := e/128, e%128/32, e%32
			blk[16+32*h+l] |= byte(c << (2 * j))
		}
		return
	}
	le.PutUint16(blk, hd)
	le.PutUint16(blk[2:], hm)
	s := blk[4:16]
	for j := range 4 {
		s[j] = byte(sc[j] | sc[j+4]>>4<<6)
		s[j+4] = byte(mn[j] | mn[j+4]>>4<<6)
		s[j+8] = byte(sc[j+4]&15 | mn[j+4]&15<<4)
	}
	qs := blk[16:]
	if d == Q5_K {
		qs = blk[48:]
		for e, c := range codes {
			blk[16+e%32] |= byte(c >> 4 << (e / 32))
		}
	}
	for c := range 4 {
		for l := range 32 {
			qs[32*c+l] = byte(codes[64*c+l]&15 | codes[64*c+32+l]&15<<4)
		}
	}
}

// encodeKSym quantises the symmetric super-blocks (Q3_K: 16 × 16, codes
// −4…3; Q6_K: 16 × 16, −32…31; IQ4_XS: 8 × 32, codebook): y ≈ d·sc·q.
func encodeKSym(d DType, blk []byte, x []float32, codes []int) {
	sub, qlo, qhi, slo, shi := 16, -4, 3, -32, 31
	switch d {
	case Q6_K:
		qlo, qhi, slo, shi = -32, 31, -128, 127
	case IQ4_XS:
		sub, qlo = 32, -127
	}
	ns := 256 / sub
	scale := make([]float32, ns)
	var amax float32
	for s := range ns {
		ext, _, _ := extreme(x[s*sub : (s+1)*sub])
		scale[s] = ext / float32(qlo)
		amax = max(amax, abs32(scale[s]))
	}
	hd, dd := f16r(amax / float32(-slo-1))
	sc := make([]int, ns)
	for s := range ns {
		sc[s] = rnd(div(scale[s], dd), slo, shi)
		dl := dd * float32(sc[s])
		for i := s * sub; i < (s+1)*sub; i++ {
			if d == IQ4_XS {
				codes[i] = nearestIQ4(div(x[i], dl))
			} else {
				codes[i] = rnd(div(x[i], dl), qlo, qhi) - qlo
			}
		}
	}
	le := binary.LittleEndian
	switch d {
	case Q3_K:
		le.PutUint16(blk[108:], hd)
		for i, v := range sc {
			u := v + 32
			blk[96+i%8] |= byte(u & 15 << (4 * (i / 8)))
			blk[104+i%4] |= byte(u >> 4 << (2 * (i / 4)))
		}
		for e, c := range codes { // c = q + 4: bit 2 is the hmask bit
			h, j, l := e/128, e%128/32, e%32
			blk[32+32*h+l] |= byte(c & 3 << (2 * j))
			blk[l] |= byte(c >> 2 << (4*h + j))
		}
	case Q6_K:
		le.PutUint16(blk[208:], hd)
		for i, v := range sc {
			blk[192+i] = byte(int8(v))
		}
		for e, c := range codes { // c = q + 32
			h, r := e/128, e%128
			blk[64*h+r%64] |= byte(c & 15 << (4 * (r / 64)))
			blk[128+32*h+r%32] |= byte(c >> 4 << (2 * (r / 32)))
		}
	case IQ4_XS:
		le.PutUint16(blk, hd)
		var sh uint16
		for b, v := range sc {
			u := v + 32
			blk[4+b/2] |= byte(u & 15 << (4 * (b % 2)))
			sh |= uint16(u>>4) << (2 * b)
		}
		le.PutUint16(blk[2:], sh)
		for e, c := range codes {
			b, s, p := e/32, e%32/16, e%16
			blk[8+16*b+p] |= byte(c << (4 * s))
		}
	}
}
