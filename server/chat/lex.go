package chat

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer turns template source into one token stream, as jinja2's
// lexer does with HF's settings (trim_blocks, lstrip_blocks): tData for
// literal text with all whitespace control already applied, and
// tBlockBegin/tVarBegin, the tag's tokens, tBlockEnd/tVarEnd for each
// {% %} and {{ }} tag. Comments are dropped and raw blocks become tData.

type tokKind uint8

const (
	tEOF tokKind = iota
	tData
	tBlockBegin
	tBlockEnd
	tVarBegin
	tVarEnd
	tName
	tString
	tInt
	tFloat
	tOp
)

type token struct {
	kind tokKind
	s    string // text, name, string value, or operator
	i    int
	f    float64
	line int
}

func (t token) String() string {
	switch t.kind {
	case tEOF, tBlockEnd, tVarEnd:
		return "end of expression"
	case tString:
		return "string"
	case tInt:
		return "integer"
	case tFloat:
		return "float"
	case tData, tBlockBegin, tVarBegin:
		return "template data"
	}
	return "'" + t.s + "'"
}

const (
	maxTemplateBytes = 1 << 20
	operators1       = "+-/*%~[](){}><=.:|,;"
)

var (
	operators2 = [...]string{"//", "**", "==", "!=", ">=", "<="}
	reRawBegin = regexp.MustCompile(`^\{%([-+]?)\s*raw\s*(-?)%\}`)
	reRawEnd   = regexp.MustCompile(`\{%([-+]?)\s*endraw\s*([-+]?)%\}`)
)

// normalizeSource is jinja2's newline handling: every \r\n and \r becomes \n
// and one trailing newline is dropped (keep_trailing_newline=False).
func normalizeSource(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	return strings.TrimSuffix(src, "\n")
}

func isWS(r rune) bool { return pyIsSpace(r) }

type lexer struct {
	src     string
	toks    []token
	names   int // \N{name} lookups left
	lineNo  int // line of linePos
	linePos int
}

// lex tokenizes normalized template source.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, names: maxNameLookups, lineNo: 1}
	if err := l.run(); err != nil {
		return nil, err
	}
	l.toks = append(l.toks, token{kind: tEOF, line: l.line(len(src))})
	return l.toks, nil
}

// line is the line of pos for increasing positions, counting each newline once.
func (l *lexer) line(pos int) int {
	if pos < l.linePos {
		return 1 + strings.Count(l.src[:pos], "\n")
	}
	l.lineNo += strings.Count(l.src[l.linePos:pos], "\n")
	l.linePos = pos
	return l.lineNo
}

func (l *lexer) emit(kind tokKind, s string, line int) {
	l.toks = append(l.toks, token{kind: kind, s: s, line: line})
}

// data emits literal text, merged with text just before it.
func (l *lexer) data(text string, line int) {
	if text == "" {
		return
	}
	if n := len(l.toks); n > 0 && l.toks[n-1].kind == tData {
		l.toks[n-1].s += text
		return
	}
	l.emit(tData, text, line)
}

// lstrip applies lstrip_blocks to text preceding a block or comment tag.
func lstrip(text string, lineStarting bool) string {
	lpos := strings.LastIndexByte(text, '\n') + 1
	if lpos == 0 && !lineStarting {
		return text
	}
	rest := text[lpos:]
	if rest != "" && strings.TrimLeftFunc(rest, isWS) == "" {
		return text[:lpos]
	}
	return text
}

func skipWS(src string, pos int) int {
	for pos < len(src) {
		r, size := utf8.DecodeRuneInString(src[pos:])
		if !isWS(r) {
			break
		}
		pos += size
	}
	return pos
}

// nextTag finds the next "{{", "{%" or "{#" at or after pos, or -1.
func nextTag(src string, pos int) int {
	for {
		i := strings.IndexByte(src[pos:], '{')
		if i < 0 {
			return -1
		}
		j := pos + i
		if j+1 < len(src) && (src[j+1] == '{' || src[j+1] == '%' || src[j+1] == '#') {
			return j
		}
		pos = j + 1
	}
}

func (l *lexer) run() error {
	src := l.src
	pos := 0
	for pos < len(src) {
		lineStarting := pos == 0 || src[pos-1] == '\n'
		start := nextTag(src, pos)
		if start < 0 {
			l.data(src[pos:], l.line(pos))
			return nil
		}
		text := src[pos:start]
		kind := src[start+1]
		sign := byte(0)
		if start+2 < len(src) && (src[start+2] == '-' || src[start+2] == '+') {
			sign = src[start+2]
		}
		switch {
		case sign == '-':
			text = strings.TrimRightFunc(text, isWS)
		case sign != '+' && kind != '{':
			text = lstrip(text, lineStarting)
		}
		l.data(text, l.line(pos))
		line := l.line(start)

		if kind == '%' {
			if m := reRawBegin.FindStringSubmatchIndex(src[start:]); m != nil {
				next, err := l.raw(start+m[1], src[start+m[4]:start+m[5]] == "-", line)
				if err != nil {
					return err
				}
				pos = next
				continue
			}
		}
		bodyStart := start + 2
		if sign != 0 {
			bodyStart++
		}
		if kind == '#' {
			end := strings.Index(src[bodyStart:], "#}")
			if end < 0 {
				return &syntaxError{line: line, msg: "missing end of comment tag"}
			}
			end += bodyStart
			endSign := byte(0)
			if end > bodyStart && (src[end-1] == '-' || src[end-1] == '+') {
				endSign = src[end-1]
			}
			pos = l.afterTag(end+2, endSign, true)
			continue
		}
		after, endSign, err := l.tag(bodyStart, kind, line)
		if err != nil {
			return err
		}
		pos = l.afterTag(after, endSign, kind == '%')
	}
	return nil
}

