package jpeg

import (
	"fmt"
	"math"
	"math/bits"
)

// scan is the state of one scan (SOS segment and its entropy-coded data).
type scan struct {
	comps          []*component // in scan order
	ss, se, ah, al int
	mcusX, mcusY   int
	dc, ac         [4]*huffTable // per scan component
	tables         [2][4]huffTable
	progressive    bool

	br           bitReader
	pred         [4]int32 // DC predictors per scan component
	eobrun       int
	restartsToGo int
	nextRestart  int
	insufficient bool          // libjpeg's insufficient_data: skip MCUs until a restart
	blocks       [10][64]int16 // one MCU of a single-scan file
}

// readSOS reads a scan header (get_sos), sets the frame up at the first
// scan, and decodes the scan.
func (d *decoder) readSOS() error {
	if !d.sawSOF {
		return formatErr("SOS before SOF")
	}
	n, err := d.u16()
	if err != nil {
		return err
	}
	ns, err := d.u8()
	if err != nil {
		return err
	}
	if n != 2*ns+6 || ns < 1 || ns > 4 {
		return formatErr("bad SOS length")
	}
	s := &scan{progressive: d.progressive}
	var slot [4]*component
	for i := range ns {
		id, err := d.u8()
		if err != nil {
			return err
		}
		tables, err := d.u8()
		if err != nil {
			return err
		}
		// libjpeg's lookup: the first frame component with this id whose
		// index is not yet a filled slot of the scan list.
		var c *component
		for ci := 0; ci < len(d.comps) && ci < 4; ci++ {
			if int(d.comps[ci].id) == id && slot[ci] == nil {
				c = &d.comps[ci]
				break
			}
		}
		if c == nil {
			return formatErr("SOS names unknown component %d", id)
		}
		for _, prev := range slot[:i] {
			if prev == c {
				return formatErr("SOS names component %d twice", id)
			}
		}
		slot[i] = c
		c.dcTbl, c.acTbl = uint8(tables>>4), uint8(tables&15)
	}
	s.comps = slot[:ns]
	var p [3]int
	for i := range p {
		if p[i], err = d.u8(); err != nil {
			return err
		}
	}
	s.ss, s.se, s.ah, s.al = p[0], p[1], p[2]>>4, p[2]&15
	d.scans++
	if d.scans > d.opts.MaxScans {
		return fmt.Errorf("%w: more than %d scans", ErrTooLarge, d.opts.MaxScans)
	}
	if !d.started {
		if err := d.setupFrame(ns); err != nil {
			return err
		}
	} else if !d.multiScan {
		return formatErr("a second scan in a single-scan image")
	}
	if err := d.startScan(s); err != nil {
		return err
	}
	return d.decodeScan(s)
}

// startScan is libjpeg's start_input_pass: MCU geometry, quantisation
// tables latched at a component's first scan, and the entropy tables.
func (d *decoder) startScan(s *scan) error {
	if len(s.comps) == 1 {
		c := s.comps[0]
		s.mcusX, s.mcusY = c.bw, c.bh
	} else {
		s.mcusX = ceilDiv(d.width, d.maxH*8)
		s.mcusY = ceilDiv(d.height, d.maxV*8)
		blocks := 0
		for _, c := range s.comps {
			blocks += c.h * c.v
		}
		if blocks > 10 {
			return formatErr("%d blocks in an MCU", blocks)
		}
	}
	for _, c := range s.comps {
		if c.q != nil {
			continue
		}
		if c.tq >= 4 || !d.quantSet[c.tq] {
			return formatErr("missing quantisation table %d", c.tq)
		}
		raw := d.quant[c.tq]
		var q [64]int16
		for i, v := range raw {
			q[i] = int16(v) // libjpeg's ISLOW_MULT_TYPE is a short
		}
		c.q, c.qraw = &q, &raw
	}
	if d.progressive {
		if err := d.startProgressive(s); err != nil {
			return err
		}
	} else {
		// A sequential scan with other Ss/Se/Ah/Al only earns a warning
		// from libjpeg, which decodes whole blocks anyway.
		for i, c := range s.comps {
			var err error
			if s.dc[i], err = d.table(s, 0, c.dcTbl); err != nil {
				return err
			}
			if s.ac[i], err = d.table(s, 1, c.acTbl); err != nil {
				return err
			}
		}
	}
	s.restartsToGo = d.restartInterval
	s.br = bitReader{b: d.b, pos: d.pos}
	return nil
}

