package chat

import (
	"fmt"
)

// Expression AST. The grammar and precedence follow jinja2's Parser:
// condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < ** < unary < postfix/filters.

type expr interface {
	eval(f *frame) (any, error)
}

type (
	constExpr struct{ v any }
	nameExpr  struct {
		name string
		line int
	}
	listExpr  struct{ items []expr }
	tupleExpr struct{ items []expr }
	dictExpr  struct{ keys, vals []expr }
	attrExpr  struct {
		obj  expr
		name string
		line int
	}
	itemExpr struct {
		obj, key expr
		line     int
	}
	sliceExpr struct {
		obj, start, stop, step expr // nil parts are omitted
		line                   int
	}
	callArgs struct {
		args     []expr
		kwNames  []string
		kwVals   []expr
		starArgs expr
		starKw   expr
	}
	callExpr struct {
		fn expr
		callArgs
		line int
	}
	filterExpr struct {
		obj  expr // nil inside {% filter %} and {% set x | f %}
		name string
		callArgs
		line int
	}
	testExpr struct {
		obj  expr
		name string
		callArgs
		line int
	}
	unaryExpr struct {
		op   string // "-", "+", "not"
		x    expr
		line int
	}
	binExpr struct {
		op   string // + - * / // % ** ~ and or
		l, r expr
		line int
	}
	compareExpr struct {
		first expr
		ops   []string // == != < <= > >= in notin
		rest  []expr
		line  int
	}
	condExpr struct {
		test, then, els expr // els nil: undefined
	}
)

// Assignment targets of for, set and with.
type target interface{ isTarget() }

type (
	nameTarget  struct{ name string }
	tupleTarget struct{ items []target }
	nsTarget    struct{ name, attr string }
)

func (nameTarget) isTarget()  {}
func (tupleTarget) isTarget() {}
func (nsTarget) isTarget()    {}

// maxExprDepth bounds parser recursion (about two levels per nested bracket).
const maxExprDepth = 200

type exprParser struct {
	toks  []token
	pos   int
	depth int
}

func newParser(src string, line int, names *int) (*exprParser, error) {
	toks, err := lexExpr(src, line, names)
	if err != nil {
		return nil, err
	}
	return &exprParser{toks: toks}, nil
}

func (p *exprParser) cur() token  { return p.toks[p.pos] }
func (p *exprParser) look() token { return p.toks[min(p.pos+1, len(p.toks)-1)] }

func (p *exprParser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

func (p *exprParser) isOp(s string) bool   { t := p.cur(); return t.kind == tOp && t.s == s }
func (p *exprParser) isName(s string) bool { t := p.cur(); return t.kind == tName && t.s == s }

func (p *exprParser) skipOp(s string) bool {
	if p.isOp(s) {
		p.next()
		return true
	}
	return false
}

func (p *exprParser) skipName(s string) bool {
	if p.isName(s) {
		p.next()
		return true
	}
	return false
}

func (p *exprParser) fail(format string, args ...any) error {
	return &syntaxError{line: p.cur().line, msg: fmt.Sprintf(format, args...)}
}

func (p *exprParser) expectOp(s string) error {
	if !p.skipOp(s) {
		return p.fail("expected token '%s', got %s", s, p.cur())
	}
	return nil
}

func (p *exprParser) expectName() (token, error) {
	t := p.cur()
	if t.kind != tName {
		return t, p.fail("expected token 'name', got %s", t)
	}
	p.next()
	return t, nil
}

func (p *exprParser) expectEnd() error {
	if p.cur().kind != tEOF {
		return p.fail("expected end of statement, got %s", p.cur())
	}
	return nil
}

func (p *exprParser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return p.fail("expression nested too deeply")
	}
	return nil
}

func (p *exprParser) leave() { p.depth-- }

func (p *exprParser) atTupleEnd(extraEnd []string) bool {
	t := p.cur()
	if t.kind == tEOF || (t.kind == tOp && t.s == ")") {
		return true
	}
	if t.kind == tName {
		for _, n := range extraEnd {
			if t.s == n {
				return true
			}
		}
	}
	return false
}

