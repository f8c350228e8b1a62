package jpeg

// lookBits is the width of the Huffman lookup table: codes up to this long
// decode with one table read, longer ones walk maxcode like libjpeg.
const lookBits = 9

// huffTable is a Huffman table ready for decoding (libjpeg's d_derived_tbl).
type huffTable struct {
	lut     [1 << lookBits]uint16 // code length << 8 | symbol; 0: longer than lookBits
	maxcode [18]int32             // largest code of each length, -1 if none
	valoff  [18]int32             // symbol index minus code, per length
	vals    [256]uint8
}

// build derives the decoding table and checks it like
// jpeg_make_d_derived_tbl: at most 256 symbols, no code space overflow
// (the all-ones code of a length may not be used), DC symbols at most 15.
func (t *huffTable) build(s *huffSpec, dc bool) error {
	var size [257]uint8
	var code [257]uint32
	p := 0
	for l := 1; l <= 16; l++ {
		n := int(s.bits[l])
		if p+n > 256 {
			return formatErr("bad Huffman table")
		}
		for range n {
			size[p] = uint8(l)
			p++
		}
	}
	nsym := p
	c := uint32(0)
	si := int(size[0])
	for p = 0; size[p] != 0; {
		for int(size[p]) == si {
			code[p] = c
			p++
			c++
		}
		if c >= 1<<si {
			return formatErr("bad Huffman table")
		}
		c <<= 1
		si++
	}
	p = 0
	for l := 1; l <= 16; l++ {
		if n := int(s.bits[l]); n > 0 {
			t.valoff[l] = int32(p) - int32(code[p])
			p += n
			t.maxcode[l] = int32(code[p-1])
		} else {
			t.maxcode[l] = -1
		}
	}
	t.maxcode[17] = 0xFFFFF // ends the search: a 17-bit "code" is bad
	t.lut = [1 << lookBits]uint16{}
	p = 0
	for l := 1; l <= lookBits; l++ {
		for range int(s.bits[l]) {
			first := int(code[p]) << (lookBits - l)
			for i := range 1 << (lookBits - l) {
				t.lut[first+i] = uint16(l)<<8 | uint16(s.vals[p])
			}
			p++
		}
	}
	t.vals = s.vals
	if dc {
		for _, v := range s.vals[:nsym] {
			if v > 15 {
				return formatErr("bad DC Huffman table")
			}
		}
	}
	return nil
}

// bitReader reads entropy-coded data: it unstuffs FF 00, stops at markers
// and then, like libjpeg, feeds zero bits. pad counts the zero bits at the
// bottom of acc; once n < pad the decoder has used bits past the real data.
type bitReader struct {
	b      []byte
	pos    int
	acc    uint64 // the low n bits are unread, most significant first
	n      uint
	pad    uint
	marker byte // marker met (0: none)
	eof    bool // the data ended without a marker
}

// fill tops the buffer up to more than 56 bits.
func (r *bitReader) fill() {
	for r.n <= 56 {
		if r.marker != 0 || r.eof {
			r.acc <<= 8
			r.n += 8
			r.pad += 8
			continue
		}
		if r.pos >= len(r.b) {
			r.eof = true
			continue
		}
		c := r.b[r.pos]
		r.pos++
		if c == 0xFF {
			for r.pos < len(r.b) && r.b[r.pos] == 0xFF {
				r.pos++
			}
			if r.pos >= len(r.b) {
				r.eof = true
				continue
			}
			c = r.b[r.pos]
			r.pos++
			if c != 0 {
				r.marker = c
				continue
			}
			c = 0xFF
		}
		r.acc = r.acc<<8 | uint64(c)
		r.n += 8
	}
}

// enoughAhead reports whether a marker follows the unread data, or at
// least 64 bits of data do.
func (r *bitReader) enoughAhead() bool {
	if r.marker != 0 {
		return true
	}
	bits := int(r.n) - int(r.pad)
	for p := r.pos; p < len(r.b) && bits < 64; p++ {
		if r.b[p] == 0xFF {
			q := p + 1
			for q < len(r.b) && r.b[q] == 0xFF {
				q++
			}
			if q < len(r.b) && r.b[q] != 0 {
				return true // a marker
			}
			p = q // FF 00 is one data byte (FF at the end is none)
			if q >= len(r.b) {
				break
			}
		}
		bits += 8
	}
	return bits >= 64
}

// overrun reports whether bits past the real data were used.
func (r *bitReader) overrun() bool { return r.n < r.pad }

// reset drops the buffered bits (at a restart marker).
func (r *bitReader) reset() {
	r.acc, r.n, r.pad = 0, 0, 0
}

// bits returns the next k (<= 16) bits; the caller has filled the buffer.
func (r *bitReader) bits(k uint) int32 {
	r.n -= k
	return int32(r.acc>>r.n) & (1<<k - 1)
}

