package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSON Schema to grammar.
//
// Supported: type (one or a list), properties (in the order the schema
// gives them), required, additionalProperties (false, true or a schema;
// when absent, extra properties are allowed only if no properties are
// listed, XGrammar's strict default), enum, const, items / prefixItems /
// additionalItems, minItems / maxItems, nested objects, anyOf, oneOf (as
// anyOf: exclusivity is not enforced), a single-element allOf, $ref / $defs
// / definitions including recursion, string pattern / minLength / maxLength
// / a few formats, integer and number with minimum / maximum (exclusive
// too), null, boolean. Keywords that constrain values in ways a grammar
// cannot express (not, if/then/else, uniqueItems, multipleOf, contains,
// patternProperties, propertyNames, dependent*, unevaluated*, non-trivial
// min/maxProperties) are rejected with ErrInvalid rather than ignored.
//
// Output shape: the value alone, no whitespace before or after. Whitespace
// inside follows Options.Whitespace. Numbers have at most 16 integer
// digits, 16 fraction digits and 3 exponent digits; bounded numbers are
// written without exponent (integers in range, and decimals whose integer
// part keeps them in range). Strings without a pattern use any JSON
// string characters including escapes; lengths count code points as JSON
// Schema does. An enum or const value is written in compact JSON.

const (
	maxSchemaLen    = 1 << 20
	maxSchemaDepth  = 200
	maxStringBound  = 1000 // largest minLength/maxLength enforced
	maxIntDigits    = 16
	schemaURL       = "mem://sightline/schema.json"
	shareSizeCutoff = 64
)

var pow16 = big.NewInt(9_999_999_999_999_999) // 10^16 - 1

type jsonCompiler struct {
	o        Options
	tree     *jtree
	rules    []ruleDef
	bySchema map[*jsonschema.Schema]int
	anyRule  int
	depth    int
	ws       *node
	colon    *node
	sep      *node
	sizes    map[*node]int64
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external references are not allowed (%s)", url)
}

