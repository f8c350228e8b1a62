package chat

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Methods callable on template values. The immutable sandbox HF uses
// forbids the mutating list and dict methods (SecurityError).

type methodFunc func(f *frame, recv any, args []any, kw []kwarg) (any, error)

// boundMethod is obj.name before it is called.
type boundMethod struct {
	recv any
	name string
}

var (
	strMethods  map[string]methodFunc
	listMethods map[string]methodFunc
	dictMethods map[string]methodFunc

	unsafeMethods = map[string]map[string]bool{
		"list":  {"append": true, "clear": true, "extend": true, "insert": true, "pop": true, "remove": true, "reverse": true, "sort": true},
		"tuple": {},
		"dict":  {"clear": true, "pop": true, "popitem": true, "setdefault": true, "update": true},
	}
)

func init() {
	strMethods = map[string]methodFunc{
		"strip":        strStrip(true, true),
		"lstrip":       strStrip(true, false),
		"rstrip":       strStrip(false, true),
		"split":        strSplit(false),
		"rsplit":       strSplit(true),
		"splitlines":   strSplitlines,
		"replace":      strReplace,
		"startswith":   strAffix(strings.HasPrefix),
		"endswith":     strAffix(strings.HasSuffix),
		"upper":        strMap(func(s string) string { return cases.Upper(language.Und).String(s) }),
		"lower":        strMap(func(s string) string { return cases.Lower(language.Und).String(s) }),
		"casefold":     strMap(func(s string) string { return cases.Fold().String(s) }),
		"title":        strMap(pyTitle),
		"capitalize":   strMap(pyCapitalize),
		"swapcase":     strMap(pySwapcase),
		"find":         strFind(false, false),
		"rfind":        strFind(true, false),
		"index":        strFind(false, true),
		"rindex":       strFind(true, true),
		"count":        strCount,
		"join":         strJoin,
		"center":       strJustify('^'),
		"ljust":        strJustify('<'),
		"rjust":        strJustify('>'),
		"zfill":        strZfill,
		"partition":    strPartition(false),
		"rpartition":   strPartition(true),
		"removeprefix": strRemove(true),
		"removesuffix": strRemove(false),
		"format": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			return strFormat(recv.(string), args, kw)
		},
		"isdigit":   strIs(isDigitRune),
		"isdecimal": strIs(func(r rune) bool { return unicode.Is(unicode.Nd, r) }),
		"isnumeric": strIs(func(r rune) bool { return unicode.IsNumber(r) }),
		"isalpha":   strIs(unicode.IsLetter),
		"isalnum":   strIs(func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }),
		"isspace":   strIs(pyIsSpace),
		"isascii":   func(f *frame, recv any, args []any, kw []kwarg) (any, error) { return isASCII(recv.(string)), nil },
		"islower":   strCased(false),
		"isupper":   strCased(true),
		"istitle":   strIsTitle,
	}
	listMethods = map[string]methodFunc{
		"count": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			a, err := bind("count", args, kw, []string{"value"})
			if err != nil {
				return nil, err
			}
			n := 0
			for _, it := range seqItems(recv) {
				if equal(it, a[0]) {
					n++
				}
			}
			return n, nil
		},
		"index": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			a, err := bind("index", args, kw, []string{"value"})
			if err != nil {
				return nil, err
			}
			for i, it := range seqItems(recv) {
				if equal(it, a[0]) {
					return i, nil
				}
			}
			return nil, valueErrorf("value is not in %s", typeName(recv))
		},
		"copy": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			if _, err := bind("copy", args, kw, nil); err != nil {
				return nil, err
			}
			return slices.Clone(seqItems(recv)), nil
		},
	}
	dictMethods = map[string]methodFunc{
		"keys": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			if _, err := bind("keys", args, kw, nil); err != nil {
				return nil, err
			}
			return slices.Clone(recv.(*pyDict).keys), nil
		},
		"values": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			if _, err := bind("values", args, kw, nil); err != nil {
				return nil, err
			}
			return slices.Clone(recv.(*pyDict).vals), nil
		},
		"items": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			if _, err := bind("items", args, kw, nil); err != nil {
				return nil, err
			}
			return dictItems(recv.(*pyDict)), nil
		},
		"get": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			a, err := bind("get", args, kw, []string{"key", "default"}, pyNone{})
			if err != nil {
				return nil, err
			}
			if _, ok := hashKey(a[0]); !ok {
				return nil, typeErrorf("unhashable type: '%s'", typeName(a[0]))
			}
			if v, ok := recv.(*pyDict).Get(a[0]); ok {
				return v, nil
			}
			return a[1], nil
		},
		"copy": func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
			if _, err := bind("copy", args, kw, nil); err != nil {
				return nil, err
			}
			d := recv.(*pyDict)
			out := newDict(d.Len())
			for i, k := range d.keys {
				_ = out.Set(k, d.vals[i])
			}
			return out, nil
		},
	}
}

func dictItems(d *pyDict) []any {
	out := make([]any, d.Len())
	for i, k := range d.keys {
		out[i] = tuple{k, d.vals[i]}
	}
	return out
}

func seqItems(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case tuple:
		return x
	}
	return nil
}

func callMethod(f *frame, m *boundMethod, args []any, kw []kwarg) (any, error) {
	var fn methodFunc
	switch m.recv.(type) {
	case string:
		fn = strMethods[m.name]
	case []any, tuple:
		fn = listMethods[m.name]
	case *pyDict:
		fn = dictMethods[m.name]
	case *cycler:
		return m.recv.(*cycler).call(m.name, args, kw)
	case *loopState:
		return m.recv.(*loopState).call(m.name, args, kw)
	}
	if fn == nil {
		return nil, typeErrorf("'%s' object has no method '%s'", typeName(m.recv), m.name)
	}
	out, err := fn(f, m.recv, args, kw)
	if err != nil {
		return nil, err
	}
	if s, ok := out.(string); ok {
		if err := f.st.charge(len(s)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bind maps positional and keyword arguments onto named parameters; defs
// are the defaults of the trailing parameters.
func bind(fn string, args []any, kw []kwarg, names []string, defs ...any) ([]any, error) {
	if len(args) > len(names) {
		return nil, typeErrorf("%s() takes at most %d arguments (%d given)", fn, len(names), len(args))
	}
	out := make([]any, len(names))
	set := make([]bool, len(names))
	for i, a := range args {
		out[i], set[i] = a, true
	}
	for _, k := range kw {
		i := slices.Index(names, k.name)
		if i < 0 {
			return nil, typeErrorf("%s() got an unexpected keyword argument '%s'", fn, k.name)
		}
		if set[i] {
			return nil, typeErrorf("%s() got multiple values for argument '%s'", fn, k.name)
		}
		out[i], set[i] = k.val, true
	}
	firstDef := len(names) - len(defs)
	for i := range names {
		if !set[i] {
			if i < firstDef {
				return nil, typeErrorf("%s() missing required argument '%s'", fn, names[i])
			}
			out[i] = defs[i-firstDef]
		}
	}
	return out, nil
}

func argStr(fn string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", typeErrorf("%s() argument must be str, not %s", fn, typeName(v))
	}
	return s, nil
}

// optInt reads an optional int argument (None means absent).
func optInt(fn string, v any, def int) (int, error) {
	if isNone(v) {
		return def, nil
	}
	i, ok := asInt(v)
	if !ok {
		return 0, typeErrorf("%s() argument must be int, not %s", fn, typeName(v))
	}
	return i, nil
}
