package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The structural tag "format" form (XGrammar's structural tag, as SGLang
// accepts it in response_format {"type": "structural_tag", "format": ...}):
// a tree of formats, each matching one chunk of the output.
//
//	const_string        {value}: exactly value.
//	json_schema         {json_schema}: a JSON value valid for the schema
//	                    (style "json" only; max_whitespace_cnt per format).
//	regex               {pattern}: a match of the regex (the Regex kind).
//	grammar             {grammar}: a match of the GBNF grammar (the EBNF kind).
//	any_text            {excludes}: free text. Inside a tag it may not contain
//	                    the tag's end strings, so the tag ends at the first
//	                    one; nor any of excludes. Unrestricted (any UTF-8)
//	                    when there is nothing to exclude, e.g. at top level.
//	sequence, or        {elements}: all in order; one of.
//	optional, star, plus {content}; repeat {content, min, max (-1: no limit)}.
//	tag                 {begin, content, end}: begin, content, end (end may
//	                    be a list of alternatives).
//	triggered_tags      {triggers, tags, at_least_one, stop_after_first,
//	                    excludes}: free text in which each trigger starts one
//	                    of the tags whose begin starts with it; the free text
//	                    contains no trigger otherwise, no exclude and (inside
//	                    a tag) no end string of the enclosing tag.
//	tags_with_separator {tags, separator, at_least_one, stop_after_first}:
//	                    tags joined by separator, nothing else.
//	dispatch            {rules: [[pattern, format]...], loop, excludes}: free
//	                    text in which each pattern is followed by its format.
//
// Token-level formats (token, exclude_token, any_tokens,
// token_triggered_tags, token_dispatch, token begin/end), non-JSON
// json_schema styles, any_order, and the max_tokens/max_chars budgets of
// any_text are rejected with ErrInvalid, as are unknown fields.
//
// As in XGrammar, free text is over bytes when it must avoid strings, and
// any UTF-8 text otherwise; a format without "type" is inferred from its
// fields (a tag if it has "begin"); and a tag
// whose content is unlimited (free text, repetition) needs a non-empty end
// unless that content has its own excludes.

const (
	maxStructTagLen   = 1 << 20
	maxFormatDepth    = 128
	maxFreeTextBytes  = 1 << 16 // all triggers, excludes and end strings avoided by free text
	maxFormatRepeat   = 10_000
	maxFormatWSRepeat = 64
)

// stBuilder lowers a structural tag to rules; defs[0] is the root.
type stBuilder struct {
	o         Options
	defs      []ruleDef
	memo      map[string]*node // embedded sub-grammars by source
	freeBytes int
}

// stInfo is what an enclosing format needs to know about a lowered one:
// whether it can consume unbounded output, and whether it has explicit
// excludes (XGrammar's IsUnlimited and IsExcluded).
type stInfo struct{ unlimited, excluded bool }

// stObj is one format object, with its path for error messages.
type stObj struct {
	path string
	m    map[string]json.RawMessage
}

func (b *stBuilder) errf(path, format string, args ...any) error {
	return fmt.Errorf("%w: structural_tag: %s: %s", ErrInvalid, path, fmt.Sprintf(format, args...))
}

// present reports whether a JSON field holds a non-null value.
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && string(t) != "null"
}

// object decodes raw as a format object.
func (b *stBuilder) object(raw json.RawMessage, path string) (*stObj, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, b.errf(path, "a format must be a JSON object")
	}
	return &stObj{path: path, m: m}, nil
}

// only rejects fields other than type and allowed.
func (b *stBuilder) only(o *stObj, typ string, allowed ...string) error {
	var bad []string
	for k := range o.m {
		if k != "type" && !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return b.errf(o.path, "unknown field %q in a %s format", bad[0], typ)
	}
	return nil
}

// str reads a string field; required fields must be present.
func (b *stBuilder) str(o *stObj, key string, required bool) (string, bool, error) {
	raw, ok := o.m[key]
	if !ok || !present(raw) {
		if required {
			return "", false, b.errf(o.path, "missing %q", key)
		}
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, b.errf(o.path, "%q must be a string", key)
	}
	return s, true, nil
}

