package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Structural tags (SGLang's structural_tag, after XGrammar). Two forms:
//
// The legacy form
//
//	{"type": "structural_tag",
//	 "structures": [{"begin": "<function=f>", "schema": {...}, "end": "</function>"}],
//	 "triggers": ["<function="]}
//
// is free text in which, wherever a trigger appears, the text must continue
// as one of the structures whose begin starts with that trigger: the begin
// string, a JSON value valid against the structure's schema, the end
// string, then free text again. The output may end in free text. It is the
// format form's triggered_tags with tags whose content is a json_schema.
//
// The format form, {"type": "structural_tag", "format": {...}}, is a tree of
// formats (structtag_format.go).

const maxTriggerLen = 256

type structuralTagSpec struct {
	Type       string `json:"type"`
	Structures []struct {
		Begin  string          `json:"begin"`
		Schema json.RawMessage `json:"schema"`
		End    string          `json:"end"`
	} `json:"structures"`
	Triggers []string        `json:"triggers"`
	Format   json.RawMessage `json:"format"`
}

func structuralTagRules(src string, o Options) ([]ruleDef, error) {
	if len(src) > maxStructTagLen {
		return nil, fmt.Errorf("%w: structural_tag longer than %d bytes", ErrInvalid, maxStructTagLen)
	}
	var spec structuralTagSpec
	d := json.NewDecoder(strings.NewReader(src))
	d.DisallowUnknownFields()
	if err := d.Decode(&spec); err != nil {
		return nil, fmt.Errorf("%w: structural_tag: %v", ErrInvalid, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: structural_tag: text after the JSON object", ErrInvalid)
	}
	if spec.Type != "" && spec.Type != "structural_tag" {
		return nil, fmt.Errorf("%w: structural_tag: type %q, want \"structural_tag\"", ErrInvalid, spec.Type)
	}
	b := &stBuilder{o: o, defs: []ruleDef{{name: "root", body: nothing}}, memo: map[string]*node{}}
	var body *node
	var err error
	if present(spec.Format) {
		if spec.Structures != nil || spec.Triggers != nil {
			return nil, fmt.Errorf("%w: structural_tag: \"format\" cannot be combined with \"structures\" or \"triggers\"", ErrInvalid)
		}
		body, _, err = b.format(spec.Format, "format", nil, 0)
	} else {
		body, err = b.legacy(&spec)
	}
	if err != nil {
		return nil, err
	}
	b.defs[0].body = body
	return b.defs, nil
}

// legacy lowers the structures + triggers form.
func (b *stBuilder) legacy(spec *structuralTagSpec) (*node, error) {
	if len(spec.Structures) == 0 || len(spec.Triggers) == 0 {
		return nil, fmt.Errorf("%w: structural_tag: needs at least one structure and one trigger (or a \"format\")", ErrInvalid)
	}
	for i, t := range spec.Triggers {
		if t == "" || len(t) > maxTriggerLen {
			return nil, fmt.Errorf("%w: structural_tag: trigger %d must have 1 to %d bytes", ErrInvalid, i, maxTriggerLen)
		}
	}
	var tags []*node
	for i, st := range spec.Structures {
		ok := false
		for _, t := range spec.Triggers {
			ok = ok || strings.HasPrefix(st.Begin, t)
		}
		if !ok {
			return nil, fmt.Errorf("%w: structural_tag: structure %d: begin %q starts with no trigger", ErrInvalid, i, st.Begin)
		}
		schema := bytes.TrimSpace(st.Schema)
		if len(schema) == 0 || string(schema) == "null" {
			schema = []byte("{}")
		}
		content, err := b.jsonSchema(schema, fmt.Sprintf("structure%d", i), b.o)
		if err != nil {
			return nil, fmt.Errorf("structural_tag: structure %d: %w", i, err)
		}
		tags = append(tags, seq(lit(st.Begin), content, lit(st.End)))
	}
	free, err := b.freeText(spec.Triggers, "triggers")
	if err != nil {
		return nil, err
	}
	return triggeredTags(free, alt(tags...), false, false), nil
}

// triggeredTags is XGrammar's triggered_tags over free text (which must
// avoid the triggers) and tags (alternatives, each beginning with a
// trigger): free text in which every trigger starts a tag, free text again
// after each tag. atLeastOne: the output starts with a tag (no leading free
// text) and has at least one; stopAfterFirst: nothing follows the first tag.
func triggeredTags(free, tags *node, atLeastOne, stopAfterFirst bool) *node {
	switch {
	case atLeastOne && stopAfterFirst:
		return tags
	case atLeastOne:
		return seq(tags, dispatch(free, tags, true))
	}
	return dispatch(free, tags, !stopAfterFirst)
}

// dispatch is XGrammar's tag dispatch: free text, in which each alternative
// of alts (each starting with a pattern that free avoids) may begin; with
// loop, free text (and further alternatives) follow, else the output ends
// after the first alternative.
func dispatch(free, alts *node, loop bool) *node {
	if loop {
		return seq(free, star(seq(alts, free)))
	}
	return seq(free, opt(alts))
}

// relocate shifts rule references by base.
func relocate(x *node, base int, memo map[*node]*node) *node {
	if y, ok := memo[x]; ok {
		return y
	}
	y := x
	switch x.k {
	case kRef:
		y = ref(x.rule + base)
	case kSeq, kAlt, kRepeat:
		c := *x
		c.kids = make([]*node, len(x.kids))
		for i, k := range x.kids {
			c.kids[i] = relocate(k, base, memo)
		}
		y = &c
	}
	memo[x] = y
	return y
}

// avoiding accepts every byte string in which none of pats occurs (an
// Aho-Corasick automaton whose match states are removed).
func avoiding(pats []string) *node {
	next := [][256]int32{{}}
	out := []bool{false}
	for _, p := range pats {
		cur := int32(0)
		for i := 0; i < len(p); i++ {
			c := p[i]
			if next[cur][c] == 0 {
				next = append(next, [256]int32{})
				out = append(out, false)
				next[cur][c] = int32(len(next) - 1)
			}
			cur = next[cur][c]
		}
		out[cur] = true
	}
	// Breadth-first failure links turn the trie into a full DFA.
	fail := make([]int32, len(next))
	var queue []int32
	for c := range 256 {
		if t := next[0][c]; t != 0 {
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = out[s] || out[fail[s]]
		for c := range 256 {
			t := next[s][c]
			if t != 0 {
				fail[t] = next[fail[s]][c]
				queue = append(queue, t)
			} else {
				next[s][c] = next[fail[s]][c]
			}
		}
	}
	final := make([]bool, len(next))
	for s := range next {
		final[s] = !out[s]
		for c := range 256 {
			if out[next[s][c]] {
				next[s][c] = -1
			}
		}
	}
	return fragNode(next, final)
}