// parseTuple is jinja2's parse_tuple: comma separated expressions, a tuple
// when a comma is present.
func (p *exprParser) parseTuple(withCond, simplified, explicitParens bool, extraEnd []string) (expr, error) {
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		if p.atTupleEnd(extraEnd) {
			break
		}
		var e expr
		var err error
		switch {
		case simplified:
			e, err = p.parsePrimary()
		default:
			e, err = p.parseExpression(withCond)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, e)
		if p.isOp(",") {
			isTuple = true
		} else {
			break
		}
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0], nil
		}
		if !explicitParens {
			return nil, p.fail("expected an expression, got %s", p.cur())
		}
	}
	return &tupleExpr{items: items}, nil
}

func (p *exprParser) parseExpression(withCond bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if withCond {
		return p.parseCondExpr()
	}
	return p.parseOr()
}

func (p *exprParser) parseCondExpr() (expr, error) {
	e1, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	for p.skipName("if") {
		e2, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		var e3 expr
		if p.skipName("else") {
			if err := p.enter(); err != nil {
				return nil, err
			}
			e3, err = p.parseCondExpr()
			p.leave()
			if err != nil {
				return nil, err
			}
		}
		e1 = &condExpr{test: e2, then: e1, els: e3}
	}
	return e1, nil
}

func (p *exprParser) parseOr() (expr, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isName("or") {
		line := p.next().line
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: "or", l: l, r: r, line: line}
	}
	return l, nil
}

func (p *exprParser) parseAnd() (expr, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isName("and") {
		line := p.next().line
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: "and", l: l, r: r, line: line}
	}
	return l, nil
}

func (p *exprParser) parseNot() (expr, error) {
	if p.isName("not") {
		line := p.next().line
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{op: "not", x: x, line: line}, nil
	}
	return p.parseCompare()
}

var compareOps = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func (p *exprParser) parseCompare() (expr, error) {
	line := p.cur().line
	first, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	var ops []string
	var rest []expr
	for {
		t := p.cur()
		var op string
		switch {
		case t.kind == tOp && compareOps[t.s]:
			p.next()
			op = t.s
		case p.isName("in"):
			p.next()
			op = "in"
		case p.isName("not") && p.look().kind == tName && p.look().s == "in":
			p.next()
			p.next()
			op = "notin"
		}
		if op == "" {
			break
		}
		r, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		rest = append(rest, r)
	}
	if len(ops) == 0 {
		return first, nil
	}
	return &compareExpr{first: first, ops: ops, rest: rest, line: line}, nil
}

func (p *exprParser) parseBinary(ops []string, sub func() (expr, error)) (expr, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		t := p.cur()
		matched := ""
		if t.kind == tOp {
			for _, o := range ops {
				if t.s == o {
					matched = o
				}
			}
		}
		if matched == "" {
			return l, nil
		}
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: matched, l: l, r: r, line: t.line}
	}
}

func (p *exprParser) parseMath1() (expr, error) {
	return p.parseBinary([]string{"+", "-"}, p.parseConcat)
}

func (p *exprParser) parseConcat() (expr, error) {
	return p.parseBinary([]string{"~"}, p.parseMath2)
}

func (p *exprParser) parseMath2() (expr, error) {
	return p.parseBinary([]string{"*", "/", "//", "%"}, p.parsePow)
}

func (p *exprParser) parsePow() (expr, error) {
	return p.parseBinary([]string{"**"}, func() (expr, error) { return p.parseUnary(true) })
}

func (p *exprParser) parseUnary(withFilter bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	var node expr
	var err error
	t := p.cur()
	if t.kind == tOp && (t.s == "-" || t.s == "+") {
		p.next()
		x, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		node = &unaryExpr{op: t.s, x: x, line: t.line}
	} else if node, err = p.parsePrimary(); err != nil {
		return nil, err
	}
	if node, err = p.parsePostfix(node); err != nil {
		return nil, err
	}
	if withFilter {
		return p.parseFilterExpr(node)
	}
	return node, nil
}

