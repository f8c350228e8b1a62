package chat

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

const templateName = "chat_template"

// compiler turns scanned tags into statements while gonja parses the block structure.
type compiler struct {
	tags      []tag
	loopDepth int
	names     int // \N{name} lookups left
}

// compile parses normalized template source into a gonja template.
func compile(src string) (*exec.Template, error) {
	sc, err := scan(src)
	if err != nil {
		return nil, err
	}
	c := &compiler{tags: sc.tags, names: maxNameLookups}
	set := exec.NewControlStructureSet(map[string]parser.ControlStructureParser{
		"__print":    c.parsePrint,
		"__data":     c.parseData,
		"if":         c.parseIf,
		"for":        c.parseFor,
		"set":        c.parseSet,
		"macro":      c.parseMacro,
		"call":       c.parseCall,
		"filter":     c.parseFilterBlock,
		"with":       c.parseWith,
		"block":      c.parseScope("block", "endblock"),
		"generation": c.parseScope("generation", "endgeneration"),
		"break":      c.parseLoopCtl(errBreak),
		"continue":   c.parseLoopCtl(errContinue),
	})
	env := &exec.Environment{
		Filters:           exec.NewFilterSet(map[string]exec.FilterFunction{}),
		Tests:             exec.NewTestSet(map[string]exec.TestFunction{}),
		ControlStructures: set,
		Context:           exec.EmptyContext(),
	}
	cfg := config.New()
	cfg.KeepTrailingNewline = true // newlines are already handled by the scanner
	tpl, err := exec.NewTemplate(templateName, cfg, sourceLoader(sc.src), env)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, se
		}
		msg := strings.Replace(err.Error(), "failed to parse template '"+sc.src+"': ", "", 1)
		return nil, &syntaxError{msg: msg}
	}
	return tpl, nil
}

// sourceLoader serves the one template; include/import/extends have nothing to load.
type sourceLoader string

func (l sourceLoader) Read(path string) (io.Reader, error) {
	if path != templateName {
		return nil, fmt.Errorf("no loader for %q", path)
	}
	return strings.NewReader(string(l)), nil
}
func (l sourceLoader) Resolve(path string) (string, error)    { return path, nil }
func (l sourceLoader) Inherit(string) (loaders.Loader, error) { return l, nil }

// tagOf returns the scanned tag a gonja tag stands for.
func (c *compiler) tagOf(args *parser.Parser) (*tag, error) {
	var ref *tokens.Token
	for !args.End() {
		if t := args.Next(); t.Type == tokens.Name && strings.HasPrefix(t.Val, "__t") {
			ref = t
		}
	}
	if ref == nil {
		return nil, errors.New("internal error: tag reference missing")
	}
	i, err := strconv.Atoi(ref.Val[3:])
	if err != nil || i < 0 || i >= len(c.tags) {
		return nil, errors.New("internal error: bad tag reference")
	}
	return &c.tags[i], nil
}

// endTag checks the closing tag of a block; names lists what may follow the tag name.
func (c *compiler) endTag(args *parser.Parser, names ...string) error {
	t, err := c.tagOf(args)
	if err != nil {
		return err
	}
	rest := strings.TrimSpace(t.args)
	for _, n := range names {
		if rest == n {
			return nil
		}
	}
	if rest != "" {
		return &syntaxError{line: t.line, msg: fmt.Sprintf("unexpected %q after '%s'", rest, t.name)}
	}
	return nil
}

func (c *compiler) body(p *parser.Parser, names ...string) (*nodes.Wrapper, *parser.Parser, error) {
	w, end, err := p.WrapUntil(names...)
	if err != nil {
		return nil, nil, err
	}
	return w, end, nil
}

func (c *compiler) parsePrint(_ *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	x, err := parseExprTag(t.args, t.line, true, &c.names)
	if err != nil {
		return nil, err
	}
	return &printStmt{stmtBase{t.line}, x}, nil
}

func (c *compiler) parseData(_ *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	return &dataStmt{stmtBase{t.line}, t.args}, nil
}

