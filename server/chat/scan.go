package chat

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The scanner splits template source into text and tags the way jinja2's
// lexer does with HF's settings (trim_blocks, lstrip_blocks): it applies
// all whitespace control itself, drops comments, expands raw blocks, and
// checks block nesting. What gonja gets is the text plus one opaque
// `{% name __tN %}` tag per statement; tag N's body is parsed by our parser.

type tag struct {
	name string // statement name; "__print" for {{ }}, "__data" for literal text
	args string
	line int
}

type scanned struct {
	src  string // what gonja parses
	tags []tag
}

const (
	maxTemplateBytes = 1 << 20
	maxBlockDepth    = 100
)

// Statements with bodies, and the tags that may appear inside them.
var (
	blockEnds = map[string]string{
		"if": "endif", "for": "endfor", "macro": "endmacro", "call": "endcall", "filter": "endfilter",
		"with": "endwith", "block": "endblock", "generation": "endgeneration", "set": "endset",
	}
	middleTags = map[string][]string{"elif": {"if"}, "else": {"if", "for"}}
	simpleTags = map[string]bool{"break": true, "continue": true}
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

func lineAt(src string, pos int) int { return 1 + strings.Count(src[:pos], "\n") }

// line is lineAt for increasing positions, counting each newline once.
func (s *scanner) line(pos int) int {
	if pos < s.linePos {
		return lineAt(s.src, pos)
	}
	s.lineNo += strings.Count(s.src[s.linePos:pos], "\n")
	s.linePos = pos
	return s.lineNo
}

type scanner struct {
	src     string
	lineNo  int // line of linePos
	linePos int
	out     strings.Builder
	tags    []tag
	stack   []openBlock
}

type openBlock struct {
	name    string
	line    int
	sawElse bool
}

func scan(src string) (*scanned, error) {
	s := &scanner{src: src, lineNo: 1}
	if err := s.run(); err != nil {
		return nil, err
	}
	if n := len(s.stack); n > 0 {
		b := s.stack[n-1]
		return nil, &syntaxError{line: b.line, msg: fmt.Sprintf("unexpected end of template: '%s' is never closed (expected '%s')", b.name, blockEnds[b.name])}
	}
	return &scanned{src: s.out.String(), tags: s.tags}, nil
}

func (s *scanner) emitTag(t tag) {
	fmt.Fprintf(&s.out, "{%% %s __t%d %%}", t.name, len(s.tags))
	s.tags = append(s.tags, t)
}

// emitData passes text to gonja as-is unless gonja could misread it.
func (s *scanner) emitData(text string, line int) {
	if text == "" {
		return
	}
	if strings.HasSuffix(text, "{") || strings.Contains(text, "{{") || strings.Contains(text, "{%") || strings.Contains(text, "{#") {
		s.emitTag(tag{name: "__data", args: text, line: line})
		return
	}
	s.out.WriteString(text)
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

func (s *scanner) run() error {
	src := s.src
	pos := 0
	for pos < len(src) {
		lineStarting := pos == 0 || src[pos-1] == '\n'
		i := strings.Index(src[pos:], "{")
		for i >= 0 {
			j := pos + i
			if j+1 < len(src) && (src[j+1] == '{' || src[j+1] == '%' || src[j+1] == '#') {
				break
			}
			k := strings.Index(src[j+1:], "{")
			if k < 0 {
				i = -1
				break
			}
			i = j + 1 + k - pos
		}
		if i < 0 {
			s.emitData(src[pos:], s.line(pos))
			return nil
		}
		start := pos + i
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
		s.emitData(text, s.line(pos))
		line := s.line(start)

		if kind == '%' {
			if m := reRawBegin.FindStringSubmatchIndex(src[start:]); m != nil {
				next, err := s.raw(start, start+m[1], src[start+m[4]:start+m[5]] == "-", line)
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
			pos = s.afterTag(end+2, endSign, true)
			continue
		}
		body, endSign, after, err := scanTagBody(src, bodyStart, kind, line)
		if err != nil {
			return err
		}
		if kind == '{' {
			s.emitTag(tag{name: "__print", args: body, line: line})
			pos = s.afterTag(after, endSign, false)
			continue
		}
		if err := s.block(body, line); err != nil {
			return err
		}
		pos = s.afterTag(after, endSign, true)
	}
	return nil
}

// afterTag applies the whitespace control that follows a tag: "-" strips
// all whitespace, trim_blocks drops one newline after blocks and comments.
func (s *scanner) afterTag(pos int, endSign byte, isBlock bool) int {
	switch {
	case endSign == '-':
		return skipWS(s.src, pos)
	case endSign == '+' || !isBlock:
		return pos
	case pos < len(s.src) && s.src[pos] == '\n':
		return pos + 1
	}
	return pos
}

// raw handles {% raw %}...{% endraw %}; begin..afterBegin is the opening tag.
func (s *scanner) raw(begin, afterBegin int, stripAfterBegin bool, line int) (int, error) {
	src := s.src
	contentStart := afterBegin
	if stripAfterBegin {
		contentStart = skipWS(src, afterBegin)
	}
	m := reRawEnd.FindStringSubmatchIndex(src[contentStart:])
	if m == nil {
		return 0, &syntaxError{line: line, msg: "missing end of raw directive"}
	}
	endStart := contentStart + m[0]
	content := src[contentStart:endStart]
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
	if content != "" {
		s.emitTag(tag{name: "__data", args: content, line: line})
	}
	var sign byte
	if endSign != "" {
		sign = endSign[0]
	}
	return s.afterTag(contentStart+m[1], sign, true), nil
}

// scanTagBody finds the end of a {{ }} or {% %} tag, skipping string
// literals and bracketed parts the way jinja2's lexer does.
func scanTagBody(src string, from int, kind byte, line int) (body string, endSign byte, after int, err error) {
	closer := "%}"
	if kind == '{' {
		closer = "}}"
	}
	depth := 0
	for i := from; i < len(src); i++ {
		c := src[i]
		if c == '\'' || c == '"' {
			end, serr := scanString(src, i)
			if serr != nil {
				return "", 0, 0, &syntaxError{line: lineAt(src, i), msg: serr.Error()}
			}
			i = end - 1
			continue
		}
		if depth == 0 {
			if (c == '-' || (c == '+' && kind == '%')) && strings.HasPrefix(src[i+1:], closer) {
				return src[from:i], c, i + 1 + len(closer), nil
			}
			if strings.HasPrefix(src[i:], closer) {
				return src[from:i], 0, i + len(closer), nil
			}
		}
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
	}
	what := "statement block"
	if kind == '{' {
		what = "print statement"
	}
	return "", 0, 0, &syntaxError{line: line, msg: "unexpected end of template, missing end of " + what}
}

// block records a {% %} tag and checks nesting.
func (s *scanner) block(body string, line int) error {
	body = strings.TrimLeftFunc(body, isWS)
	n := 0
	for n < len(body) && (body[n] == '_' || body[n] >= 'a' && body[n] <= 'z' || body[n] >= 'A' && body[n] <= 'Z' || n > 0 && isDec(body[n])) {
		n++
	}
	if n == 0 {
		return &syntaxError{line: line, msg: "tag name expected"}
	}
	name, args := body[:n], body[n:]
	t := tag{name: name, args: args, line: line}
	switch {
	case blockEnds[name] != "":
		if name == "set" {
			isBlock, err := setIsBlock(args, line)
			if err != nil {
				return err
			}
			if !isBlock {
				break
			}
		}
		if len(s.stack) >= maxBlockDepth {
			return &syntaxError{line: line, msg: "blocks nested too deeply"}
		}
		s.stack = append(s.stack, openBlock{name: name, line: line})
	case middleTags[name] != nil:
		if len(s.stack) == 0 {
			return &syntaxError{line: line, msg: fmt.Sprintf("encountered unknown tag '%s'", name)}
		}
		top := &s.stack[len(s.stack)-1]
		ok := false
		for _, p := range middleTags[name] {
			ok = ok || top.name == p
		}
		if !ok || top.sawElse {
			return &syntaxError{line: line, msg: fmt.Sprintf("unexpected '%s' inside '%s'", name, top.name)}
		}
		top.sawElse = name == "else"
	case strings.HasPrefix(name, "end"):
		if len(s.stack) == 0 || blockEnds[s.stack[len(s.stack)-1].name] != name {
			expected := "no open block"
			if len(s.stack) > 0 {
				expected = "expected '" + blockEnds[s.stack[len(s.stack)-1].name] + "'"
			}
			return &syntaxError{line: line, msg: fmt.Sprintf("encountered unknown tag '%s' (%s)", name, expected)}
		}
		s.stack = s.stack[:len(s.stack)-1]
	case simpleTags[name]:
	default:
		return &syntaxError{line: line, msg: fmt.Sprintf("encountered unknown tag '%s'", name)}
	}
	s.emitTag(t)
	return nil
}

// setIsBlock reports whether a set tag is the block form (no top-level '=').
func setIsBlock(args string, line int) (bool, error) {
	toks, err := lexExpr(args, line, nil)
	if err != nil {
		return false, err
	}
	depth := 0
	for _, t := range toks {
		if t.kind != tOp {
			continue
		}
		switch t.s {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "=":
			if depth == 0 {
				return false, nil
			}
		}
	}
	return true, nil
}