func (p *exprParser) parsePrimary() (expr, error) {
	t := p.cur()
	switch t.kind {
	case tName:
		p.next()
		switch t.s {
		case "true", "True":
			return &constExpr{v: true}, nil
		case "false", "False":
			return &constExpr{v: false}, nil
		case "none", "None":
			return &constExpr{v: pyNone{}}, nil
		}
		return &nameExpr{name: t.s, line: t.line}, nil
	case tString:
		s := t.s
		p.next()
		for p.cur().kind == tString {
			s += p.next().s
		}
		return &constExpr{v: s}, nil
	case tInt:
		p.next()
		return &constExpr{v: t.i}, nil
	case tFloat:
		p.next()
		return &constExpr{v: t.f}, nil
	case tOp:
		switch t.s {
		case "(":
			p.next()
			e, err := p.parseTuple(true, false, true, nil)
			if err != nil {
				return nil, err
			}
			return e, p.expectOp(")")
		case "[":
			return p.parseList()
		case "{":
			return p.parseDict()
		}
	}
	return nil, p.fail("unexpected %s", t)
}

func (p *exprParser) parseList() (expr, error) {
	p.next()
	var items []expr
	for !p.isOp("]") {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("]") {
				break
			}
		}
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	p.next()
	return &listExpr{items: items}, nil
}

func (p *exprParser) parseDict() (expr, error) {
	p.next()
	d := &dictExpr{}
	for !p.isOp("}") {
		if len(d.keys) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp("}") {
				break
			}
		}
		k, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
	}
	p.next()
	return d, nil
}

