package jpeg

import (
	"errors"
	"fmt"
)

// Marker codes (the byte after 0xFF).
const (
	mSOF0  = 0xC0 // baseline
	mSOF1  = 0xC1 // extended sequential, Huffman
	mSOF2  = 0xC2 // progressive, Huffman
	mDHT   = 0xC4
	mDAC   = 0xCC
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mAPP0  = 0xE0
	mAPP14 = 0xEE
	mAPP15 = 0xEF
	mCOM   = 0xFE
	mTEM   = 0x01
)

// component is one colour component of the frame.
type component struct {
	id           uint8
	h, v         int         // sampling factors
	tq           uint8       // quantisation table selector
	q            *[64]int16  // latched IDCT multipliers, natural order (nil: no scan yet)
	qraw         *[64]uint16 // the latched table as stored (smoothing divides by it)
	bw, bh       int         // width_in_blocks, height_in_blocks
	sw, sh       int         // downsampled_width, downsampled_height (samples)
	storeW       int         // blocks per row of coef (bw rounded up to h)
	coef         []int16     // multi-scan files: every block, natural order
	nz           []uint64    // progressive: bit k set if zig-zag coefficient k may be nonzero
	plane        []uint8     // IDCT output, bw*8 × bh*8 samples
	bits         [64]int     // progressive: coef_bits, the Al of the last scan per coefficient (-1: none)
	prevBits     [64]int     // coef_bits before the component's latest scan
	latch        [10]int     // bits[0..9] when output began (smoothing)
	prevLatch    [10]int     // prevBits[0..9] likewise
	dcTbl, acTbl uint8       // Huffman table selectors of the current scan
}

// decoder holds the state of one decode; nothing is shared between decodes.
type decoder struct {
	b      []byte
	pos    int  // next byte of b to read
	unread byte // a marker already read (by the entropy decoder) but not processed
	opts   Options

	quant    [4][64]uint16 // natural order
	quantSet [4]bool
	huff     [2][4]huffSpec // [0] DC, [1] AC
	huffSet  [2][4]bool

	restartInterval int
	jfif, adobe     bool
	adobeTransform  uint8

	sawSOF      bool
	progressive bool
	width       int
	height      int
	comps       []component
	maxH, maxV  int
	iMCURows    int // total_iMCU_rows

	started     bool // the first SOS was seen (initial_setup done)
	multiScan   bool // has_multiple_scans: coefficients are buffered
	singleDone  bool // the only scan of a single-scan file is complete
	scans       int  // SOS markers seen
	lastGoodRow int  // last iMCU row that began with data (smoothing)

	limit [1024]uint8 // IDCT range limit, indexed by value & 1023
}

// huffSpec is a Huffman table as a DHT segment gives it.
type huffSpec struct {
	bits [17]uint8 // bits[l]: number of codes of length l
	vals [256]uint8
}

func (d *decoder) u8() (int, error) {
	if d.pos >= len(d.b) {
		return 0, truncated("marker segment")
	}
	c := d.b[d.pos]
	d.pos++
	return int(c), nil
}

func (d *decoder) u16() (int, error) {
	if d.pos+2 > len(d.b) {
		d.pos = len(d.b)
		return 0, truncated("marker segment")
	}
	v := int(d.b[d.pos])<<8 | int(d.b[d.pos+1])
	d.pos += 2
	return v, nil
}

// skip skips n bytes of a marker segment (nothing if n <= 0).
func (d *decoder) skip(n int) error {
	if n <= 0 {
		return nil
	}
	if n > len(d.b)-d.pos {
		d.pos = len(d.b)
		return truncated("marker segment")
	}
	d.pos += n
	return nil
}

// findMarker returns the next marker at or after pos, like libjpeg's
// next_marker: bytes up to an 0xFF, fill 0xFFs and stuffed FF 00 pairs are
// skipped. ok is false at the end of the data.
func findMarker(b []byte, pos int) (m byte, next int, ok bool) {
	for {
		for pos < len(b) && b[pos] != 0xFF {
			pos++
		}
		for pos < len(b) && b[pos] == 0xFF {
			pos++
		}
		if pos >= len(b) {
			return 0, pos, false
		}
		c := b[pos]
		pos++
		if c != 0 {
			return c, pos, true
		}
	}
}

// decode reads the whole stream; the scans decode as their SOS markers
// come.
func (d *decoder) decode() error {
	err := d.readHeaders(false)
	if d.singleDone && errors.Is(err, ErrTruncated) {
		// libjpeg has every row of a single-scan image once its scan is
		// decoded; Pillow ignores that jpeg_finish_decompress then runs
		// out of data in the markers after it (a real error still counts).
		return nil
	}
	return err
}