// table builds Huffman table idx of a class (0 DC, 1 AC) for the scan.
// Sequential files that define no table 0 or 1 get the standard ones.
func (d *decoder) table(s *scan, class int, idx uint8) (*huffTable, error) {
	if idx >= 4 {
		return nil, formatErr("Huffman table index %d", idx)
	}
	spec := &d.huff[class][idx]
	if !d.huffSet[class][idx] {
		if d.progressive || idx > 1 {
			return nil, formatErr("missing Huffman table %d", idx)
		}
		std := [2][2]string{{stdDCLuma, stdDCChroma}, {stdACLuma, stdACChroma}}[class][idx]
		h := stdSpec(std)
		spec = &h
	}
	t := &s.tables[class][idx]
	if err := t.build(spec, class == 0); err != nil {
		return nil, err
	}
	return t, nil
}

// startProgressive checks the progression parameters and tracks which
// coefficient bits have arrived (start_pass_phuff_decoder).
func (d *decoder) startProgressive(s *scan) error {
	dcBand := s.ss == 0
	bad := false
	if dcBand {
		bad = s.se != 0
	} else {
		bad = s.ss > s.se || s.se > 63 || len(s.comps) != 1
	}
	if s.ah != 0 && s.al != s.ah-1 {
		bad = true
	}
	if s.al > 13 || bad {
		return formatErr("bad progression Ss=%d Se=%d Ah=%d Al=%d", s.ss, s.se, s.ah, s.al)
	}
	for _, c := range s.comps {
		for k := min(s.ss, 1); k <= max(s.se, 9); k++ {
			if d.scans > 1 {
				c.prevBits[k] = c.bits[k]
			} else {
				c.prevBits[k] = 0
			}
		}
		for k := s.ss; k <= s.se; k++ {
			c.bits[k] = s.al
		}
	}
	for i, c := range s.comps {
		var err error
		switch {
		case dcBand && s.ah == 0:
			s.dc[i], err = d.table(s, 0, c.dcTbl)
		case !dcBand:
			s.ac[i], err = d.table(s, 1, c.acTbl)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeScan decodes the entropy-coded data of a scan, MCU by MCU, with
// libjpeg's handling of restarts and of data cut short by a marker.
func (d *decoder) decodeScan(s *scan) error {
	single := !d.multiScan
	acScan := s.progressive && s.ss > 0
	total := s.mcusX * s.mcusY
	for i := 0; i < total; {
		if d.restartInterval > 0 && s.restartsToGo == 0 {
			if err := d.restart(s); err != nil {
				return err
			}
		}
		mx, my := i%s.mcusX, i/s.mcusX
		skipped := s.insufficient
		if skipped {
			// libjpeg skips MCUs until a restart marker clears the
			// condition (single-scan files still output them, as zero
			// blocks).
			if !single {
				if d.restartInterval == 0 {
					break
				}
				n := min(s.restartsToGo, total-i)
				s.restartsToGo -= n
				i += n
				continue
			}
		} else if acScan && s.eobrun > 0 {
			// Inside an EOB run: blocks with nothing left to refine cost
			// no bits, so a whole run is handled in one go.
			n := min(s.eobrun, total-i)
			if d.restartInterval > 0 {
				n = min(n, s.restartsToGo)
			}
			done, err := d.eobRun(s, i, n)
			if err != nil {
				return err
			}
			s.eobrun -= done
			if d.restartInterval > 0 {
				s.restartsToGo -= done
			}
			i += done
			continue
		} else {
			d.lastGoodRow = d.iMCURowOf(s, my)
			var err error
			if single {
				s.blocks = [10][64]int16{}
				err = d.decodeMCUSingle(s)
			} else {
				err = d.decodeMCUMulti(s, mx, my)
			}
			if err != nil {
				return err
			}
			if err := s.checkOverrun(); err != nil {
				return err
			}
		}
		if single {
			if skipped {
				s.blocks = [10][64]int16{}
			}
			d.outputMCU(s, mx, my)
		}
		if d.restartInterval > 0 {
			s.restartsToGo--
		}
		i++
	}
	// If the data ends without a marker after the scan, a multi-scan image
	// lacks its EOI. For a single scan, libjpeg refills its bit buffer to
	// 57 bits or more whenever it runs low and waits for more data (Pillow:
	// "image file is truncated") if the file ends first. It cannot have
	// needed more than 64 bits past the last one used, so with fewer left
	// we call the file truncated; Pillow may or may not have, depending on
	// when it last refilled.
	if s.br.marker == 0 && (single && !s.br.enoughAhead() || !single && s.br.eof) {
		return truncated("entropy-coded data")
	}
	d.pos, d.unread = s.br.pos, s.br.marker
	if single {
		d.singleDone = true
	}
	return nil
}

// checkOverrun notes an MCU that used bits past the data: libjpeg decoded
// it from zero bits and skips what follows; at the end of the file rather
// than at a marker, the data is truncated.
func (s *scan) checkOverrun() error {
	if s.br.overrun() {
		if s.br.eof {
			return truncated("entropy-coded data")
		}
		s.insufficient = true
	}
	return nil
}

// eobRun handles up to n blocks (MCUs of a one-component AC scan) from
// MCU i that fall in the current EOB run, and returns how many it did
// (fewer if the data ran out).
func (d *decoder) eobRun(s *scan, i, n int) (int, error) {
	c := s.comps[0]
	d.lastGoodRow = d.iMCURowOf(s, (i+n-1)/s.mcusX)
	if s.ah == 0 {
		return n, nil // a first scan has nothing to do in a run
	}
	band := (^uint64(0) << s.ss) & (^uint64(0) >> (63 - s.se))
	p1, m1 := int16(1)<<s.al, int16(-1)<<s.al
	mx, my := i%s.mcusX, i/s.mcusX
	for j := 0; j < n; j, mx = j+1, mx+1 {
		if mx == s.mcusX {
			mx, my = 0, my+1
		}
		bi := my*c.storeW + mx
		m := c.nz[bi] & band
		if m == 0 {
			continue
		}
		d.lastGoodRow = d.iMCURowOf(s, my)
		blk := (*[64]int16)(c.coef[bi*64 : bi*64+64])
		for ; m != 0; m &= m - 1 {
			pos := naturalOrder[bits.TrailingZeros64(m)]
			if blk[pos] != 0 {
				refineBit(&s.br, &blk[pos], p1, m1)
			}
		}
		if err := s.checkOverrun(); err != nil {
			return 0, err
		}
		if s.insufficient {
			return j + 1, nil
		}
	}
	d.lastGoodRow = d.iMCURowOf(s, (i+n-1)/s.mcusX)
	return n, nil
}

// iMCURowOf converts an MCU row of the scan to an iMCU row of the frame.
func (d *decoder) iMCURowOf(s *scan, my int) int {
	if len(s.comps) == 1 {
		return my / s.comps[0].v
	}
	return my
}

// restart is process_restart: drop the buffered bits, expect the next RSTn
// marker (resynchronising like jpeg_resync_to_restart if it is not there),
// and reset the DC predictors and the EOB run.
func (d *decoder) restart(s *scan) error {
	br := &s.br
	br.reset()
	if br.marker == 0 {
		m, pos, ok := findMarker(br.b, br.pos)
		if !ok {
			return truncated("restart marker")
		}
		br.marker, br.pos = m, pos
	}
	if int(br.marker) == mRST0+s.nextRestart {
		br.marker = 0
	} else if err := resync(br, s.nextRestart); err != nil {
		return err
	}
	s.nextRestart = (s.nextRestart + 1) & 7
	s.pred = [4]int32{}
	s.eobrun = 0
	s.restartsToGo = d.restartInterval
	if br.marker == 0 {
		s.insufficient = false
	}
	return nil
}

// resync is jpeg_resync_to_restart: given a marker that is not the
// expected RSTn, skip a marker that comes before it, or leave one that
// comes after it (the segment in between then decodes as empty), or
// discard it and carry on.
func resync(br *bitReader, desired int) error {
	rst := func(k int) byte { return byte(mRST0 + k&7) }
	for {
		m := br.marker
		switch {
		case m < mSOF0:
			// not a valid marker: look further
		case m < mRST0 || m > mRST7:
			return nil // a real marker: leave it
		case m == rst(desired+1) || m == rst(desired+2):
			return nil // one of the next restarts: leave it
		case m == rst(desired-1) || m == rst(desired-2):
			// an earlier restart: look further
		default:
			br.marker = 0 // the desired one, or too far off: discard it
			return nil
		}
		next, pos, ok := findMarker(br.b, br.pos)
		if !ok {
			return truncated("restart marker")
		}
		br.marker, br.pos = next, pos
	}
}

// decodeMCUSingle decodes one MCU of a single-scan sequential file into
// s.blocks (zeroed first, as decompress_onepass does).
func (d *decoder) decodeMCUSingle(s *scan) error {
	k := 0
	for i, c := range s.comps {
		n := 1
		if len(s.comps) > 1 {
			n = c.h * c.v
		}
		for range n {
			decodeSequential(&s.br, s.dc[i], s.ac[i], &s.pred[i], &s.blocks[k])
			k++
		}
	}
	return nil
}

// outputMCU runs the IDCT of a single-scan MCU's blocks that lie inside
// the component (edge MCUs carry dummy blocks).
func (d *decoder) outputMCU(s *scan, mx, my int) {
	k := 0
	for _, c := range s.comps {
		h, v := 1, 1
		if len(s.comps) > 1 {
			h, v = c.h, c.v
		}
		stride := c.bw * 8
		for y := range v {
			for x := range h {
				bx, by := mx*h+x, my*v+y
				if bx < c.bw && by < c.bh {
					idct(&s.blocks[k], c.q, c.plane[by*8*stride+bx*8:], stride, &d.limit)
				}
				k++
			}
		}
	}
}

// decodeMCUMulti decodes one MCU into the coefficient buffers.
func (d *decoder) decodeMCUMulti(s *scan, mx, my int) error {
	if len(s.comps) == 1 {
		return d.decodeBlock(s, 0, mx, my)
	}
	for i, c := range s.comps {
		for y := range c.v {
			for x := range c.h {
				if err := d.decodeBlock(s, i, mx*c.h+x, my*c.v+y); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// decodeBlock decodes block (bx, by) of scan component i.
func (d *decoder) decodeBlock(s *scan, i, bx, by int) error {
	c := s.comps[i]
	bi := by*c.storeW + bx
	blk := (*[64]int16)(c.coef[bi*64 : bi*64+64])
	if !s.progressive {
		// Multi-scan sequential files decode into the buffer without
		// clearing it, as libjpeg's consume_data does.
		decodeSequential(&s.br, s.dc[i], s.ac[i], &s.pred[i], blk)
		return nil
	}
	br := &s.br
	switch {
	case s.ss == 0 && s.ah == 0: // DC first
		t := br.decode(s.dc[i])
		var diff int32
		if t != 0 {
			diff = extend(br.bits(uint(t)), t)
		}
		p := int64(s.pred[i]) + int64(diff)
		if p > math.MaxInt32 || p < math.MinInt32 {
			return formatErr("DC coefficient overflow")
		}
		s.pred[i] = int32(p)
		blk[0] = int16(p << s.al)
	case s.ss == 0: // DC refinement: one bit
		if br.bit() != 0 {
			blk[0] |= 1 << s.al
		}
	case s.ah == 0:
		acFirst(s, blk, &c.nz[bi], s.ac[i])
	default:
		acRefine(s, blk, &c.nz[bi], s.ac[i])
	}
	return nil
}

// decodeSequential decodes one block of a sequential scan.
func decodeSequential(br *bitReader, dc, ac *huffTable, pred *int32, blk *[64]int16) {
	t := br.decode(dc)
	var diff int32
	if t != 0 {
		diff = extend(br.bits(uint(t)), t)
	}
	*pred += diff
	blk[0] = int16(*pred)
	for k := 1; k < 64; k++ {
		rs := br.decode(ac)
		r, sz := int(rs>>4), rs&15
		if sz == 0 {
			if r != 15 {
				break // EOB
			}
			k += 15 // ZRL
			continue
		}
		k += r
		blk[naturalOrder[k]] = int16(extend(br.bits(uint(sz)), sz))
	}
}

// acFirst decodes the first (Ah = 0) scan of an AC band of one block.
func acFirst(s *scan, blk *[64]int16, nz *uint64, ac *huffTable) {
	if s.eobrun > 0 {
		s.eobrun--
		return
	}
	br := &s.br
	for k := s.ss; k <= s.se; k++ {
		rs := br.decode(ac)
		r, sz := int(rs>>4), rs&15
		if sz == 0 {
			if r == 15 {
				k += 15
				continue
			}
			// EOBr: this block and 2^r + (r bits) - 1 more end here.
			s.eobrun = 1 << r
			if r > 0 {
				s.eobrun += int(br.bits(uint(r)))
			}
			s.eobrun--
			break
		}
		k += r
		blk[naturalOrder[k]] = int16(extend(br.bits(uint(sz)), sz) << s.al)
		*nz |= 1 << min(k, 63)
	}
}

// acRefine decodes a refinement (Ah > 0) scan of an AC band of one block:
// a correction bit for each coefficient already nonzero, and new
// coefficients of ±1 << Al.
func acRefine(s *scan, blk *[64]int16, nz *uint64, ac *huffTable) {
	br := &s.br
	p1 := int16(1) << s.al
	m1 := int16(-1) << s.al
	k := s.ss
	if s.eobrun == 0 {
		for ; k <= s.se; k++ {
			rs := br.decode(ac)
			r, sz := int(rs>>4), rs&15
			var val int16
			if sz != 0 {
				// The size should be 1; libjpeg only warns if not.
				if br.bits(1) != 0 {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				s.eobrun = 1 << r
				if r > 0 {
					s.eobrun += int(br.bits(uint(r)))
				}
				break
			}
			// Skip r zero coefficients (correcting nonzero ones on the
			// way); a new coefficient goes on the zero after them.
			for k <= s.se {
				pos := naturalOrder[k]
				if blk[pos] != 0 {
					refineBit(br, &blk[pos], p1, m1)
				} else {
					r--
					if r < 0 {
						break
					}
				}
				k++
			}
			if val != 0 {
				blk[naturalOrder[k]] = val
				*nz |= 1 << min(k, 63)
			}
		}
	}
	if s.eobrun > 0 {
		// The rest of the band has no new coefficients: only correction
		// bits for those already nonzero (bit k of nz for zig-zag k).
		band := (^uint64(0) << s.ss) & (^uint64(0) >> (63 - s.se))
		if k > s.se {
			band = 0
		} else {
			band &= ^uint64(0) << k
		}
		for m := *nz & band; m != 0; m &= m - 1 {
			pos := naturalOrder[bits.TrailingZeros64(m)]
			if blk[pos] != 0 {
				refineBit(br, &blk[pos], p1, m1)
			}
		}
		s.eobrun--
	}
}

// refineBit applies one correction bit to a nonzero coefficient.
func refineBit(br *bitReader, coef *int16, p1, m1 int16) {
	if br.bit() != 0 && *coef&p1 == 0 {
		if *coef >= 0 {
			*coef += p1
		} else {
			*coef += m1
		}
	}
}
