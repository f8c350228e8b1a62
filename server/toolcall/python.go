package toolcall

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The pythonic format's reader: a list of calls whose keyword arguments are
// Python literals, converted to JSON as Python's json.dumps would write them.

var (
	errEOF    = errors.New("toolcall: input ends inside the call list")
	errSyntax = errors.New("toolcall: not a call list")
)

const maxDepth = 64

// pyCalls reads "[f(a=1), g()]" at the start of s, which is at output
// position at.
func pyCalls(s string, eof bool, x *ctx, at int) (outcome, int, []Call) {
	m := x.memoAt(at)
	if m.done {
		return m.r, m.n, m.calls
	}
	if !eof && len(s) > scanAhead {
		if m.scan(s, true); m.end == 0 {
			return needMore, 0, nil
		}
	}
	p := pyReader{s: s}
	calls, err := p.calls(x.tools)
	switch {
	case err == nil:
		m.done, m.r, m.n, m.calls = true, match, p.i, calls
		return match, p.i, calls
	case err == errEOF:
		if !eof {
			return needMore, 0, nil
		}
		return noMatch, 0, nil
	}
	m.done, m.r = true, noMatch
	return noMatch, 0, nil
}

type pyReader struct {
	s string
	i int
}

func (p *pyReader) space() {
	for p.i < len(p.s) && strings.IndexByte(spaces, p.s[p.i]) >= 0 {
		p.i++
	}
}

// peek returns the next non-space byte without consuming it.
func (p *pyReader) peek() (byte, error) {
	p.space()
	if p.i >= len(p.s) {
		return 0, errEOF
	}
	return p.s[p.i], nil
}

func (p *pyReader) expect(c byte) error {
	b, err := p.peek()
	if err != nil {
		return err
	}
	if b != c {
		return errSyntax
	}
	p.i++
	return nil
}

