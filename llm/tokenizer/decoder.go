package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// decoder is HF's Decoder::decode_chain: token strings in, strings out; the
// results are concatenated by the caller.
type decoder interface {
	decodeChain(tokens []string) []string
}

type decSeq []decoder

func (d decSeq) decodeChain(t []string) []string {
	for _, x := range d {
		t = x.decodeChain(t)
	}
	return t
}

// byteLevelDec maps alphabet runes back to bytes; a token with any rune
// outside the alphabet is taken as its UTF-8 bytes. The result is converted
// lossily (Rust from_utf8_lossy) as a whole.
type byteLevelDec struct{ bl *byteLevel }

func (d byteLevelDec) decodeChain(t []string) []string {
	var buf []byte
	for _, s := range t {
		var ok bool
		n := len(buf)
		if buf, ok = d.bl.decode(buf, s); !ok {
			buf = append(buf[:n], s...)
		}
	}
	return []string{lossyString(buf)}
}

// byteFallbackDec turns runs of <0xXX> tokens into text; an invalid run gives
// one U+FFFD per byte.
type byteFallbackDec struct{}

func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(s[3])
	lo, ok2 := hexVal(s[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (byteFallbackDec) decodeChain(t []string) []string {
	out := make([]string, 0, len(t))
	var pend []byte
	flush := func() {
		if len(pend) == 0 {
			return
		}
		if utf8.Valid(pend) {
			out = append(out, string(pend))
		} else {
			for range pend {
				out = append(out, "\uFFFD")
			}
		}
		pend = pend[:0]
	}
	for _, s := range t {
		if b, ok := parseByteToken(s); ok {
			pend = append(pend, b)
			continue
		}
		flush()
		out = append(out, s)
	}
	flush()
	return out
}

type fuseDec struct{}

func (fuseDec) decodeChain(t []string) []string { return []string{strings.Join(t, "")} }

// stripDec removes up to start leading and stop trailing content runes per token.
type stripDec struct {
	content     rune
	start, stop int
}

func (d stripDec) decodeChain(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		rs := []rune(s)
		a := 0
		for k := 0; k < d.start && k < len(rs) && rs[k] == d.content; k++ {
			a = k + 1
		}
		b := len(rs)
		for k := 0; k < d.stop; k++ {
			j := len(rs) - k - 1
			if j < a || rs[j] != d.content {
				break
			}
			b = j
		}
		out[i] = string(rs[a:b])
	}
	return out
}

// replaceDec applies a Replace pattern to every token.
type replaceDec struct{ r replace }

func (d replaceDec) decodeChain(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		out[i] = d.r.normalize(s)
	}
	return out
}

// metaspaceDec turns the replacement rune into spaces; in the first token it
// is dropped unless the prepend scheme is "never".
type metaspaceDec struct {
	repl   rune
	scheme prependScheme
}

func (d metaspaceDec) decodeChain(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		var b strings.Builder
		for _, r := range s {
			if r == d.repl {
				if i == 0 && d.scheme != prependNever {
					continue
				}
				r = ' '
			}
			b.WriteRune(r)
		}
		out[i] = b.String()
	}
	return out
}

// wordPieceDec joins word pieces, dropping the prefix of continuations.
type wordPieceDec struct {
	prefix  string
	cleanup bool
}

func (d wordPieceDec) decodeChain(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		if i != 0 {
			if strings.HasPrefix(s, d.prefix) {
				s = strings.Replace(s, d.prefix, "", 1)
			} else {
				s = " " + s
			}
		}
		if d.cleanup {
			s = cleanupSpaces(s)
		}
		out[i] = s
	}
	return out
}

// bpeDec is HF's BPEDecoder: the suffix marks word ends.
type bpeDec struct{ suffix string }

func (d bpeDec) decodeChain(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		r := " "
		if i == len(t)-1 {
			r = ""
		}
		out[i] = strings.ReplaceAll(s, d.suffix, r)
	}
	return out
}

// cleanupSpaces is HF's cleanup (clean_up_tokenization_spaces).
func cleanupSpaces(s string) string {
	for _, p := range [...][2]string{{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}} {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}
