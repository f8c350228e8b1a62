package grammar

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const seedSchema = `{"type": "object", "properties": {"name": {"type": "string", "pattern": "^[\\w]+$"}, "population": {"type": "integer"}}, "required": ["name", "population"]}`

var schemaTable = []struct {
	schema string
	accept []string
	reject []string
}{
	{seedSchema,
		[]string{`{"name": "Paris", "population": 2100000}`, `{ "name" : "a_1" ,"population":-5 }`},
		[]string{`{"population": 1, "name": "x"}`, `{"name": "Paris"}`, `{"name": "", "population": 1}`, `{"name": "a b", "population": 1}`, `{"name": "a", "population": 1.5}`, ` {"name": "a", "population": 1}`}},
	{`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},"required":["b"]}`,
		[]string{`{"b": ""}`, `{"a": 1, "b": "x"}`, `{"b": "x", "c": true}`, `{"a": 0, "b": "x", "c": false}`},
		[]string{`{}`, `{"a": 1}`, `{"c": true, "b": "x"}`, `{"b": "x", "d": 1}`}},
	{`{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}`,
		[]string{`{}`, `{"a": 1, "zz": "q"}`, `{"x": "y", "b": "c"}`},
		[]string{`{"a": "s"}`, `{"zz": 1}`, `{"x": "1", "a": 1}`}},
	{`{"type":"array","items":{"type":"integer","minimum":-3,"maximum":12},"minItems":2,"maxItems":3}`,
		[]string{`[1, 2]`, `[-3,12,0]`},
		[]string{`[1]`, `[1,2,3,4]`, `[13, 1]`, `[-4, 1]`, `[01, 2]`}},
	{`{"enum":["red","green",3,null,{"a":[1]}]}`,
		[]string{`"red"`, `3`, `null`, `{"a":[1]}`},
		[]string{`"blue"`, `4`, `{"a": [1]}`}},
	{`{"type":"string","enum":["a",1,"b"]}`, []string{`"a"`, `"b"`}, []string{`1`}},
	{`{"const":"fixed"}`, []string{`"fixed"`}, []string{`"fixe"`}},
	{`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"},{"type":"array","items":{"type":"boolean"}}]}`,
		[]string{`"ab"`, `null`, `[true, false]`, `[]`},
		[]string{`"abc"`, `[1]`}},
	{`{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},"$ref":"#/$defs/node"}`,
		[]string{`{"v": 1, "next": null}`, `{"v": 1, "next": {"v": 2, "next": {"v": 3, "next": null}}}`},
		[]string{`{"v": 1}`, `{"v": 1, "next": {"v": 2}}`}},
	{`{"type":"string","minLength":2,"maxLength":3}`, []string{`"ab"`, `"a\"c"`, `"\u00e9é"`, `"中文字"`}, []string{`"a"`, `"abcd"`, `"\ud83d\ude00x"`}},
	{`{"type":"string","pattern":"^a\"b\\\\c$"}`, []string{`"a\"b\\c"`}, []string{`"a"b\c"`}},
	{`{"type":"string","pattern":"^[0-9]+$","minLength":2,"maxLength":4}`, []string{`"12"`, `"1234"`}, []string{`"1"`, `"12345"`, `"ab"`}},
	{`{"type":"number","minimum":0.5,"exclusiveMaximum":3}`, []string{`1`, `2`, `2.999`, `1.5`, `0.7`, `0.5`}, []string{`0`, `3`, `3.5`, `-1`, `0.2`, `0.49`, `3.0`}},
	{`{"type":"number","minimum":-2.5,"maximum":-1}`, []string{`-2`, `-1`, `-1.5`, `-2.5`, `-2.25`}, []string{`0`, `-3`, `-2.7`, `-0.5`, `-2.51`}},
	{`{"type":"integer","exclusiveMinimum":-10,"exclusiveMaximum":100}`, []string{`-9`, `0`, `99`, `42`}, []string{`-10`, `100`, `-0`, `007`}},
	{`{"type":"number"}`, []string{`0`, `-1.5e10`, `3.25E-3`, `12`}, []string{`.5`, `1.`, `+1`, `01`, `NaN`}},
	{`{"type":["string","null"]}`, []string{`"x"`, `null`}, []string{`1`}},
	{`{}`, []string{`1`, `"s"`, `[1, {"a": null}]`, `{"k": [true]}`}, []string{`nul`, `{"k"}`}},
	{`true`, []string{`[]`}, []string{`]`}},
	{`{"type":"object"}`, []string{`{}`, `{"a": {"b": [1, "x", null]}}`}, []string{`[]`, `{"a"}`}},
	{`{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`,
		[]string{`["a", 1]`, `["a"]`, `[]`}, []string{`["a", 1, 2]`, `[1]`}},
	{`{"type":"array","prefixItems":[{"const":1}],"items":{"type":"string"},"minItems":2}`,
		[]string{`[1, "a"]`, `[1, "a", "b"]`}, []string{`[1]`, `["a"]`}},
	{`{"type":"object","properties":{"when":{"type":"string","format":"date"},"id":{"type":"string","format":"uuid"}},"required":["when","id"]}`,
		[]string{`{"when": "2024-02-29", "id": "123e4567-e89b-12d3-a456-426614174000"}`}, []string{`{"when": "2024-13-01", "id": "x"}`}},
	{`{"definitions":{"t":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/definitions/t"}}},"required":["kids"]}},"$ref":"#/definitions/t"}`,
		[]string{`{"kids": []}`, `{"kids": [{"kids": []}, {"kids": [{"kids": []}]}]}`}, []string{`{"kids": [{}]}`}},
	{`{"type":"object","properties":{"a":false,"b":{"type":"null"}}}`, []string{`{}`, `{"b": null}`}, []string{`{"a": 1}`}},
	{`{"type":"object","required":["x"]}`, []string{`{"x": 1}`, `{"x": 1, "y": 2}`}, []string{`{"y": 2}`}},
}