// word reads an identifier. Running into the end is errEOF: it may go on.
func (p *pyReader) word() (string, error) {
	b, err := p.peek()
	if err != nil {
		return "", err
	}
	if !isIdentStart(b) {
		return "", errSyntax
	}
	start := p.i
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	if p.i == len(p.s) {
		return "", errEOF
	}
	return p.s[start:p.i], nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdent(c byte) bool      { return isIdentStart(c) || c >= '0' && c <= '9' }

// seq reads the items of a bracketed sequence up to close (the opening
// bracket is consumed), allowing a trailing comma.
func (p *pyReader) seq(close byte, item func() error) error {
	for first := true; ; first = false {
		b, err := p.peek()
		if err != nil {
			return err
		}
		if b == close {
			p.i++
			return nil
		}
		if !first {
			if b != ',' {
				return errSyntax
			}
			p.i++
			if b, err = p.peek(); err != nil {
				return err
			} else if b == close {
				p.i++
				return nil
			}
		}
		if err := item(); err != nil {
			return err
		}
	}
}

func (p *pyReader) calls(tools map[string]bool) ([]Call, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	var calls []Call
	err := p.seq(']', func() error {
		c, err := p.call(tools)
		calls = append(calls, c)
		return err
	})
	if err == nil && len(calls) == 0 {
		err = errSyntax
	}
	return calls, err
}

func (p *pyReader) call(tools map[string]bool) (Call, error) {
	name, err := p.word()
	if err != nil {
		return Call{}, err
	}
	if !tools[name] {
		return Call{}, errSyntax
	}
	if err := p.expect('('); err != nil {
		return Call{}, err
	}
	var b strings.Builder
	b.WriteByte('{')
	seen := map[string]bool{}
	err = p.seq(')', func() error {
		key, err := p.word()
		if err != nil {
			return err
		}
		if seen[key] {
			return errSyntax
		}
		seen[key] = true
		if err := p.expect('='); err != nil {
			return err
		}
		v, _, err := p.value(0)
		if err != nil {
			return err
		}
		if len(seen) > 1 {
			b.WriteByte(',')
		}
		writeJSONString(&b, key)
		b.WriteByte(':')
		b.WriteString(v)
		return nil
	})
	b.WriteByte('}')
	return Call{Name: name, Arguments: b.String()}, err
}

// kind of a converted value, for dict keys.
type kind int

const (
	kString kind = iota
	kScalar      // number, true, false, null
	kContainer
)

// value reads one literal and returns it as compact JSON.
func (p *pyReader) value(depth int) (string, kind, error) {
	if depth > maxDepth {
		return "", 0, errSyntax
	}
	c, err := p.peek()
	if err != nil {
		return "", 0, err
	}
	switch {
	case c == '"' || c == '\'':
		s, err := p.str(false)
		return s, kString, err
	case c == '[':
		p.i++
		s, err := p.array(']', depth)
		return s, kContainer, err
	case c == '(':
		p.i++
		return p.paren(depth)
	case c == '{':
		p.i++
		s, err := p.dict(depth)
		return s, kContainer, err
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		s, err := p.number()
		return s, kScalar, err
	case isIdentStart(c):
		w, err := p.word()
		if err != nil {
			return "", 0, err
		}
		switch w {
		case "True":
			return "true", kScalar, nil
		case "False":
			return "false", kScalar, nil
		case "None":
			return "null", kScalar, nil
		}
		if q := p.s[p.i]; q == '"' || q == '\'' {
			switch strings.ToLower(w) {
			case "r":
				s, err := p.str(true)
				return s, kString, err
			case "u":
				s, err := p.str(false)
				return s, kString, err
			}
		}
	}
	return "", 0, errSyntax
}

func (p *pyReader) array(close byte, depth int) (string, error) {
	var b strings.Builder
	b.WriteByte('[')
	n := 0
	err := p.seq(close, func() error {
		v, _, err := p.value(depth + 1)
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(v)
		return err
	})
	b.WriteByte(']')
	return b.String(), err
}

// paren reads what follows '(': a parenthesized value or a tuple (as a JSON
// array).
func (p *pyReader) paren(depth int) (string, kind, error) {
	c, err := p.peek()
	if err != nil {
		return "", 0, err
	}
	if c == ')' {
		p.i++
		return "[]", kContainer, nil
	}
	v, k, err := p.value(depth + 1)
	if err != nil {
		return "", 0, err
	}
	if c, err = p.peek(); err != nil {
		return "", 0, err
	}
	switch c {
	case ')':
		p.i++
		return v, k, nil
	case ',':
		p.i++
		rest, err := p.array(')', depth)
		if err != nil {
			return "", 0, err
		}
		if rest == "[]" {
			return "[" + v + "]", kContainer, nil
		}
		return "[" + v + "," + rest[1:], kContainer, nil
	}
	return "", 0, errSyntax
}

// dict reads what follows '{'. Keys become JSON strings as json.dumps makes
// them; a repeated key keeps its first place and its last value.
func (p *pyReader) dict(depth int) (string, error) {
	var keys, vals []string
	at := map[string]int{}
	err := p.seq('}', func() error {
		k, kk, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		switch kk {
		case kScalar:
			var b strings.Builder
			writeJSONString(&b, k)
			k = b.String()
		case kContainer:
			return errSyntax
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		v, _, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		if j, ok := at[k]; ok {
			vals[j] = v
			return nil
		}
		at[k] = len(keys)
		keys = append(keys, k)
		vals = append(vals, v)
		return nil
	})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteByte('{')
	for j := range keys {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(keys[j])
		b.WriteByte(':')
		b.WriteString(vals[j])
	}
	b.WriteByte('}')
	return b.String(), nil
}

// number reads an optionally signed int or float literal.
func (p *pyReader) number() (string, error) {
	neg := false
	if c := p.s[p.i]; c == '-' || c == '+' {
		neg = c == '-'
		p.i++
		c, err := p.peek()
		if err != nil {
			return "", err
		}
		if c != '.' && (c < '0' || c > '9') {
			return "", errSyntax
		}
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if isIdent(c) || c == '.' {
			p.i++
			continue
		}
		if (c == '-' || c == '+') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E') && !isHexLit(p.s[start:p.i]) {
			p.i++
			continue
		}
		break
	}
	if p.i == len(p.s) {
		return "", errEOF
	}
	lit := p.s[start:p.i]
	if isHexLit(lit) || len(lit) > 1 && lit[0] == '0' && strings.ContainsAny(lit[1:2], "oObB") {
		n, ok := new(big.Int).SetString(lit, 0)
		if !ok {
			return "", errSyntax
		}
		if neg {
			n.Neg(n)
		}
		return n.String(), nil
	}
	clean := strings.ReplaceAll(lit, "_", "")
	if strings.ContainsAny(lit, ".eE") {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil || strings.ContainsAny(clean, "xXpPnN") {
			return "", errSyntax
		}
		if neg {
			f = -f
		}
		return pyFloat(f), nil
	}
	if clean == "" || strings.Trim(clean, "0123456789") != "" ||
		len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return "", errSyntax
	}
	n, ok := new(big.Int).SetString(clean, 10)
	if !ok {
		return "", errSyntax
	}
	if neg {
		n.Neg(n)
	}
	return n.String(), nil
}