func (c *compiler) parseIf(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	s := &ifStmt{stmtBase: stmtBase{t.line}}
	cond, err := parseExprTag(t.args, t.line, false, &c.names)
	if err != nil {
		return nil, err
	}
	s.conds = append(s.conds, cond)
	for {
		w, end, err := c.body(p, "elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		s.bodies = append(s.bodies, w)
		switch w.EndTag {
		case "elif":
			et, err := c.tagOf(end)
			if err != nil {
				return nil, err
			}
			cond, err := parseExprTag(et.args, et.line, false, &c.names)
			if err != nil {
				return nil, err
			}
			s.conds = append(s.conds, cond)
		case "else":
			if err := c.endTag(end); err != nil {
				return nil, err
			}
			w, end, err := c.body(p, "endif")
			if err != nil {
				return nil, err
			}
			s.bodies = append(s.bodies, w)
			return s, c.endTag(end)
		default:
			return s, c.endTag(end)
		}
	}
}

func (c *compiler) parseFor(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	ep, err := newParser(t.args, t.line, &c.names)
	if err != nil {
		return nil, err
	}
	s := &forStmt{stmtBase: stmtBase{t.line}}
	if s.target, err = ep.parseTarget(true, false, false, []string{"in"}); err != nil {
		return nil, err
	}
	if !ep.skipName("in") {
		return nil, ep.fail("expected 'in', got %s", ep.cur())
	}
	if s.iter, err = ep.parseTuple(false, false, false, []string{"recursive"}); err != nil {
		return nil, err
	}
	if ep.skipName("if") {
		if s.cond, err = ep.parseExpression(true); err != nil {
			return nil, err
		}
	}
	s.recursive = ep.skipName("recursive")
	if err := ep.expectEnd(); err != nil {
		return nil, err
	}
	c.loopDepth++
	w, end, err := c.body(p, "else", "endfor")
	c.loopDepth--
	if err != nil {
		return nil, err
	}
	s.body = w
	if w.EndTag == "else" {
		if err := c.endTag(end); err != nil {
			return nil, err
		}
		if s.els, end, err = c.body(p, "endfor"); err != nil {
			return nil, err
		}
	}
	return s, c.endTag(end)
}

func (c *compiler) parseSet(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	ep, err := newParser(t.args, t.line, &c.names)
	if err != nil {
		return nil, err
	}
	s := &setStmt{stmtBase: stmtBase{t.line}}
	if s.target, err = ep.parseTarget(true, false, true, nil); err != nil {
		return nil, err
	}
	if ep.skipOp("=") {
		if s.x, err = ep.parseTuple(true, false, false, nil); err != nil {
			return nil, err
		}
		return s, ep.expectEnd()
	}
	var chain expr
	if chain, err = ep.parseFilter(nil, false); err != nil {
		return nil, err
	}
	for chain != nil {
		fe := chain.(*filterExpr)
		s.filters = append([]*filterExpr{fe}, s.filters...)
		chain = fe.obj
		fe.obj = nil
	}
	if err := ep.expectEnd(); err != nil {
		return nil, err
	}
	w, end, err := c.body(p, "endset")
	if err != nil {
		return nil, err
	}
	s.body = w
	return s, c.endTag(end)
}

// parseSignature parses "(a, b=default, ...)".
func parseSignature(ep *exprParser) ([]string, []expr, error) {
	var params []string
	var defs []expr
	if err := ep.expectOp("("); err != nil {
		return nil, nil, err
	}
	hasDefault := false
	for !ep.isOp(")") {
		if len(params) > 0 {
			if err := ep.expectOp(","); err != nil {
				return nil, nil, err
			}
		}
		name, err := ep.expectName()
		if err != nil {
			return nil, nil, err
		}
		var def expr
		if ep.skipOp("=") {
			if def, err = ep.parseExpression(true); err != nil {
				return nil, nil, err
			}
			hasDefault = true
		} else if hasDefault {
			return nil, nil, ep.fail("non-default argument follows default argument")
		}
		params = append(params, name.s)
		defs = append(defs, def)
	}
	ep.next()
	return params, defs, nil
}

// macroBody parses a macro or call body; loop controls do not cross it.
func (c *compiler) macroBody(p *parser.Parser, end string, d *macroDef) (*parser.Parser, error) {
	saved := c.loopDepth
	c.loopDepth = 0
	w, endArgs, err := c.body(p, end)
	c.loopDepth = saved
	if err != nil {
		return nil, err
	}
	d.body = w
	d.catchVarargs, d.catchKwargs, d.usesCaller = refersTo(w)
	return endArgs, nil
}

func (c *compiler) parseMacro(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	ep, err := newParser(t.args, t.line, &c.names)
	if err != nil {
		return nil, err
	}
	name, err := ep.expectName()
	if err != nil {
		return nil, err
	}
	d := &macroDef{name: name.s}
	if d.params, d.defaults, err = parseSignature(ep); err != nil {
		return nil, err
	}
	if err := ep.expectEnd(); err != nil {
		return nil, err
	}
	end, err := c.macroBody(p, "endmacro", d)
	if err != nil {
		return nil, err
	}
	return &macroStmt{stmtBase{t.line}, d}, c.endTag(end, d.name)
}

func (c *compiler) parseCall(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	ep, err := newParser(t.args, t.line, &c.names)
	if err != nil {
		return nil, err
	}
	d := &macroDef{name: "caller"}
	if ep.isOp("(") {
		if d.params, d.defaults, err = parseSignature(ep); err != nil {
			return nil, err
		}
	}
	x, err := ep.parseExpression(true)
	if err != nil {
		return nil, err
	}
	call, ok := x.(*callExpr)
	if !ok {
		return nil, &syntaxError{line: t.line, msg: "expected call"}
	}
	if err := ep.expectEnd(); err != nil {
		return nil, err
	}
	end, err := c.macroBody(p, "endcall", d)
	if err != nil {
		return nil, err
	}
	return &callStmt{stmtBase{t.line}, d, call}, c.endTag(end)
}

func (c *compiler) parseFilterBlock(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	ep, err := newParser(t.args, t.line, &c.names)
	if err != nil {
		return nil, err
	}
	chain, err := ep.parseFilter(nil, true)
	if err != nil {
		return nil, err
	}
	if err := ep.expectEnd(); err != nil {
		return nil, err
	}
	s := &filterStmt{stmtBase: stmtBase{t.line}}
	for chain != nil {
		fe := chain.(*filterExpr)
		s.filters = append([]*filterExpr{fe}, s.filters...)
		chain = fe.obj
		fe.obj = nil
	}
	w, end, err := c.body(p, "endfilter")
	if err != nil {
		return nil, err
	}
	s.body = w
	return s, c.endTag(end)
}

func (c *compiler) parseWith(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t, err := c.tagOf(args)
	if err != nil {
		return nil, err
	}
	ep, err := newParser(t.args, t.line, &c.names)
	if err != nil {
		return nil, err
	}
	s := &withStmt{stmtBase: stmtBase{t.line}}
	for ep.cur().kind != tEOF {
		if len(s.targets) > 0 {
			if err := ep.expectOp(","); err != nil {
				return nil, err
			}
		}
		tg, err := ep.parseTarget(true, false, false, nil)
		if err != nil {
			return nil, err
		}
		if err := ep.expectOp("="); err != nil {
			return nil, err
		}
		v, err := ep.parseExpression(true)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, tg)
		s.values = append(s.values, v)
	}
	w, end, err := c.body(p, "endwith")
	if err != nil {
		return nil, err
	}
	s.body = w
	return s, c.endTag(end)
}