// afterTag applies the whitespace control that follows a tag: "-" strips
// all whitespace, trim_blocks drops one newline after blocks and comments.
func (l *lexer) afterTag(pos int, endSign byte, isBlock bool) int {
	switch {
	case endSign == '-':
		return skipWS(l.src, pos)
	case endSign != '+' && isBlock && strings.HasPrefix(l.src[pos:], "\n"):
		return pos + 1
	}
	return pos
}

// raw handles {% raw %}...{% endraw %}; afterBegin is just past the opening tag.
func (l *lexer) raw(afterBegin int, stripAfterBegin bool, line int) (int, error) {
	src := l.src
	contentStart := afterBegin
	if stripAfterBegin {
		contentStart = skipWS(src, afterBegin)
	}
	m := reRawEnd.FindStringSubmatchIndex(src[contentStart:])
	if m == nil {
		return 0, &syntaxError{line: line, msg: "missing end of raw directive"}
	}
	content := src[contentStart : contentStart+m[0]]
	beginSign := src[contentStart+m[2] : contentStart+m[3]]
	endSign := src[contentStart+m[4] : contentStart+m[5]]
	switch beginSign {
	case "-":
		content = strings.TrimRightFunc(content, isWS)
	case "+":
	default:
		starting := contentStart == 0 || src[contentStart-1] == '\n'
		content = lstrip(content, starting)
	}
	l.data(content, line)
	var sign byte
	if endSign != "" {
		sign = endSign[0]
	}
	return l.afterTag(contentStart+m[1], sign, true), nil
}

// tag lexes the inside of a {{ }} (kind '{') or {% %} (kind '%') tag that
// starts at pos. As in jinja2, the closing delimiter only counts outside
// brackets. It returns the position after the tag and the sign ('-' or
// '+') before its closing delimiter.
func (l *lexer) tag(pos int, kind byte, line int) (after int, endSign byte, err error) {
	src := l.src
	closer, begin, end, what := "%}", tBlockBegin, tBlockEnd, "statement block"
	if kind == '{' {
		closer, begin, end, what = "}}", tVarBegin, tVarEnd, "print statement"
	}
	l.emit(begin, "", line)
	startLine := line
	depth := 0
	for pos < len(src) {
		c := src[pos]
		if depth == 0 {
			if (c == '-' || (c == '+' && kind == '%')) && strings.HasPrefix(src[pos+1:], closer) {
				l.emit(end, "", line)
				return pos + 1 + len(closer), c, nil
			}
			if strings.HasPrefix(src[pos:], closer) {
				l.emit(end, "", line)
				return pos + len(closer), 0, nil
			}
		}
		r, size := utf8.DecodeRuneInString(src[pos:])
		switch {
		case pyIsSpace(r):
			if r == '\n' {
				line++
			}
			pos += size
		case c == '"' || c == '\'':
			stop, err := scanString(src, pos)
			if err != nil {
				return 0, 0, &syntaxError{line: line, msg: err.Error()}
			}
			val, err := unescapePy(src[pos+1:stop-1], &l.names)
			if err != nil {
				return 0, 0, &syntaxError{line: line, msg: err.Error()}
			}
			l.emit(tString, val, line)
			line += strings.Count(src[pos:stop], "\n")
			pos = stop
		case isDec(c):
			tok, n, err := lexNumber(src[pos:])
			if err != nil {
				return 0, 0, &syntaxError{line: line, msg: err.Error()}
			}
			tok.line = line
			l.toks = append(l.toks, tok)
			pos += n
		case c == '_' || unicode.IsLetter(r):
			j := pos + size
			for j < len(src) {
				r2, s2 := utf8.DecodeRuneInString(src[j:])
				if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j += s2
			}
			l.emit(tName, src[pos:j], line)
			pos = j
		default:
			op := ""
			for _, o := range operators2 {
				if strings.HasPrefix(src[pos:], o) {
					op = o
					break
				}
			}
			if op == "" && strings.IndexByte(operators1, c) >= 0 {
				op = src[pos : pos+1]
			}
			if op == "" {
				return 0, 0, &syntaxError{line: line, msg: fmt.Sprintf("unexpected char %q", r)}
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth = max(depth-1, 0)
			}
			l.emit(tOp, op, line)
			pos += len(op)
		}
	}
	return 0, 0, &syntaxError{line: startLine, msg: "unexpected end of template, missing end of " + what}
}