func isHexLit(s string) bool { return len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') }

// pyFloat formats f as Python's repr does.
func pyFloat(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// str reads a quoted string literal (single, double or triple quoted) and
// returns it as a JSON string.
func (p *pyReader) str(raw bool) (string, error) {
	q := p.s[p.i]
	triple := strings.Repeat(string(q), 3)
	rest := p.s[p.i:]
	if len(rest) < 3 && strings.HasPrefix(triple, rest) {
		return "", errEOF // "" or " so far: empty string or triple quote
	}
	long := strings.HasPrefix(rest, triple)
	if long {
		p.i += 3
	} else {
		p.i++
	}
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", errEOF
		}
		c := p.s[p.i]
		switch {
		case c == q && !long:
			p.i++
			return jsonString(b.String()), nil
		case c == q:
			if r := p.s[p.i:]; strings.HasPrefix(r, triple) {
				p.i += 3
				return jsonString(b.String()), nil
			} else if strings.HasPrefix(triple, r) {
				return "", errEOF
			}
			b.WriteByte(c)
			p.i++
		case c == '\n' && !long:
			return "", errSyntax
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", errEOF
			}
			if raw {
				b.WriteString(p.s[p.i : p.i+2])
				p.i += 2
				continue
			}
			if err := p.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

func jsonString(s string) string {
	var b strings.Builder
	writeJSONString(&b, s)
	return b.String()
}

// escape decodes the escape sequence at p.i (a backslash with at least one
// byte after it) into b.
func (p *pyReader) escape(b *strings.Builder) error {
	c := p.s[p.i+1]
	p.i += 2
	if r, ok := simpleEscapes[c]; ok {
		b.WriteString(r)
		return nil
	}
	digits := func(max int, base int) (rune, error) {
		start := p.i
		for p.i < len(p.s) && p.i-start < max && isDigitIn(p.s[p.i], base) {
			p.i++
		}
		if p.i == len(p.s) && p.i-start < max {
			return 0, errEOF
		}
		v, err := strconv.ParseUint(p.s[start:p.i], base, 32)
		if err != nil {
			return 0, errSyntax
		}
		return rune(v), nil
	}
	var r rune
	var err error
	switch c {
	case '\r':
		if p.i < len(p.s) && p.s[p.i] == '\n' {
			p.i++
		} else if p.i == len(p.s) {
			return errEOF
		}
		return nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		p.i--
		r, err = digits(3, 8)
	case 'x', 'u', 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		start := p.i
		if r, err = digits(n, 16); err == nil && p.i-start != n {
			err = errSyntax
		}
	case 'N':
		return errSyntax
	default: // unknown escapes keep their backslash
		b.WriteByte('\\')
		p.i--
		return nil
	}
	if err != nil {
		return err
	}
	if r > utf8.MaxRune {
		return errSyntax
	}
	b.WriteRune(r) // surrogates become U+FFFD
	return nil
}

var simpleEscapes = map[byte]string{
	'\n': "", '\\': "\\", '\'': "'", '"': "\"",
	'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
}

func isDigitIn(c byte, base int) bool {
	switch base {
	case 8:
		return c >= '0' && c <= '7'
	}
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
