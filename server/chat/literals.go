package chat

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/runenames"
)

// Python literal syntax inside tags: string literals with Python escapes,
// and int/float literals with 0b/0o/0x prefixes and underscores.

// maxNameLookups bounds the \N{name} escapes of one template; each one
// scans the Unicode name table.
const maxNameLookups = 16

// scanString returns the index just past the closing quote of the literal at src[start].
func scanString(src string, start int) (int, error) {
	q := src[start]
	for i := start + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case q:
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string literal")
}

func isDec(c byte) bool { return c >= '0' && c <= '9' }

// digitsRun scans digits with single underscores between them (Python literal rules).
func digitsRun(s string, digit func(byte) bool) int {
	n := 0
	for n < len(s) && digit(s[n]) {
		n++
		if n+1 < len(s) && s[n] == '_' && digit(s[n+1]) {
			n++
		}
	}
	return n
}

func lexNumber(s string) (token, int, error) {
	if len(s) > 1 && s[0] == '0' {
		base := 0
		var digit func(byte) bool
		switch s[1] | 0x20 {
		case 'b':
			base, digit = 2, func(c byte) bool { return c == '0' || c == '1' }
		case 'o':
			base, digit = 8, func(c byte) bool { return c >= '0' && c <= '7' }
		case 'x':
			base, digit = 16, func(c byte) bool {
				return isDec(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
			}
		}
		if base != 0 {
			j := 2
			if j < len(s) && s[j] == '_' {
				j++
			}
			n := digitsRun(s[j:], digit)
			if n == 0 {
				return token{}, 0, fmt.Errorf("invalid integer literal %q", s[:j])
			}
			v, err := strconv.ParseInt(strings.ReplaceAll(s[j:j+n], "_", ""), base, 64)
			if err != nil {
				return token{}, 0, fmt.Errorf("integer literal %q too large", s[:j+n])
			}
			return token{kind: tInt, i: int(v)}, j + n, nil
		}
	}
	n := digitsRun(s, isDec)
	end := n
	isFloat := false
	if end+1 < len(s) && s[end] == '.' && isDec(s[end+1]) {
		end += 1 + digitsRun(s[end+1:], isDec)
		isFloat = true
	}
	if end < len(s) && (s[end]|0x20) == 'e' {
		j := end + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if k := digitsRun(s[j:], isDec); k > 0 {
			end = j + k
			isFloat = true
		}
	}
	lit := strings.ReplaceAll(s[:end], "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return token{}, 0, fmt.Errorf("invalid float literal %q", s[:end])
		}
		return token{kind: tFloat, f: f}, end, nil
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return token{}, 0, fmt.Errorf("integer literal %q too large", s[:end])
	}
	return token{kind: tInt, i: int(v)}, end, nil
}

// unescapePy decodes a string literal body like Python's
// s.encode("ascii", "backslashreplace").decode("unicode-escape"), which is
// what jinja2's lexer does. names is the budget of \N{name} lookups left.
func unescapePy(s string, names *int) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("string literal ends with a backslash")
		}
		n := s[i+1]
		i += 2
		switch n {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(n)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(n - '0')
			for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
				v = v*8 + int(s[i]-'0')
				i++
			}
			b.WriteRune(rune(v))
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[n]
			if i+width > len(s) {
				return "", fmt.Errorf("truncated \\%cXX escape", n)
			}
			v, err := strconv.ParseUint(s[i:i+width], 16, 32)
			if err != nil {
				return "", fmt.Errorf("truncated \\%cXX escape", n)
			}
			if v > unicode.MaxRune {
				return "", fmt.Errorf("illegal Unicode character in \\U escape")
			}
			b.WriteRune(rune(v)) // lone surrogates become U+FFFD
			i += width
		case 'N':
			end := strings.IndexByte(s[i:], '}')
			if i >= len(s) || s[i] != '{' || end < 0 {
				return "", fmt.Errorf(`malformed \N character escape`)
			}
			if *names <= 0 {
				return "", fmt.Errorf(`more than %d \N{...} escapes`, maxNameLookups)
			}
			*names--
			r, ok := runeByName(s[i+1 : i+end])
			if !ok {
				return "", fmt.Errorf("unknown Unicode character name %q", s[i+1:i+end])
			}
			b.WriteRune(r)
			i += end + 1
		default:
			if n >= utf8.RuneSelf {
				// backslashreplace turned the rune into an escape that
				// unicode-escape then decodes after a literal backslash.
				r, size := utf8.DecodeRuneInString(s[i-1:])
				b.WriteByte('\\')
				switch {
				case r < 0x100:
					fmt.Fprintf(&b, "x%02x", r)
				case r < 0x10000:
					fmt.Fprintf(&b, "u%04x", r)
				default:
					fmt.Fprintf(&b, "U%08x", r)
				}
				i += size - 1
			} else {
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		}
	}
	return b.String(), nil
}

// runeByName resolves a \N{name} escape (case-insensitive) by scanning
// the Unicode name table; it runs only at parse time and takes ~30 ms.
func runeByName(name string) (rune, bool) {
	if name == "" {
		return 0, false
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r == 0xd800 {
			r = 0xe000
		}
		if strings.EqualFold(runenames.Name(r), name) {
			return r, true
		}
	}
	return 0, false
}