func (p *exprParser) parsePostfix(node expr) (expr, error) {
	for {
		t := p.cur()
		if t.kind != tOp {
			return node, nil
		}
		var err error
		switch t.s {
		case ".", "[":
			node, err = p.parseSubscript(node)
		case "(":
			node, err = p.parseCall(node)
		default:
			return node, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *exprParser) parseFilterExpr(node expr) (expr, error) {
	for {
		var err error
		switch {
		case p.isOp("|"):
			node, err = p.parseFilter(node, false)
		case p.isName("is"):
			node, err = p.parseTest(node)
		case p.isOp("("):
			node, err = p.parseCall(node)
		default:
			return node, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *exprParser) parseSubscript(node expr) (expr, error) {
	t := p.next()
	if t.s == "." {
		a := p.next()
		switch a.kind {
		case tName:
			return &attrExpr{obj: node, name: a.s, line: a.line}, nil
		case tInt:
			return &itemExpr{obj: node, key: &constExpr{v: a.i}, line: a.line}, nil
		}
		return nil, p.fail("expected name or number after '.'")
	}
	var args []expr
	for !p.isOp("]") {
		if len(args) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		a, err := p.parseSubscribed(node, t.line)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.cur().kind == tEOF {
			return nil, p.fail("unexpected end of expression, expected ']'")
		}
	}
	p.next()
	if len(args) == 1 {
		if s, ok := args[0].(*sliceExpr); ok {
			s.obj = node
			return s, nil
		}
		return &itemExpr{obj: node, key: args[0], line: t.line}, nil
	}
	for _, a := range args {
		if _, ok := a.(*sliceExpr); ok {
			return nil, p.fail("extended slices are not supported")
		}
	}
	return &itemExpr{obj: node, key: &tupleExpr{items: args}, line: t.line}, nil
}

// parseSubscribed parses one subscript: an expression or a start:stop:step slice.
func (p *exprParser) parseSubscribed(obj expr, line int) (expr, error) {
	var parts [3]expr
	if !p.isOp(":") {
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return e, nil
		}
		parts[0] = e
	}
	p.next() // ':'
	if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		parts[1] = e
	}
	if p.skipOp(":") && !p.isOp("]") && !p.isOp(",") {
		e, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		parts[2] = e
	}
	return &sliceExpr{obj: obj, start: parts[0], stop: parts[1], step: parts[2], line: line}, nil
}

func (p *exprParser) parseCallArgs() (callArgs, error) {
	var ca callArgs
	open := p.cur()
	if err := p.expectOp("("); err != nil {
		return ca, err
	}
	bad := func() error {
		return &syntaxError{line: open.line, msg: "invalid syntax for function call expression"}
	}
	requireComma := false
	for !p.isOp(")") {
		if p.cur().kind == tEOF {
			return ca, p.fail("unexpected end of expression, expected ')'")
		}
		if requireComma {
			if err := p.expectOp(","); err != nil {
				return ca, err
			}
			if p.isOp(")") {
				break
			}
		}
		switch {
		case p.isOp("*"):
			if ca.starArgs != nil || ca.starKw != nil {
				return ca, bad()
			}
			p.next()
			e, err := p.parseExpression(true)
			if err != nil {
				return ca, err
			}
			ca.starArgs = e
		case p.isOp("**"):
			if ca.starKw != nil {
				return ca, bad()
			}
			p.next()
			e, err := p.parseExpression(true)
			if err != nil {
				return ca, err
			}
			ca.starKw = e
		case p.cur().kind == tName && p.look().kind == tOp && p.look().s == "=":
			if ca.starKw != nil {
				return ca, bad()
			}
			name := p.next().s
			p.next()
			e, err := p.parseExpression(true)
			if err != nil {
				return ca, err
			}
			ca.kwNames = append(ca.kwNames, name)
			ca.kwVals = append(ca.kwVals, e)
		default:
			if ca.starArgs != nil || ca.starKw != nil || len(ca.kwNames) > 0 {
				return ca, bad()
			}
			e, err := p.parseExpression(true)
			if err != nil {
				return ca, err
			}
			ca.args = append(ca.args, e)
		}
		requireComma = true
	}
	p.next()
	return ca, nil
}

func (p *exprParser) parseCall(fn expr) (expr, error) {
	line := p.cur().line
	ca, err := p.parseCallArgs()
	if err != nil {
		return nil, err
	}
	return &callExpr{fn: fn, callArgs: ca, line: line}, nil
}

func (p *exprParser) dottedName() (string, int, error) {
	t, err := p.expectName()
	if err != nil {
		return "", 0, err
	}
	name := t.s
	for p.skipOp(".") {
		n, err := p.expectName()
		if err != nil {
			return "", 0, err
		}
		name += "." + n.s
	}
	return name, t.line, nil
}

// parseFilter parses "| name(args)" links; startInline means the first link has no pipe.
func (p *exprParser) parseFilter(node expr, startInline bool) (expr, error) {
	for p.isOp("|") || startInline {
		if !startInline {
			p.next()
		}
		startInline = false
		name, line, err := p.dottedName()
		if err != nil {
			return nil, err
		}
		if _, ok := filters[name]; !ok {
			return nil, &syntaxError{line: line, msg: fmt.Sprintf("no filter named '%s'", name)}
		}
		f := &filterExpr{obj: node, name: name, line: line}
		if p.isOp("(") {
			if f.callArgs, err = p.parseCallArgs(); err != nil {
				return nil, err
			}
		}
		node = f
	}
	return node, nil
}

func (p *exprParser) parseTest(node expr) (expr, error) {
	isLine := p.next().line
	negated := p.skipName("not")
	name, line, err := p.dottedName()
	if err != nil {
		return nil, err
	}
	if _, ok := tests[name]; !ok {
		return nil, &syntaxError{line: line, msg: fmt.Sprintf("no test named '%s'", name)}
	}
	te := &testExpr{obj: node, name: name, line: line}
	t := p.cur()
	switch {
	case p.isOp("("):
		if te.callArgs, err = p.parseCallArgs(); err != nil {
			return nil, err
		}
	case (t.kind == tName || t.kind == tString || t.kind == tInt || t.kind == tFloat ||
		(t.kind == tOp && (t.s == "(" || t.s == "[" || t.s == "{"))) &&
		!p.isName("else") && !p.isName("or") && !p.isName("and"):
		if p.isName("is") {
			return nil, p.fail("you cannot chain multiple tests with is")
		}
		arg, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if arg, err = p.parsePostfix(arg); err != nil {
			return nil, err
		}
		te.args = []expr{arg}
	}
	if negated {
		return &unaryExpr{op: "not", x: te, line: isLine}, nil
	}
	return te, nil
}

// parseTarget is jinja2's parse_assign_target.
func (p *exprParser) parseTarget(withTuple, nameOnly, withNamespace bool, extraEnd []string) (target, error) {
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
	if withTuple {
		e, err = p.parseTuple(true, true, false, extraEnd)
	} else {
		e, err = p.parsePrimary()
	}
	if err != nil {
		return nil, err
	}
	return exprToTarget(e, p)
}

func exprToTarget(e expr, p *exprParser) (target, error) {
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

// parseExprTag parses a whole tag body as one expression (print, if, elif).
func parseExprTag(src string, line int, withCond bool, names *int) (expr, error) {
	p, err := newParser(src, line, names)
	if err != nil {
		return nil, err
	}
	e, err := p.parseTuple(withCond, false, false, nil)
	if err != nil {
		return nil, err
	}
	return e, p.expectEnd()
}
