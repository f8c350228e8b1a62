package chat

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filters of jinja2 3.1 as HF sets them up (tojson replaced by HF's
// json.dumps wrapper). Left out: filesizeformat, pprint, random, urlencode,
// urlize, wordwrap, xmlattr, groupby.

type filterFunc func(f *frame, v any, args []any, kw []kwarg) (any, error)

var filters map[string]filterFunc

func init() {
	filters = map[string]filterFunc{
		"abs":         filterAbs,
		"attr":        filterAttr,
		"batch":       filterBatch,
		"capitalize":  strFilter(pyCapitalize),
		"center":      filterCenter,
		"count":       filterLength,
		"d":           filterDefault,
		"default":     filterDefault,
		"dictsort":    filterDictsort,
		"e":           filterEscape,
		"escape":      filterEscape,
		"first":       filterFirst,
		"float":       filterFloat,
		"forceescape": filterEscape,
		"format":      filterFormat,
		"indent":      filterIndent,
		"int":         filterInt,
		"items":       filterItems,
		"join":        filterJoin,
		"last":        filterLast,
		"length":      filterLength,
		"list":        filterList,
		"lower":       strFilter(strMethodFn("lower")),
		"map":         filterMap,
		"max":         filterMinMax(1),
		"min":         filterMinMax(-1),
		"reject":      filterSelect(false, false),
		"rejectattr":  filterSelect(false, true),
		"replace":     filterReplace,
		"reverse":     filterReverse,
		"round":       filterRound,
		"safe":        func(f *frame, v any, args []any, kw []kwarg) (any, error) { return v, nil },
		"select":      filterSelect(true, false),
		"selectattr":  filterSelect(true, true),
		"slice":       filterSlice,
		"sort":        filterSort,
		"string":      filterString,
		"striptags":   filterStriptags,
		"sum":         filterSum,
		"title":       strFilter(jinjaTitle),
		"tojson":      filterToJSON,
		"trim":        filterTrim,
		"truncate":    filterTruncate,
		"unique":      filterUnique,
		"upper":       strFilter(strMethodFn("upper")),
		"wordcount":   filterWordcount,
	}
}

func strMethodFn(name string) func(string) string {
	return func(s string) string {
		out, _ := strMethods[name](nil, s, nil, nil)
		return out.(string)
	}
}

// strFilter applies fn to str(value).
func strFilter(fn func(string) string) filterFunc {
	return func(f *frame, v any, args []any, kw []kwarg) (any, error) {
		if _, err := bind("filter", args, kw, nil); err != nil {
			return nil, err
		}
		s, err := toStrLimit(v, f.st.lim.MaxOutputBytes)
		if err != nil {
			return nil, err
		}
		return fn(s), nil
	}
}

func filterAbs(f *frame, v any, args []any, kw []kwarg) (any, error) {
	if i, ok := asInt(v); ok {
		if i < 0 {
			return unaryOp("-", i)
		}
		return i, nil
	}
	if x, ok := v.(float64); ok {
		return math.Abs(x), nil
	}
	return nil, typeErrorf("bad operand type for abs(): '%s'", typeName(v))
}

// filterAttr is a plain getattr: no fallback to item lookup.
func filterAttr(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("attr", args, kw, []string{"name"})
	if err != nil {
		return nil, err
	}
	name, err := toStr(a[0])
	if err != nil {
		return nil, err
	}
	switch o := v.(type) {
	case *pyDict:
		if _, ok := dictMethods[name]; ok {
			return &boundMethod{recv: o, name: name}, nil
		}
	case *namespace, string, []any, tuple, *loopState, *cycler:
		return getAttr(v, name)
	case undefined:
		return nil, undefinedError(o)
	}
	return undefined{msg: "'" + typeName(v) + " object' has no attribute '" + name + "'"}, nil
}

func filterCenter(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("center", args, kw, []string{"width"}, 80)
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	return strMethods["center"](f, s, []any{a[0]}, nil)
}

func filterDefault(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("default", args, kw, []string{"default_value", "boolean"}, "", false)
	if err != nil {
		return nil, err
	}
	if isUndefined(v) || (truthy(a[1]) && !truthy(v)) {
		return a[0], nil
	}
	return v, nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func filterEscape(f *frame, v any, args []any, kw []kwarg) (any, error) {
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	return htmlEscape(s), nil
}

// pyFloat is Python's float(x), or false when it raises TypeError/ValueError.
func pyFloat(v any) (float64, bool) {
	if s, ok := v.(string); ok {
		t := strings.ToLower(strings.TrimFunc(s, pyIsSpace))
		switch strings.TrimLeft(t, "+-") {
		case "inf", "infinity", "nan":
			f, _ := strconv.ParseFloat(t, 64)
			return f, true
		}
		if t == "" || strings.Contains(t, "__") || strings.HasPrefix(strings.TrimLeft(t, "+-"), "_") ||
			strings.HasSuffix(t, "_") || strings.ContainsAny(t, "xpob") {
			return 0, false
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return 0, false
		}
		return f, true
	}
	return numeric(v)
}

func filterFloat(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("float", args, kw, []string{"default"}, 0.0)
	if err != nil {
		return nil, err
	}
	if x, ok := pyFloat(v); ok {
		return x, nil
	}
	return a[0], nil
}

// pyIntString is Python's int(s, base).
func pyIntString(s string, base int) (int, bool) {
	t := strings.TrimFunc(s, pyIsSpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	lower := strings.ToLower(t)
	prefixes := map[int]string{16: "0x", 8: "0o", 2: "0b"}
	if base == 0 {
		base = 10
		for b, p := range prefixes {
			if strings.HasPrefix(lower, p) {
				base = b
			}
		}
		if base == 10 && len(t) > 1 && t[0] == '0' && strings.Trim(t, "0_") != "" {
			return 0, false
		}
	}
	if p, ok := prefixes[base]; ok && strings.HasPrefix(lower, p) {
		t = t[2:]
		if strings.HasPrefix(t, "_") {
			t = t[1:]
		}
	}
	if t == "" || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), base, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return int(n), true
}

func filterInt(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("int", args, kw, []string{"default", "base"}, 0, 10)
	if err != nil {
		return nil, err
	}
	base, ok := asInt(a[1])
	if !ok || base < 0 || base == 1 || base > 36 {
		return nil, valueErrorf("int() base must be >= 2 and <= 36, or 0")
	}
	switch x := v.(type) {
	case string:
		if n, ok := pyIntString(x, base); ok {
			return n, nil
		}
	case bool, int:
		n, _ := asInt(x)
		return n, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, &evalError{kind: "OverflowError", msg: "cannot convert float infinity or NaN to integer"}
		}
		if math.Abs(x) < 9.2e18 {
			return int(x), nil
		}
	}
	if x, ok := pyFloat(v); ok && !math.IsInf(x, 0) && !math.IsNaN(x) && math.Abs(x) < 9.2e18 {
		return int(x), nil
	}
	return a[0], nil
}

func filterFormat(f *frame, v any, args []any, kw []kwarg) (any, error) {
	if len(args) > 0 && len(kw) > 0 {
		return nil, &evalError{kind: "FilterArgumentError", msg: "can't handle positional and keyword arguments at the same time"}
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	var operand any = tuple(args)
	if len(kw) > 0 {
		d := newDict(len(kw))
		for _, k := range kw {
			_ = d.Set(k.name, k.val)
		}
		operand = d
	}
	out, err := percentFormat(s, operand)
	if err != nil {
		return nil, err
	}
	return out, f.st.charge(len(out))
}

func filterIndent(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("indent", args, kw, []string{"width", "first", "blank"}, 4, false, false)
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	var ind string
	switch w := a[0].(type) {
	case string:
		ind = w
	default:
		n, ok := asInt(w)
		if !ok {
			return nil, typeErrorf("indent width must be int or str")
		}
		if err := f.st.charge(max(n, 0)); err != nil {
			return nil, err
		}
		ind = strings.Repeat(" ", max(n, 0))
	}
	if err := f.st.charge(len(s) + len(ind)*(strings.Count(s, "\n")+2)); err != nil {
		return nil, err
	}
	linesV, _ := strSplitlines(f, s+"\n", nil, nil)
	lines := linesV.([]any)
	var rv string
	if truthy(a[2]) {
		parts := make([]string, len(lines))
		for i, l := range lines {
			parts[i] = l.(string)
		}
		rv = strings.Join(parts, "\n"+ind)
	} else {
		var b strings.Builder
		b.WriteString(lines[0].(string))
		for _, l := range lines[1:] {
			b.WriteByte('\n')
			if l.(string) != "" {
				b.WriteString(ind)
			}
			b.WriteString(l.(string))
		}
		rv = b.String()
	}
	if truthy(a[1]) {
		rv = ind + rv
	}
	return rv, f.st.charge(len(rv))
}

func filterReplace(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("replace", args, kw, []string{"old", "new", "count"}, pyNone{})
	if err != nil {
		return nil, err
	}
	strs := make([]string, 3)
	for i, x := range []any{v, a[0], a[1]} {
		if strs[i], err = toStr(x); err != nil {
			return nil, err
		}
	}
	count, err := optInt("replace", a[2], -1)
	if err != nil {
		return nil, err
	}
	if err := f.st.charge(replaceSize(strs[0], strs[1], strs[2], count)); err != nil {
		return nil, err
	}
	return pyReplace(strs[0], strs[1], strs[2], count), nil
}

// pyRound is Python's round(x, ndigits) for floats: correctly rounded, ties to even.
func pyRound(x float64, nd int) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	if nd >= 0 {
		if nd > 300 {
			return x
		}
		r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', nd, 64), 64)
		return r
	}
	p := math.Pow(10, float64(-nd))
	return math.RoundToEven(x/p) * p
}

func filterRound(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("round", args, kw, []string{"precision", "method"}, 0, "common")
	if err != nil {
		return nil, err
	}
	prec, ok := asInt(a[0])
	if !ok {
		return nil, typeErrorf("round() precision must be int")
	}
	method, _ := a[1].(string)
	if method != "common" && method != "ceil" && method != "floor" {
		return nil, &evalError{kind: "FilterArgumentError", msg: "method must be common, ceil or floor"}
	}
	if i, ok := asInt(v); ok && method == "common" {
		if prec >= 0 {
			return i, nil
		}
		return int(pyRound(float64(i), prec)), nil
	}
	x, ok := numeric(v)
	if !ok {
		return nil, typeErrorf("type %s doesn't define __round__ method", typeName(v))
	}
	if method == "common" {
		return pyRound(x, prec), nil
	}
	p := math.Pow(10, float64(prec))
	if method == "ceil" {
		return math.Ceil(x*p) / p, nil
	}
	return math.Floor(x*p) / p, nil
}

func filterString(f *frame, v any, args []any, kw []kwarg) (any, error) {
	return toStrLimit(v, f.st.lim.MaxOutputBytes)
}

var (
	reComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	reTag     = regexp.MustCompile(`(?s)<.*?>`)
)

func filterStriptags(f *frame, v any, args []any, kw []kwarg) (any, error) {
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	s = reTag.ReplaceAllString(reComment.ReplaceAllString(s, ""), "")
	s = strings.Join(strings.FieldsFunc(s, pyIsSpace), " ")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s), nil
}