// strs reads an optional list of strings; nonEmpty forbids "" elements.
func (b *stBuilder) strs(o *stObj, key string, nonEmpty bool) ([]string, error) {
	raw, ok := o.m[key]
	if !ok || !present(raw) {
		return nil, nil
	}
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		return nil, b.errf(o.path, "%q must be a list of strings", key)
	}
	for _, s := range ss {
		if nonEmpty && s == "" {
			return nil, b.errf(o.path, "%q must not contain empty strings", key)
		}
	}
	return ss, nil
}

func (b *stBuilder) boolean(o *stObj, key string, def bool) (bool, error) {
	raw, ok := o.m[key]
	if !ok || !present(raw) {
		return def, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, b.errf(o.path, "%q must be a boolean", key)
	}
	return v, nil
}

// integer reads an integer field; ok reports whether it is set.
func (b *stBuilder) integer(o *stObj, key string) (v int64, ok bool, err error) {
	raw, has := o.m[key]
	if !has || !present(raw) {
		return 0, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, b.errf(o.path, "%q must be an integer", key)
	}
	return v, true, nil
}

func (b *stBuilder) list(o *stObj, key string) ([]json.RawMessage, error) {
	raw, ok := o.m[key]
	if !ok || !present(raw) {
		return nil, b.errf(o.path, "missing %q", key)
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, b.errf(o.path, "%q must be a list", key)
	}
	if len(l) == 0 {
		return nil, b.errf(o.path, "%q must not be empty", key)
	}
	return l, nil
}

// formatType is the type of o, inferred from its fields when absent.
func (b *stBuilder) formatType(o *stObj) (string, error) {
	if raw, ok := o.m["type"]; ok {
		var t string
		if err := json.Unmarshal(raw, &t); err != nil {
			return "", b.errf(o.path, "\"type\" must be a string")
		}
		return t, nil
	}
	for _, c := range []struct{ key, typ string }{
		{"begin", "tag"}, {"value", "const_string"}, {"json_schema", "json_schema"},
		{"elements", "sequence"}, {"triggers", "triggered_tags"}, {"separator", "tags_with_separator"},
		{"content", "optional"}, {"rules", "dispatch"}, {"excludes", "any_text"},
	} {
		if _, ok := o.m[c.key]; ok {
			return c.typ, nil
		}
	}
	return "", b.errf(o.path, "a format needs a \"type\"")
}

// rule adds a rule and returns a reference to it.
func (b *stBuilder) rule(name string, body *node) *node {
	b.defs = append(b.defs, ruleDef{name: name, body: body})
	return ref(len(b.defs) - 1)
}

// embed appends a front end's rules (sub[0] its root), shifting their
// references, and returns a reference to the root.
func (b *stBuilder) embed(name string, sub []ruleDef) *node {
	base := len(b.defs)
	memo := map[*node]*node{}
	for _, r := range sub {
		r.body = relocate(r.body, base, memo)
		r.name = name + "." + r.name
		b.defs = append(b.defs, r)
	}
	return ref(base)
}

// jsonSchema embeds a JSON Schema (identical schemas and options once).
func (b *stBuilder) jsonSchema(schema []byte, name string, o Options) (*node, error) {
	var c bytes.Buffer
	if err := json.Compact(&c, schema); err != nil {
		return nil, fmt.Errorf("%w: json_schema is not valid JSON: %v", ErrInvalid, err)
	}
	key := fmt.Sprintf("json_schema %d %d %s", o.Whitespace, o.maxWS(), c.Bytes())
	if n, ok := b.memo[key]; ok {
		return n, nil
	}
	sub, err := jsonSchemaRules(string(schema), o)
	if err != nil {
		return nil, err
	}
	n := b.embed(name, sub)
	b.memo[key] = n
	return n, nil
}

// freeText is free text that contains none of pats: any bytes, or any
// UTF-8 text when pats is empty.
func (b *stBuilder) freeText(pats []string, path string) (*node, error) {
	if len(pats) == 0 {
		return star(anyChar()), nil
	}
	for _, p := range pats {
		b.freeBytes += len(p)
	}
	if b.freeBytes > maxFreeTextBytes {
		return nil, b.errf(path, "triggers, excludes and end strings longer than %d bytes in all", maxFreeTextBytes)
	}
	return avoiding(pats), nil
}