// compileSchema compiles with the jsonschema library for validation.
func compileSchema(t testing.TB, src string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem://s.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://s.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validates(t testing.TB, s *jsonschema.Schema, doc string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func TestSchemaTable(t *testing.T) {
	v := byteVocab(t)
	for _, c := range schemaTable {
		g := mustCompile(t, v, JSONSchema, c.schema, Options{})
		val := compileSchema(t, c.schema)
		for _, s := range c.accept {
			if !fullMatch(g, s) {
				t.Errorf("%s: should accept %s", c.schema, s)
			}
			if err := validates(t, val, s); err != nil {
				t.Errorf("%s: test document %s is itself invalid: %v", c.schema, s, err)
			}
		}
		for _, s := range c.reject {
			if fullMatch(g, s) {
				t.Errorf("%s: should reject %s", c.schema, s)
			}
		}
	}
}

func TestSchemaCompact(t *testing.T) {
	v := byteVocab(t)
	g := mustCompile(t, v, JSONSchema, seedSchema, Options{Whitespace: WhitespaceCompact})
	if !fullMatch(g, `{"name": "P", "population": 1}`) {
		t.Error("compact form rejected")
	}
	for _, s := range []string{`{"name":"P","population":1}`, `{ "name": "P", "population": 1}`} {
		if fullMatch(g, s) {
			t.Errorf("compact mode accepted %s", s)
		}
	}
	f := mustCompile(t, v, JSONSchema, `{"type":"array"}`, Options{MaxWhitespace: 3})
	if !fullMatch(f, "[   1]") || fullMatch(f, "[    1]") {
		t.Error("whitespace bound not applied")
	}
}

