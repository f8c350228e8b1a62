package chat

import (
	"math"
	"regexp"
	"sort"
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

func filterBatch(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("batch", args, kw, []string{"linecount", "fill_with"}, pyNone{})
	if err != nil {
		return nil, err
	}
	n, ok := asInt(a[0])
	if !ok {
		return nil, typeErrorf("batch() linecount must be int")
	}
	if err := f.st.charge(16 * max(n, 0)); err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	var out []any
	var tmp []any
	for _, it := range items {
		if len(tmp) == n {
			out = append(out, tmp)
			tmp = nil
		}
		tmp = append(tmp, it)
	}
	if len(tmp) > 0 {
		if !isNone(a[1]) && len(tmp) < n {
			for len(tmp) < n {
				tmp = append(tmp, a[1])
			}
		}
		out = append(out, tmp)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
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

// sortKey lowercases strings for case-insensitive comparisons.
func sortKey(v any, caseSensitive bool) any {
	if s, ok := v.(string); ok && !caseSensitive {
		return strings.ToLower(s)
	}
	return v
}

// sortValues sorts stably by key, raising Python's TypeError on unorderable keys.
func sortValues(items []any, keys []any, reverse bool) ([]any, error) {
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := keys[idx[i]], keys[idx[j]]
		if reverse {
			a, b = b, a
		}
		c, err := compare("<", a, b)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c == -1
	})
	if sortErr != nil {
		return nil, sortErr
	}
	out := make([]any, len(items))
	for i, k := range idx {
		out[i] = items[k]
	}
	return out, nil
}

func filterDictsort(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("dictsort", args, kw, []string{"case_sensitive", "by", "reverse"}, false, "key", false)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, typeErrorf("dictsort requires a mapping, not %s", typeName(v))
	}
	pos := 0
	switch a[1] {
	case "key":
	case "value":
		pos = 1
	default:
		return nil, &evalError{kind: "FilterArgumentError", msg: "You can only sort by either \"key\" or \"value\""}
	}
	items := dictItems(d)
	keys := make([]any, len(items))
	for i, it := range items {
		keys[i] = sortKey(it.(tuple)[pos], truthy(a[0]))
	}
	return sortValues(items, keys, truthy(a[2]))
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

func filterFirst(f *frame, v any, args []any, kw []kwarg) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return undefined{msg: "No first item, sequence was empty."}, nil
	}
	return items[0], nil
}

func filterLast(f *frame, v any, args []any, kw []kwarg) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return undefined{msg: "No last item, sequence was empty."}, nil
	}
	return items[len(items)-1], nil
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

func filterItems(f *frame, v any, args []any, kw []kwarg) (any, error) {
	switch d := v.(type) {
	case undefined:
		return []any{}, nil
	case *pyDict:
		return dictItems(d), nil
	}
	return nil, typeErrorf("Can only get item pairs from a mapping.")
}

// attrGetter is jinja2's make_attrgetter: dotted path, integer parts index, item-then-attribute lookup.
func attrGetter(attribute any, def any) (func(any) (any, error), error) {
	var parts []any
	switch a := attribute.(type) {
	case string:
		for _, p := range strings.Split(a, ".") {
			if n, err := strconv.Atoi(p); err == nil {
				parts = append(parts, n)
			} else {
				parts = append(parts, p)
			}
		}
	case int:
		parts = []any{a}
	default:
		return nil, typeErrorf("attribute must be a string or an integer")
	}
	return func(item any) (any, error) {
		for _, p := range parts {
			var err error
			if item, err = getItem(item, p); err != nil {
				return nil, err
			}
		}
		if def != nil && isUndefined(item) {
			return def, nil
		}
		return item, nil
	}, nil
}

func filterJoin(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("join", args, kw, []string{"d", "attribute"}, "", pyNone{})
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if !isNone(a[1]) {
		get, err := attrGetter(a[1], nil)
		if err != nil {
			return nil, err
		}
		if items, err = mapItems(items, get); err != nil {
			return nil, err
		}
	}
	sep, err := toStr(a[0])
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	total := 0
	for i, it := range items {
		if parts[i], err = toStrLimit(it, f.st.lim.MaxOutputBytes); err != nil {
			return nil, err
		}
		total += len(parts[i]) + len(sep)
	}
	if err := f.st.charge(total); err != nil {
		return nil, err
	}
	return strings.Join(parts, sep), nil
}

func mapItems(items []any, fn func(any) (any, error)) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		v, err := fn(it)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func filterLength(f *frame, v any, args []any, kw []kwarg) (any, error) {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x), nil
	case []any:
		return len(x), nil
	case tuple:
		return len(x), nil
	case *pyDict:
		return x.Len(), nil
	case undefined:
		return 0, nil
	}
	return nil, typeErrorf("object of type '%s' has no len()", typeName(v))
}

func filterList(f *frame, v any, args []any, kw []kwarg) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	return append([]any{}, items...), nil
}

func filterMap(f *frame, v any, args []any, kw []kwarg) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		var attribute, def any
		for _, k := range kw {
			switch k.name {
			case "attribute":
				attribute = k.val
			case "default":
				def = k.val
			default:
				return nil, &evalError{kind: "FilterArgumentError", msg: "Unexpected keyword argument '" + k.name + "'"}
			}
		}
		if attribute == nil {
			return nil, &evalError{kind: "FilterArgumentError", msg: "map requires a filter argument"}
		}
		get, err := attrGetter(attribute, def)
		if err != nil {
			return nil, err
		}
		return mapItems(items, get)
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, typeErrorf("map filter name must be a string")
	}
	fn, ok := filters[name]
	if !ok {
		return nil, &evalError{kind: "TemplateRuntimeError", msg: "No filter named '" + name + "' found."}
	}
	return mapItems(items, func(it any) (any, error) { return fn(f, it, args[1:], kw) })
}