func (c *compiler) parseScope(name, endName string) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		t, err := c.tagOf(args)
		if err != nil {
			return nil, err
		}
		blockName := ""
		if name == "block" {
			ep, err := newParser(t.args, t.line, &c.names)
			if err != nil {
				return nil, err
			}
			n, err := ep.expectName()
			if err != nil {
				return nil, err
			}
			blockName = n.s
			ep.skipName("scoped")
			ep.skipName("required")
			if err := ep.expectEnd(); err != nil {
				return nil, err
			}
		} else if strings.TrimSpace(t.args) != "" {
			return nil, &syntaxError{line: t.line, msg: fmt.Sprintf("'%s' takes no arguments", name)}
		}
		w, end, err := c.body(p, endName)
		if err != nil {
			return nil, err
		}
		if blockName != "" {
			return &scopeStmt{stmtBase{t.line}, w}, c.endTag(end, blockName)
		}
		return &scopeStmt{stmtBase{t.line}, w}, c.endTag(end)
	}
}

func (c *compiler) parseLoopCtl(sentinel error) parser.ControlStructureParser {
	return func(_ *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		t, err := c.tagOf(args)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(t.args) != "" {
			return nil, &syntaxError{line: t.line, msg: fmt.Sprintf("'%s' takes no arguments", t.name)}
		}
		if c.loopDepth == 0 {
			return nil, &syntaxError{line: t.line, msg: fmt.Sprintf("'%s' outside of a loop", t.name)}
		}
		return &loopCtlStmt{stmtBase{t.line}, sentinel}, nil
	}
}
