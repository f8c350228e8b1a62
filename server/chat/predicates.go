package chat

import (
	"reflect"
)

// Jinja tests of jinja2 3.1 ("x is name(args)"), called predicates here
// so they are not mistaken for Go tests.

type predicateFunc func(f *frame, v any, args []any) (bool, error)

var predicates map[string]predicateFunc

func init() {
	cmp := func(op string) predicateFunc {
		return func(f *frame, v any, args []any) (bool, error) {
			if len(args) != 1 {
				return false, typeErrorf("test expects one argument")
			}
			return compareOp(op, v, args[0])
		}
	}
	predicates = map[string]predicateFunc{
		"boolean":     isType(func(v any) bool { _, ok := v.(bool); return ok }),
		"callable":    isType(isCallable),
		"defined":     isType(func(v any) bool { return !isUndefined(v) }),
		"undefined":   isType(isUndefined),
		"none":        isType(isNone),
		"true":        isType(func(v any) bool { b, ok := v.(bool); return ok && b }),
		"false":       isType(func(v any) bool { b, ok := v.(bool); return ok && !b }),
		"string":      isType(func(v any) bool { _, ok := v.(string); return ok }),
		"mapping":     isType(func(v any) bool { _, ok := v.(*pyDict); return ok }),
		"number":      isType(func(v any) bool { _, ok := numeric(v); return ok }),
		"integer":     isType(func(v any) bool { _, ok := v.(int); _, big := v.(bigInt); return ok || big }),
		"float":       isType(func(v any) bool { _, ok := v.(float64); return ok }),
		"escaped":     isType(func(any) bool { return false }),
		"iterable":    isType(isIterable),
		"sequence":    isType(isSequence),
		"lower":       strTest(false),
		"upper":       strTest(true),
		"even":        parity(0),
		"odd":         parity(1),
		"divisibleby": testDivisible,
		"eq":          cmp("=="),
		"equalto":     cmp("=="),
		"==":          cmp("=="),
		"ne":          cmp("!="),
		"!=":          cmp("!="),
		"lt":          cmp("<"),
		"lessthan":    cmp("<"),
		"<":           cmp("<"),
		"le":          cmp("<="),
		"<=":          cmp("<="),
		"gt":          cmp(">"),
		"greaterthan": cmp(">"),
		">":           cmp(">"),
		"ge":          cmp(">="),
		">=":          cmp(">="),
		"in":          cmp("in"),
		"sameas":      testSameas,
		"filter":      testRegistry(func(n string) bool { _, ok := filters[n]; return ok }),
		"test":        testRegistry(func(n string) bool { _, ok := predicates[n]; return ok }),
	}
}

func isType(pred func(any) bool) predicateFunc {
	return func(f *frame, v any, args []any) (bool, error) {
		if len(args) > 0 {
			return false, typeErrorf("test takes no arguments")
		}
		return pred(v), nil
	}
}

func isCallable(v any) bool {
	switch v.(type) {
	case *macro, *builtin, *boundMethod, *loopState:
		return true
	}
	return false
}

func isIterable(v any) bool {
	switch v.(type) {
	case string, []any, tuple, *pyDict, undefined, *loopState:
		return true
	}
	return false
}

func isSequence(v any) bool {
	switch v.(type) {
	case string, []any, tuple, *pyDict, undefined:
		return true
	}
	return false
}

func strTest(upper bool) predicateFunc {
	return func(f *frame, v any, args []any) (bool, error) {
		s, err := toStr(v)
		if err != nil {
			return false, err
		}
		return pyIsCase(s, upper), nil
	}
}

func parity(want int) predicateFunc {
	return func(f *frame, v any, args []any) (bool, error) {
		if len(args) > 0 {
			return false, typeErrorf("test takes no arguments")
		}
		m, err := binaryOp(f.st, "%", v, 2)
		if err != nil {
			return false, err
		}
		return equal(m, want), nil
	}
}

func testDivisible(f *frame, v any, args []any) (bool, error) {
	if len(args) != 1 {
		return false, typeErrorf("divisibleby expects one argument")
	}
	m, err := binaryOp(f.st, "%", v, args[0])
	if err != nil {
		return false, err
	}
	return equal(m, 0), nil
}

// testSameas approximates Python's "is": singletons and small values by
// value, containers by identity.
func testSameas(f *frame, v any, args []any) (bool, error) {
	if len(args) != 1 {
		return false, typeErrorf("sameas expects one argument")
	}
	o := args[0]
	switch x := v.(type) {
	case pyNone, bool, int, string, undefined:
		return reflect.TypeOf(v) == reflect.TypeOf(o) && equal(v, o), nil
	case []any:
		y, ok := o.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0]), nil
	case tuple:
		y, ok := o.(tuple)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0]), nil
	}
	return v == o, nil
}

func testRegistry(has func(string) bool) predicateFunc {
	return func(f *frame, v any, args []any) (bool, error) {
		s, ok := v.(string)
		return ok && has(s), nil
	}
}