// format lowers the format raw at path; ends are the end strings of the
// nearest enclosing tag, which free text inside it must avoid.
func (b *stBuilder) format(raw json.RawMessage, path string, ends []string, depth int) (*node, stInfo, error) {
	if depth > maxFormatDepth {
		return nil, stInfo{}, b.errf(path, "formats nested deeper than %d", maxFormatDepth)
	}
	o, err := b.object(raw, path)
	if err != nil {
		return nil, stInfo{}, err
	}
	typ, err := b.formatType(o)
	if err != nil {
		return nil, stInfo{}, err
	}
	switch typ {
	case "const_string":
		if err := b.only(o, typ, "value"); err != nil {
			return nil, stInfo{}, err
		}
		v, _, err := b.str(o, "value", true)
		return lit(v), stInfo{}, err
	case "json_schema":
		n, err := b.jsonSchemaFormat(o)
		return n, stInfo{}, err
	case "regex":
		if err := b.only(o, typ, "pattern"); err != nil {
			return nil, stInfo{}, err
		}
		p, _, err := b.str(o, "pattern", true)
		if err != nil {
			return nil, stInfo{}, err
		}
		if p == "" {
			return nil, stInfo{}, b.errf(path, "empty \"pattern\"")
		}
		n, err := regexNode(p)
		if err != nil {
			return nil, stInfo{}, fmt.Errorf("structural_tag: %s: %w", path, err)
		}
		return n, stInfo{}, nil
	case "grammar":
		if err := b.only(o, typ, "grammar"); err != nil {
			return nil, stInfo{}, err
		}
		g, _, err := b.str(o, "grammar", true)
		if err != nil {
			return nil, stInfo{}, err
		}
		if strings.TrimSpace(g) == "" {
			return nil, stInfo{}, b.errf(path, "empty \"grammar\"")
		}
		key := "grammar " + g
		if n, ok := b.memo[key]; ok {
			return n, stInfo{}, nil
		}
		sub, err := ebnfRules(g)
		if err != nil {
			return nil, stInfo{}, fmt.Errorf("structural_tag: %s: %w", path, err)
		}
		n := b.embed(path, sub)
		b.memo[key] = n
		return n, stInfo{}, nil
	case "any_text":
		if err := b.only(o, typ, "excludes", "max_tokens", "max_chars"); err != nil {
			return nil, stInfo{}, err
		}
		for _, k := range []string{"max_tokens", "max_chars"} {
			if present(o.m[k]) {
				return nil, stInfo{}, b.errf(path, "any_text %q is not supported", k)
			}
		}
		excl, err := b.strs(o, "excludes", true)
		if err != nil {
			return nil, stInfo{}, err
		}
		n, err := b.freeText(append(slices.Clone(excl), ends...), path)
		return n, stInfo{unlimited: true, excluded: len(excl) > 0}, err
	case "sequence", "or":
		if err := b.only(o, typ, "elements"); err != nil {
			return nil, stInfo{}, err
		}
		elems, err := b.list(o, "elements")
		if err != nil {
			return nil, stInfo{}, err
		}
		var kids []*node
		var info stInfo
		for i, e := range elems {
			n, in, err := b.format(e, fmt.Sprintf("%s.elements[%d]", path, i), ends, depth+1)
			if err != nil {
				return nil, stInfo{}, err
			}
			kids = append(kids, n)
			info.unlimited = info.unlimited || in.unlimited && !in.excluded
		}
		if typ == "sequence" {
			return seq(kids...), info, nil
		}
		return alt(kids...), info, nil
	case "optional", "star", "plus", "repeat":
		return b.repeatFormat(o, typ, ends, depth)
	case "tag":
		if err := b.only(o, typ, "begin", "content", "end"); err != nil {
			return nil, stInfo{}, err
		}
		_, n, err := b.tag(o, depth)
		return n, stInfo{}, err
	case "triggered_tags":
		n, excluded, err := b.triggeredTagsFormat(o, ends, depth)
		return n, stInfo{unlimited: true, excluded: excluded}, err
	case "tags_with_separator":
		n, err := b.tagsWithSeparator(o, depth)
		return n, stInfo{unlimited: true}, err
	case "dispatch":
		n, excluded, err := b.dispatchFormat(o, ends, depth)
		return n, stInfo{unlimited: true, excluded: excluded}, err
	case "token", "exclude_token", "any_tokens", "token_triggered_tags", "token_dispatch":
		return nil, stInfo{}, b.errf(path, "token-level format %q is not supported", typ)
	case "qwen_xml_parameter":
		return nil, stInfo{}, b.errf(path, "format %q is not supported (only JSON output)", typ)
	case "":
		return nil, stInfo{}, b.errf(path, "empty format type")
	}
	return nil, stInfo{}, b.errf(path, "unknown format type %q", typ)
}

