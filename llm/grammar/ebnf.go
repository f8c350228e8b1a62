package grammar

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GBNF (llama.cpp / XGrammar EBNF):
//
//	root  ::= value ("," value)*   # comment
//	value ::= "lit\n" | [a-z0-9_]+ | [^"\\] | . | (x | y)? | x{2,5} | name
//
// Rules are `name ::= alternatives`; a rule ends where the next `name ::=`
// starts, so rules may span lines. Literals and classes are over code
// points (UTF-8); escapes: \n \r \t \\ \" \' \[ \] \- \^ \xHH \uHHHH
// \UHHHHHHHH and any other escaped punctuation as itself. The start rule is
// `root`.

const (
	maxEBNFLen    = 1 << 20
	maxEBNFRepeat = 100_000
	maxEBNFDepth  = 1000
)

type ebnfParser struct {
	src   string
	i     int
	names map[string]int
	defs  []ruleDef
	refAt map[int]int // rule → offset of a reference, for undefined rules
	defAt map[int]bool
	depth int
}

// ebnfRules parses a GBNF grammar.
func ebnfRules(src string) ([]ruleDef, error) {
	if len(src) > maxEBNFLen {
		return nil, fmt.Errorf("%w: ebnf longer than %d bytes", ErrInvalid, maxEBNFLen)
	}
	if !utf8.ValidString(src) {
		return nil, fmt.Errorf("%w: ebnf is not valid UTF-8", ErrInvalid)
	}
	p := &ebnfParser{src: src, names: map[string]int{}, refAt: map[int]int{}, defAt: map[int]bool{}}
	p.rule("root") // rule 0
	if err := p.grammar(); err != nil {
		return nil, err
	}
	if !p.defAt[0] {
		return nil, fmt.Errorf("%w: ebnf: no rule named root", ErrInvalid)
	}
	for r := range p.defs {
		if !p.defAt[r] {
			return nil, p.errAt(p.refAt[r], fmt.Sprintf("undefined rule %q", p.defs[r].name))
		}
	}
	return p.defs, nil
}

func (p *ebnfParser) rule(name string) int {
	if r, ok := p.names[name]; ok {
		return r
	}
	r := len(p.defs)
	p.names[name] = r
	p.defs = append(p.defs, ruleDef{name: name, body: nothing})
	return r
}

// errAt formats an error at byte offset off as line:column.
func (p *ebnfParser) errAt(off int, msg string) error {
	off = min(off, len(p.src))
	line := 1 + strings.Count(p.src[:off], "\n")
	col := off - strings.LastIndexByte(p.src[:off], '\n')
	return fmt.Errorf("%w: ebnf line %d column %d: %s", ErrInvalid, line, col, msg)
}

func (p *ebnfParser) err(msg string) error { return p.errAt(p.i, msg) }

// space skips whitespace and # comments.
func (p *ebnfParser) space() {
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '#':
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *ebnfParser) name() string {
	st := p.i
	for p.i < len(p.src) && isNameByte(p.src[p.i]) {
		p.i++
	}
	return p.src[st:p.i]
}

// atRuleStart reports whether a `name ::=` starts at the current offset.
func (p *ebnfParser) atRuleStart() bool {
	save := p.i
	defer func() { p.i = save }()
	if p.name() == "" {
		return false
	}
	p.space()
	return strings.HasPrefix(p.src[p.i:], "::=")
}

func (p *ebnfParser) grammar() error {
	for {
		p.space()
		if p.i >= len(p.src) {
			return nil
		}
		st := p.i
		name := p.name()
		if name == "" {
			return p.err(fmt.Sprintf("expected a rule name, found %q", p.peekText()))
		}
		p.space()
		if !strings.HasPrefix(p.src[p.i:], "::=") {
			return p.err(fmt.Sprintf("expected ::= after rule name %q", name))
		}
		p.i += 3
		r := p.rule(name)
		if p.defAt[r] {
			return p.errAt(st, fmt.Sprintf("rule %q defined twice", name))
		}
		p.defAt[r] = true
		body, err := p.alternates(false)
		if err != nil {
			return err
		}
		p.defs[r].body = body
	}
}

func (p *ebnfParser) peekText() string {
	s := p.src[p.i:]
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

func (p *ebnfParser) alternates(nested bool) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxEBNFDepth {
		return nil, p.err("nesting too deep")
	}
	var alts []*node
	for {
		s, err := p.sequence(nested)
		if err != nil {
			return nil, err
		}
		alts = append(alts, s)
		p.space()
		if p.i < len(p.src) && p.src[p.i] == '|' {
			p.i++
			continue
		}
		return alt(alts...), nil
	}
}