// jsonSchemaRules compiles a JSON Schema document.
func jsonSchemaRules(src string, o Options) ([]ruleDef, error) {
	if len(src) > maxSchemaLen {
		return nil, fmt.Errorf("%w: json_schema longer than %d bytes", ErrInvalid, maxSchemaLen)
	}
	tree, err := parseOrdered([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("%w: json_schema is not valid JSON: %v", ErrInvalid, err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%w: json_schema is not valid JSON: %v", ErrInvalid, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("%w: json_schema: %v", ErrInvalid, err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), schemaURL, "schema")
		return nil, fmt.Errorf("%w: json_schema: %s", ErrInvalid, msg)
	}
	jc := &jsonCompiler{o: o, tree: tree, bySchema: map[*jsonschema.Schema]int{}, anyRule: -1, sizes: map[*node]int64{}}
	if o.Whitespace == WhitespaceCompact {
		jc.ws, jc.colon, jc.sep = empty, lit(": "), lit(", ")
	} else {
		var s byteSet
		for _, c := range []byte(" \t\n\r") {
			s.add(c)
		}
		jc.ws = repeat(class(s), 0, o.maxWS())
		jc.colon = seq(jc.ws, lit(":"), jc.ws)
		jc.sep = seq(jc.ws, lit(","), jc.ws)
	}
	jc.rules = []ruleDef{{name: "root", body: nothing}}
	body, err := jc.schema(sch)
	if err != nil {
		return nil, err
	}
	jc.rules[0].body = body
	return jc.rules, nil
}

// where names a schema location for error messages.
func where(s *jsonschema.Schema) string {
	loc := s.Location
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		loc = loc[i+1:]
	}
	if loc == "" {
		return "/"
	}
	return loc
}

func (jc *jsonCompiler) errf(s *jsonschema.Schema, format string, args ...any) error {
	return fmt.Errorf("%w: json_schema at %s: %s", ErrInvalid, where(s), fmt.Sprintf(format, args...))
}

// unsupported lists the keywords of s we cannot enforce.
func unsupported(s *jsonschema.Schema) []string {
	var out []string
	add := func(cond bool, kw string) {
		if cond {
			out = append(out, kw)
		}
	}
	add(s.Not != nil, "not")
	add(s.If != nil || s.Then != nil || s.Else != nil, "if/then/else")
	add(s.DynamicRef != nil, "$dynamicRef")
	add(s.RecursiveRef != nil, "$recursiveRef")
	add(len(s.PatternProperties) > 0, "patternProperties")
	add(s.PropertyNames != nil, "propertyNames")
	add(len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 || len(s.DependentSchemas) > 0, "dependencies")
	add(s.UnevaluatedProperties != nil, "unevaluatedProperties")
	add(s.UnevaluatedItems != nil, "unevaluatedItems")
	add(s.Contains != nil, "contains")
	add(s.UniqueItems && (s.MaxItems == nil || *s.MaxItems > 1), "uniqueItems")
	add(s.MultipleOf != nil, "multipleOf")
	add(len(s.AllOf) > 1, "allOf with more than one schema")
	add(len(s.AnyOf) > 0 && len(s.OneOf) > 0, "anyOf together with oneOf")
	return out
}

// constraining reports whether s has value constraints besides the
// combinators and $ref (annotations do not count).
func constraining(s *jsonschema.Schema) bool {
	return s.Types != nil || s.Enum != nil || s.Const != nil || s.Properties != nil || s.Required != nil ||
		s.AdditionalProperties != nil || s.MinProperties != nil || s.MaxProperties != nil ||
		s.Items != nil || s.Items2020 != nil || s.PrefixItems != nil || s.AdditionalItems != nil ||
		s.MinItems != nil || s.MaxItems != nil || s.MinLength != nil || s.MaxLength != nil || s.Pattern != nil ||
		s.Minimum != nil || s.Maximum != nil || s.ExclusiveMinimum != nil || s.ExclusiveMaximum != nil
}

func (jc *jsonCompiler) schema(s *jsonschema.Schema) (*node, error) {
	jc.depth++
	defer func() { jc.depth-- }()
	if jc.depth > maxSchemaDepth {
		return nil, jc.errf(s, "schema nested deeper than %d", maxSchemaDepth)
	}
	if s.Bool != nil {
		if *s.Bool {
			return jc.any(), nil
		}
		return nothing, nil
	}
	if u := unsupported(s); len(u) > 0 {
		return nil, jc.errf(s, "unsupported keyword %s", strings.Join(u, ", "))
	}
	combos := len(s.AllOf) + len(s.AnyOf) + len(s.OneOf)
	if s.Ref != nil {
		if constraining(s) || combos > 0 {
			return nil, jc.errf(s, "$ref together with other constraints is not supported")
		}
		r, err := jc.ruleFor(s.Ref)
		if err != nil {
			return nil, err
		}
		return ref(r), nil
	}
	if combos > 0 {
		if constraining(s) {
			return nil, jc.errf(s, "anyOf/oneOf/allOf together with other constraints is not supported")
		}
		var alts []*node
		for _, sub := range append(append(append([]*jsonschema.Schema{}, s.AllOf...), s.AnyOf...), s.OneOf...) {
			n, err := jc.schema(sub)
			if err != nil {
				return nil, err
			}
			alts = append(alts, n)
		}
		return alt(alts...), nil
	}
	if s.Const != nil {
		return jc.enum(s, []any{*s.Const})
	}
	if s.Enum != nil {
		return jc.enum(s, s.Enum.Values)
	}
	var alts []*node
	types := schemaTypes(s)
	hasNumber := false
	for _, t := range types {
		hasNumber = hasNumber || t == "number"
	}
	for _, t := range types {
		var n *node
		var err error
		switch t {
		case "null":
			n = lit("null")
		case "boolean":
			n = alt(lit("true"), lit("false"))
		case "integer":
			if hasNumber {
				continue
			}
			n, err = jc.integer(s)
		case "number":
			n, err = jc.number(s)
		case "string":
			n, err = jc.str(s)
		case "array":
			n, err = jc.array(s)
		case "object":
			n, err = jc.object(s)
		}
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	return alt(alts...), nil
}

// schemaTypes is the declared type list, or the types the keywords imply,
// or every type.
func schemaTypes(s *jsonschema.Schema) []string {
	if s.Types != nil {
		return s.Types.ToStrings()
	}
	var t []string
	if s.Properties != nil || s.Required != nil || s.AdditionalProperties != nil || s.MinProperties != nil || s.MaxProperties != nil {
		t = append(t, "object")
	}
	if s.Items != nil || s.Items2020 != nil || s.PrefixItems != nil || s.AdditionalItems != nil || s.MinItems != nil || s.MaxItems != nil {
		t = append(t, "array")
	}
	if s.MinLength != nil || s.MaxLength != nil || s.Pattern != nil {
		t = append(t, "string")
	}
	if s.Minimum != nil || s.Maximum != nil || s.ExclusiveMinimum != nil || s.ExclusiveMaximum != nil {
		t = append(t, "number")
	}
	if len(t) == 0 {
		t = []string{"null", "boolean", "number", "string", "array", "object"}
	}
	return t
}

// ruleFor returns the rule of a $ref target, compiling it once.
func (jc *jsonCompiler) ruleFor(s *jsonschema.Schema) (int, error) {
	if r, ok := jc.bySchema[s]; ok {
		return r, nil
	}
	r := len(jc.rules)
	jc.rules = append(jc.rules, ruleDef{name: where(s), body: nothing})
	jc.bySchema[s] = r
	body, err := jc.schema(s)
	if err != nil {
		return 0, err
	}
	jc.rules[r].body = body
	return r, nil
}

// newRule adds an anonymous rule that stays a call (shared, not copied).
func (jc *jsonCompiler) newRule(name string, body *node) *node {
	jc.rules = append(jc.rules, ruleDef{name: name, body: body, noInline: true})
	return ref(len(jc.rules) - 1)
}

// share turns a large expression that will be copied many times into a
// called rule.
func (jc *jsonCompiler) share(name string, x *node, copies int) *node {
	if copies <= 1 || x.k == kRef || jc.size(x) <= shareSizeCutoff {
		return x
	}
	return jc.newRule(name, x)
}

// size estimates the automaton states x expands to.
func (jc *jsonCompiler) size(x *node) int64 {
	if v, ok := jc.sizes[x]; ok {
		return v
	}
	jc.sizes[x] = 1 // recursion guard
	var s int64
	switch x.k {
	case kBytes:
		s = int64(len(x.lit))
	case kRunes:
		s = int64(len(x.runes)) * 2
	case kSeq, kAlt:
		for _, k := range x.kids {
			s += jc.size(k)
		}
	case kRepeat:
		c := int64(x.max)
		if x.max < 0 {
			c = int64(x.min) + 1
		}
		s = satMul(jc.size(x.kids[0]), c)
	case kRef:
		s = 1
		if d := jc.rules[x.rule]; !d.noInline && x.rule != 0 {
			s = jc.size(d.body)
		}
	case kFrag:
		s = int64(len(x.frag.edges))
	default:
		s = 1
	}
	s = min(s+1, sizeCap)
	jc.sizes[x] = s
	return s
}

// any is any JSON value (a recursive rule).
func (jc *jsonCompiler) any() *node {
	if jc.anyRule >= 0 {
		return ref(jc.anyRule)
	}
	jc.anyRule = len(jc.rules)
	jc.rules = append(jc.rules, ruleDef{name: "any", body: nothing})
	v := ref(jc.anyRule)
	str := seq(lit(`"`), star(jsonChar()), lit(`"`))
	arr := seq(lit("["), jc.ws, opt(seq(v, star(seq(jc.sep, v)), jc.ws)), lit("]"))
	member := seq(str, jc.colon, v)
	obj := seq(lit("{"), jc.ws, opt(seq(member, star(seq(jc.sep, member)), jc.ws)), lit("}"))
	jc.rules[jc.anyRule].body = alt(lit("null"), lit("true"), lit("false"), freeNumber(), str, arr, obj)
	return v
}

// enum is the listed values that also satisfy the rest of s.
func (jc *jsonCompiler) enum(s *jsonschema.Schema, vals []any) (*node, error) {
	var alts []*node
	for _, v := range vals {
		if s.Validate(v) != nil {
			continue
		}
		b, err := encodeJSON(v)
		if err != nil {
			return nil, jc.errf(s, "enum value: %v", err)
		}
		alts = append(alts, lit(b))
	}
	return alt(alts...), nil
}

func encodeJSON(v any) (string, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// ---- strings ----

// jsonChar is one JSON string character: a code point other than '"', '\'
// and controls, or an escape (\u escapes never denote surrogates, so each
// character is one code point).
func jsonChar() *node {
	var hexSet, hexNoD, low byteSet
	for _, c := range "0123456789abcdefABCDEF" {
		hexSet.add(byte(c))
		if c != 'd' && c != 'D' {
			hexNoD.add(byte(c))
		}
	}
	for _, c := range "01234567" {
		low.add(byte(c))
	}
	var dd, esc byteSet
	dd.add('d')
	dd.add('D')
	for _, c := range `"\/bfnrt` {
		esc.add(byte(c))
	}
	hex := class(hexSet)
	u := alt(seq(class(hexNoD), hex, hex, hex), seq(class(dd), class(low), hex, hex))
	plain := runeClass(0x20, 0x21, 0x23, 0x5B, 0x5D, utf8.MaxRune)
	return alt(plain, seq(lit(`\`), alt(class(esc), seq(lit("u"), u))))
}

// jsonRune is the JSON string encoding of r.
func jsonRune(r rune) *node {
	switch r {
	case '"':
		return lit(`\"`)
	case '\\':
		return lit(`\\`)
	case '\n':
		return lit(`\n`)
	case '\r':
		return lit(`\r`)
	case '\t':
		return lit(`\t`)
	case '\b':
		return lit(`\b`)
	case '\f':
		return lit(`\f`)
	}
	if r < 0x20 {
		return lit(fmt.Sprintf(`\u%04x`, r))
	}
	return lit(string(r))
}

// jsonEscape maps a regex over decoded text to one over its JSON string
// encoding.
func jsonEscape(x *node, memo map[*node]*node) (*node, error) {
	if y, ok := memo[x]; ok {
		return y, nil
	}
	var y *node
	switch x.k {
	case kEmpty, kNone:
		y = x
	case kBytes:
		var kids []*node
		for s := string(x.lit); s != ""; {
			r, n := utf8.DecodeRuneInString(s)
			kids = append(kids, jsonRune(r))
			s = s[n:]
		}
		y = seq(kids...)
	case kRunes:
		special := []rune{0, 0x1F, '"', '"', '\\', '\\'}
		rest := intersectRanges(x.runes, negateRanges(normRanges(special)))
		alts := []*node{runeClass(rest...)}
		if len(rest) == 0 {
			alts = nil
		}
		for _, r := range []rune{'"', '\\'} {
			if inRanges(x.runes, r) {
				alts = append(alts, jsonRune(r))
			}
		}
		for r := rune(0); r < 0x20; r++ {
			if inRanges(x.runes, r) {
				alts = append(alts, jsonRune(r))
			}
		}
		y = alt(alts...)
	case kSeq, kAlt, kRepeat:
		kids := make([]*node, len(x.kids))
		for i, k := range x.kids {
			var err error
			if kids[i], err = jsonEscape(k, memo); err != nil {
				return nil, err
			}
		}
		switch x.k {
		case kSeq:
			y = seq(kids...)
		case kAlt:
			y = alt(kids...)
		default:
			y = repeat(kids[0], x.min, x.max)
		}
	default:
		return nil, errors.New("internal: unexpected pattern node")
	}
	memo[x] = y
	return y, nil
}

func inRanges(r []rune, c rune) bool {
	for i := 0; i+1 < len(r); i += 2 {
		if c >= r[i] && c <= r[i+1] {
			return true
		}
	}
	return false
}

// intersectRanges intersects two normalized range lists.
func intersectRanges(a, b []rune) []rune {
	var out []rune
	for i := 0; i+1 < len(a); i += 2 {
		for j := 0; j+1 < len(b); j += 2 {
			lo, hi := max(a[i], b[j]), min(a[i+1], b[j+1])
			if lo <= hi {
				out = append(out, lo, hi)
			}
		}
	}
	return normRanges(out)
}

var formats = map[string]string{
	"date":      `[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])`,
	"time":      `([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])`,
	"date-time": `[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])`,
	"uuid":      `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
	"ipv4":      `((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`,
}

func (jc *jsonCompiler) str(s *jsonschema.Schema) (*node, error) {
	minL, maxL := 0, -1
	if s.MinLength != nil {
		minL = *s.MinLength
	}
	if s.MaxLength != nil {
		maxL = *s.MaxLength
	}
	if minL > maxStringBound || maxL > maxStringBound {
		return nil, jc.errf(s, "minLength/maxLength above %d cannot be enforced", maxStringBound)
	}
	if maxL >= 0 && maxL < minL {
		return nothing, nil
	}
	length := repeat(jsonChar(), minL, maxL)
	var content *node
	pattern := ""
	if s.Pattern != nil {
		pattern = s.Pattern.String()
	} else if f := jc.keyword(s, "format"); f != nil && f.str != nil {
		pattern = formats[*f.str]
	}
	if pattern != "" {
		re, err := regexNode(pattern)
		if err != nil {
			return nil, jc.errf(s, "pattern: %v", errors.Unwrap(err))
		}
		if content, err = jsonEscape(re, map[*node]*node{}); err != nil {
			return nil, jc.errf(s, "pattern: %v", err)
		}
		if minL > 0 || maxL >= 0 {
			if content, err = intersect(content, length); err != nil {
				return nil, jc.errf(s, "pattern with length bounds: %v", errors.Unwrap(err))
			}
		}
	} else {
		content = length
	}
	return seq(lit(`"`), content, lit(`"`)), nil
}

// ---- numbers ----

func freeNumber() *node {
	digit := runeClass('0', '9')
	nz := runeClass('1', '9')
	intPart := alt(lit("0"), seq(nz, repeat(digit, 0, maxIntDigits-1)))
	frac := seq(lit("."), repeat(digit, 1, 16))
	exp := seq(runeClass('e', 'e', 'E', 'E'), opt(runeClass('+', '+', '-', '-')), repeat(digit, 1, 3))
	return seq(opt(lit("-")), intPart, opt(frac), opt(exp))
}

// bounds returns the integer interval [lo, hi] of integers satisfying the
// numeric bounds of s, clamped to ±(10^16−1).
func bounds(s *jsonschema.Schema) (lo, hi *big.Int) {
	lo = new(big.Int).Neg(pow16)
	hi = new(big.Int).Set(pow16)
	if s.Minimum != nil {
		lo = maxInt(lo, ceilRat(s.Minimum))
	}
	if s.ExclusiveMinimum != nil {
		f := floorRat(s.ExclusiveMinimum)
		lo = maxInt(lo, f.Add(f, big.NewInt(1)))
	}
	if s.Maximum != nil {
		hi = minInt(hi, floorRat(s.Maximum))
	}
	if s.ExclusiveMaximum != nil {
		c := ceilRat(s.ExclusiveMaximum)
		hi = minInt(hi, c.Sub(c, big.NewInt(1)))
	}
	return lo, hi
}

// floorRat is ⌊r⌋ (Euclidean division by the positive denominator).
func floorRat(r *big.Rat) *big.Int {
	q, _ := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	return q
}

func ceilRat(r *big.Rat) *big.Int {
	q := floorRat(r)
	if !r.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func maxInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

func minInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func (jc *jsonCompiler) integer(s *jsonschema.Schema) (*node, error) {
	lo, hi := bounds(s)
	return intRange(lo.Int64(), hi.Int64()), nil
}

func hasBounds(s *jsonschema.Schema) bool {
	return s.Minimum != nil || s.Maximum != nil || s.ExclusiveMinimum != nil || s.ExclusiveMaximum != nil
}

func (jc *jsonCompiler) number(s *jsonschema.Schema) (*node, error) {
	if !hasBounds(s) {
		return freeNumber(), nil
	}
	lo, hi := bounds(s)
	ints := intRange(lo.Int64(), hi.Int64())
	// The tightest lower and upper bounds.
	var l, h bound
	for _, b := range []bound{{s.Minimum, false}, {s.ExclusiveMinimum, true}} {
		if b.v != nil && (l.v == nil || b.v.Cmp(l.v) > 0 || (b.v.Cmp(l.v) == 0 && b.excl)) {
			l = b
		}
	}
	for _, b := range []bound{{s.Maximum, false}, {s.ExclusiveMaximum, true}} {
		if b.v != nil && (h.v == nil || b.v.Cmp(h.v) < 0 || (b.v.Cmp(h.v) == 0 && b.excl)) {
			h = b
		}
	}
	zero := new(big.Rat)
	alts := []*node{ints}
	// Non-integers > 0: k.F with |value| bounds [max(l, 0), h].
	if h.v == nil || h.v.Sign() > 0 {
		pl := l
		if pl.v == nil || pl.v.Sign() < 0 {
			pl = bound{zero, false}
		}
		alts = append(alts, decimalsIn(pl, h))
	}
	// Non-integers < 0: −(k.F) with k.F in [max(−h, 0), −l].
	if l.v == nil || l.v.Sign() < 0 {
		nl := bound{zero, false}
		if h.v != nil && h.v.Sign() < 0 {
			nl = bound{new(big.Rat).Neg(h.v), h.excl}
		}
		nh := bound{}
		if l.v != nil {
			nh = bound{new(big.Rat).Neg(l.v), l.excl}
		}
		alts = append(alts, seq(lit("-"), decimalsIn(nl, nh)))
	}
	return alt(alts...), nil
}

// bound is a numeric bound; v nil means none.
type bound struct {
	v    *big.Rat
	excl bool
}

// decimalsIn matches k.F (k ≥ 0 canonical, F 1 to 16 digits ending in a
// non-zero digit, so k < k.F < k+1) with lo ≤ k.F ≤ hi (lo ≥ 0; strict
// where excl).
func decimalsIn(lo, hi bound) *node {
	one := big.NewInt(1)
	limit := new(big.Rat).SetInt(pow16)
	hv := hi.v
	if hv == nil || hv.Cmp(limit) > 0 {
		hv, hi = limit, bound{limit, false}
	}
	// Interior k: [k, k+1] inside the bounds.
	kLo := ceilRat(lo.v)
	kHi := new(big.Int).Sub(floorRat(hv), one)
	frac := seq(repeat(runeClass('0', '9'), 0, 15), runeClass('1', '9'))
	var alts []*node
	if kLo.Cmp(kHi) <= 0 {
		alts = append(alts, seq(posRange(kLo.Int64(), kHi.Int64()), lit("."), frac))
	}
	// Boundary k (the integer parts of fractional bounds).
	cands := []*big.Int{floorRat(lo.v)}
	if k := floorRat(hv); k.Cmp(cands[0]) != 0 {
		cands = append(cands, k)
	}
	for _, k := range cands {
		if k.Sign() < 0 || k.Cmp(pow16) > 0 || (k.Cmp(kLo) >= 0 && k.Cmp(kHi) <= 0) {
			continue
		}
		kr := new(big.Rat).SetInt(k)
		f := frac
		ok := true
		if d := new(big.Rat).Sub(lo.v, kr); d.Sign() > 0 {
			digits, fin := fracDigits(d)
			switch {
			case d.Cmp(big.NewRat(1, 1)) >= 0:
				ok = false
			case !fin:
				ok = false
			default:
				var err error
				if f, err = intersect(f, fracAtLeast(digits, lo.excl)); err != nil {
					ok = false
				}
			}
		}
		if d := new(big.Rat).Sub(hv, kr); ok && d.Cmp(big.NewRat(1, 1)) < 0 {
			digits, fin := fracDigits(d)
			switch {
			case d.Sign() <= 0 || !fin:
				ok = false
			default:
				var err error
				if f, err = intersect(f, fracAtMost(digits, hi.excl)); err != nil {
					ok = false
				}
			}
		}
		if ok {
			alts = append(alts, seq(lit(k.String()), lit("."), f))
		}
	}
	return alt(alts...)
}

// fracDigits writes 0 < r < 1 as its decimal digits (false when they do
// not end within 40 digits).
func fracDigits(r *big.Rat) (string, bool) {
	x := new(big.Rat).Set(r)
	ten := big.NewRat(10, 1)
	var b strings.Builder
	for range 40 {
		if x.Sign() == 0 {
			return b.String(), true
		}
		x.Mul(x, ten)
		d := floorRat(x)
		b.WriteString(d.String())
		x.Sub(x, new(big.Rat).SetInt(d))
	}
	return "", x.Sign() == 0
}

// fracAtLeast matches digit strings f with 0.f ≥ 0.a (> when strict).
func fracAtLeast(a string, strict bool) *node {
	digits := star(runeClass('0', '9'))
	if strings.Trim(a, "0") == "" {
		if strict {
			return seq(digits, runeClass('1', '9'), digits)
		}
		return digits
	}
	alts := []*node{seq(lit(a[:1]), fracAtLeast(a[1:], strict))}
	if a[0] < '9' {
		alts = append(alts, seq(runeClass(rune(a[0])+1, '9'), digits))
	}
	return alt(alts...)
}

// fracAtMost matches digit strings f with 0.f ≤ 0.b (< when strict).
func fracAtMost(b string, strict bool) *node {
	digits := star(runeClass('0', '9'))
	if strings.Trim(b, "0") == "" {
		if strict {
			return nothing
		}
		return star(lit("0"))
	}
	// f may also end here: its padding zeros are below the rest of b.
	alts := []*node{empty, seq(lit(b[:1]), fracAtMost(b[1:], strict))}
	if b[0] > '0' {
		alts = append(alts, seq(runeClass('0', rune(b[0])-1), digits))
	}
	return alt(alts...)
}

// intRange is the canonical decimal integers in [lo, hi] ("-0" excluded).
func intRange(lo, hi int64) *node {
	if lo > hi {
		return nothing
	}
	var alts []*node
	if lo < 0 {
		nh := min(hi, -1)
		if lo <= nh {
			alts = append(alts, seq(lit("-"), posRange(-nh, -lo)))
		}
	}
	if hi >= 0 {
		alts = append(alts, posRange(max(lo, 0), hi))
	}
	return alt(alts...)
}

// posRange is the canonical decimals of [a, b], 0 ≤ a ≤ b.
func posRange(a, b int64) *node {
	var alts []*node
	for l := len(fmt.Sprint(a)); l <= len(fmt.Sprint(b)); l++ {
		lo := int64(0)
		if l > 1 {
			lo = pow10(l - 1)
		}
		hi := pow10(l) - 1
		lo, hi = max(lo, a), min(hi, b)
		if lo <= hi {
			alts = append(alts, sameLenRange(fmt.Sprint(lo), fmt.Sprint(hi)))
		}
	}
	return alt(alts...)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// sameLenRange matches the digit strings of one length between lo and hi.
func sameLenRange(lo, hi string) *node {
	if lo == "" {
		return empty
	}
	digits := func(a, b byte) *node { return runeClass(rune(a), rune(b)) }
	if lo[0] == hi[0] {
		return seq(lit(lo[:1]), sameLenRange(lo[1:], hi[1:]))
	}
	n := len(lo) - 1
	if strings.Trim(lo[1:], "0") == "" && strings.Trim(hi[1:], "9") == "" {
		return seq(digits(lo[0], hi[0]), repeat(digits('0', '9'), n, n))
	}
	alts := []*node{seq(lit(lo[:1]), sameLenRange(lo[1:], strings.Repeat("9", n)))}
	if hi[0]-lo[0] > 1 {
		alts = append(alts, seq(digits(lo[0]+1, hi[0]-1), repeat(digits('0', '9'), n, n)))
	}
	alts = append(alts, seq(lit(hi[:1]), sameLenRange(strings.Repeat("0", n), hi[1:])))
	return alt(alts...)
}

// ---- arrays ----

func (jc *jsonCompiler) array(s *jsonschema.Schema) (*node, error) {
	var prefix []*jsonschema.Schema
	var rest any // nil (any), bool, *Schema
	switch it := s.Items.(type) {
	case []*jsonschema.Schema:
		prefix, rest = it, s.AdditionalItems
	case *jsonschema.Schema:
		rest = it
	}
	if s.PrefixItems != nil {
		prefix = s.PrefixItems
	}
	if s.Items2020 != nil {
		rest = s.Items2020
	}
	minI, maxI := 0, -1
	if s.MinItems != nil {
		minI = *s.MinItems
	}
	if s.MaxItems != nil {
		maxI = *s.MaxItems
	}
	if maxI >= 0 && maxI < minI {
		return nothing, nil
	}
	if minI > 10_000 || (maxI > 10_000) {
		return nil, jc.errf(s, "minItems/maxItems above 10000 cannot be enforced")
	}
	var restNode *node
	switch r := rest.(type) {
	case nil:
		restNode = jc.any()
	case bool:
		restNode = nothing
		if r {
			restNode = jc.any()
		}
	case *jsonschema.Schema:
		var err error
		if restNode, err = jc.schema(r); err != nil {
			return nil, err
		}
	}
	items := make([]*node, len(prefix))
	for i, p := range prefix {
		var err error
		if items[i], err = jc.schema(p); err != nil {
			return nil, err
		}
	}
	k := len(prefix)
	copies := minI + 1
	if maxI >= 0 {
		copies = maxI
	}
	restNode = jc.share(where(s)+"/items", restNode, copies-k)
	elem := func(i int) *node {
		if i < k {
			return items[i]
		}
		return restNode
	}
	// tail(i): what may follow once i ≥ 1 elements are written.
	var tail func(i int) *node
	tail = func(i int) *node {
		if i >= k {
			lo := max(0, minI-i)
			hi := -1
			if maxI >= 0 {
				hi = maxI - i
			}
			return repeat(seq(jc.sep, restNode), lo, hi)
		}
		var alts []*node
		if i >= minI {
			alts = append(alts, empty)
		}
		if maxI < 0 || i < maxI {
			alts = append(alts, seq(jc.sep, elem(i), tail(i+1)))
		}
		return alt(alts...)
	}
	var body *node
	if maxI == 0 {
		body = empty
	} else {
		ne := seq(elem(0), tail(1), jc.ws)
		if minI == 0 {
			body = opt(ne)
		} else {
			body = ne
		}
	}
	return seq(lit("["), jc.ws, body, lit("]")), nil
}

// ---- objects ----

// keyword returns the raw value of keyword kw of s (nil when absent or
// when s lives in another resource).
func (jc *jsonCompiler) keyword(s *jsonschema.Schema, kw string) *jtree {
	ptr, ok := strings.CutPrefix(s.Location, schemaURL+"#")
	if !ok {
		return nil
	}
	if t := jc.tree.at(ptr); t != nil && t.obj != nil {
		return t.obj[kw]
	}
	return nil
}

// orderedKeys lists the property names of s in document order (nil when
// s lives in another resource).
func (jc *jsonCompiler) orderedKeys(s *jsonschema.Schema) []string {
	if t := jc.keyword(s, "properties"); t != nil {
		return t.keys
	}
	return nil
}

type member struct {
	name     string
	node     *node
	required bool
}

func (jc *jsonCompiler) object(s *jsonschema.Schema) (*node, error) {
	// Property order: as written in the schema document.
	keys := jc.orderedKeys(s)
	seen := map[string]bool{}
	var order []string
	for _, k := range keys {
		if _, ok := s.Properties[k]; ok && !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	var restKeys []string
	for k := range s.Properties {
		if !seen[k] {
			restKeys = append(restKeys, k)
		}
	}
	sort.Strings(restKeys)
	order = append(order, restKeys...)
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	var members []member
	for _, k := range order {
		seen[k] = true
		v, err := jc.schema(s.Properties[k])
		if err != nil {
			return nil, err
		}
		if v.k == kNone {
			if required[k] {
				return nothing, nil
			}
			continue
		}
		members = append(members, member{name: k, node: v, required: required[k]})
	}
	for _, r := range s.Required {
		if !seen[r] {
			seen[r] = true
			members = append(members, member{name: r, node: jc.any(), required: true})
		}
	}
	// Extra properties.
	var extraVal *node
	switch ap := s.AdditionalProperties.(type) {
	case nil:
		if len(s.Properties) == 0 {
			extraVal = jc.any()
		}
	case bool:
		if ap {
			extraVal = jc.any()
		}
	case *jsonschema.Schema:
		v, err := jc.schema(ap)
		if err != nil {
			return nil, err
		}
		if v.k != kNone {
			extraVal = v
		}
	}
	nReq := 0
	for _, m := range members {
		if m.required {
			nReq++
		}
	}
	if s.MinProperties != nil && *s.MinProperties > nReq {
		return nil, jc.errf(s, "minProperties above the number of required properties is not supported")
	}
	if s.MaxProperties != nil && (extraVal != nil || *s.MaxProperties < len(members)) {
		return nil, jc.errf(s, "maxProperties below the number of possible properties is not supported")
	}
	var extra *node
	if extraVal != nil {
		var key *node
		if len(members) == 0 {
			key = seq(lit(`"`), star(jsonChar()), lit(`"`))
		} else {
			var names []string
			for _, m := range members {
				names = append(names, m.name)
			}
			plain := star(runeClass(0x20, 0x21, 0x23, 0x5B, 0x5D, utf8.MaxRune))
			content, err := intersect(plain, notIn(names))
			if err != nil {
				return nil, jc.errf(s, "%v", errors.Unwrap(err))
			}
			key = seq(lit(`"`), content, lit(`"`))
		}
		extra = seq(key, jc.colon, jc.share(where(s)+"/additionalProperties", extraVal, 2))
	}
	n := len(members)
	optional := 0
	for _, m := range members {
		if !m.required {
			optional++
		}
	}
	mem := make([]*node, n)
	for i, m := range members {
		name, err := encodeJSON(m.name)
		if err != nil {
			return nil, jc.errf(s, "property name: %v", err)
		}
		v := m.node
		if optional > 0 {
			v = jc.share(where(s)+"/properties/"+m.name, v, n)
		}
		mem[i] = seq(lit(name), jc.colon, v)
	}
	// after(i): members i.. once something was written; first(i): before.
	after := make([]*node, n+1)
	after[n] = empty
	if extra != nil {
		after[n] = star(seq(jc.sep, extra))
	}
	for i := n - 1; i >= 0; i-- {
		with := seq(jc.sep, mem[i], after[i+1])
		if members[i].required {
			after[i] = with
		} else {
			after[i] = alt(with, after[i+1])
		}
	}
	first := make([]*node, n+1)
	first[n] = nothing
	if extra != nil {
		first[n] = seq(extra, after[n])
	}
	for i := n - 1; i >= 0; i-- {
		with := seq(mem[i], after[i+1])
		if members[i].required {
			first[i] = with
		} else {
			first[i] = alt(with, first[i+1])
		}
	}
	var body *node
	if nReq == 0 {
		body = opt(seq(first[0], jc.ws))
	} else {
		body = seq(first[0], jc.ws)
	}
	return seq(lit("{"), jc.ws, body, lit("}")), nil
}
