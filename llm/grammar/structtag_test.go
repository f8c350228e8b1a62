package grammar

import (
	"errors"
	"strings"
	"testing"
)

const toolTag = `{"type":"structural_tag","structures":[
 {"begin":"<function=get_weather>","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"end":"</function>"},
 {"begin":"<function=get_time>","schema":{"type":"object","properties":{"tz":{"enum":["UTC","CET"]}},"required":["tz"]},"end":"</function>"}],
 "triggers":["<function="]}`

func TestStructuralTagTable(t *testing.T) {
	v := byteVocab(t)
	g := mustCompile(t, v, StructuralTag, toolTag, Options{})
	for _, s := range []string{
		"",
		"plain text with <functio but no trigger",
		`Sure. <function=get_weather>{"city": "Paris"}</function> done`,
		`<function=get_time>{"tz": "CET"}</function><function=get_weather>{"city": ""}</function>`,
		"é and 中 and bytes \xff ok",
	} {
		if !fullMatch(g, s) {
			t.Errorf("should accept %q", s)
		}
	}
	for _, s := range []string{
		`<function=other>{}</function>`,
		`<function=get_time>{"tz": "PST"}</function>`,
		`<function=get_weather>{"city": "Paris"}`,
		`x <function=get_weather>{"town": "Paris"}</function>`,
	} {
		if fullMatch(g, s) {
			t.Errorf("should reject %q", s)
		}
	}
	// Inside a structure the output is not done.
	m := g.NewMatcher()
	if err := m.AcceptString(`hi <function=get_weather>{"ci`); err != nil || m.Done() {
		t.Errorf("prefix: err %v done %v", err, m.Done())
	}
}

func TestStructuralTagInvalid(t *testing.T) {
	v := byteVocab(t)
	for _, c := range []struct{ s, want string }{
		{`{}`, "at least one structure"},
		{`not json`, "structural_tag"},
		{`{"type":"structural_tag","structures":[{"begin":"<a>","schema":{},"end":"</a>"}],"triggers":["<b"]}`, "starts with no trigger"},
		{`{"type":"structural_tag","structures":[{"begin":"<a>","schema":{"type":"nope"},"end":"</a>"}],"triggers":["<a"]}`, "structure 0"},
		{`{"type":"structural_tag","format":{"type":"triggered_tags"}}`, `"triggers" must be a non-empty list`},
		{`{"type":"structural_tag","structures":[{"begin":"<a>","end":"</a>"}],"triggers":[""]}`, "trigger 0"},
		{`{"type":"structural_tag","structures":[],"triggers":["x"],"extra":1}`, "unknown field"},
	} {
		_, err := Compile(v, StructuralTag, c.s, Options{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrInvalid containing %q", c.s, err, c.want)
		}
	}
}