func TestSchemaInvalid(t *testing.T) {
	v := byteVocab(t)
	for _, c := range []struct{ s, want string }{
		{`INVALID`, "not valid JSON"},
		{`{"type":"strin"}`, "metaschema"},
		{`{"$ref":"#/$defs/nope"}`, "not found"},
		{`{"$ref":"http://example.com/s.json"}`, "external references"},
		{`{"type":"object","properties":{"a":{"not":{"type":"null"}}}}`, "at /properties/a: unsupported keyword not"},
		{`{"type":"array","uniqueItems":true}`, "uniqueItems"},
		{`{"type":"integer","multipleOf":3}`, "multipleOf"},
		{`{"type":"string","maxLength":100000}`, "cannot be enforced"},
		{`{"type":"string","pattern":"\\bword"}`, "pattern"},
		{`{"type":"string","minLength":3,"maxLength":2}`, "matches no string"},
		{`false`, "matches no string"},
		{`{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, "matches no string"},
		{`{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}},"$ref":"#/$defs/a"}`, "left recursion"},
		{`{"type":"object","minProperties":2}`, "minProperties"},
	} {
		_, err := Compile(v, JSONSchema, c.s, Options{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrInvalid containing %q", c.s, err, c.want)
		}
	}
}

// TestNumberBounds: with bounds, the grammar's numbers are exactly the
// canonical decimals inside them (checked on a grid of thousandths).
func TestNumberBounds(t *testing.T) {
	v := byteVocab(t)
	r := rand.New(rand.NewPCG(5, 5))
	dec := func(m int) string { // m/1000 in canonical form
		s := new(big.Rat).SetFrac64(int64(m), 1000).FloatString(3)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		if s == "-0" {
			s = "0"
		}
		return s
	}
	for range 60 {
		lo, hi := r.IntN(8000)-4000, r.IntN(8000)-4000
		if lo > hi {
			lo, hi = hi, lo
		}
		loEx, hiEx := r.IntN(2) == 0, r.IntN(2) == 0
		var kw []string
		if r.IntN(5) > 0 {
			k := "minimum"
			if loEx {
				k = "exclusiveMinimum"
			}
			kw = append(kw, fmt.Sprintf("%q:%s", k, dec(lo)))
		} else {
			lo = -1 << 30
		}
		if r.IntN(5) > 0 {
			k := "maximum"
			if hiEx {
				k = "exclusiveMaximum"
			}
			kw = append(kw, fmt.Sprintf("%q:%s", k, dec(hi)))
		} else {
			hi = 1 << 30
		}
		if len(kw) == 0 {
			continue
		}
		src := `{"type":"number",` + strings.Join(kw, ",") + `}`
		g := mustCompile(t, v, JSONSchema, src, Options{})
		for m := -5000; m <= 5000; m += 1 + r.IntN(7) {
			in := (m > lo || (m == lo && !loEx)) && (m < hi || (m == hi && !hiEx))
			if got := fullMatch(g, dec(m)); got != in {
				t.Fatalf("%s on %s: got %v, want %v", src, dec(m), got, in)
			}
		}
	}
}

func TestIntegerBounds(t *testing.T) {
	v := byteVocab(t)
	r := rand.New(rand.NewPCG(6, 6))
	for range 40 {
		lo, hi := r.IntN(6000)-3000, r.IntN(6000)-3000
		if lo > hi {
			lo, hi = hi, lo
		}
		src := fmt.Sprintf(`{"type":"integer","minimum":%d,"exclusiveMaximum":%s}`, lo, big.NewRat(int64(2*hi+1), 2).FloatString(1))
		g := mustCompile(t, v, JSONSchema, src, Options{})
		for n := -3100; n <= 3100; n += 1 + r.IntN(5) {
			if got, want := fullMatch(g, fmt.Sprint(n)), n >= lo && n <= hi; got != want {
				t.Fatalf("%s on %d: got %v", src, n, got)
			}
		}
		if fullMatch(g, "-0") || fullMatch(g, "01") {
			t.Fatalf("%s: non-canonical integer accepted", src)
		}
	}
}
