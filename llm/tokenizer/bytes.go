package tokenizer

import (
	"unicode/utf8"
)

// byteLevel is the GPT-2 byte↔char alphabet: every byte maps to one printable
// rune (printable Latin-1 bytes to themselves, the rest to U+0100..U+0143).
type byteLevel struct {
	char  [256]rune
	bytes [324]int16 // rune → byte, -1 when the rune is not in the alphabet
}

// newByteLevel builds the alphabet (a value, not package state).
func newByteLevel() *byteLevel {
	bl := &byteLevel{}
	for i := range bl.bytes {
		bl.bytes[i] = -1
	}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			bl.char[b] = rune(b)
		} else {
			bl.char[b] = rune(256 + n)
			n++
		}
		bl.bytes[bl.char[b]] = int16(b)
	}
	return bl
}

// encode maps raw bytes to their alphabet string.
func (bl *byteLevel) encode(s string) string {
	buf := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		buf = utf8.AppendRune(buf, bl.char[s[i]])
	}
	return string(buf)
}

// decode maps an alphabet string back to raw bytes; ok is false when some
// rune is outside the alphabet.
func (bl *byteLevel) decode(dst []byte, s string) ([]byte, bool) {
	n := len(dst)
	for _, r := range s {
		if r < 0 || int(r) >= len(bl.bytes) || bl.bytes[r] < 0 {
			return dst[:n], false
		}
		dst = append(dst, byte(bl.bytes[r]))
	}
	return dst, true
}

// appendLossy appends b as valid UTF-8 the way Rust's String::from_utf8_lossy
// does: each maximal invalid subpart becomes one U+FFFD.
func appendLossy(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		n := validPrefix(b[i:])
		if n > 0 {
			dst = append(dst, b[i:i+n]...)
			i += n
			continue
		}
		dst = append(dst, "\uFFFD"...)
		i += invalidLen(b[i:])
	}
	return dst
}

// lossyString converts b like Rust's String::from_utf8_lossy.
func lossyString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendLossy(make([]byte, 0, len(b)+8), b))
}

// sanitizeUTF8 returns s unchanged when valid, else its lossy conversion.
func sanitizeUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(appendLossy(make([]byte, 0, len(s)+8), []byte(s)))
}

// validPrefix returns the length of the complete, valid sequence starting b[0]
// (b[0] >= 0x80), or 0 if there is none.
func validPrefix(b []byte) int {
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n <= 1 {
		return 0
	}
	return n
}

// invalidLen is the length of the maximal prefix of a well-formed sequence at
// b[0] that cannot be completed (at least 1): the bytes one U+FFFD replaces.
func invalidLen(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		x := b[i]
		if i == 1 {
			if x < lo || x > hi {
				return i
			}
		} else if x < 0x80 || x > 0xBF {
			return i
		}
	}
	return i
}

// utf8LeadLen is llama.cpp's unicode_len_utf8: the sequence length a lead
// byte announces (1 for continuation or invalid bytes).
func utf8LeadLen(c byte) int {
	switch c >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

func isValidUTF8(s string) bool { return utf8.ValidString(s) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