func filterMinMax(sign int) filterFunc {
	return func(f *frame, v any, args []any, kw []kwarg) (any, error) {
		a, err := bind("max", args, kw, []string{"case_sensitive", "attribute"}, false, pyNone{})
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return undefined{msg: "No aggregated item, sequence was empty."}, nil
		}
		keys := items
		if !isNone(a[1]) {
			get, err := attrGetter(a[1], nil)
			if err != nil {
				return nil, err
			}
			if keys, err = mapItems(items, get); err != nil {
				return nil, err
			}
		}
		best := 0
		for i := 1; i < len(items); i++ {
			c, err := compare("<", sortKey(keys[i], truthy(a[0])), sortKey(keys[best], truthy(a[0])))
			if err != nil {
				return nil, err
			}
			if c == sign {
				best = i
			}
		}
		return items[best], nil
	}
}

func filterSelect(keep, byAttr bool) filterFunc {
	return func(f *frame, v any, args []any, kw []kwarg) (any, error) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		get := func(x any) (any, error) { return x, nil }
		if byAttr {
			if len(args) == 0 {
				return nil, typeErrorf("missing attribute argument")
			}
			if get, err = attrGetter(args[0], nil); err != nil {
				return nil, err
			}
			args = args[1:]
		}
		pred := func(x any) (bool, error) { return truthy(x), nil }
		if len(args) > 0 {
			name, ok := args[0].(string)
			if !ok {
				return nil, typeErrorf("test name must be a string")
			}
			t, ok := tests[name]
			if !ok {
				return nil, &evalError{kind: "TemplateRuntimeError", msg: "No test named '" + name + "' found."}
			}
			targs := args[1:]
			pred = func(x any) (bool, error) { return t(f, x, targs) }
		}
		out := []any{}
		for _, it := range items {
			x, err := get(it)
			if err != nil {
				return nil, err
			}
			ok, err := pred(x)
			if err != nil {
				return nil, err
			}
			if ok == keep {
				out = append(out, it)
			}
		}
		return out, nil
	}
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

func filterReverse(f *frame, v any, args []any, kw []kwarg) (any, error) {
	if s, ok := v.(string); ok {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r), nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out, nil
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

func filterSlice(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("slice", args, kw, []string{"slices", "fill_with"}, pyNone{})
	if err != nil {
		return nil, err
	}
	n, ok := asInt(a[0])
	if !ok || n <= 0 {
		return nil, valueErrorf("slice() slices must be a positive int")
	}
	if err := f.st.charge(16 * n); err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	per, extra := len(items)/n, len(items)%n
	offset := 0
	out := []any{}
	for i := range n {
		start := offset + i*per
		if i < extra {
			offset++
		}
		end := offset + (i+1)*per
		col := append([]any{}, items[start:end]...)
		if !isNone(a[1]) && i >= extra {
			col = append(col, a[1])
		}
		out = append(out, col)
	}
	return out, nil
}

func filterSort(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("sort", args, kw, []string{"reverse", "case_sensitive", "attribute"}, false, false, pyNone{})
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	keys := make([]any, len(items))
	var getters []func(any) (any, error)
	if !isNone(a[2]) {
		attrs := []any{a[2]}
		if s, ok := a[2].(string); ok {
			attrs = nil
			for _, p := range strings.Split(s, ",") {
				attrs = append(attrs, strings.TrimSpace(p))
			}
		}
		for _, at := range attrs {
			g, err := attrGetter(at, nil)
			if err != nil {
				return nil, err
			}
			getters = append(getters, g)
		}
	}
	for i, it := range items {
		if getters == nil {
			keys[i] = sortKey(it, truthy(a[1]))
			continue
		}
		parts := make(tuple, len(getters))
		for j, g := range getters {
			x, err := g(it)
			if err != nil {
				return nil, err
			}
			parts[j] = sortKey(x, truthy(a[1]))
		}
		keys[i] = parts
		if len(parts) == 1 {
			keys[i] = parts[0]
		}
	}
	return sortValues(items, keys, truthy(a[0]))
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

func filterSum(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("sum", args, kw, []string{"attribute", "start"}, pyNone{}, 0)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if !isNone(a[0]) {
		get, err := attrGetter(a[0], nil)
		if err != nil {
			return nil, err
		}
		if items, err = mapItems(items, get); err != nil {
			return nil, err
		}
	}
	total := a[1]
	for _, it := range items {
		if _, ok := it.(string); ok {
			return nil, typeErrorf("unsupported operand type(s) for +: '%s' and 'str'", typeName(total))
		}
		if total, err = binaryOp(f.st, "+", total, it); err != nil {
			return nil, err
		}
	}
	return total, nil
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

func filterUnique(f *frame, v any, args []any, kw []kwarg) (any, error) {
	a, err := bind("unique", args, kw, []string{"case_sensitive", "attribute"}, false, pyNone{})
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	get := func(x any) (any, error) { return x, nil }
	if !isNone(a[1]) {
		if get, err = attrGetter(a[1], nil); err != nil {
			return nil, err
		}
	}
	seen := newDict(len(items))
	out := []any{}
	for _, it := range items {
		k, err := get(it)
		if err != nil {
			return nil, err
		}
		k = sortKey(k, truthy(a[0]))
		if _, ok := seen.Get(k); ok {
			continue
		}
		if err := seen.Set(k, true); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
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
