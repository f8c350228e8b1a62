package chat

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Python str methods.

func pyStrip(s string, chars *string, left, right bool) string {
	cut := pyIsSpace
	if chars != nil {
		set := *chars
		cut = func(r rune) bool { return strings.ContainsRune(set, r) }
	}
	if left {
		s = strings.TrimLeftFunc(s, cut)
	}
	if right {
		s = strings.TrimRightFunc(s, cut)
	}
	return s
}

func strStrip(left, right bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("strip", args, kw, []string{"chars"}, pyNone{})
		if err != nil {
			return nil, err
		}
		var chars *string
		if !isNone(a[0]) {
			c, err := argStr("strip", a[0])
			if err != nil {
				return nil, err
			}
			chars = &c
		}
		return pyStrip(recv.(string), chars, left, right), nil
	}
}

func strSplit(fromRight bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("split", args, kw, []string{"sep", "maxsplit"}, pyNone{}, -1)
		if err != nil {
			return nil, err
		}
		maxsplit, err := optInt("split", a[1], -1)
		if err != nil {
			return nil, err
		}
		s := recv.(string)
		var parts []string
		if isNone(a[0]) {
			parts = splitWhitespace(s, maxsplit, fromRight)
		} else {
			sep, err := argStr("split", a[0])
			if err != nil {
				return nil, err
			}
			if sep == "" {
				return nil, valueErrorf("empty separator")
			}
			switch {
			case maxsplit < 0:
				parts = strings.Split(s, sep)
			case fromRight:
				parts = rsplitN(s, sep, maxsplit)
			default:
				parts = strings.SplitN(s, sep, maxsplit+1)
			}
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}
}

func rsplitN(s, sep string, maxsplit int) []string {
	var rev []string
	for maxsplit > 0 {
		i := strings.LastIndex(s, sep)
		if i < 0 {
			break
		}
		rev = append(rev, s[i+len(sep):])
		s = s[:i]
		maxsplit--
	}
	out := []string{s}
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	return out
}

// splitWhitespace is str.split() / str.rsplit() without a separator.
func splitWhitespace(s string, maxsplit int, fromRight bool) []string {
	if !fromRight {
		var out []string
		for {
			s = strings.TrimLeftFunc(s, pyIsSpace)
			if s == "" {
				return out
			}
			if maxsplit >= 0 && len(out) == maxsplit {
				return append(out, s)
			}
			end := strings.IndexFunc(s, pyIsSpace)
			if end < 0 {
				return append(out, s)
			}
			out = append(out, s[:end])
			s = s[end:]
		}
	}
	var rev []string
	for {
		s = strings.TrimRightFunc(s, pyIsSpace)
		if s == "" {
			break
		}
		if maxsplit >= 0 && len(rev) == maxsplit {
			rev = append(rev, s)
			break
		}
		start := strings.LastIndexFunc(s, pyIsSpace)
		if start < 0 {
			rev = append(rev, s)
			break
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		rev = append(rev, s[start+size:])
		s = s[:start]
	}
	slices.Reverse(rev)
	return rev
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

func strSplitlines(f *frame, recv any, args []any, kw []kwarg) (any, error) {
	a, err := bind("splitlines", args, kw, []string{"keepends"}, false)
	if err != nil {
		return nil, err
	}
	keep := truthy(a[0])
	s := recv.(string)
	out := []any{}
	for len(s) > 0 {
		i := strings.IndexFunc(s, isLineBreak)
		if i < 0 {
			out = append(out, s)
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			size = 2
		}
		if keep {
			out = append(out, s[:i+size])
		} else {
			out = append(out, s[:i])
		}
		s = s[i+size:]
	}
	return out, nil
}

// pyReplace is Python's str.replace, including an empty old string.
func pyReplace(s, old, repl string, count int) string {
	if count < 0 {
		count = -1
	}
	if old != "" {
		return strings.Replace(s, old, repl, count)
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if count >= 0 && n >= count {
			b.WriteRune(r)
			continue
		}
		b.WriteString(repl)
		b.WriteRune(r)
		n++
	}
	if count < 0 || n < count {
		b.WriteString(repl)
	}
	return b.String()
}

func strReplace(f *frame, recv any, args []any, kw []kwarg) (any, error) {
	a, err := bind("replace", args, kw, []string{"old", "new", "count"}, -1)
	if err != nil {
		return nil, err
	}
	old, err := argStr("replace", a[0])
	if err != nil {
		return nil, err
	}
	repl, err := argStr("replace", a[1])
	if err != nil {
		return nil, err
	}
	count, err := optInt("replace", a[2], -1)
	if err != nil {
		return nil, err
	}
	s := recv.(string)
	if err := f.st.charge(replaceSize(s, old, repl, count)); err != nil {
		return nil, err
	}
	return pyReplace(s, old, repl, count), nil
}

// replaceSize bounds the result size before the replacement is built.
func replaceSize(s, old, repl string, count int) int {
	n := utf8.RuneCountInString(s) + 1
	if old != "" {
		n = strings.Count(s, old)
	}
	if count >= 0 && count < n {
		n = count
	}
	return len(s) + n*len(repl)
}

func strAffix(has func(s, affix string) bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("startswith", args, kw, []string{"prefix", "start", "end"}, pyNone{}, pyNone{})
		if err != nil {
			return nil, err
		}
		s, err := runeRange(recv.(string), a[1], a[2])
		if err != nil {
			return nil, err
		}
		var affixes []any
		switch p := a[0].(type) {
		case string:
			affixes = []any{p}
		case tuple:
			affixes = p
		default:
			return nil, typeErrorf("startswith first arg must be str or a tuple of str, not %s", typeName(a[0]))
		}
		for _, x := range affixes {
			xs, err := argStr("startswith", x)
			if err != nil {
				return nil, err
			}
			if has(s, xs) {
				return true, nil
			}
		}
		return false, nil
	}
}

// runeRange applies Python's optional start/end (code point indices, slice rules).
func runeRange(s string, start, end any) (string, error) {
	if isNone(start) && isNone(end) {
		return s, nil
	}
	runes := []rune(s)
	idx, err := sliceIndices(len(runes), start, end, pyNone{})
	if err != nil {
		return "", err
	}
	if len(idx) == 0 {
		return "", nil
	}
	return string(runes[idx[0] : idx[len(idx)-1]+1]), nil
}

func strMap(fn func(string) string) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		if _, err := bind("str method", args, kw, nil); err != nil {
			return nil, err
		}
		return fn(recv.(string)), nil
	}
}

