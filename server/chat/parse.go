package chat

import (
	"fmt"
	"slices"
	"strings"
)

// The parser builds the AST from the lexer's token stream: this file
// parses the template structure and the statements, parse_expr.go the
// expressions inside tags.

const (
	maxBlockDepth = 100 // nested block tags
	maxExprDepth  = 200 // parser recursion inside a tag, about two levels per bracket
)

// Block tags and their closing tags.
var blockEnds = map[string]string{
	"if": "endif", "for": "endfor", "macro": "endmacro", "call": "endcall", "filter": "endfilter",
	"with": "endwith", "block": "endblock", "generation": "endgeneration", "set": "endset",
}

type parser struct {
	toks     []token
	pos      int
	depth    int         // expression nesting
	open     []openBlock // enclosing block tags, innermost last
	loops    int         // enclosing for loops; break/continue do not cross a macro body
	macros   []*macroDef // enclosing macro and call bodies
	inTarget bool        // parsing an assignment target, whose names are not reads
}

type openBlock struct {
	name string
	line int
}

// parse parses normalized template source.
func parse(src string) (body, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	b, _, err := p.parseBody()
	return b, err
}

func (p *parser) cur() token  { return p.toks[p.pos] }
func (p *parser) look() token { return p.toks[min(p.pos+1, len(p.toks)-1)] }

// atEnd reports whether the current tag has no tokens left.
func (p *parser) atEnd() bool {
	k := p.cur().kind
	return k == tBlockEnd || k == tVarEnd || k == tEOF
}

// next consumes a token; it never moves past the end of a tag.
func (p *parser) next() token {
	t := p.toks[p.pos]
	if !p.atEnd() {
		p.pos++
	}
	return t
}

func (p *parser) isOp(s string) bool   { t := p.cur(); return t.kind == tOp && t.s == s }
func (p *parser) isName(s string) bool { t := p.cur(); return t.kind == tName && t.s == s }

