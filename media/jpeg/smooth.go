package jpeg

// Interblock smoothing (libjpeg's decompress_smooth_data, on by default):
// when a progressive image ends before all bits of its first few AC
// coefficients have arrived (a file cut short and closed with EOI, say),
// libjpeg estimates those coefficients from the DC values of the 5×5
// neighbourhood of blocks, and when no AC scan arrived at all it smooths
// the DC value too. Only coefficients still zero are predicted, and a
// prediction is kept below the precision the missing bits would have given.
//
// Each prediction is Q00·Σ w·DC over the neighbourhood, divided by the
// coefficient's quantiser times 256 and rounded half away from zero. The
// weights below are rows (two above .. two below) by columns (two left ..
// two right) of the neighbourhood; edge blocks reuse their own row or
// column as libjpeg's buffer pointers do.

// smoothCoef is one predicted coefficient: its zig-zag index (which
// indexes the coefficient's arrival bits) and the weights used while some
// AC data has arrived (part) or none at all (dcOnly).
type smoothCoef struct {
	zz           int
	part, dcOnly [5][5]int16
}

// smoothWeights lists zig-zag coefficients 1..9 (entries 6..9 are only
// predicted when no AC data arrived) and, last, the DC weights.
func smoothWeights() (coefs [9]smoothCoef, dc [5][5]int16) {
	coefs = [9]smoothCoef{
		{zz: 1,
			part:   [5][5]int16{2: {-7, 50, 0, -50, 7}},
			dcOnly: [5][5]int16{{-1, -1, 0, 1, 1}, {-3, 13, 0, -13, 3}, {-3, 38, 0, -38, 3}, {-3, 13, 0, -13, 3}, {-1, -1, 0, 1, 1}}},
		{zz: 2,
			part:   [5][5]int16{{2: -7}, {2: 50}, {}, {2: -50}, {2: 7}},
			dcOnly: [5][5]int16{{-1, -3, -3, -3, -1}, {-1, 13, 38, 13, -1}, {}, {1, -13, -38, -13, 1}, {1, 3, 3, 3, 1}}},
		{zz: 3,
			part:   [5][5]int16{{2: -1}, {2: 13}, {2: -24}, {2: 13}, {2: -1}},
			dcOnly: [5][5]int16{{2: 1}, {0, 2, 7, 2, 0}, {0, -5, -14, -5, 0}, {0, 2, 7, 2, 0}, {2: 1}}},
		{zz: 4,
			part:   [5][5]int16{{0, -1, 0, 1, 0}, {-1, 10, 0, -10, 1}, {}, {1, -10, 0, 10, -1}, {0, 1, 0, -1, 0}},
			dcOnly: [5][5]int16{{-1, 0, 0, 0, 1}, {0, 9, 0, -9, 0}, {}, {0, -9, 0, 9, 0}, {1, 0, 0, 0, -1}}},
		{zz: 5,
			part:   [5][5]int16{2: {-1, 13, -24, 13, -1}},
			dcOnly: [5][5]int16{1: {0, 2, -5, 2, 0}, 2: {1, 7, -14, 7, 1}, 3: {0, 2, -5, 2, 0}}},
		{zz: 6, dcOnly: [5][5]int16{1: {0, 1, 0, -1, 0}, 2: {0, 2, 0, -2, 0}, 3: {0, 1, 0, -1, 0}}},
		{zz: 7, dcOnly: [5][5]int16{1: {0, 1, -3, 1, 0}, 3: {0, -1, 3, -1, 0}}},
		{zz: 8, dcOnly: [5][5]int16{1: {0, 1, 0, -1, 0}, 2: {0, -3, 0, 3, 0}, 3: {0, 1, 0, -1, 0}}},
		{zz: 9, dcOnly: [5][5]int16{1: {0, 1, 2, 1, 0}, 3: {0, -1, -2, -1, 0}}},
	}
	dc = [5][5]int16{
		{-2, -6, -8, -6, -2},
		{-6, 6, 42, 6, -6},
		{-8, 42, 152, 42, -8},
		{-6, 6, 42, 6, -6},
		{-2, -6, -8, -6, -2},
	}
	return coefs, dc
}

