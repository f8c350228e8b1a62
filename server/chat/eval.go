package chat

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Expression evaluation with Python semantics.

type kwarg struct {
	name string
	val  any
}

// lookup resolves a variable: the scopes, then the globals.
func (f *frame) lookup(name string) any {
	if v, ok := f.scope.get(name); ok {
		return v
	}
	if b, ok := globals[name]; ok {
		return b
	}
	return undefined{msg: fmt.Sprintf("'%s' is undefined", name)}
}

func (e *constExpr) eval(*frame) (any, error) { return e.v, nil }

func (e *nameExpr) eval(f *frame) (any, error) { return f.lookup(e.name), nil }

func evalList(f *frame, items []expr) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		v, err := it.eval(f)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (e *listExpr) eval(f *frame) (any, error) { return evalList(f, e.items) }

func (e *tupleExpr) eval(f *frame) (any, error) {
	v, err := evalList(f, e.items)
	return tuple(v), err
}

func (e *dictExpr) eval(f *frame) (any, error) {
	d := newDict(len(e.keys))
	for i := range e.keys {
		k, err := e.keys[i].eval(f)
		if err != nil {
			return nil, err
		}
		v, err := e.vals[i].eval(f)
		if err != nil {
			return nil, err
		}
		if err := d.Set(k, v); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (e *attrExpr) eval(f *frame) (any, error) {
	obj, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	v, err := getAttr(obj, e.name)
	return v, withLine(err, e.line)
}

func (e *itemExpr) eval(f *frame) (any, error) {
	obj, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	key, err := e.key.eval(f)
	if err != nil {
		return nil, err
	}
	v, err := getItem(obj, key)
	return v, withLine(err, e.line)
}

func (e *sliceExpr) eval(f *frame) (any, error) {
	obj, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	var bounds [3]any
	for i, part := range [3]expr{e.start, e.stop, e.step} {
		bounds[i] = pyNone{}
		if part != nil {
			if bounds[i], err = part.eval(f); err != nil {
				return nil, err
			}
		}
	}
	v, err := sliceValue(obj, bounds[0], bounds[1], bounds[2])
	return v, withLine(err, e.line)
}

func (e *condExpr) eval(f *frame) (any, error) {
	t, err := e.test.eval(f)
	if err != nil {
		return nil, err
	}
	if truthy(t) {
		return e.then.eval(f)
	}
	if e.els == nil {
		return undefined{msg: "the inline if-expression evaluated to false and no else section was defined"}, nil
	}
	return e.els.eval(f)
}

func (e *unaryExpr) eval(f *frame) (any, error) {
	x, err := e.x.eval(f)
	if err != nil {
		return nil, err
	}
	if e.op == "not" {
		return !truthy(x), nil
	}
	v, err := unaryOp(e.op, x)
	return v, withLine(err, e.line)
}

func (e *binExpr) eval(f *frame) (any, error) {
	l, err := e.l.eval(f)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return e.r.eval(f)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return e.r.eval(f)
	}
	r, err := e.r.eval(f)
	if err != nil {
		return nil, err
	}
	v, err := binaryOp(f.st, e.op, l, r)
	return v, withLine(err, e.line)
}

func (e *compareExpr) eval(f *frame) (any, error) {
	l, err := e.first.eval(f)
	if err != nil {
		return nil, err
	}
	for i, op := range e.ops {
		r, err := e.rest[i].eval(f)
		if err != nil {
			return nil, err
		}
		ok, err := compareOp(op, l, r)
		if err != nil {
			return nil, withLine(err, e.line)
		}
		if !ok {
			return false, nil
		}
		l = r
	}
	return true, nil
}

func compareOp(op string, l, r any) (bool, error) {
	switch op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	case "in":
		return contains(r, l)
	case "notin":
		ok, err := contains(r, l)
		return !ok, err
	}
	c, err := compare(op, l, r)
	if err != nil {
		return false, err
	}
	if c == cmpUnordered {
		return false, nil
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// contains is Python's `needle in haystack`.
func contains(haystack, needle any) (bool, error) {
	switch h := haystack.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, typeErrorf("'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		return strings.Contains(h, n), nil
	case []any:
		return seqContains(h, needle), nil
	case tuple:
		return seqContains(h, needle), nil
	case *pyDict:
		if _, ok := hashKey(needle); !ok {
			return false, typeErrorf("unhashable type: '%s'", typeName(needle))
		}
		_, ok := h.Get(needle)
		return ok, nil
	case undefined:
		return false, nil
	}
	return false, typeErrorf("argument of type '%s' is not iterable", typeName(haystack))
}

func seqContains(items []any, v any) bool {
	for _, it := range items {
		if equal(it, v) {
			return true
		}
	}
	return false
}

func (ca *callArgs) evalArgs(f *frame) ([]any, []kwarg, error) {
	args, err := evalList(f, ca.args)
	if err != nil {
		return nil, nil, err
	}
	if ca.starArgs != nil {
		v, err := ca.starArgs.eval(f)
		if err != nil {
			return nil, nil, err
		}
		extra, err := iterate(v)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, extra...)
	}
	var kw []kwarg
	seen := map[string]bool{}
	add := func(name string, v any) error {
		if seen[name] {
			return typeErrorf("got multiple values for keyword argument '%s'", name)
		}
		seen[name] = true
		kw = append(kw, kwarg{name, v})
		return nil
	}
	for i, name := range ca.kwNames {
		v, err := ca.kwVals[i].eval(f)
		if err != nil {
			return nil, nil, err
		}
		if err := add(name, v); err != nil {
			return nil, nil, err
		}
	}
	if ca.starKw != nil {
		v, err := ca.starKw.eval(f)
		if err != nil {
			return nil, nil, err
		}
		d, ok := v.(*pyDict)
		if !ok {
			return nil, nil, typeErrorf("argument after ** must be a mapping, not %s", typeName(v))
		}
		for i, k := range d.keys {
			ks, ok := k.(string)
			if !ok {
				return nil, nil, typeErrorf("keywords must be strings")
			}
			if err := add(ks, d.vals[i]); err != nil {
				return nil, nil, err
			}
		}
	}
	return args, kw, nil
}

func (e *callExpr) eval(f *frame) (any, error) {
	fn, err := e.fn.eval(f)
	if err != nil {
		return nil, err
	}
	args, kw, err := e.evalArgs(f)
	if err != nil {
		return nil, withLine(err, e.line)
	}
	v, err := callValue(f, fn, args, kw)
	return v, withLine(err, e.line)
}

func (e *filterExpr) eval(f *frame) (any, error) {
	v, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	return e.apply(f, v)
}

func (e *filterExpr) apply(f *frame, v any) (any, error) {
	args, kw, err := e.evalArgs(f)
	if err != nil {
		return nil, withLine(err, e.line)
	}
	out, err := filters[e.name](f, v, args, kw)
	if err == nil {
		err = f.st.chargeValue(out)
	}
	return out, withLine(err, e.line)
}

func (e *testExpr) eval(f *frame) (any, error) {
	v, err := e.obj.eval(f)
	if err != nil {
		return nil, err
	}
	args, kw, err := e.evalArgs(f)
	if err != nil {
		return nil, withLine(err, e.line)
	}
	if len(kw) > 0 {
		return nil, withLine(typeErrorf("test '%s' takes no keyword arguments", e.name), e.line)
	}
	ok, err := predicates[e.name](f, v, args)
	return ok, withLine(err, e.line)
}

// callValue calls fn with Python calling conventions.
func callValue(f *frame, fn any, args []any, kw []kwarg) (any, error) {
	switch c := fn.(type) {
	case *builtin:
		return c.fn(f, args, kw)
	case *boundMethod:
		return callMethod(f, c, args, kw)
	case *macro:
		return c.call(f, args, kw)
	case *loopState:
		if c.recurse == nil {
			return nil, typeErrorf("the loop must be marked as 'recursive' to call it")
		}
		if len(args) != 1 || len(kw) > 0 {
			return nil, typeErrorf("loop() takes exactly one argument")
		}
		return c.recurse(args[0])
	case undefined:
		return nil, undefinedError(c)
	}
	return nil, typeErrorf("'%s' object is not callable", typeName(fn))
}

// iterate lists the items `for x in v` visits.
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case tuple:
		return x, nil
	case string:
		out := make([]any, 0, utf8.RuneCountInString(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case *pyDict:
		return append([]any(nil), x.keys...), nil
	case undefined:
		return nil, nil
	}
	return nil, typeErrorf("'%s' object is not iterable", typeName(v))
}

// getAttr is jinja2's sandboxed environment.getattr: attribute first, then item.
func getAttr(obj any, name string) (any, error) {
	switch o := obj.(type) {
	case undefined:
		return nil, undefinedError(o)
	case *pyDict:
		if _, ok := dictMethods[name]; ok {
			return &boundMethod{recv: o, name: name}, nil
		}
		if unsafeMethods["dict"][name] {
			return nil, securityErrorf("access to attribute '%s' of 'dict' object is unsafe.", name)
		}
		if v, ok := o.Get(name); ok {
			return v, nil
		}
	case *namespace:
		if v, ok := o.attrs.Get(name); ok {
			return v, nil
		}
	case string:
		if _, ok := strMethods[name]; ok {
			return &boundMethod{recv: o, name: name}, nil
		}
	case []any, tuple:
		if _, ok := listMethods[name]; ok {
			return &boundMethod{recv: o, name: name}, nil
		}
		if unsafeMethods[typeName(o)][name] {
			return nil, securityErrorf("access to attribute '%s' of '%s' object is unsafe.", name, typeName(o))
		}
	case *loopState:
		return o.attr(name), nil
	case *cycler:
		return o.attr(name), nil
	}
	return undefined{msg: fmt.Sprintf("'%s object' has no attribute '%s'", typeName(obj), name)}, nil
}

// getItem is jinja2's environment.getitem: subscription first, then attribute for string keys.
func getItem(obj, key any) (any, error) {
	switch o := obj.(type) {
	case undefined:
		return nil, undefinedError(o)
	case *pyDict:
		if _, ok := hashKey(key); !ok {
			return nil, typeErrorf("unhashable type: '%s'", typeName(key))
		}
		if v, ok := o.Get(key); ok {
			return v, nil
		}
	case []any, tuple, string:
		if i, ok := asInt(key); ok {
			if v, ok := indexSeq(obj, i); ok {
				return v, nil
			}
			return undefined{msg: fmt.Sprintf("'%s object' has no element %d", typeName(obj), i)}, nil
		}
	}
	if name, ok := key.(string); ok {
		return getAttr(obj, name)
	}
	r, _ := repr(key)
	return undefined{msg: fmt.Sprintf("'%s object' has no element %s", typeName(obj), r)}, nil
}

func indexSeq(obj any, i int) (any, bool) {
	switch o := obj.(type) {
	case []any:
		return indexItems(o, i)
	case tuple:
		return indexItems(o, i)
	case string:
		if i >= 0 && i < len(o) && o[i] < utf8.RuneSelf && isASCII(o) {
			return o[i : i+1], true
		}
		runes := []rune(o)
		if i < 0 {
			i += len(runes)
		}
		if i < 0 || i >= len(runes) {
			return nil, false
		}
		return string(runes[i]), true
	}
	return nil, false
}

func indexItems(items []any, i int) (any, bool) {
	if i < 0 {
		i += len(items)
	}
	if i < 0 || i >= len(items) {
		return nil, false
	}
	return items[i], true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// sliceValue is Python's obj[start:stop:step] for lists, tuples and strings.
func sliceValue(obj, start, stop, step any) (any, error) {
	if u, ok := obj.(undefined); ok {
		return nil, undefinedError(u)
	}
	var n int
	var runes []rune
	switch o := obj.(type) {
	case []any:
		n = len(o)
	case tuple:
		n = len(o)
	case string:
		runes = []rune(o)
		n = len(runes)
	default:
		return nil, typeErrorf("'%s' object is not subscriptable", typeName(obj))
	}
	idx, err := sliceIndices(n, start, stop, step)
	if err != nil {
		return nil, err
	}
	switch o := obj.(type) {
	case []any:
		out := make([]any, 0, len(idx))
		for _, i := range idx {
			out = append(out, o[i])
		}
		return out, nil
	case tuple:
		out := make(tuple, 0, len(idx))
		for _, i := range idx {
			out = append(out, o[i])
		}
		return out, nil
	}
	out := make([]rune, 0, len(idx))
	for _, i := range idx {
		out = append(out, runes[i])
	}
	return string(out), nil
}

func sliceBound(v any) (int, bool, error) {
	if isNone(v) {
		return 0, false, nil
	}
	i, ok := asInt(v)
	if !ok {
		return 0, false, typeErrorf("slice indices must be integers or None, not %s", typeName(v))
	}
	return i, true, nil
}

// sliceIndices implements PySlice_AdjustIndices and lists the selected positions.
func sliceIndices(n int, startV, stopV, stepV any) ([]int, error) {
	step, hasStep, err := sliceBound(stepV)
	if err != nil {
		return nil, err
	}
	if !hasStep {
		step = 1
	}
	if step == 0 {
		return nil, valueErrorf("slice step cannot be zero")
	}
	start, hasStart, err := sliceBound(startV)
	if err != nil {
		return nil, err
	}
	stop, hasStop, err := sliceBound(stopV)
	if err != nil {
		return nil, err
	}
	clamp := func(i, lo, hi int) int { return max(lo, min(i, hi)) }
	if step > 0 {
		if !hasStart {
			start = 0
		} else if start < 0 {
			start = clamp(start+n, 0, n)
		} else {
			start = min(start, n)
		}
		if !hasStop {
			stop = n
		} else if stop < 0 {
			stop = clamp(stop+n, 0, n)
		} else {
			stop = min(stop, n)
		}
	} else {
		if !hasStart {
			start = n - 1
		} else if start < 0 {
			start = clamp(start+n, -1, n-1)
		} else {
			start = min(start, n-1)
		}
		if !hasStop {
			stop = -1
		} else if stop < 0 {
			stop = clamp(stop+n, -1, n-1)
		} else {
			stop = min(stop, n-1)
		}
	}
	var idx []int
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		idx = append(idx, i)
	}
	return idx, nil
}
