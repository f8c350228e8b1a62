package grammar

import "testing"

func TestSmoke(t *testing.T) {
	v := byteVocab(t)
	g := mustCompile(t, v, Regex, `(France|England)`, Options{})
	for _, s := range []string{"France", "England"} {
		if !fullMatch(g, s) {
			t.Errorf("%q should match", s)
		}
	}
	for _, s := range []string{"Fran", "Englandx", ""} {
		if fullMatch(g, s) {
			t.Errorf("%q should not match", s)
		}
	}
	e := mustCompile(t, v, EBNF, `root ::= "Hello" | "Hi" | "Hey"`, Options{})
	if !fullMatch(e, "Hey") || fullMatch(e, "He") {
		t.Error("ebnf")
	}
	j := mustCompile(t, v, JSONSchema, `{"type":"object","properties":{"name":{"type":"string","pattern":"^[\\w]+$"},"population":{"type":"integer"}},"required":["name","population"]}`, Options{})
	if !fullMatch(j, `{"name": "Paris", "population": 2100000}`) {
		t.Error("json")
	}
	if fullMatch(j, `{"name": "Par is", "population": 2100000}`) {
		t.Error("json pattern")
	}
	m := j.NewMatcher()
	mask := make([]uint64, v.MaskWords())
	if err := m.FillMask(mask); err != nil {
		t.Fatal(err)
	}
	t.Logf("allowed at start: %d, states %d", Allowed(mask), j.States())
	a := mustCompile(t, v, JSONSchema, `{"type":"object"}`, Options{})
	if !fullMatch(a, `{"a": [1, {"b": null}], "c": "x"}`) {
		t.Error("json object")
	}
	m = a.NewMatcher()
	m.AcceptString(`{"a": [1, {"b": nul`)
	m.FillMask(mask)
	t.Logf("allowed: %d", Allowed(mask))
}