func (b *stBuilder) jsonSchemaFormat(o *stObj) (*node, error) {
	if err := b.only(o, "json_schema", "json_schema", "style", "any_order", "max_whitespace_cnt"); err != nil {
		return nil, err
	}
	if style, ok, err := b.str(o, "style", false); err != nil {
		return nil, err
	} else if ok && style != "json" {
		return nil, b.errf(o.path, "json_schema style %q is not supported (only \"json\")", style)
	}
	if anyOrder, err := b.boolean(o, "any_order", false); err != nil {
		return nil, err
	} else if anyOrder {
		return nil, b.errf(o.path, "json_schema any_order is not supported")
	}
	opts := b.o
	if ws, ok, err := b.integer(o, "max_whitespace_cnt"); err != nil {
		return nil, err
	} else if ok {
		if ws < 1 || ws > maxFormatWSRepeat {
			return nil, b.errf(o.path, "max_whitespace_cnt must be 1 to %d", maxFormatWSRepeat)
		}
		opts.MaxWhitespace = int(ws)
	}
	schema := bytes.TrimSpace(o.m["json_schema"])
	if !present(schema) {
		return nil, b.errf(o.path, "missing \"json_schema\"")
	}
	if schema[0] != '{' && string(schema) != "true" && string(schema) != "false" {
		return nil, b.errf(o.path, "\"json_schema\" must be an object or a boolean")
	}
	n, err := b.jsonSchema(schema, o.path, opts)
	if err != nil {
		return nil, fmt.Errorf("structural_tag: %s: %w", o.path, err)
	}
	return n, nil
}

func (b *stBuilder) repeatFormat(o *stObj, typ string, ends []string, depth int) (*node, stInfo, error) {
	allowed := []string{"content"}
	if typ == "repeat" {
		allowed = append(allowed, "min", "max")
	}
	if err := b.only(o, typ, allowed...); err != nil {
		return nil, stInfo{}, err
	}
	raw, ok := o.m["content"]
	if !ok {
		return nil, stInfo{}, b.errf(o.path, "missing \"content\"")
	}
	content, in, err := b.format(raw, o.path+".content", ends, depth+1)
	if err != nil {
		return nil, stInfo{}, err
	}
	switch typ {
	case "optional":
		return opt(content), stInfo{unlimited: in.unlimited}, nil
	case "star":
		return star(content), stInfo{unlimited: true}, nil
	case "plus":
		return plus(content), stInfo{unlimited: true}, nil
	}
	lo, okLo, err := b.integer(o, "min")
	if err != nil {
		return nil, stInfo{}, err
	}
	hi, okHi, err := b.integer(o, "max")
	if err != nil {
		return nil, stInfo{}, err
	}
	if !okLo || !okHi {
		return nil, stInfo{}, b.errf(o.path, "repeat needs \"min\" and \"max\"")
	}
	if lo < 0 || lo > maxFormatRepeat || hi > maxFormatRepeat || (hi != -1 && hi < lo) {
		return nil, stInfo{}, b.errf(o.path, "repeat needs 0 <= min <= max <= %d (max -1: no limit)", maxFormatRepeat)
	}
	if max(lo+1, hi) > 8 && !mayBeEmpty(content, b.defs, map[*node]bool{}, map[int]bool{}) {
		// Many copies: call the content rather than inline each copy (a
		// content that can be empty stays inline: calls of it would pile
		// up ambiguous parse stacks).
		b.defs = append(b.defs, ruleDef{name: o.path + ".content", body: content, noInline: true})
		content = ref(len(b.defs) - 1)
	}
	return repeat(content, int(lo), int(hi)), stInfo{unlimited: hi == -1 || hi != 0 && in.unlimited}, nil
}

