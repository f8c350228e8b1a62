package chat

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filters over sequences and mappings.

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
			t, ok := predicates[name]
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
