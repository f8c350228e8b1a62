package chat

import (
	"errors"
	"fmt"
	"io"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Statements are gonja control structures; gonja parses the block
// structure and walks the tree, the statements evaluate our expressions.

type stmt interface {
	exec.ControlStructure
	walk(visit func(expr), visitBody func(*nodes.Wrapper))
}

type stmtBase struct{ line int }

func (s stmtBase) Position() *tokens.Token { return &tokens.Token{Line: s.line} }
func (s stmtBase) String() string          { return fmt.Sprintf("statement at line %d", s.line) }

var (
	errBreak    = errors.New("break outside of a loop")
	errContinue = errors.New("continue outside of a loop")
)

// child is r with a new inner scope (a lighter exec.Renderer.Inherit).
func child(r *exec.Renderer) *exec.Renderer {
	env := *r.Environment
	env.Context = r.Environment.Context.Inherit()
	sub := *r
	sub.Environment = &env
	return &sub
}

// frameOf finds the render state through the output buffer (every output
// of a render is a boundedBuffer), falling back to the root scope.
func frameOf(r *exec.Renderer) *frame {
	if b, ok := r.Output.(*boundedBuffer); ok {
		return &frame{st: b.st, scope: r.Environment.Context}
	}
	v, _ := r.Environment.Context.Get(stateKey)
	return &frame{st: v.(*renderState), scope: r.Environment.Context}
}

// capture renders body in a new scope into a bounded buffer.
func capture(r *exec.Renderer, st *renderState, body *nodes.Wrapper, setup func(*exec.Context) error) (string, error) {
	sub := child(r)
	buf := st.newBuffer()
	sub.Output = buf
	if setup != nil {
		if err := setup(sub.Environment.Context); err != nil {
			return "", err
		}
	}
	if err := nodes.Walk(sub, body); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func writeValue(r *exec.Renderer, v any) error {
	limit := maxReprBytes
	if b, ok := r.Output.(*boundedBuffer); ok {
		limit = b.st.lim.MaxOutputBytes
	}
	s, err := toStrLimit(v, limit)
	if err != nil {
		return err
	}
	_, err = io.WriteString(r.Output, s)
	return err
}

type dataStmt struct {
	stmtBase
	text string
}

func (s *dataStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	_, err := io.WriteString(r.Output, s.text)
	return err
}
func (s *dataStmt) walk(func(expr), func(*nodes.Wrapper)) {}

type printStmt struct {
	stmtBase
	x expr
}

func (s *printStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	v, err := s.x.eval(frameOf(r))
	if err != nil {
		return withLine(err, s.line)
	}
	return withLine(writeValue(r, v), s.line)
}
func (s *printStmt) walk(visit func(expr), _ func(*nodes.Wrapper)) { visit(s.x) }

type ifStmt struct {
	stmtBase
	conds  []expr
	bodies []*nodes.Wrapper // len(conds), plus one for else
}

func (s *ifStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	f := frameOf(r)
	for i, c := range s.conds {
		v, err := c.eval(f)
		if err != nil {
			return withLine(err, s.line)
		}
		if truthy(v) {
			return nodes.Walk(r, s.bodies[i]) // if has no scope of its own
		}
	}
	if len(s.bodies) > len(s.conds) {
		return nodes.Walk(r, s.bodies[len(s.conds)])
	}
	return nil
}

func (s *ifStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	for _, c := range s.conds {
		visit(c)
	}
	for _, b := range s.bodies {
		body(b)
	}
}

type forStmt struct {
	stmtBase
	target    target
	iter      expr
	cond      expr
	recursive bool
	body, els *nodes.Wrapper
}

func (s *forStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	f := frameOf(r)
	v, err := s.iter.eval(f)
	if err != nil {
		return withLine(err, s.line)
	}
	items, err := iterate(v)
	if err != nil {
		return withLine(err, s.line)
	}
	return s.run(r, f.st, items, 1)
}

func (s *forStmt) run(r *exec.Renderer, st *renderState, items []any, depth int) error {
	if s.cond != nil {
		var kept []any
		for _, it := range items {
			if err := st.step(); err != nil {
				return err
			}
			scope := r.Environment.Context.Inherit()
			if err := assign(&frame{st: st, scope: scope}, s.target, it); err != nil {
				return withLine(err, s.line)
			}
			ok, err := s.cond.eval(&frame{st: st, scope: scope})
			if err != nil {
				return withLine(err, s.line)
			}
			if truthy(ok) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		if s.els != nil {
			return nodes.Walk(child(r), s.els)
		}
		return nil
	}
	loop := &loopState{items: items, depth: depth}
	if s.recursive {
		loop.recurse = func(v any) (any, error) {
			sub, err := iterate(v)
			if err != nil {
				return nil, err
			}
			inner := child(r)
			buf := st.newBuffer()
			inner.Output = buf
			if err := s.run(inner, st, sub, depth+1); err != nil {
				return nil, err
			}
			return buf.String(), nil
		}
	}
	for i, it := range items {
		if err := st.step(); err != nil {
			return err
		}
		loop.index = i
		sub := child(r)
		f := &frame{st: st, scope: sub.Environment.Context}
		if err := assign(f, s.target, it); err != nil {
			return withLine(err, s.line)
		}
		sub.Environment.Context.Set("loop", loop)
		err := nodes.Walk(sub, s.body)
		switch {
		case err == nil:
		case errors.Is(err, errBreak):
			return nil
		case errors.Is(err, errContinue):
		default:
			return err
		}
	}
	return nil
}

func (s *forStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	visit(s.iter)
	if s.cond != nil {
		visit(s.cond)
	}
	body(s.body)
	if s.els != nil {
		body(s.els)
	}
}

// assign binds a for/set/with target.
func assign(f *frame, t target, v any) error {
	switch x := t.(type) {
	case nameTarget:
		f.scope.Set(x.name, v)
	case tupleTarget:
		items, err := iterate(v)
		if err != nil {
			return typeErrorf("cannot unpack non-iterable %s object", typeName(v))
		}
		if len(items) < len(x.items) {
			return valueErrorf("not enough values to unpack (expected %d, got %d)", len(x.items), len(items))
		}
		if len(items) > len(x.items) {
			return valueErrorf("too many values to unpack (expected %d)", len(x.items))
		}
		for i, sub := range x.items {
			if err := assign(f, sub, items[i]); err != nil {
				return err
			}
		}
	case nsTarget:
		ns, ok := f.lookup(x.name).(*namespace)
		if !ok {
			return &evalError{kind: "TemplateRuntimeError", msg: "cannot assign attribute on non-namespace object"}
		}
		return ns.attrs.Set(x.attr, v)
	}
	return nil
}

type setStmt struct {
	stmtBase
	target  target
	x       expr           // expression form
	body    *nodes.Wrapper // block form
	filters []*filterExpr  // block form: {% set x | f %}
}

func (s *setStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	f := frameOf(r)
	var v any
	var err error
	if s.body == nil {
		v, err = s.x.eval(f)
	} else {
		v, err = capture(r, f.st, s.body, nil)
		for _, fe := range s.filters {
			if err != nil {
				break
			}
			v, err = fe.apply(f, v)
		}
	}
	if err != nil {
		return withLine(err, s.line)
	}
	return withLine(assign(f, s.target, v), s.line)
}

func (s *setStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	if s.x != nil {
		visit(s.x)
	}
	for _, fe := range s.filters {
		visit(fe)
	}
	if s.body != nil {
		body(s.body)
	}
}

// macroDef is a {% macro %} or the body of a {% call %} block.
type macroDef struct {
	name         string
	params       []string
	defaults     []expr // nil: no default
	body         *nodes.Wrapper
	catchVarargs bool
	catchKwargs  bool
	usesCaller   bool
}

type macro struct {
	def     *macroDef
	name    string
	closure *exec.Renderer
}

func (m *macro) call(f *frame, args []any, kw []kwarg) (any, error) {
	d := m.def
	st := f.st
	if err := st.enter(); err != nil {
		return nil, err
	}
	defer st.leave()
	if len(args) > len(d.params) && !d.catchVarargs {
		return nil, typeErrorf("macro '%s' takes not more than %d argument(s)", d.name, len(d.params))
	}
	rest := append([]kwarg(nil), kw...)
	take := func(name string) (any, bool) {
		for i, k := range rest {
			if k.name == name {
				rest = append(rest[:i], rest[i+1:]...)
				return k.val, true
			}
		}
		return nil, false
	}
	return capture(m.closure, st, d.body, func(scope *exec.Context) error {
		mf := &frame{st: st, scope: scope}
		for i, p := range d.params {
			var v any
			if i < len(args) {
				v = args[i]
			} else if kv, ok := take(p); ok {
				v = kv
			} else if d.defaults[i] != nil {
				var err error
				if v, err = d.defaults[i].eval(mf); err != nil {
					return err
				}
			} else {
				v = undefined{msg: fmt.Sprintf("parameter '%s' was not provided", p)}
			}
			scope.Set(p, v)
		}
		if d.usesCaller {
			c, ok := take("caller")
			if !ok {
				c = undefined{msg: "No caller defined"}
			}
			scope.Set("caller", c)
		}
		if d.catchKwargs {
			kd := newDict(len(rest))
			for _, k := range rest {
				_ = kd.Set(k.name, k.val)
			}
			scope.Set("kwargs", kd)
		} else if len(rest) > 0 {
			if rest[0].name == "caller" {
				return typeErrorf("macro '%s' was invoked with two values for the special caller argument", d.name)
			}
			return typeErrorf("macro '%s' takes no keyword argument '%s'", d.name, rest[0].name)
		}
		if d.catchVarargs {
			extra := tuple{}
			if len(args) > len(d.params) {
				extra = append(extra, args[len(d.params):]...)
			}
			scope.Set("varargs", extra)
		}
		return nil
	})
}

type macroStmt struct {
	stmtBase
	def *macroDef
}

func (s *macroStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	r.Environment.Context.Set(s.def.name, &macro{def: s.def, name: s.def.name, closure: r})
	return nil
}

func (s *macroStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	for _, d := range s.def.defaults {
		if d != nil {
			visit(d)
		}
	}
	body(s.def.body)
}

type callStmt struct {
	stmtBase
	caller *macroDef
	call   *callExpr
}

func (s *callStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	f := frameOf(r)
	fn, err := s.call.fn.eval(f)
	if err != nil {
		return withLine(err, s.line)
	}
	args, kw, err := s.call.evalArgs(f)
	if err != nil {
		return withLine(err, s.line)
	}
	kw = append(kw, kwarg{"caller", &macro{def: s.caller, name: "caller", closure: r}})
	v, err := callValue(f, fn, args, kw)
	if err != nil {
		return withLine(err, s.line)
	}
	return writeValue(r, v)
}

func (s *callStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	visit(s.call)
	for _, d := range s.caller.defaults {
		if d != nil {
			visit(d)
		}
	}
	body(s.caller.body)
}

type filterStmt struct {
	stmtBase
	filters []*filterExpr
	body    *nodes.Wrapper
}

func (s *filterStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	f := frameOf(r)
	text, err := capture(r, f.st, s.body, nil)
	if err != nil {
		return err
	}
	var v any = text
	for _, fe := range s.filters {
		if v, err = fe.apply(f, v); err != nil {
			return withLine(err, s.line)
		}
	}
	return writeValue(r, v)
}

func (s *filterStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	for _, fe := range s.filters {
		visit(fe)
	}
	body(s.body)
}

type withStmt struct {
	stmtBase
	targets []target
	values  []expr
	body    *nodes.Wrapper
}

func (s *withStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	f := frameOf(r)
	vals := make([]any, len(s.values))
	for i, x := range s.values {
		v, err := x.eval(f)
		if err != nil {
			return withLine(err, s.line)
		}
		vals[i] = v
	}
	sub := child(r)
	sf := &frame{st: f.st, scope: sub.Environment.Context}
	for i, t := range s.targets {
		if err := assign(sf, t, vals[i]); err != nil {
			return withLine(err, s.line)
		}
	}
	return nodes.Walk(sub, s.body)
}

func (s *withStmt) walk(visit func(expr), body func(*nodes.Wrapper)) {
	for _, x := range s.values {
		visit(x)
	}
	body(s.body)
}

// scopeStmt runs its body in a new scope: {% block %} and HF's {% generation %}.
type scopeStmt struct {
	stmtBase
	body *nodes.Wrapper
}

func (s *scopeStmt) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	return nodes.Walk(child(r), s.body)
}
func (s *scopeStmt) walk(_ func(expr), body func(*nodes.Wrapper)) { body(s.body) }

type loopCtlStmt struct {
	stmtBase
	err error
}

func (s *loopCtlStmt) Execute(*exec.Renderer, *nodes.ControlStructureBlock) error { return s.err }
func (s *loopCtlStmt) walk(func(expr), func(*nodes.Wrapper))                      {}

// loopState is the `loop` variable of a for loop.
type loopState struct {
	items       []any
	index       int
	depth       int
	lastChanged []any
	changedSet  bool
	recurse     func(items any) (any, error)
}

func (l *loopState) attr(name string) any {
	n := len(l.items)
	switch name {
	case "index":
		return l.index + 1
	case "index0":
		return l.index
	case "revindex":
		return n - l.index
	case "revindex0":
		return n - l.index - 1
	case "first":
		return l.index == 0
	case "last":
		return l.index == n-1
	case "length":
		return n
	case "depth":
		return l.depth
	case "depth0":
		return l.depth - 1
	case "previtem":
		if l.index == 0 {
			return undefined{msg: "there is no previous item"}
		}
		return l.items[l.index-1]
	case "nextitem":
		if l.index == n-1 {
			return undefined{msg: "there is no next item"}
		}
		return l.items[l.index+1]
	case "cycle", "changed":
		return &boundMethod{recv: l, name: name}
	}
	return undefined{msg: fmt.Sprintf("'LoopContext object' has no attribute '%s'", name)}
}

func (l *loopState) call(name string, args []any, kw []kwarg) (any, error) {
	if len(kw) > 0 {
		return nil, typeErrorf("%s() takes no keyword arguments", name)
	}
	if name == "cycle" {
		if len(args) == 0 {
			return nil, typeErrorf("no items for cycling given")
		}
		return args[l.index%len(args)], nil
	}
	if !l.changedSet || !equalSeq(l.lastChanged, args, 0) {
		l.lastChanged, l.changedSet = args, true
		return true, nil
	}
	return false, nil
}

// walkExpr visits e and every sub-expression.
func walkExpr(e expr, visit func(expr)) {
	if e == nil {
		return
	}
	visit(e)
	each := func(xs []expr) {
		for _, x := range xs {
			walkExpr(x, visit)
		}
	}
	args := func(ca *callArgs) {
		each(ca.args)
		each(ca.kwVals)
		walkExpr(ca.starArgs, visit)
		walkExpr(ca.starKw, visit)
	}
	switch x := e.(type) {
	case *listExpr:
		each(x.items)
	case *tupleExpr:
		each(x.items)
	case *dictExpr:
		each(x.keys)
		each(x.vals)
	case *attrExpr:
		walkExpr(x.obj, visit)
	case *itemExpr:
		walkExpr(x.obj, visit)
		walkExpr(x.key, visit)
	case *sliceExpr:
		each([]expr{x.obj, x.start, x.stop, x.step})
	case *callExpr:
		walkExpr(x.fn, visit)
		args(&x.callArgs)
	case *filterExpr:
		walkExpr(x.obj, visit)
		args(&x.callArgs)
	case *testExpr:
		walkExpr(x.obj, visit)
		args(&x.callArgs)
	case *unaryExpr:
		walkExpr(x.x, visit)
	case *binExpr:
		walkExpr(x.l, visit)
		walkExpr(x.r, visit)
	case *compareExpr:
		walkExpr(x.first, visit)
		each(x.rest)
	case *condExpr:
		each([]expr{x.test, x.then, x.els})
	}
}

// walkBody visits every expression under w, including nested bodies.
func walkBody(w *nodes.Wrapper, visit func(expr)) {
	if w == nil {
		return
	}
	for _, n := range w.Nodes {
		b, ok := n.(*nodes.ControlStructureBlock)
		if !ok {
			continue
		}
		if s, ok := b.ControlStructure.(stmt); ok {
			s.walk(func(e expr) { walkExpr(e, visit) }, func(body *nodes.Wrapper) { walkBody(body, visit) })
		}
	}
}

// refersTo reports which of varargs, kwargs and caller a macro body reads.
func refersTo(body *nodes.Wrapper) (varargs, kwargs, caller bool) {
	walkBody(body, func(e expr) {
		if n, ok := e.(*nameExpr); ok {
			switch n.name {
			case "varargs":
				varargs = true
			case "kwargs":
				kwargs = true
			case "caller":
				caller = true
			}
		}
	})
	return
}