// smoothingOK is libjpeg's smoothing_ok: a progressive image whose every
// component has its DC and quantisers for coefficients 0..9, and some of
// whose coefficients 1..9 are not complete. It latches the arrival bits.
func (d *decoder) smoothingOK() bool {
	if !d.progressive {
		return false
	}
	useful := false
	for i := range d.comps {
		c := &d.comps[i]
		if c.qraw == nil {
			return false
		}
		for zz := range 10 {
			if c.qraw[naturalOrder[zz]] == 0 {
				return false
			}
		}
		if c.bits[0] < 0 {
			return false
		}
		for k := 1; k < 10; k++ {
			c.latch[k] = c.bits[k]
			c.prevLatch[k] = -1
			if d.scans > 1 {
				c.prevLatch[k] = c.prevBits[k]
			}
			if c.bits[k] != 0 {
				useful = true
			}
		}
	}
	return useful
}

// idctSmooth transforms a component's blocks with smoothing.
func (d *decoder) idctSmooth(c *component) {
	stride := c.bw * 8
	last := d.iMCURows - 1
	dcOf := func(row, col int) int64 { return int64(c.coef[(row*c.storeW+col)*64]) }
	var ws [64]int16
	coefs, dcw := smoothWeights()
	for imcu := range d.iMCURows {
		rows := c.v
		if imcu == last {
			if rows = c.bh % c.v; rows == 0 {
				rows = c.v
			}
		}
		// Arrival bits: iMCU rows past the last one the final scan had
		// data for use the bits from before that scan.
		bitsk := &c.latch
		if imcu > d.lastGoodRow {
			bitsk = &c.prevLatch
		}
		dcOnly := true
		for k := 1; k < 10; k++ {
			dcOnly = dcOnly && bitsk[k] == -1
		}
		for br := range rows {
			r := imcu*c.v + br
			// The five block rows around r; which neighbours exist
			// follows libjpeg's buffer access, not just the image edges.
			var rr [5]int
			rr[2] = r
			rr[1] = r
			if br > 0 || imcu > 0 {
				rr[1] = r - 1
			}
			rr[0] = rr[1]
			if br > 1 || imcu > 1 {
				rr[0] = r - 2
			}
			rr[3] = r
			if br < rows-1 || imcu < last {
				rr[3] = r + 1
			}
			rr[4] = rr[3]
			if br < rows-2 || imcu+1 < last {
				rr[4] = r + 2
			}
			// A sliding 5×5 window of DC values, columns two left ..
			// two right; columns past the edges keep the values that
			// slid in, as in libjpeg.
			var win [5][5]int64
			for j := range 5 {
				for k := range 5 {
					win[j][k] = dcOf(rr[j], 0)
				}
			}
			lastCol := c.bw - 1
			for bx := range c.bw {
				bi := r*c.storeW + bx
				copy(ws[:], c.coef[bi*64:bi*64+64])
				if bx == 0 && bx < lastCol {
					for j := range 5 {
						win[j][3] = dcOf(rr[j], 1)
					}
				}
				if bx+1 < lastCol {
					for j := range 5 {
						win[j][4] = dcOf(rr[j], bx+2)
					}
				}
				predict(c, &ws, &win, bitsk, dcOnly, &coefs, &dcw)
				idct(&ws, c.q, c.plane[r*8*stride+bx*8:], stride, &d.limit)
				for j := range 5 {
					copy(win[j][:4], win[j][1:])
				}
			}
		}
	}
}

// predict fills the missing low-frequency coefficients of one block.
func predict(c *component, ws *[64]int16, win *[5][5]int64, bitsk *[10]int, dcOnly bool, coefs *[9]smoothCoef, dcw *[5][5]int16) {
	q00 := int64(c.qraw[0])
	weigh := func(w *[5][5]int16) int64 {
		var s int64
		for j := range 5 {
			for k := range 5 {
				s += int64(w[j][k]) * win[j][k]
			}
		}
		return s
	}
	for i := range coefs {
		sc := &coefs[i]
		if i >= 5 && !dcOnly {
			break
		}
		al := bitsk[sc.zz]
		pos := naturalOrder[sc.zz]
		if al == 0 || ws[pos] != 0 {
			continue
		}
		w := &sc.part
		if dcOnly {
			w = &sc.dcOnly
		}
		ws[pos] = int16(smoothPred(q00*weigh(w), int64(c.qraw[pos]), al))
	}
	if dcOnly {
		ws[0] = int16(smoothPred(q00*weigh(dcw), q00, 0))
	}
}

// smoothPred divides num by 256·q, rounding half away from zero, and keeps
// the magnitude below 2^al when al > 0 (the missing bits' precision).
func smoothPred(num, q int64, al int) int64 {
	neg := num < 0
	if neg {
		num = -num
	}
	p := ((q << 7) + num) / (q << 8)
	if al > 0 && p >= 1<<al {
		p = 1<<al - 1
	}
	if neg {
		p = -p
	}
	return p
}
