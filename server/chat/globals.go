package chat

import (
	"fmt"
)

// builtin is a global function of the template environment.
type builtin struct {
	name string
	fn   func(f *frame, args []any, kw []kwarg) (any, error)
}

// maxRange is jinja2's sandbox MAX_RANGE.
const maxRange = 100000

// globals are the functions HF's environment provides: jinja2's defaults
// (range, dict, namespace, cycler, joiner) plus raise_exception and
// strftime_now. lipsum is left out (its output is random).
var globals map[string]*builtin

func init() {
	globals = map[string]*builtin{}
	for _, b := range []*builtin{
		{"range", globalRange},
		{"dict", globalDict},
		{"namespace", globalNamespace},
		{"raise_exception", globalRaise},
		{"strftime_now", globalStrftime},
		{"cycler", globalCycler},
		{"joiner", globalJoiner},
	} {
		globals[b.name] = b
	}
}

func globalRange(f *frame, args []any, kw []kwarg) (any, error) {
	if len(kw) > 0 {
		return nil, typeErrorf("range() takes no keyword arguments")
	}
	ints := make([]int, len(args))
	for i, a := range args {
		n, ok := asInt(a)
		if !ok {
			return nil, typeErrorf("'%s' object cannot be interpreted as an integer", typeName(a))
		}
		ints[i] = n
	}
	start, stop, step := 0, 0, 1
	switch len(ints) {
	case 1:
		stop = ints[0]
	case 2:
		start, stop = ints[0], ints[1]
	case 3:
		start, stop, step = ints[0], ints[1], ints[2]
	default:
		return nil, typeErrorf("range expected 1 to 3 arguments, got %d", len(args))
	}
	if step == 0 {
		return nil, valueErrorf("range() arg 3 must not be zero")
	}
	n := 0
	if step > 0 && start < stop {
		n = int((uint64(stop-start) + uint64(step) - 1) / uint64(step))
	} else if step < 0 && start > stop {
		n = int((uint64(start-stop) + uint64(-step) - 1) / uint64(-step))
	}
	if n > maxRange {
		return nil, &evalError{kind: "OverflowError", msg: fmt.Sprintf("Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)}
	}
	if err := f.st.charge(16 * n); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		out[i] = start + i*step
	}
	return out, nil
}

func kwDict(args []any, kw []kwarg, fn string) (*pyDict, error) {
	d := newDict(len(kw))
	if len(args) > 1 {
		return nil, typeErrorf("%s expected at most 1 positional argument, got %d", fn, len(args))
	}
	if len(args) == 1 {
		switch src := args[0].(type) {
		case *pyDict:
			for i, k := range src.keys {
				_ = d.Set(k, src.vals[i])
			}
		default:
			items, err := iterate(src)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				pair := seqItems(it)
				if len(pair) != 2 {
					return nil, valueErrorf("dictionary update sequence element has wrong length")
				}
				if err := d.Set(pair[0], pair[1]); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, k := range kw {
		_ = d.Set(k.name, k.val)
	}
	return d, nil
}

func globalDict(f *frame, args []any, kw []kwarg) (any, error) { return kwDict(args, kw, "dict") }

func globalNamespace(f *frame, args []any, kw []kwarg) (any, error) {
	d, err := kwDict(args, kw, "namespace")
	if err != nil {
		return nil, err
	}
	return &namespace{attrs: d}, nil
}

func globalRaise(f *frame, args []any, kw []kwarg) (any, error) {
	a, err := bind("raise_exception", args, kw, []string{"message"})
	if err != nil {
		return nil, err
	}
	msg, err := toStr(a[0])
	if err != nil {
		return nil, err
	}
	return nil, &raisedError{msg: msg}
}

func globalStrftime(f *frame, args []any, kw []kwarg) (any, error) {
	a, err := bind("strftime_now", args, kw, []string{"format"})
	if err != nil {
		return nil, err
	}
	format, err := argStr("strftime_now", a[0])
	if err != nil {
		return nil, err
	}
	return strftime(f.st.now(), format), nil
}

// cycler is jinja2's cycler(*items).
type cycler struct {
	items []any
	pos   int
}

func globalCycler(f *frame, args []any, kw []kwarg) (any, error) {
	if len(args) == 0 || len(kw) > 0 {
		return nil, typeErrorf("cycler() expects at least one positional argument")
	}
	return &cycler{items: args}, nil
}

func (c *cycler) attr(name string) any {
	switch name {
	case "current":
		return c.items[c.pos]
	case "next", "reset":
		return &boundMethod{recv: c, name: name}
	}
	return undefined{msg: fmt.Sprintf("'Cycler object' has no attribute '%s'", name)}
}

func (c *cycler) call(name string, args []any, kw []kwarg) (any, error) {
	if len(args) > 0 || len(kw) > 0 {
		return nil, typeErrorf("%s() takes no arguments", name)
	}
	if name == "reset" {
		c.pos = 0
		return pyNone{}, nil
	}
	v := c.items[c.pos]
	c.pos = (c.pos + 1) % len(c.items)
	return v, nil
}

// joiner is jinja2's joiner(sep): "" on the first call, sep afterwards.
type joiner struct {
	sep  string
	used bool
}

func globalJoiner(f *frame, args []any, kw []kwarg) (any, error) {
	a, err := bind("joiner", args, kw, []string{"sep"}, ", ")
	if err != nil {
		return nil, err
	}
	sep, err := toStr(a[0])
	if err != nil {
		return nil, err
	}
	j := &joiner{sep: sep}
	return &builtin{name: "joiner", fn: func(*frame, []any, []kwarg) (any, error) {
		if !j.used {
			j.used = true
			return "", nil
		}
		return j.sep, nil
	}}, nil
}
