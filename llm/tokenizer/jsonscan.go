package tokenizer

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jscan is a minimal JSON reader for the large parts of tokenizer.json (the
// BPE vocabulary and merges), which encoding/json handles slowly. Everything
// else is captured as raw spans and decoded with encoding/json.
type jscan struct {
	b   []byte
	i   int
	buf []byte
}

func (s *jscan) errf(format string, args ...any) error {
	return fmt.Errorf("%w: tokenizer.json offset %d: %s", ErrInvalid, s.i, fmt.Sprintf(format, args...))
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at end).
func (s *jscan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jscan) expect(c byte) error {
	if s.peek() != c {
		return s.errf("expected %q", c)
	}
	s.i++
	return nil
}

// str reads a string literal (invalid UTF-8 becomes U+FFFD, as in encoding/json).
func (s *jscan) str() (string, error) {
	b, err := s.strBytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return string(appendLossy(nil, b)), nil
	}
	return string(b), nil
}

// strBytes reads a string literal into a reused buffer (valid until the next call).
func (s *jscan) strBytes() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return s.b[start : s.i-1], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, s.errf("control character in string")
		}
		s.i++
	}
	s.buf = append(s.buf[:0], s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.buf, nil
		case c < 0x20:
			return nil, s.errf("control character in string")
		case c != '\\':
			s.buf = append(s.buf, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			s.buf = append(s.buf, e)
		case 'b':
			s.buf = append(s.buf, '\b')
		case 'f':
			s.buf = append(s.buf, '\f')
		case 'n':
			s.buf = append(s.buf, '\n')
		case 'r':
			s.buf = append(s.buf, '\r')
		case 't':
			s.buf = append(s.buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.errf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					if lo, ok := s.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						s.i = save
					}
				}
				r = r2
			}
			s.buf = utf8.AppendRune(s.buf, r)
		default:
			return nil, s.errf("bad escape \\%c", e)
		}
	}
	return nil, s.errf("unterminated string")
}

func (s *jscan) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}

// integer reads a JSON integer that fits in int32.
func (s *jscan) integer() (int32, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 32)
	if err != nil {
		return 0, s.errf("expected an int32: %v", err)
	}
	return int32(v), nil
}

// skip passes over one value of any kind and returns its raw bytes.
func (s *jscan) skip() ([]byte, error) {
	switch s.peek() {
	case 0, ',', ':', '}', ']':
		return nil, s.errf("expected a value")
	}
	start := s.i
	depth := 0
	for {
		if s.i >= len(s.b) {
			return nil, s.errf("unexpected end of input")
		}
		switch c := s.b[s.i]; c {
		case '"':
			if _, err := s.strBytes(); err != nil {
				return nil, err
			}
		case '{', '[':
			depth++
			if depth > 512 {
				return nil, s.errf("nesting too deep")
			}
			s.i++
		case '}', ']':
			depth--
			s.i++
			if depth < 0 {
				return nil, s.errf("unbalanced %q", c)
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			s.i++
		default:
			if c != '-' && c != 't' && c != 'f' && c != 'n' && (c < '0' || c > '9') {
				return nil, s.errf("unexpected %q", c)
			}
			for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' &&
				s.b[s.i] != ' ' && s.b[s.i] != '\n' && s.b[s.i] != '\r' && s.b[s.i] != '\t' {
				s.i++
			}
		}
		if depth == 0 {
			return s.b[start:s.i], nil
		}
	}
}

// object calls fn for every member; fn must consume the value.
func (s *jscan) object(fn func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errf("expected ',' or '}'")
		}
	}
}

// array calls fn for every element; fn must consume it.
func (s *jscan) array(fn func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errf("expected ',' or ']'")
		}
	}
}
