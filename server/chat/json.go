package chat

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const maxJSONDepth = 256

// decodeJSON turns request JSON into template values the way Python's
// json.loads does: objects keep key order (a repeated key keeps its first
// position and its last value), integers stay ints, null is None. Invalid
// UTF-8 in strings becomes U+FFFD, as with encoding/json.
func decodeJSON(raw []byte) (any, error) {
	d := &jsonDecoder{b: raw}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, d.errorf("trailing data after JSON value")
	}
	return v, nil
}

type jsonDecoder struct {
	b []byte
	i int
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, d.errorf("nested deeper than %d levels", maxJSONDepth)
	}
	if d.i >= len(d.b) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		obj := newDict(4)
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return obj, nil
		}
		for {
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return nil, d.errorf("expected object key")
			}
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, d.errorf("expected ':'")
			}
			d.i++
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			_ = obj.Set(key, v) // string keys are hashable
			d.ws()
			if d.i < len(d.b) && d.b[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.b) && d.b[d.i] == '}' {
				d.i++
				return obj, nil
			}
			return nil, d.errorf("expected ',' or '}'")
		}
	case c == '[':
		d.i++
		list := []any{}
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return list, nil
		}
		for {
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			d.ws()
			if d.i < len(d.b) && d.b[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.b) && d.b[d.i] == ']' {
				d.i++
				return list, nil
			}
			return nil, d.errorf("expected ',' or ']'")
		}
	case c == '"':
		return d.str()
	case c == '-' || isDec(c):
		return d.number()
	}
	rest := d.b[d.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		d.i += 4
		return true, nil
	case bytes.HasPrefix(rest, []byte("false")):
		d.i += 5
		return false, nil
	case bytes.HasPrefix(rest, []byte("null")):
		d.i += 4
		return pyNone{}, nil
	}
	return nil, d.errorf("unexpected character %q", d.b[d.i])
}

func (d *jsonDecoder) number() (any, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && isDec(d.b[d.i]) {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, d.errorf("invalid number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, d.errorf("invalid number")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.errorf("invalid number")
		}
	}
	return jsonNumber(string(d.b[start:d.i])), nil
}

func (d *jsonDecoder) str() (string, error) {
	d.i++ // opening quote
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' { // ASCII without escapes
			s := string(d.b[start:d.i])
			d.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.i++
	}
	var b strings.Builder
	b.Write(d.b[start:d.i])
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return b.String(), nil
		case c < 0x20:
			return "", d.errorf("control character in string")
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return "", d.errorf("unexpected end of input")
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					save := d.i
					if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						d.i += 2
						if r2, ok := d.hex4(); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b.WriteRune(dec)
								continue
							}
						}
					}
					d.i = save
					r = utf8.RuneError
				}
				b.WriteRune(r)
			default:
				return "", d.errorf("invalid escape '\\%c'", e)
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			b.WriteRune(r) // RuneError for invalid bytes
			d.i += size
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(v), true
}

func jsonNumber(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i)
		}
		return bigInt(strings.TrimPrefix(s, "+"))
	}
	f, _ := strconv.ParseFloat(s, 64) // out of range gives ±Inf, like Python
	return f
}

// jsonOpts are the arguments of HF's tojson filter:
// json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
type jsonOpts struct {
	ensureASCII bool
	indent      string
	indented    bool
	itemSep     string
	keySep      string
	sortKeys    bool
}

func defaultJSONOpts() jsonOpts { return jsonOpts{itemSep: ", ", keySep: ": "} }

type jsonWriter struct {
	b     strings.Builder
	o     jsonOpts
	limit int
}

func toJSON(v any, o jsonOpts, limit int) (string, error) {
	w := &jsonWriter{o: o, limit: limit}
	if err := w.value(v, 0); err != nil {
		return "", err
	}
	return w.b.String(), nil
}

func (w *jsonWriter) newline(depth int) {
	w.b.WriteByte('\n')
	for range depth {
		w.b.WriteString(w.o.indent)
	}
}

