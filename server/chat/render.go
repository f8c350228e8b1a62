package chat

import (
	"errors"
	"fmt"
)

// The render walk: each statement renders itself into the frame's output.

// frame is what statements render in and expressions evaluate against.
type frame struct {
	st    *renderState
	scope *scope
	out   *boundedBuffer
}

// scope is one level of variables; lookups fall back to the parent.
type scope struct {
	vars   map[string]any
	parent *scope
}

func (s *scope) get(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (s *scope) set(name string, v any) {
	if s.vars == nil {
		s.vars = map[string]any{}
	}
	s.vars[name] = v
}

// child is f with a new inner scope.
func (f *frame) child() *frame {
	return &frame{st: f.st, scope: &scope{parent: f.scope}, out: f.out}
}

var (
	errBreak    = errors.New("break outside of a loop")
	errContinue = errors.New("continue outside of a loop")
)

func (b body) render(f *frame) error {
	for _, s := range b {
		if err := s.render(f); err != nil {
			return err
		}
	}
	return nil
}

// capture renders b in a new scope into a new bounded buffer.
func (f *frame) capture(b body, setup func(*frame) error) (string, error) {
	sub := f.child()
	sub.out = f.st.newBuffer()
	if setup != nil {
		if err := setup(sub); err != nil {
			return "", err
		}
	}
	if err := b.render(sub); err != nil {
		return "", err
	}
	return sub.out.String(), nil
}

func (f *frame) write(v any) error {
	s, err := toStrLimit(v, f.st.lim.MaxOutputBytes)
	if err != nil {
		return err
	}
	_, err = f.out.WriteString(s)
	return err
}

func (s *textStmt) render(f *frame) error {
	_, err := f.out.WriteString(s.text)
	return err
}

func (s *printStmt) render(f *frame) error {
	v, err := s.x.eval(f)
	if err != nil {
		return withLine(err, s.line)
	}
	return withLine(f.write(v), s.line)
}

func (s *ifStmt) render(f *frame) error {
	for i, c := range s.conds {
		v, err := c.eval(f)
		if err != nil {
			return withLine(err, s.line)
		}
		if truthy(v) {
			return s.bodies[i].render(f) // if has no scope of its own
		}
	}
	if len(s.bodies) > len(s.conds) {
		return s.bodies[len(s.conds)].render(f)
	}
	return nil
}

func (s *forStmt) render(f *frame) error {
	v, err := s.iter.eval(f)
	if err != nil {
		return withLine(err, s.line)
	}
	items, err := iterate(v)
	if err != nil {
		return withLine(err, s.line)
	}
	return s.loop(f, items, 1)
}

func (s *forStmt) loop(f *frame, items []any, depth int) error {
	st := f.st
	if s.cond != nil {
		var kept []any
		for _, it := range items {
			if err := st.step(); err != nil {
				return err
			}
			sub := f.child()
			if err := assign(sub, s.target, it); err != nil {
				return withLine(err, s.line)
			}
			ok, err := s.cond.eval(sub)
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
		return s.els.render(f.child())
	}
	loop := &loopState{items: items, depth: depth}
	if s.recursive {
		loop.recurse = func(v any) (any, error) {
			sub, err := iterate(v)
			if err != nil {
				return nil, err
			}
			inner := f.child()
			inner.out = st.newBuffer()
			if err := s.loop(inner, sub, depth+1); err != nil {
				return nil, err
			}
			return inner.out.String(), nil
		}
	}
	for i, it := range items {
		if err := st.step(); err != nil {
			return err
		}
		loop.index = i
		sub := f.child()
		if err := assign(sub, s.target, it); err != nil {
			return withLine(err, s.line)
		}
		sub.scope.set("loop", loop)
		err := s.body.render(sub)
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

// assign binds a for/set/with target.
func assign(f *frame, t target, v any) error {
	switch x := t.(type) {
	case nameTarget:
		f.scope.set(x.name, v)
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

func (s *setStmt) render(f *frame) error {
	var v any
	var err error
	if s.x != nil {
		v, err = s.x.eval(f)
	} else {
		v, err = f.capture(s.body, nil)
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

// macro is a macroDef bound to the scope it was defined in.
type macro struct {
	def     *macroDef
	closure *frame
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
	return m.closure.capture(d.body, func(mf *frame) error {
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
			mf.scope.set(p, v)
		}
		if d.usesCaller {
			c, ok := take("caller")
			if !ok {
				c = undefined{msg: "No caller defined"}
			}
			mf.scope.set("caller", c)
		}
		if d.catchKwargs {
			kd := newDict(len(rest))
			for _, k := range rest {
				_ = kd.Set(k.name, k.val)
			}
			mf.scope.set("kwargs", kd)
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
			mf.scope.set("varargs", extra)
		}
		return nil
	})
}

func (s *macroStmt) render(f *frame) error {
	f.scope.set(s.def.name, &macro{def: s.def, closure: f})
	return nil
}

func (s *callStmt) render(f *frame) error {
	fn, err := s.call.fn.eval(f)
	if err != nil {
		return withLine(err, s.line)
	}
	args, kw, err := s.call.evalArgs(f)
	if err != nil {
		return withLine(err, s.line)
	}
	kw = append(kw, kwarg{"caller", &macro{def: s.caller, closure: f}})
	v, err := callValue(f, fn, args, kw)
	if err != nil {
		return withLine(err, s.line)
	}
	return f.write(v)
}

func (s *filterStmt) render(f *frame) error {
	text, err := f.capture(s.body, nil)
	if err != nil {
		return err
	}
	var v any = text
	for _, fe := range s.filters {
		if v, err = fe.apply(f, v); err != nil {
			return withLine(err, s.line)
		}
	}
	return f.write(v)
}

func (s *withStmt) render(f *frame) error {
	vals := make([]any, len(s.values))
	for i, x := range s.values {
		v, err := x.eval(f)
		if err != nil {
			return withLine(err, s.line)
		}
		vals[i] = v
	}
	sub := f.child()
	for i, t := range s.targets {
		if err := assign(sub, t, vals[i]); err != nil {
			return withLine(err, s.line)
		}
	}
	return s.body.render(sub)
}

func (s *scopeStmt) render(f *frame) error   { return s.body.render(f.child()) }
func (s *loopCtlStmt) render(f *frame) error { return s.err }

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
