package chat

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fmtSpec is one parsed conversion of printf-style or str.format formatting.
type fmtSpec struct {
	fill      rune
	align     byte // '<', '>', '^', '=' or 0
	sign      byte // '+', ' ', '-' or 0
	alt       bool
	zero      bool
	width     int
	grouping  bool
	precision int // -1: none
	verb      byte
}

// percentFormat is Python's str % args.
func percentFormat(format string, args any) (string, error) {
	var items []any
	var mapping *pyDict
	switch a := args.(type) {
	case tuple:
		items = a
	case *pyDict:
		mapping = a
		items = []any{a}
	default:
		items = []any{a}
	}
	next := 0
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", valueErrorf("incomplete format")
		}
		var key *string
		if format[i] == '(' {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 {
				return "", valueErrorf("incomplete format key")
			}
			k := format[i+1 : i+end]
			key = &k
			i += end + 1
		}
		sp := fmtSpec{fill: ' ', precision: -1}
		for ; i < len(format) && strings.IndexByte("-+ #0", format[i]) >= 0; i++ {
			switch format[i] {
			case '-':
				sp.align = '<'
			case '+':
				sp.sign = '+'
			case ' ':
				if sp.sign == 0 {
					sp.sign = ' '
				}
			case '#':
				sp.alt = true
			case '0':
				sp.zero = true
			}
		}
		takeStar := func() (int, error) {
			if key != nil || next >= len(items) {
				return 0, typeErrorf("not enough arguments for format string")
			}
			n, ok := asInt(items[next])
			if !ok {
				return 0, typeErrorf("* wants int")
			}
			next++
			return n, nil
		}
		if i < len(format) && format[i] == '*' {
			w, err := takeStar()
			if err != nil {
				return "", err
			}
			if w < 0 {
				sp.align, w = '<', -w
			}
			sp.width = w
			i++
		} else {
			j := i
			for i < len(format) && isDec(format[i]) {
				i++
			}
			if i > j {
				sp.width, _ = strconv.Atoi(format[j:i])
			}
		}
		if i < len(format) && format[i] == '.' {
			i++
			if i < len(format) && format[i] == '*' {
				p, err := takeStar()
				if err != nil {
					return "", err
				}
				sp.precision = max(p, 0)
				i++
			} else {
				j := i
				for i < len(format) && isDec(format[i]) {
					i++
				}
				sp.precision, _ = strconv.Atoi(format[j:i])
			}
		}
		for i < len(format) && strings.IndexByte("hlL", format[i]) >= 0 {
			i++
		}
		if i >= len(format) {
			return "", valueErrorf("incomplete format")
		}
		sp.verb = format[i]
		if sp.verb == '%' {
			b.WriteByte('%')
			continue
		}
		var arg any
		switch {
		case key != nil:
			if mapping == nil {
				return "", typeErrorf("format requires a mapping")
			}
			v, ok := mapping.Get(*key)
			if !ok {
				return "", &evalError{kind: "KeyError", msg: strconv.Quote(*key)}
			}
			arg = v
		case next < len(items):
			arg = items[next]
			next++
		default:
			return "", typeErrorf("not enough arguments for format string")
		}
		if sp.width > maxFormatWidth || sp.precision > maxFormatWidth {
			return "", &limitError{msg: "format width or precision too large"}
		}
		s, err := formatPercentArg(sp, arg)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
		if b.Len() > maxReprBytes {
			return "", &limitError{msg: fmt.Sprintf("formatted string exceeds %d bytes", maxReprBytes)}
		}
	}
	if mapping == nil && next < len(items) {
		return "", typeErrorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

const maxFormatWidth = 1 << 16

func formatPercentArg(sp fmtSpec, arg any) (string, error) {
	if sp.align == 0 {
		sp.align = '>'
	}
	if sp.align == '<' {
		sp.zero = false
	}
	switch sp.verb {
	case 's', 'r', 'a':
		var s string
		var err error
		if sp.verb == 's' {
			s, err = toStr(arg)
		} else {
			s, err = repr(arg)
			if sp.verb == 'a' {
				s = asciiEscape(s)
			}
		}
		if err != nil {
			return "", err
		}
		if sp.precision >= 0 {
			s = truncRunes(s, sp.precision)
		}
		sp.zero = false
		return pad(s, sp), nil
	case 'c':
		var s string
		switch x := arg.(type) {
		case string:
			if utf8.RuneCountInString(x) != 1 {
				return "", typeErrorf("%%c requires int or char")
			}
			s = x
		default:
			n, ok := asInt(arg)
			if !ok || n < 0 || n > 0x10ffff {
				return "", typeErrorf("%%c requires int or char")
			}
			s = string(rune(n))
		}
		sp.zero = false
		return pad(s, sp), nil
	}
	return formatNumber(sp, arg, "%")
}

// formatNumber renders a numeric conversion (d i u o x X e E f F g G b %).
func formatNumber(sp fmtSpec, arg any, style string) (string, error) {
	if _, ok := arg.(bigInt); ok {
		f, _ := numeric(arg)
		arg = f
	}
	var neg bool
	var body string
	switch sp.verb {
	case 'd', 'i', 'u', 'o', 'x', 'X', 'b', 'n':
		var n int
		switch x := arg.(type) {
		case bool, int:
			n, _ = asInt(x)
		case float64:
			if style != "%" {
				return "", valueErrorf("Unknown format code '%c' for object of type 'float'", sp.verb)
			}
			if sp.verb != 'd' && sp.verb != 'i' && sp.verb != 'u' {
				return "", typeErrorf("%%%c format: an integer is required, not float", sp.verb)
			}
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return "", &evalError{kind: "OverflowError", msg: "cannot convert float infinity or NaN to integer"}
			}
			n = int(x)
		default:
			return "", typeErrorf("%%%c format: a real number is required, not %s", sp.verb, typeName(arg))
		}
		neg = n < 0
		u := uint64(n)
		if neg {
			u = uint64(-n)
		}
		switch sp.verb {
		case 'o':
			body = strconv.FormatUint(u, 8)
			if sp.alt {
				body = "0o" + body
			}
		case 'x', 'X':
			body = strconv.FormatUint(u, 16)
			if sp.alt {
				body = "0x" + body
			}
			if sp.verb == 'X' {
				body = strings.ToUpper(body)
			}
		case 'b':
			body = strconv.FormatUint(u, 2)
			if sp.alt {
				body = "0b" + body
			}
		default:
			body = strconv.FormatUint(u, 10)
			if sp.grouping {
				body = groupThousands(body)
			}
		}
		if style == "%" && sp.precision > len(body) {
			body = strings.Repeat("0", sp.precision-len(body)) + body
		}
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		f, ok := numeric(arg)
		if !ok {
			return "", typeErrorf("must be real number, not %s", typeName(arg))
		}
		neg = math.Signbit(f) && !math.IsNaN(f)
		f = math.Abs(f)
		prec := sp.precision
		if prec < 0 {
			prec = 6
		}
		switch {
		case math.IsInf(f, 0):
			body = "inf"
		case math.IsNaN(f):
			body = "nan"
		case sp.verb == '%':
			body = strconv.FormatFloat(f*100, 'f', prec, 64) + "%"
		case sp.verb == 'g' || sp.verb == 'G':
			if prec == 0 {
				prec = 1
			}
			body = strconv.FormatFloat(f, 'g', prec, 64)
			if sp.alt && !strings.Contains(body, ".") {
				body += "."
			}
			if strings.Contains(body, "e") {
				body = fixExponent(body)
			}
		case sp.verb == 'e' || sp.verb == 'E':
			body = strconv.FormatFloat(f, 'e', prec, 64)
		default:
			body = strconv.FormatFloat(f, 'f', prec, 64)
			if sp.grouping {
				intPart, frac, _ := strings.Cut(body, ".")
				body = groupThousands(intPart)
				if frac != "" || prec > 0 {
					body += "." + frac
				}
			}
		}
		if sp.verb == 'E' || sp.verb == 'F' || sp.verb == 'G' {
			body = strings.ToUpper(body)
		}
	default:
		return "", valueErrorf("unsupported format character '%c'", sp.verb)
	}
	sign := ""
	switch {
	case neg:
		sign = "-"
	case sp.sign == '+':
		sign = "+"
	case sp.sign == ' ':
		sign = " "
	}
	if sp.zero {
		if n := sp.width - len(sign) - utf8.RuneCountInString(body); n > 0 {
			body = strings.Repeat("0", n) + body
		}
		return sign + body, nil
	}
	if sp.align == '=' {
		if n := sp.width - len(sign) - utf8.RuneCountInString(body); n > 0 {
			body = strings.Repeat(string(sp.fill), n) + body
		}
		return sign + body, nil
	}
	return pad(sign+body, sp), nil
}