func (w *jsonWriter) value(v any, depth int) error {
	if depth > maxValueDepth {
		return errTooDeep
	}
	if w.limit > 0 && w.b.Len() > w.limit {
		return &limitError{msg: fmt.Sprintf("tojson output exceeds %d bytes", w.limit)}
	}
	switch x := v.(type) {
	case pyNone:
		w.b.WriteString("null")
	case bool:
		if x {
			w.b.WriteString("true")
		} else {
			w.b.WriteString("false")
		}
	case int:
		w.b.WriteString(strconv.Itoa(x))
	case bigInt:
		w.b.WriteString(string(x))
	case float64:
		w.b.WriteString(jsonFloat(x))
	case string:
		w.str(x)
	case []any:
		return w.seq(x, depth)
	case tuple:
		return w.seq(x, depth)
	case *pyDict:
		return w.dict(x, depth)
	default:
		return typeErrorf("Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

func jsonFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	return floatRepr(f)
}

func (w *jsonWriter) seq(items []any, depth int) error {
	if len(items) == 0 {
		w.b.WriteString("[]")
		return nil
	}
	w.b.WriteByte('[')
	for i, e := range items {
		if i > 0 {
			w.b.WriteString(w.o.itemSep)
		}
		if w.o.indented {
			w.newline(depth + 1)
		}
		if err := w.value(e, depth+1); err != nil {
			return err
		}
	}
	if w.o.indented {
		w.newline(depth)
	}
	w.b.WriteByte(']')
	return nil
}

func (w *jsonWriter) dict(d *pyDict, depth int) error {
	if d.Len() == 0 {
		w.b.WriteString("{}")
		return nil
	}
	type pair struct {
		key string
		val any
	}
	pairs := make([]pair, 0, d.Len())
	for i, k := range d.keys {
		ks, err := jsonKey(k)
		if err != nil {
			return err
		}
		pairs = append(pairs, pair{ks, d.vals[i]})
	}
	if w.o.sortKeys {
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
	}
	w.b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			w.b.WriteString(w.o.itemSep)
		}
		if w.o.indented {
			w.newline(depth + 1)
		}
		w.str(p.key)
		w.b.WriteString(w.o.keySep)
		if err := w.value(p.val, depth+1); err != nil {
			return err
		}
	}
	if w.o.indented {
		w.newline(depth)
	}
	w.b.WriteByte('}')
	return nil
}

// jsonKey converts a dict key the way json.dumps does.
func jsonKey(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case int:
		return strconv.Itoa(x), nil
	case bigInt:
		return string(x), nil
	case float64:
		return jsonFloat(x), nil
	case pyNone:
		return "null", nil
	}
	return "", typeErrorf("keys must be str, int, float, bool or None, not %s", typeName(k))
}

const hexDigits = "0123456789abcdef"

func (w *jsonWriter) str(s string) { WritePyJSONString(&w.b, s, w.o.ensureASCII) }

// WritePyJSONString writes s as a JSON string the way Python's json.dumps
// does: quotes, backslashes and control characters escaped, and with
// ensureASCII every non-ASCII rune as \uXXXX (surrogate pairs above the BMP).
// Invalid UTF-8 becomes U+FFFD.
func WritePyJSONString(b *strings.Builder, s string, ensureASCII bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		case r < 0x7f || !ensureASCII:
			b.WriteRune(r)
		case r < 0x10000:
			writeU16(b, uint16(r))
		default:
			r -= 0x10000
			writeU16(b, uint16(0xd800+(r>>10)))
			writeU16(b, uint16(0xdc00+(r&0x3ff)))
		}
	}
	b.WriteByte('"')
}

func writeU16(b *strings.Builder, u uint16) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[u>>12])
	b.WriteByte(hexDigits[(u>>8)&0xf])
	b.WriteByte(hexDigits[(u>>4)&0xf])
	b.WriteByte(hexDigits[u&0xf])
}
