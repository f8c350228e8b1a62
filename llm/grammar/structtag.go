package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Structural tags (SGLang's structural_tag, XGrammar's legacy form):
//
//	{"type": "structural_tag",
//	 "structures": [{"begin": "<function=f>", "schema": {...}, "end": "</function>"}],
//	 "triggers": ["<function="]}
//
// Output is free text; wherever a trigger appears, the text must continue
// as one of the structures whose begin starts with that trigger: the
// begin string, a JSON value valid against the structure's schema, the end
// string, then free text again. The output may end in free text. Other
// structural_tag formats are rejected with ErrInvalid.

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
	var spec structuralTagSpec
	d := json.NewDecoder(strings.NewReader(src))
	d.DisallowUnknownFields()
	if err := d.Decode(&spec); err != nil {
		return nil, fmt.Errorf("%w: structural_tag: %v", ErrInvalid, err)
	}
	if spec.Format != nil {
		return nil, fmt.Errorf("%w: structural_tag: the \"format\" form is not supported (use structures and triggers)", ErrInvalid)
	}
	if spec.Type != "" && spec.Type != "structural_tag" {
		return nil, fmt.Errorf("%w: structural_tag: type %q, want \"structural_tag\"", ErrInvalid, spec.Type)
	}
	if len(spec.Structures) == 0 || len(spec.Triggers) == 0 {
		return nil, fmt.Errorf("%w: structural_tag: needs at least one structure and one trigger", ErrInvalid)
	}
	for i, t := range spec.Triggers {
		if t == "" || len(t) > maxTriggerLen {
			return nil, fmt.Errorf("%w: structural_tag: trigger %d must have 1 to %d bytes", ErrInvalid, i, maxTriggerLen)
		}
	}
	defs := []ruleDef{{name: "root", body: nothing}}
	var structs []*node
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
		sub, err := jsonSchemaRules(string(schema), o)
		if err != nil {
			return nil, fmt.Errorf("structural_tag: structure %d: %w", i, err)
		}
		base := len(defs)
		memo := map[*node]*node{}
		for _, r := range sub {
			r.body = relocate(r.body, base, memo)
			r.name = fmt.Sprintf("structure%d.%s", i, r.name)
			defs = append(defs, r)
		}
		structs = append(structs, seq(lit(st.Begin), ref(base), lit(st.End)))
	}
	free := avoiding(spec.Triggers)
	defs[0].body = seq(free, star(seq(alt(structs...), free)))
	return defs, nil
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