// bit returns the next bit, filling as needed.
func (r *bitReader) bit() int32 {
	if r.n < 1 {
		r.fill()
	}
	r.n--
	return int32(r.acc>>r.n) & 1
}

// decode reads one Huffman symbol. It fills the buffer first, so that the
// caller may then take up to 16 more bits with bits. A bad code (none of
// up to 16 bits) uses 17 bits and decodes as 0, as in libjpeg.
func (r *bitReader) decode(t *huffTable) uint8 {
	if r.n < 33 {
		r.fill()
	}
	if e := t.lut[(r.acc>>(r.n-lookBits))&(1<<lookBits-1)]; e != 0 {
		r.n -= uint(e >> 8)
		return uint8(e)
	}
	for l := uint(lookBits + 1); l <= 16; l++ {
		code := int32(r.acc>>(r.n-l)) & (1<<l - 1)
		if code <= t.maxcode[l] {
			r.n -= l
			return t.vals[uint8(code+t.valoff[l])]
		}
	}
	r.n -= 17
	return 0
}

// extend turns the s-bit magnitude v into a signed value (HUFF_EXTEND).
func extend(v int32, s uint8) int32 {
	if v < 1<<(s-1) {
		return v + (-1 << s) + 1
	}
	return v
}

// Standard Huffman tables (JPEG Annex K.3), which libjpeg installs for
// table slots 0 and 1 of sequential files that define none. Strings hold
// bits[1..16] then the symbols.
const (
	stdDCLuma   = "\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00" + "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"
	stdDCChroma = "\x00\x03\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00" + "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"
	stdACLuma   = "\x00\x02\x01\x03\x03\x02\x04\x03\x05\x05\x04\x04\x00\x00\x01\x7d" +
		"\x01\x02\x03\x00\x04\x11\x05\x12\x21\x31\x41\x06\x13\x51\x61\x07" +
		"\x22\x71\x14\x32\x81\x91\xa1\x08\x23\x42\xb1\xc1\x15\x52\xd1\xf0" +
		"\x24\x33\x62\x72\x82\x09\x0a\x16\x17\x18\x19\x1a\x25\x26\x27\x28" +
		"\x29\x2a\x34\x35\x36\x37\x38\x39\x3a\x43\x44\x45\x46\x47\x48\x49" +
		"\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69" +
		"\x6a\x73\x74\x75\x76\x77\x78\x79\x7a\x83\x84\x85\x86\x87\x88\x89" +
		"\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7" +
		"\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4\xc5" +
		"\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2" +
		"\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8" +
		"\xf9\xfa"
	stdACChroma = "\x00\x02\x01\x02\x04\x04\x03\x04\x07\x05\x04\x04\x00\x01\x02\x77" +
		"\x00\x01\x02\x03\x11\x04\x05\x21\x31\x06\x12\x41\x51\x07\x61\x71" +
		"\x13\x22\x32\x81\x08\x14\x42\x91\xa1\xb1\xc1\x09\x23\x33\x52\xf0" +
		"\x15\x62\x72\xd1\x0a\x16\x24\x34\xe1\x25\xf1\x17\x18\x19\x1a\x26" +
		"\x27\x28\x29\x2a\x35\x36\x37\x38\x39\x3a\x43\x44\x45\x46\x47\x48" +
		"\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68" +
		"\x69\x6a\x73\x74\x75\x76\x77\x78\x79\x7a\x82\x83\x84\x85\x86\x87" +
		"\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5" +
		"\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3" +
		"\xc4\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda" +
		"\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf2\xf3\xf4\xf5\xf6\xf7\xf8" +
		"\xf9\xfa"
)

// stdSpec unpacks one of the std* strings.
func stdSpec(s string) huffSpec {
	var h huffSpec
	for l := 1; l <= 16; l++ {
		h.bits[l] = s[l-1]
	}
	copy(h.vals[:], s[16:])
	return h
}

// naturalOrder maps zig-zag index to natural (row-major) index, with 16
// extra entries so that a corrupt run past 63 lands on 63, as in libjpeg.
const naturalOrder = "\x00\x01\x08\x10\x09\x02\x03\x0a\x11\x18\x20\x19\x12\x0b\x04\x05" +
	"\x0c\x13\x1a\x21\x28\x30\x29\x22\x1b\x14\x0d\x06\x07\x0e\x15\x1c" +
	"\x23\x2a\x31\x38\x39\x32\x2b\x24\x1d\x16\x0f\x17\x1e\x25\x2c\x33" +
	"\x3a\x3b\x34\x2d\x26\x1f\x27\x2e\x35\x3c\x3d\x36\x2f\x37\x3e\x3f" +
	"\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f\x3f"