// tag lowers a tag format: begin, content, end.
func (b *stBuilder) tag(o *stObj, depth int) (begin string, n *node, err error) {
	if raw, ok := o.m["begin"]; ok && len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '{' {
		return "", nil, b.errf(o.path, "a token begin is not supported (token-level formats)")
	}
	begin, _, err = b.str(o, "begin", true)
	if err != nil {
		return "", nil, err
	}
	rawEnd := bytes.TrimSpace(o.m["end"])
	if !present(rawEnd) {
		return "", nil, b.errf(o.path, "missing \"end\"")
	}
	var endStrs []string
	switch rawEnd[0] {
	case '"':
		var s string
		if err := json.Unmarshal(rawEnd, &s); err != nil {
			return "", nil, b.errf(o.path, "\"end\" must be a string or a list of strings")
		}
		endStrs = []string{s}
	case '[':
		if err := json.Unmarshal(rawEnd, &endStrs); err != nil {
			return "", nil, b.errf(o.path, "\"end\" must be a string or a list of strings")
		}
		if len(endStrs) == 0 {
			return "", nil, b.errf(o.path, "\"end\" must not be an empty list")
		}
	case '{':
		return "", nil, b.errf(o.path, "a token end is not supported (token-level formats)")
	default:
		return "", nil, b.errf(o.path, "\"end\" must be a string or a list of strings")
	}
	var detect []string // non-empty ends: free text in the content stops there
	var endAlts []*node
	for _, e := range endStrs {
		if e != "" && !slices.Contains(detect, e) {
			detect = append(detect, e)
		}
		endAlts = append(endAlts, lit(e))
	}
	raw, ok := o.m["content"]
	if !ok {
		return "", nil, b.errf(o.path, "missing \"content\"")
	}
	content, in, err := b.format(raw, o.path+".content", detect, depth+1)
	if err != nil {
		return "", nil, err
	}
	if in.unlimited && !in.excluded && len(detect) == 0 {
		return "", nil, b.errf(o.path, "the content is unlimited (free text or repetition), so an end must be a non-empty string")
	}
	return begin, seq(lit(begin), content, alt(endAlts...)), nil
}

// tags lowers a list of tag formats (whose "type" may be omitted).
func (b *stBuilder) tags(o *stObj, depth int) (begins []string, tags []*node, err error) {
	list, err := b.list(o, "tags")
	if err != nil {
		return nil, nil, err
	}
	for i, raw := range list {
		t, err := b.object(raw, fmt.Sprintf("%s.tags[%d]", o.path, i))
		if err != nil {
			return nil, nil, err
		}
		if typ, ok := t.m["type"]; ok && string(bytes.TrimSpace(typ)) != `"tag"` {
			return nil, nil, b.errf(t.path, "must be a tag format")
		}
		if err := b.only(t, "tag", "begin", "content", "end"); err != nil {
			return nil, nil, err
		}
		begin, n, err := b.tag(t, depth+1)
		if err != nil {
			return nil, nil, err
		}
		begins = append(begins, begin)
		tags = append(tags, n)
	}
	return begins, tags, nil
}

func (b *stBuilder) triggeredTagsFormat(o *stObj, ends []string, depth int) (n *node, excluded bool, err error) {
	if err := b.only(o, "triggered_tags", "triggers", "tags", "at_least_one", "stop_after_first", "excludes"); err != nil {
		return nil, false, err
	}
	triggers, err := b.strs(o, "triggers", true)
	if err != nil {
		return nil, false, err
	}
	if len(triggers) == 0 {
		return nil, false, b.errf(o.path, "\"triggers\" must be a non-empty list")
	}
	for _, t := range triggers {
		if len(t) > maxTriggerLen {
			return nil, false, b.errf(o.path, "a trigger longer than %d bytes", maxTriggerLen)
		}
	}
	excl, err := b.strs(o, "excludes", true)
	if err != nil {
		return nil, false, err
	}
	atLeastOne, err := b.boolean(o, "at_least_one", false)
	if err != nil {
		return nil, false, err
	}
	stopAfterFirst, err := b.boolean(o, "stop_after_first", false)
	if err != nil {
		return nil, false, err
	}
	begins, tags, err := b.tags(o, depth)
	if err != nil {
		return nil, false, err
	}
	for i, begin := range begins {
		n := 0
		for _, t := range triggers {
			if strings.HasPrefix(begin, t) {
				n++
			}
		}
		if n != 1 {
			return nil, false, b.errf(fmt.Sprintf("%s.tags[%d]", o.path, i), "begin %q must start with exactly one trigger (it starts with %d)", begin, n)
		}
	}
	free, err := b.freeText(slices.Concat(triggers, excl, ends), o.path)
	if err != nil {
		return nil, false, err
	}
	all := b.rule(o.path+".tags", alt(tags...))
	return triggeredTags(free, all, atLeastOne, stopAfterFirst), len(excl) > 0, nil
}