// fixExponent gives exponents at least two digits, as C's printf does.
func fixExponent(s string) string {
	i := strings.IndexAny(s, "eE")
	exp := s[i+2:]
	if len(exp) < 2 {
		exp = "0" + exp
	}
	return s[:i+2] + exp
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func pad(s string, sp fmtSpec) string {
	n := sp.width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	fill := string(sp.fill)
	switch sp.align {
	case '<':
		return s + strings.Repeat(fill, n)
	case '^':
		return strings.Repeat(fill, n/2) + s + strings.Repeat(fill, n-n/2)
	}
	return strings.Repeat(fill, n) + s
}

func truncRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

func asciiEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

// strFormat is a subset of Python's str.format: auto and explicit field
// numbering, keyword fields, !r/!s/!a conversions and the format-spec
// mini-language for strings and numbers (no nested fields, no attribute
// or index lookups inside fields).
func strFormat(format string, args []any, kw []kwarg) (string, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '}' {
			if i+1 < len(format) && format[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return "", valueErrorf("Single '}' encountered in format string")
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(format) && format[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(format[i:], '}')
		if end < 0 {
			return "", valueErrorf("Single '{' encountered in format string")
		}
		field := format[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		conv := byte(0)
		if k := strings.IndexByte(name, '!'); k >= 0 {
			if k+2 != len(name) {
				return "", valueErrorf("invalid conversion in format field")
			}
			conv = name[k+1]
			name = name[:k]
		}
		var arg any
		switch {
		case name == "":
			if auto >= len(args) {
				return "", &evalError{kind: "IndexError", msg: "Replacement index out of range"}
			}
			arg = args[auto]
			auto++
		case isDec(name[0]):
			n, err := strconv.Atoi(name)
			if err != nil || n >= len(args) {
				return "", &evalError{kind: "IndexError", msg: "Replacement index out of range"}
			}
			arg = args[n]
		default:
			found := false
			for _, k := range kw {
				if k.name == name {
					arg, found = k.val, true
				}
			}
			if !found {
				return "", &evalError{kind: "KeyError", msg: "'" + name + "'"}
			}
		}
		var err error
		switch conv {
		case 'r', 'a':
			s, err2 := repr(arg)
			if conv == 'a' {
				s = asciiEscape(s)
			}
			arg, err = s, err2
		case 's':
			arg, err = toStr(arg)
		case 0:
		default:
			return "", valueErrorf("unknown conversion specifier %c", conv)
		}
		if err != nil {
			return "", err
		}
		s, err := formatWithSpec(arg, spec)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
		if b.Len() > maxReprBytes {
			return "", &limitError{msg: fmt.Sprintf("formatted string exceeds %d bytes", maxReprBytes)}
		}
	}
	return b.String(), nil
}

// formatWithSpec is Python's format(value, spec) for str, int, float and bool.
func formatWithSpec(v any, spec string) (string, error) {
	sp := fmtSpec{fill: ' ', precision: -1}
	rs := []rune(spec)
	i := 0
	if len(rs) >= 2 && strings.ContainsRune("<>^=", rs[1]) {
		sp.fill, sp.align = rs[0], byte(rs[1])
		i = 2
	} else if len(rs) >= 1 && strings.ContainsRune("<>^=", rs[0]) {
		sp.align = byte(rs[0])
		i = 1
	}
	if i < len(rs) && strings.ContainsRune("+- ", rs[i]) {
		sp.sign = byte(rs[i])
		i++
	}
	if i < len(rs) && rs[i] == '#' {
		sp.alt = true
		i++
	}
	if i < len(rs) && rs[i] == '0' {
		if sp.align == 0 {
			sp.fill, sp.align = '0', '='
		}
		i++
	}
	j := i
	for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
		i++
	}
	if i > j {
		sp.width, _ = strconv.Atoi(string(rs[j:i]))
	}
	if i < len(rs) && (rs[i] == ',' || rs[i] == '_') {
		sp.grouping = true
		i++
	}
	if i < len(rs) && rs[i] == '.' {
		i++
		j = i
		for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
			i++
		}
		if i == j {
			return "", valueErrorf("Format specifier missing precision")
		}
		sp.precision, _ = strconv.Atoi(string(rs[j:i]))
	}
	if i < len(rs) {
		sp.verb = byte(rs[i])
		i++
	}
	if i != len(rs) {
		return "", valueErrorf("Invalid format specifier '%s'", spec)
	}
	if sp.width > maxFormatWidth || sp.precision > maxFormatWidth {
		return "", &limitError{msg: "format width or precision too large"}
	}
	switch x := v.(type) {
	case string:
		if sp.verb != 0 && sp.verb != 's' {
			return "", valueErrorf("Unknown format code '%c' for object of type 'str'", sp.verb)
		}
		if sp.align == 0 {
			sp.align = '<'
		}
		if sp.precision >= 0 {
			x = truncRunes(x, sp.precision)
		}
		return pad(x, sp), nil
	case int, bool, float64, bigInt:
		if sp.align == 0 {
			sp.align = '>'
		}
		if sp.verb == 0 {
			_, isFloat := x.(float64)
			switch {
			case !isFloat:
				sp.verb = 'd'
			case sp.precision < 0:
				s := floatRepr(x.(float64))
				neg := strings.HasPrefix(s, "-")
				s = strings.TrimPrefix(s, "-")
				sign := ""
				if neg {
					sign = "-"
				} else if sp.sign == '+' || sp.sign == ' ' {
					sign = string(sp.sign)
				}
				if sp.align == '=' {
					return sign + strings.Repeat(string(sp.fill), max(0, sp.width-len(sign)-len(s))) + s, nil
				}
				return pad(sign+s, sp), nil
			default:
				sp.verb = 'g'
			}
		}
		if sp.align == '=' && sp.fill == '0' {
			sp.zero = true
		}
		return formatNumber(sp, v, "{}")
	}
	if spec != "" {
		return "", typeErrorf("unsupported format string passed to %s.__format__", typeName(v))
	}
	return toStr(v)
}
