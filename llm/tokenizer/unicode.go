package tokenizer

import "unicode"

// Character classes shared by the pre-tokenizers. They follow the Unicode
// definitions the reference engines use (Oniguruma / Rust regex / Rust char).

const (
	clsLetter uint8 = 1 << iota
	clsNumber
	clsSpace
)

// bmpClass caches the classes of the Basic Multilingual Plane; it is computed
// once at package initialisation and never written afterwards.
var bmpClass = func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := range rune(0x10000) {
		var c uint8
		if unicode.IsLetter(r) {
			c |= clsLetter
		}
		if unicode.IsNumber(r) {
			c |= clsNumber
		}
		if unicode.IsSpace(r) {
			c |= clsSpace
		}
		t[r] = c
	}
	return &t
}()

func class(r rune) uint8 {
	if r >= 0 && r < 0x10000 {
		return bmpClass[r]
	}
	var c uint8
	if unicode.IsLetter(r) {
		c |= clsLetter
	}
	if unicode.IsNumber(r) {
		c |= clsNumber
	}
	if unicode.IsSpace(r) {
		c |= clsSpace
	}
	return c
}

// isSpace is Unicode White_Space (regex \s, Rust char::is_whitespace).
func isSpace(r rune) bool { return class(r)&clsSpace != 0 }

// isLetter is \p{L}.
func isLetter(r rune) bool { return class(r)&clsLetter != 0 }

// isNumber is \p{N} (also Rust char::is_numeric).
func isNumber(r rune) bool { return class(r)&clsNumber != 0 }

// isWord is Rust regex's Unicode \w: Alphabetic, M, Nd, Pc, Join_Control.
func isWord(r rune) bool {
	if r < 0x80 {
		return isLetter(r) || isNumber(r) || r == '_'
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D
}

// isPunct is HF's is_punc: ASCII punctuation or a Unicode P* category.
func isPunct(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}