func isCased(r rune) bool { return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) }

// pyTitle is Python's str.title(): a cased rune after an uncased one starts a word.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if prevCased {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prevCased = isCased(r)
	}
	return b.String()
}

func pyCapitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + cases.Lower(language.Und).String(s[size:])
}

func pySwapcase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsUpper(r):
			return unicode.ToLower(r)
		case unicode.IsLower(r):
			return unicode.ToUpper(r)
		}
		return r
	}, s)
}

func strFind(fromRight, mustFind bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("find", args, kw, []string{"sub", "start", "end"}, pyNone{}, pyNone{})
		if err != nil {
			return nil, err
		}
		sub, err := argStr("find", a[0])
		if err != nil {
			return nil, err
		}
		runes := []rune(recv.(string))
		idx, err := sliceIndices(len(runes), a[1], a[2], pyNone{})
		if err != nil {
			return nil, err
		}
		lo, hi := len(runes), len(runes)
		if len(idx) > 0 {
			lo, hi = idx[0], idx[len(idx)-1]+1
		} else if !isNone(a[1]) {
			if st, ok := asInt(a[1]); ok && st >= 0 && st <= len(runes) {
				lo, hi = st, st
			}
		}
		hay := string(runes[lo:hi])
		var pos int
		if fromRight {
			pos = strings.LastIndex(hay, sub)
		} else {
			pos = strings.Index(hay, sub)
		}
		if pos < 0 {
			if mustFind {
				return nil, valueErrorf("substring not found")
			}
			return -1, nil
		}
		return lo + utf8.RuneCountInString(hay[:pos]), nil
	}
}

func strCount(f *frame, recv any, args []any, kw []kwarg) (any, error) {
	a, err := bind("count", args, kw, []string{"sub", "start", "end"}, pyNone{}, pyNone{})
	if err != nil {
		return nil, err
	}
	sub, err := argStr("count", a[0])
	if err != nil {
		return nil, err
	}
	s, err := runeRange(recv.(string), a[1], a[2])
	if err != nil {
		return nil, err
	}
	if sub == "" {
		return utf8.RuneCountInString(s) + 1, nil
	}
	return strings.Count(s, sub), nil
}

func strJoin(f *frame, recv any, args []any, kw []kwarg) (any, error) {
	a, err := bind("join", args, kw, []string{"iterable"})
	if err != nil {
		return nil, err
	}
	items, err := iterate(a[0])
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, typeErrorf("sequence item %d: expected str instance, %s found", i, typeName(it))
		}
		parts[i] = s
	}
	return strings.Join(parts, recv.(string)), nil
}

