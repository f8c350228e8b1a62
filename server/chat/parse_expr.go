package chat

import "fmt"

// Expression grammar, following jinja2's Parser; precedence from loosest:
// condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < ** < unary < postfix/filters.

func (p *parser) atTupleEnd(extraEnd []string) bool {
	t := p.cur()
	if p.atEnd() || (t.kind == tOp && t.s == ")") {
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
func (p *parser) parseTuple(withCond, simplified, explicitParens bool, extraEnd []string) (expr, error) {
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

func (p *parser) parseExpression(withCond bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if withCond {
		return p.parseCondExpr()
	}
	return p.parseOr()
}

func (p *parser) parseCondExpr() (expr, error) {
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

func (p *parser) parseOr() (expr, error) {
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

func (p *parser) parseAnd() (expr, error) {
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

func (p *parser) parseNot() (expr, error) {
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

func (p *parser) parseCompare() (expr, error) {
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

func (p *parser) parseBinary(ops []string, sub func() (expr, error)) (expr, error) {
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

func (p *parser) parseMath1() (expr, error) {
	return p.parseBinary([]string{"+", "-"}, p.parseConcat)
}

func (p *parser) parseConcat() (expr, error) {
	return p.parseBinary([]string{"~"}, p.parseMath2)
}

func (p *parser) parseMath2() (expr, error) {
	return p.parseBinary([]string{"*", "/", "//", "%"}, p.parsePow)
}

func (p *parser) parsePow() (expr, error) {
	return p.parseBinary([]string{"**"}, func() (expr, error) { return p.parseUnary(true) })
}

func (p *parser) parseUnary(withFilter bool) (expr, error) {
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

func (p *parser) parsePrimary() (expr, error) {
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
		if !p.inTarget {
			p.noteName(t.s)
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

func (p *parser) parseList() (expr, error) {
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

func (p *parser) parseDict() (expr, error) {
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

func (p *parser) parsePostfix(node expr) (expr, error) {
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

func (p *parser) parseFilterExpr(node expr) (expr, error) {
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

func (p *parser) parseSubscript(node expr) (expr, error) {
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
		if p.atEnd() {
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
func (p *parser) parseSubscribed(obj expr, line int) (expr, error) {
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

func (p *parser) parseCallArgs() (callArgs, error) {
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
		if p.atEnd() {
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

func (p *parser) parseCall(fn expr) (expr, error) {
	line := p.cur().line
	ca, err := p.parseCallArgs()
	if err != nil {
		return nil, err
	}
	return &callExpr{fn: fn, callArgs: ca, line: line}, nil
}

func (p *parser) dottedName() (string, int, error) {
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
func (p *parser) parseFilter(node expr, startInline bool) (expr, error) {
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

func (p *parser) parseTest(node expr) (expr, error) {
	isLine := p.next().line
	negated := p.skipName("not")
	name, line, err := p.dottedName()
	if err != nil {
		return nil, err
	}
	if _, ok := predicates[name]; !ok {
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