func (p *ebnfParser) sequence(nested bool) (*node, error) {
	var items []*node
	for {
		p.space()
		if p.i >= len(p.src) {
			break
		}
		c := p.src[p.i]
		if c == '|' || c == ')' {
			if c == ')' && !nested {
				return nil, p.err("unbalanced )")
			}
			break
		}
		if isNameByte(c) && p.atRuleStart() {
			if nested {
				return nil, p.err("missing ) before the next rule")
			}
			break
		}
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		if t, err = p.postfix(t); err != nil {
			return nil, err
		}
		items = append(items, t)
	}
	return seq(items...), nil
}

func (p *ebnfParser) term() (*node, error) {
	c := p.src[p.i]
	switch {
	case c == '"':
		p.i++
		var b strings.Builder
		for {
			if p.i >= len(p.src) {
				return nil, p.err("unterminated string literal")
			}
			if p.src[p.i] == '"' {
				p.i++
				return lit(b.String()), nil
			}
			r, err := p.char()
			if err != nil {
				return nil, err
			}
			b.WriteRune(r)
		}
	case c == '[':
		return p.charClass()
	case c == '.':
		p.i++
		return anyChar(), nil
	case c == '(':
		p.i++
		x, err := p.alternates(true)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.src) || p.src[p.i] != ')' {
			return nil, p.err("expected )")
		}
		p.i++
		return x, nil
	case isNameByte(c):
		at := p.i
		name := p.name()
		r := p.rule(name)
		if _, ok := p.refAt[r]; !ok {
			p.refAt[r] = at
		}
		return ref(r), nil
	}
	return nil, p.err(fmt.Sprintf("unexpected %q", p.peekText()))
}

// char reads one (possibly escaped) code point of a literal or class.
func (p *ebnfParser) char() (rune, error) {
	if p.src[p.i] != '\\' {
		r, n := utf8.DecodeRuneInString(p.src[p.i:])
		p.i += n
		return r, nil
	}
	p.i++
	if p.i >= len(p.src) {
		return 0, p.err("dangling escape")
	}
	c := p.src[p.i]
	p.i++
	hex := 0
	switch c {
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'x':
		hex = 2
	case 'u':
		hex = 4
	case 'U':
		hex = 8
	default:
		if c < 0x80 && !isNameByte(c) {
			return rune(c), nil
		}
		return 0, p.errAt(p.i-2, fmt.Sprintf("unknown escape \\%c", c))
	}
	if p.i+hex > len(p.src) {
		return 0, p.err("short hex escape")
	}
	v, err := strconv.ParseUint(p.src[p.i:p.i+hex], 16, 32)
	if err != nil {
		return 0, p.err("bad hex escape")
	}
	p.i += hex
	r := rune(v)
	if !utf8.ValidRune(r) {
		return 0, p.errAt(p.i-hex-2, fmt.Sprintf("escape is not a Unicode scalar value (%U)", r))
	}
	return r, nil
}

func (p *ebnfParser) charClass() (*node, error) {
	p.i++ // [
	neg := false
	if p.i < len(p.src) && p.src[p.i] == '^' {
		neg = true
		p.i++
	}
	var rs []rune
	for {
		if p.i >= len(p.src) {
			return nil, p.err("unterminated character class")
		}
		if p.src[p.i] == ']' {
			p.i++
			break
		}
		lo, err := p.char()
		if err != nil {
			return nil, err
		}
		hi := lo
		if p.i+1 < len(p.src) && p.src[p.i] == '-' && p.src[p.i+1] != ']' {
			p.i++
			if hi, err = p.char(); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, p.err(fmt.Sprintf("bad character range %q-%q", lo, hi))
			}
		}
		rs = append(rs, lo, hi)
	}
	rs = normRanges(rs)
	if neg {
		rs = negateRanges(rs)
	}
	return runeClass(rs...), nil
}

func (p *ebnfParser) postfix(t *node) (*node, error) {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case '*':
			t = star(t)
		case '+':
			t = plus(t)
		case '?':
			t = opt(t)
		case '{':
			p.i++
			p.space()
			lo, ok := p.number()
			if !ok {
				return nil, p.err("expected a repetition count")
			}
			hi := lo
			p.space()
			if p.i < len(p.src) && p.src[p.i] == ',' {
				p.i++
				p.space()
				if h, ok := p.number(); ok {
					hi = h
				} else {
					hi = -1
				}
				p.space()
			}
			if p.i >= len(p.src) || p.src[p.i] != '}' {
				return nil, p.err("expected }")
			}
			if hi >= 0 && hi < lo {
				return nil, p.err(fmt.Sprintf("repetition {%d,%d} has max below min", lo, hi))
			}
			t = repeat(t, lo, hi)
		default:
			return t, nil
		}
		p.i++
	}
	return t, nil
}

func (p *ebnfParser) number() (int, bool) {
	st := p.i
	for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
		p.i++
	}
	if p.i == st || p.i-st > 6 {
		return 0, false
	}
	v, _ := strconv.Atoi(p.src[st:p.i])
	return v, v <= maxEBNFRepeat
}