func (p *parser) skipOp(s string) bool {
	if p.isOp(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) skipName(s string) bool {
	if p.isName(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) fail(format string, args ...any) error {
	return &syntaxError{line: p.cur().line, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expectOp(s string) error {
	if !p.skipOp(s) {
		return p.fail("expected token '%s', got %s", s, p.cur())
	}
	return nil
}

func (p *parser) expectName() (token, error) {
	t := p.cur()
	if t.kind != tName {
		return t, p.fail("expected token 'name', got %s", t)
	}
	p.next()
	return t, nil
}

// expectEnd consumes the end of the current tag.
func (p *parser) expectEnd() error {
	if k := p.cur().kind; k != tBlockEnd && k != tVarEnd {
		return p.fail("expected end of statement, got %s", p.cur())
	}
	p.pos++
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return p.fail("expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// noteName records a read of name in every enclosing macro body: jinja2
// passes varargs, kwargs and caller only to macros that read them.
func (p *parser) noteName(name string) {
	for _, d := range p.macros {
		switch name {
		case "varargs":
			d.catchVarargs = true
		case "kwargs":
			d.catchKwargs = true
		case "caller":
			d.usesCaller = true
		}
	}
}

// parseBody parses statements up to the end of the template or a block
// tag named in ends, whose name it consumes and returns.
func (p *parser) parseBody(ends ...string) (body, string, error) {
	var b body
	for {
		t := p.cur()
		switch t.kind {
		case tEOF:
			if len(ends) > 0 {
				o := p.open[len(p.open)-1]
				return nil, "", &syntaxError{line: o.line, msg: fmt.Sprintf("unexpected end of template: '%s' is never closed (expected '%s')", o.name, blockEnds[o.name])}
			}
			return b, "", nil
		case tData:
			p.pos++
			b = append(b, &textStmt{t.s})
		case tVarBegin:
			p.pos++
			x, err := p.parseTuple(true, false, false, nil)
			if err != nil {
				return nil, "", err
			}
			if err := p.expectEnd(); err != nil {
				return nil, "", err
			}
			b = append(b, &printStmt{x, t.line})
		case tBlockBegin:
			p.pos++
			name := p.cur()
			if name.kind != tName {
				return nil, "", &syntaxError{line: t.line, msg: "tag name expected"}
			}
			p.next()
			if slices.Contains(ends, name.s) {
				return b, name.s, nil
			}
			s, err := p.parseStatement(name.s, t.line)
			if err != nil {
				return nil, "", err
			}
			b = append(b, s)
		default:
			return nil, "", p.fail("unexpected %s", t)
		}
	}
}

func (p *parser) parseStatement(name string, line int) (stmt, error) {
	switch name {
	case "if":
		return p.parseIf(line)
	case "for":
		return p.parseFor(line)
	case "set":
		return p.parseSet(line)
	case "macro":
		return p.parseMacro(line)
	case "call":
		return p.parseCallBlock(line)
	case "filter":
		return p.parseFilterBlock(line)
	case "with":
		return p.parseWith(line)
	case "block", "generation":
		return p.parseScope(name, line)
	case "break", "continue":
		return p.parseLoopCtl(name, line)
	}
	top := ""
	if n := len(p.open); n > 0 {
		top = p.open[n-1].name
	}
	msg := fmt.Sprintf("encountered unknown tag '%s'", name)
	switch {
	case (name == "elif" || name == "else") && top != "":
		msg = fmt.Sprintf("unexpected '%s' inside '%s'", name, top)
	case strings.HasPrefix(name, "end") && top != "":
		msg += fmt.Sprintf(" (expected '%s')", blockEnds[top])
	case strings.HasPrefix(name, "end"):
		msg += " (no open block)"
	}
	return nil, &syntaxError{line: line, msg: msg}
}

// block parses the body of a block tag up to one of ends.
func (p *parser) block(name string, line int, ends ...string) (body, string, error) {
	if len(p.open) >= maxBlockDepth {
		return nil, "", &syntaxError{line: line, msg: "blocks nested too deeply"}
	}
	p.open = append(p.open, openBlock{name, line})
	b, end, err := p.parseBody(ends...)
	p.open = p.open[:len(p.open)-1]
	return b, end, err
}

// endTag finishes a closing tag (or else), which may repeat the name allowed.
func (p *parser) endTag(tag, allowed string) error {
	if allowed != "" && p.isName(allowed) {
		p.next()
	}
	if !p.atEnd() {
		return p.fail("unexpected %s after '%s'", p.cur(), tag)
	}
	return p.expectEnd()
}

func (p *parser) parseIf(line int) (stmt, error) {
	s := &ifStmt{line: line}
	end := "elif"
	for end == "elif" {
		cond, err := p.parseTuple(false, false, false, nil)
		if err != nil {
			return nil, err
		}
		if err := p.expectEnd(); err != nil {
			return nil, err
		}
		s.conds = append(s.conds, cond)
		var b body
		if b, end, err = p.block("if", line, "elif", "else", "endif"); err != nil {
			return nil, err
		}
		s.bodies = append(s.bodies, b)
	}
	if end == "else" {
		if err := p.endTag("else", ""); err != nil {
			return nil, err
		}
		b, _, err := p.block("if", line, "endif")
		if err != nil {
			return nil, err
		}
		s.bodies = append(s.bodies, b)
	}
	return s, p.endTag("endif", "")
}

func (p *parser) parseFor(line int) (stmt, error) {
	s := &forStmt{line: line}
	var err error
	if s.target, err = p.parseTarget(true, false, false, []string{"in"}); err != nil {
		return nil, err
	}
	if !p.skipName("in") {
		return nil, p.fail("expected 'in', got %s", p.cur())
	}
	if s.iter, err = p.parseTuple(false, false, false, []string{"recursive"}); err != nil {
		return nil, err
	}
	if p.skipName("if") {
		if s.cond, err = p.parseExpression(true); err != nil {
			return nil, err
		}
	}
	s.recursive = p.skipName("recursive")
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	p.loops++
	b, end, err := p.block("for", line, "else", "endfor")
	p.loops--
	if err != nil {
		return nil, err
	}
	s.body = b
	if end == "else" {
		if err := p.endTag("else", ""); err != nil {
			return nil, err
		}
		if s.els, _, err = p.block("for", line, "endfor"); err != nil {
			return nil, err
		}
	}
	return s, p.endTag("endfor", "")
}

// parseTarget is jinja2's parse_assign_target.
func (p *parser) parseTarget(withTuple, nameOnly, withNamespace bool, extraEnd []string) (target, error) {
	if nameOnly {
		t, err := p.expectName()
		if err != nil {
			return nil, err
		}
		return nameTarget{t.s}, nil
	}
	if withNamespace && p.cur().kind == tName && p.look().kind == tOp && p.look().s == "." {
		n := p.next()
		p.next()
		a, err := p.expectName()
		if err != nil {
			return nil, err
		}
		return nsTarget{name: n.s, attr: a.s}, nil
	}
	var e expr
	var err error
	p.inTarget = true
	if withTuple {
		e, err = p.parseTuple(true, true, false, extraEnd)
	} else {
		e, err = p.parsePrimary()
	}
	p.inTarget = false
	if err != nil {
		return nil, err
	}
	return exprToTarget(e, p)
}

func exprToTarget(e expr, p *parser) (target, error) {
	switch x := e.(type) {
	case *nameExpr:
		switch x.name {
		case "true", "false", "none", "True", "False", "None":
		default:
			return nameTarget{x.name}, nil
		}
	case *tupleExpr:
		t := tupleTarget{}
		for _, it := range x.items {
			sub, err := exprToTarget(it, p)
			if err != nil {
				return nil, err
			}
			t.items = append(t.items, sub)
		}
		return t, nil
	}
	return nil, p.fail("can't assign to this expression")
}

// filterChain unlinks a parsed "f | g(x)" chain into [f, g(x)].
func filterChain(chain expr) []*filterExpr {
	var out []*filterExpr
	for chain != nil {
		fe := chain.(*filterExpr)
		out = append([]*filterExpr{fe}, out...)
		chain, fe.obj = fe.obj, nil
	}
	return out
}

func (p *parser) parseSet(line int) (stmt, error) {
	s := &setStmt{line: line}
	var err error
	if s.target, err = p.parseTarget(true, false, true, nil); err != nil {
		return nil, err
	}
	if p.skipOp("=") {
		if s.x, err = p.parseTuple(true, false, false, nil); err != nil {
			return nil, err
		}
		return s, p.expectEnd()
	}
	chain, err := p.parseFilter(nil, false)
	if err != nil {
		return nil, err
	}
	s.filters = filterChain(chain)
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	if s.body, _, err = p.block("set", line, "endset"); err != nil {
		return nil, err
	}
	return s, p.endTag("endset", "")
}

// parseSignature parses "(a, b=default, ...)".
func (p *parser) parseSignature() ([]string, []expr, error) {
	var params []string
	var defs []expr
	if err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	hasDefault := false
	for !p.isOp(")") {
		if len(params) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, nil, err
			}
		}
		name, err := p.expectName()
		if err != nil {
			return nil, nil, err
		}
		var def expr
		if p.skipOp("=") {
			if def, err = p.parseExpression(true); err != nil {
				return nil, nil, err
			}
			hasDefault = true
		} else if hasDefault {
			return nil, nil, p.fail("non-default argument follows default argument")
		}
		params = append(params, name.s)
		defs = append(defs, def)
	}
	p.next()
	return params, defs, nil
}

// macroBody parses a macro or call body; loop controls do not cross it.
func (p *parser) macroBody(d *macroDef, tag string, line int) error {
	saved := p.loops
	p.loops = 0
	p.macros = append(p.macros, d)
	b, _, err := p.block(tag, line, blockEnds[tag])
	p.macros = p.macros[:len(p.macros)-1]
	p.loops = saved
	d.body = b
	return err
}

func (p *parser) parseMacro(line int) (stmt, error) {
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	d := &macroDef{name: name.s}
	if d.params, d.defaults, err = p.parseSignature(); err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	if err := p.macroBody(d, "macro", line); err != nil {
		return nil, err
	}
	return &macroStmt{d}, p.endTag("endmacro", d.name)
}

func (p *parser) parseCallBlock(line int) (stmt, error) {
	d := &macroDef{name: "caller"}
	var err error
	if p.isOp("(") {
		if d.params, d.defaults, err = p.parseSignature(); err != nil {
			return nil, err
		}
	}
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	call, ok := x.(*callExpr)
	if !ok {
		return nil, &syntaxError{line: line, msg: "expected call"}
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	if err := p.macroBody(d, "call", line); err != nil {
		return nil, err
	}
	return &callStmt{d, call, line}, p.endTag("endcall", "")
}

func (p *parser) parseFilterBlock(line int) (stmt, error) {
	chain, err := p.parseFilter(nil, true)
	if err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	s := &filterStmt{filters: filterChain(chain), line: line}
	if s.body, _, err = p.block("filter", line, "endfilter"); err != nil {
		return nil, err
	}
	return s, p.endTag("endfilter", "")
}

func (p *parser) parseWith(line int) (stmt, error) {
	s := &withStmt{line: line}
	for !p.atEnd() {
		if len(s.targets) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		tg, err := p.parseTarget(true, false, false, nil)
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		v, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, tg)
		s.values = append(s.values, v)
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	var err error
	if s.body, _, err = p.block("with", line, "endwith"); err != nil {
		return nil, err
	}
	return s, p.endTag("endwith", "")
}

// parseScope parses {% block name %} and {% generation %}.
func (p *parser) parseScope(tag string, line int) (stmt, error) {
	blockName := ""
	if tag == "block" {
		n, err := p.expectName()
		if err != nil {
			return nil, err
		}
		blockName = n.s
		p.skipName("scoped")
		p.skipName("required")
	} else if !p.atEnd() {
		return nil, &syntaxError{line: line, msg: fmt.Sprintf("'%s' takes no arguments", tag)}
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	b, _, err := p.block(tag, line, blockEnds[tag])
	if err != nil {
		return nil, err
	}
	return &scopeStmt{b}, p.endTag(blockEnds[tag], blockName)
}

func (p *parser) parseLoopCtl(tag string, line int) (stmt, error) {
	if !p.atEnd() {
		return nil, &syntaxError{line: line, msg: fmt.Sprintf("'%s' takes no arguments", tag)}
	}
	if p.loops == 0 {
		return nil, &syntaxError{line: line, msg: fmt.Sprintf("'%s' outside of a loop", tag)}
	}
	s := &loopCtlStmt{errBreak}
	if tag == "continue" {
		s.err = errContinue
	}
	return s, p.expectEnd()
}