var reWordBeginning = regexp.MustCompile(`([-\s({\[<]+)`)

// jinjaTitle is jinja2's do_title (not str.title).
func jinjaTitle(s string) string {
	var b strings.Builder
	last := 0
	piece := func(p string) {
		if p == "" {
			return
		}
		r, size := utf8.DecodeRuneInString(p)
		b.WriteString(strMethodFn("upper")(string(r)))
		b.WriteString(strMethodFn("lower")(p[size:]))
	}
	for _, m := range reWordBeginning.FindAllStringIndex(s, -1) {
		piece(s[last:m[0]])
		piece(s[m[0]:m[1]])
		last = m[1]
	}
	piece(s[last:])
	return b.String()
}

// filterToJSON is HF's tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
func filterToJSON(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("tojson", args, kw, []string{"ensure_ascii", "indent", "separators", "sort_keys"}, false, pyNone{}, pyNone{}, false)
	if err != nil {
		return nil, err
	}
	o := defaultJSONOpts()
	o.ensureASCII = truthy(a[0])
	o.sortKeys = truthy(a[3])
	switch ind := a[1].(type) {
	case pyNone:
	case string:
		o.indented, o.indent = true, ind
	default:
		n, ok := asInt(ind)
		if !ok {
			return nil, typeErrorf("indent must be int or str, not %s", typeName(ind))
		}
		if n > maxFormatWidth {
			return nil, &limitError{msg: "tojson indent too large"}
		}
		o.indented, o.indent = true, strings.Repeat(" ", max(n, 0))
	}
	if o.indented {
		o.itemSep = ","
	}
	if !isNone(a[2]) {
		seps := seqItems(a[2])
		if len(seps) != 2 {
			return nil, valueErrorf("separators must be a (item_separator, key_separator) pair")
		}
		var ok1, ok2 bool
		o.itemSep, ok1 = seps[0].(string)
		o.keySep, ok2 = seps[1].(string)
		if !ok1 || !ok2 {
			return nil, typeErrorf("separators must be strings")
		}
	}
	out, err := toJSON(v, o, f.st.lim.MaxOutputBytes)
	if err != nil {
		return nil, err
	}
	return out, f.st.charge(len(out))
}