func strJustify(align byte) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("center", args, kw, []string{"width", "fillchar"}, " ")
		if err != nil {
			return nil, err
		}
		width, ok := asInt(a[0])
		if !ok {
			return nil, typeErrorf("width must be int, not %s", typeName(a[0]))
		}
		fill, ok := a[1].(string)
		if !ok || utf8.RuneCountInString(fill) != 1 {
			return nil, typeErrorf("The fill character must be exactly one character long")
		}
		if err := f.st.charge(width * len(fill)); err != nil {
			return nil, err
		}
		s := recv.(string)
		n := width - utf8.RuneCountInString(s)
		if n <= 0 {
			return s, nil
		}
		switch align {
		case '<':
			return s + strings.Repeat(fill, n), nil
		case '>':
			return strings.Repeat(fill, n) + s, nil
		}
		// CPython's centering puts the odd pad on the left when width is odd.
		left := n/2 + (n & width & 1)
		return strings.Repeat(fill, left) + s + strings.Repeat(fill, n-left), nil
	}
}

func strZfill(f *frame, recv any, args []any, kw []kwarg) (any, error) {
	a, err := bind("zfill", args, kw, []string{"width"})
	if err != nil {
		return nil, err
	}
	width, ok := asInt(a[0])
	if !ok {
		return nil, typeErrorf("zfill() argument must be int, not %s", typeName(a[0]))
	}
	if err := f.st.charge(width); err != nil {
		return nil, err
	}
	s := recv.(string)
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s, nil
	}
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return s[:1] + strings.Repeat("0", n) + s[1:], nil
	}
	return strings.Repeat("0", n) + s, nil
}

func strPartition(fromRight bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("partition", args, kw, []string{"sep"})
		if err != nil {
			return nil, err
		}
		sep, err := argStr("partition", a[0])
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, valueErrorf("empty separator")
		}
		s := recv.(string)
		if fromRight {
			i := strings.LastIndex(s, sep)
			if i < 0 {
				return tuple{"", "", s}, nil
			}
			return tuple{s[:i], sep, s[i+len(sep):]}, nil
		}
		before, after, found := strings.Cut(s, sep)
		if !found {
			return tuple{s, "", ""}, nil
		}
		return tuple{before, sep, after}, nil
	}
}

func strRemove(prefix bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		a, err := bind("removeprefix", args, kw, []string{"affix"})
		if err != nil {
			return nil, err
		}
		x, err := argStr("removeprefix", a[0])
		if err != nil {
			return nil, err
		}
		if prefix {
			return strings.TrimPrefix(recv.(string), x), nil
		}
		return strings.TrimSuffix(recv.(string), x), nil
	}
}

func strIs(pred func(rune) bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		s := recv.(string)
		if s == "" {
			return false, nil
		}
		for _, r := range s {
			if !pred(r) {
				return false, nil
			}
		}
		return true, nil
	}
}

// strCased is str.isupper / str.islower: at least one cased rune, none of the other case.
func strCased(upper bool) methodFunc {
	return func(f *frame, recv any, args []any, kw []kwarg) (any, error) {
		return pyIsCase(recv.(string), upper), nil
	}
}

func pyIsCase(s string, upper bool) bool {
	found := false
	for _, r := range s {
		if upper && (unicode.IsLower(r) || unicode.IsTitle(r)) || !upper && (unicode.IsUpper(r) || unicode.IsTitle(r)) {
			return false
		}
		if isCased(r) {
			found = true
		}
	}
	return found
}

func strIsTitle(f *frame, recv any, args []any, kw []kwarg) (any, error) {
	s := recv.(string)
	cased, prevCased := false, false
	for _, r := range s {
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			if prevCased {
				return false, nil
			}
			prevCased, cased = true, true
		case unicode.IsLower(r):
			if !prevCased {
				return false, nil
			}
			prevCased, cased = true, true
		default:
			prevCased = false
		}
	}
	return cased, nil
}

// isDigitRune approximates Python's str.isdigit (Numeric_Type Decimal or Digit).
func isDigitRune(r rune) bool {
	switch {
	case unicode.IsDigit(r), r == 0xb2, r == 0xb3, r == 0xb9,
		r >= 0x2070 && r <= 0x2079 && r != 0x2071 && r != 0x2072 && r != 0x2073,
		r >= 0x2080 && r <= 0x2089, r >= 0x2460 && r <= 0x2468, r >= 0x2474 && r <= 0x247c,
		r >= 0x2488 && r <= 0x2490, r >= 0x24f5 && r <= 0x24fd, r >= 0x2776 && r <= 0x277e,
		r >= 0x2780 && r <= 0x2788, r >= 0x278a && r <= 0x2792:
		return true
	}
	return false
}