func (b *stBuilder) tagsWithSeparator(o *stObj, depth int) (*node, error) {
	if err := b.only(o, "tags_with_separator", "tags", "separator", "at_least_one", "stop_after_first"); err != nil {
		return nil, err
	}
	sep, _, err := b.str(o, "separator", true)
	if err != nil {
		return nil, err
	}
	atLeastOne, err := b.boolean(o, "at_least_one", false)
	if err != nil {
		return nil, err
	}
	stopAfterFirst, err := b.boolean(o, "stop_after_first", false)
	if err != nil {
		return nil, err
	}
	_, tags, err := b.tags(o, depth)
	if err != nil {
		return nil, err
	}
	all := b.rule(o.path+".tags", alt(tags...))
	n := all
	if !stopAfterFirst {
		n = seq(all, star(seq(lit(sep), all)))
	}
	if !atLeastOne {
		n = opt(n)
	}
	return n, nil
}

func (b *stBuilder) dispatchFormat(o *stObj, ends []string, depth int) (n *node, excluded bool, err error) {
	if err := b.only(o, "dispatch", "rules", "loop", "excludes"); err != nil {
		return nil, false, err
	}
	rules, err := b.list(o, "rules")
	if err != nil {
		return nil, false, err
	}
	loop, err := b.boolean(o, "loop", true)
	if err != nil {
		return nil, false, err
	}
	excl, err := b.strs(o, "excludes", true)
	if err != nil {
		return nil, false, err
	}
	var pats []string
	var alts []*node
	for i, raw := range rules {
		path := fmt.Sprintf("%s.rules[%d]", o.path, i)
		var pair []json.RawMessage
		var pat string
		if json.Unmarshal(raw, &pair) != nil || len(pair) != 2 || json.Unmarshal(pair[0], &pat) != nil {
			return nil, false, b.errf(path, "a rule must be a [pattern string, format] pair")
		}
		if pat == "" || len(pat) > maxTriggerLen {
			return nil, false, b.errf(path, "a pattern must have 1 to %d bytes", maxTriggerLen)
		}
		f, _, err := b.format(pair[1], path+"[1]", ends, depth+1)
		if err != nil {
			return nil, false, err
		}
		pats = append(pats, pat)
		alts = append(alts, seq(lit(pat), f))
	}
	// Unlike triggered_tags, XGrammar's dispatch does not avoid the
	// enclosing tag's end: its free text stops only at excludes.
	free, err := b.freeText(slices.Concat(pats, excl), o.path)
	if err != nil {
		return nil, false, err
	}
	all := b.rule(o.path+".rules", alt(alts...))
	return dispatch(free, all, loop), len(excl) > 0, nil
}

// mayBeEmpty reports whether x can match the empty string, following
// references into defs; a reference cycle counts as possibly empty.
func mayBeEmpty(x *node, defs []ruleDef, memo map[*node]bool, visiting map[int]bool) bool {
	if v, ok := memo[x]; ok {
		return v
	}
	v := false
	switch x.k {
	case kEmpty:
		v = true
	case kSeq:
		v = true
		for _, k := range x.kids {
			if !mayBeEmpty(k, defs, memo, visiting) {
				v = false
				break
			}
		}
	case kAlt:
		for _, k := range x.kids {
			if mayBeEmpty(k, defs, memo, visiting) {
				v = true
				break
			}
		}
	case kRepeat:
		v = x.min == 0 || mayBeEmpty(x.kids[0], defs, memo, visiting)
	case kRef:
		if visiting[x.rule] || x.rule < 0 || x.rule >= len(defs) {
			return true
		}
		visiting[x.rule] = true
		v = mayBeEmpty(defs[x.rule].body, defs, memo, visiting)
		delete(visiting, x.rule)
	case kFrag:
		v = x.frag.final[0]
	}
	memo[x] = v
	return v
}