// readHeaders processes markers like libjpeg's read_markers until an SOS
// (whose scan it then decodes), EOI, or, with configOnly, the frame header.
// It returns nil at EOI, or for configOnly at SOF.
func (d *decoder) readHeaders(configOnly bool) error {
	if len(d.b) < 2 || d.b[0] != 0xFF || d.b[1] != mSOI {
		return formatErr("missing SOI marker")
	}
	d.pos = 2
	for {
		m := d.unread
		d.unread = 0
		if m == 0 {
			var ok bool
			m, d.pos, ok = findMarker(d.b, d.pos)
			if !ok {
				if d.singleDone {
					// libjpeg (and so Pillow) has every row by now; it
					// only waits for EOI in jpeg_finish_decompress.
					return nil
				}
				return truncated("no EOI marker")
			}
		}
		switch {
		case m == mSOF0 || m == mSOF1 || m == mSOF2:
			if err := d.readSOF(m == mSOF2); err != nil {
				return err
			}
			if configOnly {
				return nil
			}
		case m == 0xC9 || m == 0xCA:
			return unsupported("arithmetic-coded JPEG (SOF%d)", m-mSOF0)
		case m == 0xC3 || m >= 0xC5 && m <= 0xCF && m != mDAC:
			return unsupported("JPEG process SOF%d (lossless, hierarchical or reserved)", m-mSOF0)
		case m == mDHT:
			if err := d.readDHT(); err != nil {
				return err
			}
		case m == mDQT:
			if err := d.readDQT(); err != nil {
				return err
			}
		case m == mDRI:
			if err := d.readDRI(); err != nil {
				return err
			}
		case m == mSOS:
			if configOnly {
				return formatErr("SOS before SOF")
			}
			if err := d.readSOS(); err != nil {
				return err
			}
		case m == mEOI:
			if configOnly {
				return formatErr("no frame header before EOI")
			}
			if !d.started {
				return formatErr("no image before EOI")
			}
			return nil
		case m == mSOI:
			return formatErr("duplicate SOI marker")
		case m == mAPP0 || m == mAPP14:
			if err := d.readInterestingAPP(m); err != nil {
				return err
			}
		case m > mAPP0 && m <= mAPP15, m == mCOM, m == mDNL, m == mDAC:
			// DAC only matters to arithmetic decoding; DNL is ignored,
			// as libjpeg does.
			n, err := d.u16()
			if err != nil {
				return err
			}
			if err := d.skip(n - 2); err != nil {
				return err
			}
		case m >= mRST0 && m <= mRST7, m == mTEM:
			// parameterless
		default:
			return formatErr("unknown marker 0x%02X", m)
		}
	}
}

func (d *decoder) readSOF(progressive bool) error {
	n, err := d.u16()
	if err != nil {
		return err
	}
	var f [6]int
	for i := range f {
		if f[i], err = d.u8(); err != nil {
			return err
		}
	}
	precision, height, width, nc := f[0], f[1]<<8|f[2], f[3]<<8|f[4], f[5]
	if d.sawSOF {
		return formatErr("duplicate SOF marker")
	}
	if height <= 0 || width <= 0 || nc <= 0 {
		if height == 0 && width > 0 && nc > 0 {
			return unsupported("height defined by a DNL marker")
		}
		return formatErr("empty image (%dx%d, %d components)", width, height, nc)
	}
	if n-8 != 3*nc {
		return formatErr("SOF length %d for %d components", n, nc)
	}
	if precision != 8 {
		return unsupported("%d-bit samples", precision)
	}
	if nc != 1 && nc != 3 && nc != 4 {
		return unsupported("%d components", nc)
	}
	d.comps = make([]component, nc)
	for i := range d.comps {
		c := &d.comps[i]
		var id, hv, tq int
		if id, err = d.u8(); err != nil {
			return err
		}
		if hv, err = d.u8(); err != nil {
			return err
		}
		if tq, err = d.u8(); err != nil {
			return err
		}
		c.id, c.h, c.v, c.tq = uint8(id), hv>>4, hv&15, uint8(tq)
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return formatErr("sampling factors %dx%d", c.h, c.v)
		}
	}
	d.sawSOF, d.progressive = true, progressive
	d.width, d.height = width, height
	return nil
}

func (d *decoder) readDHT() error {
	n, err := d.u16()
	if err != nil {
		return err
	}
	n -= 2
	for n > 16 {
		index, err := d.u8()
		if err != nil {
			return err
		}
		var spec huffSpec
		count := 0
		for l := 1; l <= 16; l++ {
			v, err := d.u8()
			if err != nil {
				return err
			}
			spec.bits[l] = uint8(v)
			count += v
		}
		n -= 17
		if count > 256 || count > n {
			return formatErr("bad Huffman table")
		}
		for i := range count {
			v, err := d.u8()
			if err != nil {
				return err
			}
			spec.vals[i] = uint8(v)
		}
		n -= count
		class := 0
		if index&0x10 != 0 {
			class, index = 1, index-0x10
		}
		if index >= 4 {
			return formatErr("Huffman table index %d", index)
		}
		d.huff[class][index] = spec
		d.huffSet[class][index] = true
	}
	if n != 0 {
		return formatErr("bad DHT length")
	}
	return nil
}