func filterTrim(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("trim", args, kw, []string{"chars"}, pyNone{})
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	if isNone(a[0]) {
		return pyStrip(s, nil, true, true), nil
	}
	chars, err := argStr("trim", a[0])
	if err != nil {
		return nil, err
	}
	return pyStrip(s, &chars, true, true), nil
}

func filterTruncate(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("truncate", args, kw, []string{"length", "killwords", "end", "leeway"}, 255, false, "...", 5)
	if err != nil {
		return nil, err
	}
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	length, ok1 := asInt(a[0])
	leeway, ok2 := asInt(a[3])
	end, ok3 := a[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, typeErrorf("truncate() arguments have the wrong type")
	}
	endLen := utf8.RuneCountInString(end)
	if length < endLen || leeway < 0 {
		return nil, &evalError{kind: "AssertionError", msg: "expected length >= len(end) and leeway >= 0"}
	}
	runes := []rune(s)
	if len(runes) <= length+leeway {
		return s, nil
	}
	head := string(runes[:length-endLen])
	if truthy(a[1]) {
		return head + end, nil
	}
	if i := strings.LastIndex(head, " "); i >= 0 {
		head = head[:i]
	}
	return head + end, nil
}

func filterWordcount(f *frame, v any, args []any, kw []kwarg) (any, error) {
	s, err := toStr(v)
	if err != nil {
		return nil, err
	}
	n, in := 0, false
	for _, r := range s {
		w := r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
		if w && !in {
			n++
		}
		in = w
	}
	return n, nil
}
