package chat

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Template values are plain Go values with Python meaning:
//
//	undefined   jinja2 Undefined (missing variable, key or attribute)
//	pyNone      None
//	bool, int, float64, string
//	bigInt      a JSON integer outside int64, kept as its digits
//	[]any       list
//	tuple       tuple
//	*pyDict       dict (insertion ordered)
//	*namespace  jinja2 namespace()
//	callables   *macro, *builtin, *boundMethod, *loopState (recursive loops)

// undefined.msg is the UndefinedError message raised when the value is used.
type undefined struct{ msg string }

type pyNone struct{}

type tuple []any

type bigInt string

// pyDict is an insertion-ordered Python dict.
type pyDict struct {
	keys []any
	vals []any
	idx  map[any]int // built lazily once the dict grows past a few keys
}

const dictIndexAt = 8

func newDict(n int) *pyDict { return &pyDict{keys: make([]any, 0, n), vals: make([]any, 0, n)} }

func (d *pyDict) Len() int { return len(d.keys) }

// hashKey returns the comparable form Python would hash, or false when the key is unhashable.
func hashKey(k any) (any, bool) { return hashKeyDepth(k, 0) }

func hashKeyDepth(k any, depth int) (any, bool) {
	if depth > maxValueDepth {
		return nil, false
	}
	switch v := k.(type) {
	case string, int, pyNone:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<62 {
			return int(v), true
		}
		return v, true
	case bigInt:
		return "\x00big" + string(v), true
	case tuple:
		var b strings.Builder
		b.WriteString("\x00tuple")
		for _, e := range v {
			h, ok := hashKeyDepth(e, depth+1)
			if !ok {
				return nil, false
			}
			fmt.Fprintf(&b, "\x00%T:%v", h, h)
		}
		return b.String(), true
	}
	return nil, false
}

func (d *pyDict) find(k any) int {
	h, ok := hashKey(k)
	if !ok {
		return -1
	}
	if d.idx != nil {
		if i, ok := d.idx[h]; ok {
			return i
		}
		return -1
	}
	for i, key := range d.keys {
		if hk, _ := hashKey(key); hk == h {
			return i
		}
	}
	return -1
}

// Get returns the value for key k.
func (d *pyDict) Get(k any) (any, bool) {
	if i := d.find(k); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// Set inserts or replaces; a replaced key keeps its position and original key object.
func (d *pyDict) Set(k, v any) error {
	h, ok := hashKey(k)
	if !ok {
		return typeErrorf("unhashable type: '%s'", typeName(k))
	}
	if i := d.find(k); i >= 0 {
		d.vals[i] = v
		return nil
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	if d.idx != nil {
		d.idx[h] = len(d.keys) - 1
	} else if len(d.keys) > dictIndexAt {
		d.idx = make(map[any]int, len(d.keys)*2)
		for i, key := range d.keys {
			hk, _ := hashKey(key)
			d.idx[hk] = i
		}
	}
	return nil
}

type namespace struct{ attrs *pyDict }

// typeName is Python's type(x).__name__.
func typeName(v any) string {
	switch v.(type) {
	case undefined:
		return "Undefined"
	case pyNone:
		return "NoneType"
	case bool:
		return "bool"
	case int, bigInt:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case tuple:
		return "tuple"
	case *pyDict:
		return "dict"
	case *namespace:
		return "Namespace"
	case *macro:
		return "Macro"
	case *builtin:
		return "builtin_function_or_method"
	case *boundMethod:
		return "builtin_function_or_method"
	case *loopState:
		return "LoopContext"
	case *cycler:
		return "Cycler"
	}
	return fmt.Sprintf("%T", v)
}

func isUndefined(v any) bool { _, ok := v.(undefined); return ok }

func isNone(v any) bool { _, ok := v.(pyNone); return ok }

// truthy is Python's bool(x).
func truthy(v any) bool {
	switch x := v.(type) {
	case undefined, pyNone:
		return false
	case bool:
		return x
	case int:
		return x != 0
	case bigInt:
		return true // never zero: zero fits in int
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case tuple:
		return len(x) > 0
	case *pyDict:
		return x.Len() > 0
	}
	return true
}

// toStr is Python's str(x) as jinja2 prints it (Undefined prints as "").
func toStr(v any) (string, error) { return toStrLimit(v, maxReprBytes) }

// toStrLimit is toStr failing once the result passes limit bytes.
func toStrLimit(v any, limit int) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case undefined:
		return "", nil
	}
	return reprLimit(v, limit)
}

func repr(v any) (string, error) { return reprLimit(v, maxReprBytes) }

func reprLimit(v any, limit int) (string, error) {
	w := reprWriter{limit: min(limit, maxReprBytes)}
	err := w.write(v, 0)
	return w.String(), err
}

type reprWriter struct {
	strings.Builder
	limit int
}

const (
	maxValueDepth = 500
	// maxReprBytes caps str()/repr() and %-formatting results regardless of Limits.
	maxReprBytes = 64 << 20
)

var errTooDeep = &evalError{kind: "RecursionError", msg: "value nested too deeply"}