func (d *decoder) readDQT() error {
	n, err := d.u16()
	if err != nil {
		return err
	}
	n -= 2
	for n > 0 {
		pq, err := d.u8()
		if err != nil {
			return err
		}
		t := pq & 15
		if t >= 4 {
			return formatErr("quantisation table index %d", t)
		}
		for i := range 64 {
			var v int
			if pq>>4 != 0 {
				v, err = d.u16()
			} else {
				v, err = d.u8()
			}
			if err != nil {
				return err
			}
			d.quant[t][naturalOrder[i]] = uint16(v)
		}
		d.quantSet[t] = true
		n -= 65
		if pq>>4 != 0 {
			n -= 64
		}
	}
	if n != 0 {
		return formatErr("bad DQT length")
	}
	return nil
}

func (d *decoder) readDRI() error {
	n, err := d.u16()
	if err != nil {
		return err
	}
	if n != 4 {
		return formatErr("bad DRI length")
	}
	d.restartInterval, err = d.u16()
	return err
}

// readInterestingAPP looks at the first bytes of APP0 (JFIF) and APP14
// (Adobe), which decide the colour space.
func (d *decoder) readInterestingAPP(m byte) error {
	n, err := d.u16()
	if err != nil {
		return err
	}
	n -= 2
	k := max(min(n, 14), 0)
	if k > len(d.b)-d.pos {
		d.pos = len(d.b)
		return truncated("marker segment")
	}
	p := d.b[d.pos : d.pos+k]
	d.pos += k
	switch {
	case m == mAPP0 && k >= 14 && string(p[:5]) == "JFIF\x00":
		d.jfif = true
	case m == mAPP14 && k >= 12 && string(p[:5]) == "Adobe":
		d.adobe, d.adobeTransform = true, p[11]
	}
	return d.skip(n - k)
}

// colorSpace is libjpeg's guess of the file's colour space.
func (d *decoder) colorSpace() ColorSpace {
	switch len(d.comps) {
	case 1:
		return Gray
	case 3:
		if d.jfif {
			return YCbCr
		}
		if d.adobe {
			if d.adobeTransform == 0 {
				return RGB
			}
			return YCbCr
		}
		if d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B' {
			return RGB
		}
		return YCbCr
	}
	if d.adobe && d.adobeTransform == 0 {
		return CMYK
	}
	if d.adobe {
		return YCCK
	}
	return CMYK
}

// setupFrame is libjpeg's initial_setup, run at the first SOS.
func (d *decoder) setupFrame(compsInScan int) error {
	if d.width > maxDimension || d.height > maxDimension {
		return unsupported("image dimension over %d", maxDimension)
	}
	if px := int64(d.width) * int64(d.height); px > d.opts.MaxPixels {
		return fmt.Errorf("%w: %dx%d image has %d pixels, more than %d", ErrTooLarge, d.width, d.height, px, d.opts.MaxPixels)
	}
	d.maxH, d.maxV = 1, 1
	for _, c := range d.comps {
		d.maxH, d.maxV = max(d.maxH, c.h), max(d.maxV, c.v)
	}
	for i := range d.comps {
		c := &d.comps[i]
		// Per-component upsampling needs integral ratios (jdsample.c).
		if d.maxH%c.h != 0 || d.maxV%c.v != 0 {
			return unsupported("fractional sampling %dx%d of %dx%d", c.h, c.v, d.maxH, d.maxV)
		}
		c.bw = ceilDiv(d.width*c.h, d.maxH*8)
		c.bh = ceilDiv(d.height*c.v, d.maxV*8)
		c.sw = ceilDiv(d.width*c.h, d.maxH)
		c.sh = ceilDiv(d.height*c.v, d.maxV)
		for k := range c.bits {
			c.bits[k] = -1
		}
	}
	d.iMCURows = ceilDiv(d.height, d.maxV*8)
	d.multiScan = compsInScan < len(d.comps) || d.progressive
	for i := range d.comps {
		c := &d.comps[i]
		c.plane = make([]uint8, c.bw*8*c.bh*8)
		if d.multiScan {
			c.storeW = ceilDiv(c.bw, c.h) * c.h
			storeH := ceilDiv(c.bh, c.v) * c.v
			c.coef = make([]int16, c.storeW*storeH*64)
			if d.progressive {
				c.nz = make([]uint64, c.storeW*storeH)
			}
		}
	}
	d.buildLimit()
	d.started = true
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
