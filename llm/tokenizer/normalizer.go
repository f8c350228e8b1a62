package tokenizer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites one text segment (HF normalizers; offsets are not
// tracked because the public API does not expose them).
type normalizer interface {
	normalize(s string) string
}

type normSeq []normalizer

func (n normSeq) normalize(s string) string {
	for _, x := range n {
		s = x.normalize(s)
	}
	return s
}

const nfcForm = norm.NFC

// unicodeNorm is NFC/NFD/NFKC/NFKD; ASCII is invariant under all four.
type unicodeNorm struct{ form norm.Form }

func (n unicodeNorm) normalize(s string) string {
	if isASCII(s) {
		return s
	}
	return n.form.String(s)
}

type lowercase struct{}

func (lowercase) normalize(s string) string { return toLowerRust(s) }

// toLowerRust is Rust's per-char char::to_lowercase (full mapping, no
// context): only U+0130 maps to two runes.
func toLowerRust(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == 0x130 {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

type prepend struct{ s string }

func (p prepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return p.s + s
}

type replace struct {
	lit     string
	re      *regex // nil for literal patterns
	content string
}

func (r replace) normalize(s string) string {
	if r.re == nil {
		if r.lit == "" {
			return s
		}
		return strings.ReplaceAll(s, r.lit, r.content)
	}
	var b strings.Builder
	prev := 0
	r.re.each(s, func(st, en int) {
		b.WriteString(s[prev:st])
		b.WriteString(r.content)
		prev = en
	})
	if prev == 0 {
		return s
	}
	b.WriteString(s[prev:])
	return b.String()
}

type strip struct{ left, right bool }

func (n strip) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, isSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, isSpace)
	}
	return s
}

type stripAccents struct{}

func (stripAccents) normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// bertNormalizer is HF's BertNormalizer.
type bertNormalizer struct {
	cleanText, chinese, stripAccents, lowercase bool
}

func (n bertNormalizer) normalize(s string) string {
	if n.cleanText {
		s = strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\n' || r == '\r':
				return ' '
			case r == 0 || r == 0xFFFD || isOther(r):
				return -1
			case isSpace(r):
				return ' '
			}
			return r
		}, s)
	}
	if n.chinese {
		var b strings.Builder
		for _, r := range s {
			if isChineseChar(r) {
				b.WriteByte(' ')
				b.WriteRune(r)
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	if n.stripAccents {
		s = stripAccents{}.normalize(norm.NFD.String(s))
	}
	if n.lowercase {
		s = toLowerRust(s)
	}
	return s
}

// isOther is the C* general categories (Cc, Cf, Cs, Co, Cn).
func isOther(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co) || !isAssigned(r)
}

func isAssigned(r rune) bool {
	for _, t := range unicode.Categories {
		if unicode.Is(t, r) {
			return true
		}
	}
	return false
}

func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) || (r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) || (r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// byteLevelNorm is the ByteLevel normalizer: every byte to its alphabet rune.
type byteLevelNorm struct{ bl *byteLevel }

func (n byteLevelNorm) normalize(s string) string { return n.bl.encode(s) }