func (b *reprWriter) write(v any, depth int) error {
	if depth > maxValueDepth {
		return errTooDeep
	}
	if b.Len() > b.limit {
		return &limitError{msg: fmt.Sprintf("string form of a value exceeds %d bytes", b.limit)}
	}
	switch x := v.(type) {
	case undefined:
		b.WriteString("Undefined")
	case pyNone:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case bigInt:
		b.WriteString(string(x))
	case float64:
		b.WriteString(floatRepr(x))
	case string:
		writeStrRepr(&b.Builder, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := b.write(e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case tuple:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := b.write(e, depth+1); err != nil {
				return err
			}
		}
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *pyDict:
		return b.dict(x, depth)
	case *namespace:
		b.WriteString("<Namespace ")
		if err := b.dict(x.attrs, depth); err != nil {
			return err
		}
		b.WriteByte('>')
	case *macro:
		fmt.Fprintf(&b.Builder, "<Macro '%s'>", x.def.name)
	case *builtin:
		fmt.Fprintf(&b.Builder, "<built-in function %s>", x.name)
	case *boundMethod:
		fmt.Fprintf(&b.Builder, "<built-in method %s of %s object>", x.name, typeName(x.recv))
	case *loopState:
		fmt.Fprintf(&b.Builder, "<LoopContext %d/%d>", x.index+1, len(x.items))
	default:
		fmt.Fprintf(&b.Builder, "<%s object>", typeName(v))
	}
	return nil
}

func (b *reprWriter) dict(d *pyDict, depth int) error {
	b.WriteByte('{')
	for i, k := range d.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := b.write(k, depth+1); err != nil {
			return err
		}
		b.WriteString(": ")
		if err := b.write(d.vals[i], depth+1); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// writeStrRepr is Python's repr(str).
func writeStrRepr(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
}

// floatRepr is Python's repr(float): shortest round-trip digits, positional
// notation for exponents in [-4, 16), otherwise d.ddde±XX.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	epos := strings.IndexByte(s, 'e')
	mant, expStr := s[:epos], s[epos+1:]
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp < 0 {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		} else if len(digits) <= exp+1 {
			out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		} else {
			out = digits[:exp+1] + "." + digits[exp+1:]
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		e := strconv.Itoa(exp)
		if len(e) < 2 {
			e = "0" + e
		}
		out += "e" + sign + e
	}
	if neg {
		out = "-" + out
	}
	return out
}

// equal is Python's ==.
func equal(a, b any) bool { return equalDepth(a, b, 0) }

func equalDepth(a, b any, depth int) bool {
	if depth > maxValueDepth {
		return false
	}
	if fa, ok := numeric(a); ok {
		if fb, ok := numeric(b); ok {
			ia, aInt := asInt(a)
			ib, bInt := asInt(b)
			if aInt && bInt {
				return ia == ib
			}
			return fa == fb
		}
		if sa, ok := a.(bigInt); ok {
			sb, ok := b.(bigInt)
			return ok && sa == sb
		}
		return false
	}
	switch x := a.(type) {
	case undefined:
		_, ok := b.(undefined)
		return ok
	case pyNone:
		_, ok := b.(pyNone)
		return ok
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && equalSeq(x, y, depth)
	case tuple:
		y, ok := b.(tuple)
		return ok && equalSeq(x, y, depth)
	case *pyDict:
		y, ok := b.(*pyDict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i, k := range x.keys {
			v, found := y.Get(k)
			if !found || !equalDepth(x.vals[i], v, depth+1) {
				return false
			}
		}
		return true
	}
	return a == b
}

func equalSeq(a, b []any, depth int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalDepth(a[i], b[i], depth+1) {
			return false
		}
	}
	return true
}

// numeric reports whether v is a Python number (bool counts) and its float value.
func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case bigInt:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f, true
	}
	return 0, false
}

// asInt returns v as an int when it is a Python int (or bool).
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int:
		return x, true
	}
	return 0, false
}

// cmpUnordered is compare's result when a NaN makes every ordering false.
const cmpUnordered = 2

// compare is Python's ordering for <, <=, >, >=; it returns -1, 0, 1.
func compare(op string, a, b any) (int, error) { return compareDepth(op, a, b, 0) }

func compareDepth(op string, a, b any, depth int) (int, error) {
	if depth > maxValueDepth {
		return 0, errTooDeep
	}
	if fa, ok := numeric(a); ok {
		if fb, ok := numeric(b); ok {
			ia, aInt := asInt(a)
			ib, bInt := asInt(b)
			switch {
			case aInt && bInt:
				return cmpOrdered(ia, ib), nil
			case math.IsNaN(fa) || math.IsNaN(fb):
				return cmpUnordered, nil
			default:
				return cmpOrdered(fa, fb), nil
			}
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			return compareSeq(op, x, y, depth)
		}
	case tuple:
		if y, ok := b.(tuple); ok {
			return compareSeq(op, x, y, depth)
		}
	case undefined:
		return 0, undefinedError(x)
	}
	if u, ok := b.(undefined); ok {
		return 0, undefinedError(u)
	}
	return 0, typeErrorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

func compareSeq(op string, a, b []any, depth int) (int, error) {
	for i := 0; i < len(a) && i < len(b); i++ {
		if equalDepth(a[i], b[i], depth+1) {
			continue
		}
		return compareDepth(op, a[i], b[i], depth+1)
	}
	return cmpOrdered(len(a), len(b)), nil
}

func cmpOrdered[T int | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pyIsSpace is Python's str.isspace() for one rune.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}
