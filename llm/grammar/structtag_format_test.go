package grammar

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// stFormat wraps a format object as a structural_tag source.
func stFormat(format string) string {
	return `{"type":"structural_tag","format":` + format + `}`
}

// formatTable: for each format type, outputs the compiled grammar must
// accept and reject.
var formatTable = []struct {
	name           string
	format         string
	accept, reject []string
}{
	{"const_string", `{"type":"const_string","value":"Hi!"}`,
		[]string{"Hi!"}, []string{"", "Hi", "Hi!!", "hi!"}},
	{"const_string empty", `{"type":"const_string","value":""}`,
		[]string{""}, []string{"a"}},
	{"json_schema", `{"type":"json_schema","json_schema":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}}`,
		[]string{`{"a": 1}`, `{"a":1,"b":"x"}`, "{\n  \"a\": -3\n}"},
		[]string{`{"a": "1"}`, `{}`, `{"b":"x","a":1}`, `{"a": 1} x`, `x{"a": 1}`}},
	{"json_schema defaults spelled out", `{"type":"json_schema","json_schema":{"enum":["x","y"]},"style":"json","any_order":false,"max_whitespace_cnt":null}`,
		[]string{`"x"`, `"y"`}, []string{`"z"`, `x`}},
	{"json_schema max_whitespace_cnt", `{"type":"json_schema","json_schema":{"type":"array","items":{"type":"integer"}},"max_whitespace_cnt":1}`,
		[]string{`[1,2]`, `[ 1, 2 ]`}, []string{`[  1]`, `[1,  2]`}},
	{"json_schema true", `{"type":"json_schema","json_schema":true}`,
		[]string{`1`, `"s"`, `[null, {"k": false}]`}, []string{``, `nul`, `{`}},
	{"any_text", `{"type":"any_text"}`,
		[]string{"", "anything </think> <function=f> at all", "é and 中"}, []string{"\xff", "a\xc3"}},
	{"any_text excludes", `{"type":"any_text","excludes":["ABC","</x>"]}`,
		[]string{"", "XYZ", "AB C", "A quick brown fox", "</ x>"}, []string{"ABC", "123ABC456", "a</x>"}},
	{"any_text null budgets", `{"type":"any_text","excludes":[],"max_tokens":null,"max_chars":null}`,
		[]string{"", "free"}, nil},
	{"regex", `{"type":"regex","pattern":"[A-Z]{3}-[0-9]{4}"}`,
		[]string{"ABC-1234"}, []string{"AB-1234", "ABC-12345", "abc-1234", ""}},
	{"grammar", `{"type":"grammar","grammar":"root ::= \"yes\" | \"no\" | \"(\" root \")\""}`,
		[]string{"yes", "no", "((no))"}, []string{"maybe", "(yes", "yes)", ""}},
	{"sequence", `{"type":"sequence","elements":[{"type":"const_string","value":"Answer: "},{"type":"json_schema","json_schema":{"type":"integer"}}]}`,
		[]string{"Answer: 42", "Answer: -7"}, []string{"Answer:42", "42", "Answer: ", "Answer: 4 2"}},
	{"or", `{"type":"or","elements":[{"type":"const_string","value":"yes"},{"type":"regex","pattern":"no+"}]}`,
		[]string{"yes", "no", "nooo"}, []string{"yesno", "", "n"}},
	{"optional", `{"type":"sequence","elements":[{"type":"optional","content":{"type":"const_string","value":"Re: "}},{"type":"const_string","value":"hi"}]}`,
		[]string{"hi", "Re: hi"}, []string{"Re: Re: hi", "Re: "}},
	{"star", `{"type":"star","content":{"type":"const_string","value":"ab"}}`,
		[]string{"", "ab", "ababab"}, []string{"a", "aba"}},
	{"plus", `{"type":"plus","content":{"type":"const_string","value":"ab"}}`,
		[]string{"ab", "abab"}, []string{"", "aba"}},
	{"repeat", `{"type":"repeat","min":2,"max":3,"content":{"type":"const_string","value":"x"}}`,
		[]string{"xx", "xxx"}, []string{"x", "xxxx", ""}},
	{"repeat unbounded", `{"type":"repeat","min":1,"max":-1,"content":{"type":"regex","pattern":"[ab]"}}`,
		[]string{"a", "abba"}, []string{"", "abc"}},
	{"repeat many tags", `{"type":"repeat","min":2,"max":1000,"content":{"type":"tag","begin":"<","content":{"type":"json_schema","json_schema":{"type":"integer"}},"end":">"}}`,
		[]string{"<1><2>", "<1><2><3><-4>"}, []string{"<1>", "<1><2", "<1>x<2>"}},
	{"repeat many optional", `{"type":"repeat","min":3,"max":50,"content":{"type":"any_text","excludes":["!"]}}`,
		[]string{"", "abc"}, []string{"!", "a!"}},
	{"tag any_text", `{"type":"tag","begin":"<think>","content":{"type":"any_text"},"end":"</think>"}`,
		[]string{"<think></think>", "<think>a < b </thin </think>", "<think>é</think>"},
		[]string{"<think>a</think>b", "<think>a</think> </think>", "<think>", "think</think>", "<think>a"}},
	{"tag end list", `{"type":"tag","begin":"<x>","content":{"type":"any_text"},"end":["</a>","</b>"]}`,
		[]string{"<x>hi</a>", "<x>hi</b>", "<x></a>"}, []string{"<x>hi</a></b>", "<x>hi</c>", "<x>hi"}},
	{"tag json", `{"type":"tag","begin":"<r>","content":{"type":"json_schema","json_schema":{"type":"boolean"}},"end":""}`,
		[]string{"<r>true", "<r>false"}, []string{"<r>", "<r>true ", "true"}},
	{"tag in tag", `{"type":"tag","begin":"<a>","content":{"type":"sequence","elements":[{"type":"any_text"},{"type":"tag","begin":"<b>","content":{"type":"any_text"},"end":"</b>"}]},"end":"</a>"}`,
		[]string{"<a>x<b>y</a></b></a>", "<a><b></b></a>"}, []string{"<a>x</a><b>y</b></a>", "<a>x<b>y</b>", "<a></a>"}},
	{"tags_with_separator", `{"type":"tags_with_separator","tags":[{"begin":"<i>","content":{"type":"json_schema","json_schema":{"type":"integer"}},"end":"</i>"}],"separator":","}`,
		[]string{"", "<i>1</i>", "<i>1</i>,<i>2</i>,<i>3</i>"}, []string{"<i>1</i><i>2</i>", "<i>1</i>,", "x<i>1</i>", ",<i>1</i>"}},
	{"tags_with_separator at_least_one", `{"type":"tags_with_separator","tags":[{"type":"tag","begin":"<i>","content":{"type":"json_schema","json_schema":{"type":"integer"}},"end":"</i>"}],"separator":"","at_least_one":true}`,
		[]string{"<i>1</i>", "<i>1</i><i>2</i>"}, []string{"", "<i>1</i>,<i>2</i>"}},
	{"tags_with_separator stop_after_first", `{"type":"tags_with_separator","tags":[{"begin":"<i>","content":{"type":"const_string","value":"1"},"end":"</i>"},{"begin":"<j>","content":{"type":"const_string","value":"2"},"end":"</j>"}],"separator":",","stop_after_first":true}`,
		[]string{"", "<i>1</i>", "<j>2</j>"}, []string{"<i>1</i>,<j>2</j>", "<i>2</i>"}},
	{"tags_with_separator both", `{"type":"tags_with_separator","tags":[{"begin":"<i>","content":{"type":"const_string","value":"1"},"end":"</i>"}],"separator":",","stop_after_first":true,"at_least_one":true}`,
		[]string{"<i>1</i>"}, []string{"", "<i>1</i>,<i>1</i>"}},
	{"dispatch", `{"type":"dispatch","rules":[["<n>",{"type":"regex","pattern":"[0-9]+;"}],["<b>",{"type":"json_schema","json_schema":{"type":"boolean"}}]]}`,
		[]string{"", "text", "a<n>12;b<b>true<n>3;", "<b>false"}, []string{"<n>x;", "<n>12", "a<b>yes"}},
	{"dispatch no loop excludes", `{"type":"dispatch","rules":[["<n>",{"type":"regex","pattern":"[0-9]+;"}]],"loop":false,"excludes":["STOP"]}`,
		[]string{"", "text", "a<n>1;"}, []string{"a<n>1;b", "STOP", "a<n>1;<n>2;"}},
	{"triggered_tags excludes", `{"type":"triggered_tags","triggers":["A"],"tags":[{"begin":"A1","content":{"type":"const_string","value":"L1"},"end":"A"},{"begin":"A2","content":{"type":"const_string","value":"L2"},"end":"A"}],"at_least_one":true,"excludes":["L1","L2"]}`,
		[]string{"A1L1AB", "A1L1AA2L2A"}, []string{"A", "A1", "A1L2A", "L1A1L1A", "A1L1AL1"}},
	{"triggered_tags excludes then const", `{"type":"sequence","elements":[{"type":"triggered_tags","triggers":["1"],"tags":[{"begin":"1","content":{"type":"any_text"},"end":["1"]}],"excludes":["ABC"]},{"type":"const_string","value":"ABC"}]}`,
		[]string{"11ABC", "2ABC", "ABC", "x1yz1ABC"}, []string{"1ABC", "1HelloWorld", "1ABC123", "ABCABC"}},
	{"types inferred", `{"elements":[{"value":"a"},{"begin":"<","content":{"json_schema":{"type":"null"}},"end":">"},{"excludes":["!"]}]}`,
		[]string{"a<null>", "a<null>?"}, []string{"a<null>!", "<null>"}},
	// Nested: tool calls with JSON arguments in free text.
	{"triggered_tags json", `{"type":"triggered_tags","triggers":["<function="],"tags":[
		{"type":"tag","begin":"<function=get_weather>","content":{"type":"json_schema","json_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},"end":"</function>"},
		{"type":"tag","begin":"<function=get_time>","content":{"type":"json_schema","json_schema":{"type":"object","properties":{"tz":{"enum":["UTC","CET"]}},"required":["tz"]}},"end":"</function>"}]}`,
		[]string{"", "no call", `I will call. <function=get_weather>{"city": "Paris"}</function> done`,
			`<function=get_time>{"tz": "UTC"}</function><function=get_weather>{"city": ""}</function>`, "bytes \xff ok"},
		[]string{`<function=other>{}</function>`, `<function=get_time>{"tz": "PST"}</function>`, `<function=get_weather>{"city": "Paris"}`,
			`<function=get_weather>{"town": "Paris"}</function>`, `<function=get_weather> {"city": "Paris"}</function>`}},
	// Nested: a sequence of const_string, any_text and a tag. The any_text
	// is in no tag, so it is unrestricted and may itself contain the tag.
	{"sequence const any tag", `{"type":"sequence","elements":[{"type":"const_string","value":"Q: "},{"type":"any_text"},{"type":"tag","begin":"<a>","content":{"type":"json_schema","json_schema":{"type":"integer","minimum":0}},"end":"</a>"}]}`,
		[]string{"Q: <a>1</a>", "Q: why? <a>42</a>", "Q: <a>1</a><a>2</a>"}, []string{"Q: why?", "Q: <a>-1</a>", "Q: <a>1</a> ", "why? <a>1</a>"}},
	// Reasoning, then optional tool calls (XGrammar's recipe).
	{"think then tools", `{"type":"sequence","elements":[{"type":"tag","begin":"<think>","content":{"type":"any_text"},"end":"</think>"},{"type":"triggered_tags","triggers":["<tool>"],"tags":[{"begin":"<tool>","content":{"type":"json_schema","json_schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}},"end":"</tool>"}],"stop_after_first":true}]}`,
		[]string{"<think>hmm <tool> </think>", "<think></think>ok", `<think>x</think>ok <tool>{"n": 1}</tool>`},
		[]string{"ok", "<think>x", "x<think></think>", `<think>x</think><tool>{"n": 1}</tool> more`, `<think>x</think><tool>{}</tool>`}},
}

func TestStructuralTagFormatTable(t *testing.T) {
	v := byteVocab(t)
	for _, c := range formatTable {
		g, err := Compile(v, StructuralTag, stFormat(c.format), Options{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, s := range c.accept {
			if !fullMatch(g, s) {
				t.Errorf("%s: should accept %q", c.name, s)
			}
		}
		for _, s := range c.reject {
			if fullMatch(g, s) {
				t.Errorf("%s: should reject %q", c.name, s)
			}
		}
	}
}

// triggeredTagsVariants: XGrammar's triggered_tags flags, alone and inside
// a tag (whose end the free text must then avoid).
func triggeredTagsVariant(atLeastOne, stopAfterFirst bool) string {
	return fmt.Sprintf(`{"type":"triggered_tags","triggers":["A"],"tags":[
		{"begin":"A1","content":{"type":"const_string","value":"L1"},"end":"A"},
		{"begin":"A2","content":{"type":"const_string","value":"L2"},"end":"A"}],
		"at_least_one":%v,"stop_after_first":%v}`, atLeastOne, stopAfterFirst)
}

func TestStructuralTagTriggeredFlags(t *testing.T) {
	v := byteVocab(t)
	// want[i]: accepted with (at_least_one, stop_after_first) = (F,F), (T,F), (F,T), (T,T).
	top := []struct {
		s    string
		want [4]bool
	}{
		{"textA1L1AtextA2L2AText", [4]bool{true, false, false, false}},
		{"textA1L1AtextA2L2A", [4]bool{true, false, false, false}},
		{"A1L1Atext", [4]bool{true, true, false, false}},
		{"A1L1AtextA2L2A", [4]bool{true, true, false, false}},
		{"textA1L1A", [4]bool{true, false, true, false}},
		{"A1L1A", [4]bool{true, true, true, true}},
		{"text", [4]bool{true, false, true, false}},
		{"", [4]bool{true, false, true, false}},
		{"AA", [4]bool{}},
		{"A1L2A", [4]bool{}},
		{"A1L1A2L2A", [4]bool{}},
		{"textA", [4]bool{}},
	}
	inTag := []struct {
		s    string
		want [4]bool
	}{
		{"beginabcA1L1Atextend", [4]bool{true, false, false, false}},
		{"beginA1L1AtextA2L2Aend", [4]bool{true, true, false, false}},
		{"beginA1L1Aend", [4]bool{true, true, true, true}},
		{"beginend", [4]bool{true, false, true, false}},
		{"beginA1L1Aendabc", [4]bool{}},
		{"beginA1L2end", [4]bool{}},
		{"beginabcendA1L1Aend", [4]bool{}},
	}
	for i, flags := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		f := triggeredTagsVariant(flags[0], flags[1])
		g := mustCompile(t, v, StructuralTag, stFormat(f), Options{})
		for _, c := range top {
			if got := fullMatch(g, c.s); got != c.want[i] {
				t.Errorf("at_least_one=%v stop_after_first=%v: %q accepted %v, want %v", flags[0], flags[1], c.s, got, c.want[i])
			}
		}
		g = mustCompile(t, v, StructuralTag, stFormat(`{"type":"tag","begin":"begin","content":`+f+`,"end":"end"}`), Options{})
		for _, c := range inTag {
			if got := fullMatch(g, c.s); got != c.want[i] {
				t.Errorf("in a tag, at_least_one=%v stop_after_first=%v: %q accepted %v, want %v", flags[0], flags[1], c.s, got, c.want[i])
			}
		}
	}
}

// TestStructuralTagLegacyIsTriggeredTags: the legacy form and the
// equivalent triggered_tags format accept the same outputs.
func TestStructuralTagLegacyIsTriggeredTags(t *testing.T) {
	v := byteVocab(t)
	legacy := mustCompile(t, v, StructuralTag, toolTag, Options{})
	format := mustCompile(t, v, StructuralTag, `{"type":"structural_tag","format":{"type":"triggered_tags","triggers":["<function="],"tags":[
 {"begin":"<function=get_weather>","content":{"type":"json_schema","json_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},"end":"</function>"},
 {"begin":"<function=get_time>","content":{"type":"json_schema","json_schema":{"type":"object","properties":{"tz":{"enum":["UTC","CET"]}},"required":["tz"]}},"end":"</function>"}]}}`, Options{})
	for _, s := range []string{
		"", "plain", "<functio", `Sure. <function=get_weather>{"city": "Paris"}</function> done`,
		`<function=get_time>{"tz": "CET"}</function><function=get_weather>{"city": ""}</function>`,
		`<function=other>{}</function>`, `<function=get_weather>{"city": "Paris"}`, "a <function=", "\xff",
	} {
		if a, b := fullMatch(legacy, s), fullMatch(format, s); a != b {
			t.Errorf("%q: legacy %v, format %v", s, a, b)
		}
		if a, b := prefixOK(legacy, s), prefixOK(format, s); a != b {
			t.Errorf("%q prefix: legacy %v, format %v", s, a, b)
		}
	}
}

func TestStructuralTagFormatPrefix(t *testing.T) {
	v := byteVocab(t)
	g := mustCompile(t, v, StructuralTag, stFormat(`{"type":"tag","begin":"<think>","content":{"type":"any_text"},"end":"</think>"}`), Options{})
	m := g.NewMatcher()
	if err := m.AcceptString("<think>a </think"); err != nil || m.Done() {
		t.Errorf("inside the tag: err %v done %v", err, m.Done())
	}
	if err := m.AcceptString(">"); err != nil || !m.Done() || m.CanContinue() {
		t.Errorf("after the end: err %v done %v can continue %v", err, m.Done(), m.CanContinue())
	}
}

func TestStructuralTagFormatInvalid(t *testing.T) {
	v := byteVocab(t)
	tag := func(content string) string {
		return `{"type":"tag","begin":"<a>","content":` + content + `,"end":"</a>"}`
	}
	for _, c := range []struct{ spec, want string }{
		{`{"type":"structural_tag","format":{"type":"nope"}}`, `unknown format type "nope"`},
		{`{"type":"structural_tag","format":{}}`, `needs a "type"`},
		{`{"type":"structural_tag","format":[]}`, "must be a JSON object"},
		{`{"type":"structural_tag","format":{"type":"triggered_tags"}}`, `"triggers" must be a non-empty list`},
		{`{"type":"structural_tag","format":{"type":"const_string","value":"a"},"triggers":["a"]}`, "cannot be combined"},
		{`{"format":{"type":"const_string","value":"a"},"extra":1}`, "unknown field"},
		{`{"type":"other","format":{"type":"const_string","value":"a"}}`, `type "other"`},
		{stFormat(`{"type":"const_string"}`), `missing "value"`},
		{stFormat(`{"type":"const_string","value":3}`), `"value" must be a string`},
		{stFormat(`{"type":"const_string","value":"a","vlaue":"b"}`), `unknown field "vlaue"`},
		{stFormat(`{"type":7}`), `"type" must be a string`},
		{stFormat(`{"type":"json_schema"}`), `missing "json_schema"`},
		{stFormat(`{"type":"json_schema","json_schema":"x"}`), "object or a boolean"},
		{stFormat(`{"type":"json_schema","json_schema":{"type":"nope"}}`), "format: grammar: invalid constraint: json_schema"},
		{stFormat(`{"type":"json_schema","json_schema":{},"style":"qwen_xml"}`), `style "qwen_xml" is not supported`},
		{stFormat(`{"type":"json_schema","json_schema":{},"any_order":true}`), "any_order is not supported"},
		{stFormat(`{"type":"json_schema","json_schema":{},"max_whitespace_cnt":0}`), "max_whitespace_cnt must be"},
		{stFormat(`{"type":"regex","pattern":"("}`), "regex"},
		{stFormat(`{"type":"regex","pattern":""}`), `empty "pattern"`},
		{stFormat(`{"type":"grammar","grammar":"root ::= x"}`), "undefined rule"},
		{stFormat(`{"type":"grammar","grammar":" "}`), `empty "grammar"`},
		{stFormat(`{"type":"any_text","max_tokens":10}`), `"max_tokens" is not supported`},
		{stFormat(`{"type":"any_text","max_chars":10}`), `"max_chars" is not supported`},
		{stFormat(`{"type":"any_text","excludes":[""]}`), "empty strings"},
		{stFormat(`{"type":"any_text","excludes":"x"}`), "list of strings"},
		{stFormat(`{"type":"sequence","elements":[]}`), `"elements" must not be empty`},
		{stFormat(`{"type":"or"}`), `missing "elements"`},
		{stFormat(`{"type":"sequence","elements":[{"type":"const_string","value":"a"},{"type":"bad"}]}`), `format.elements[1]: unknown format type "bad"`},
		{stFormat(`{"type":"repeat","min":3,"max":2,"content":{"type":"const_string","value":"a"}}`), "repeat needs 0 <= min <= max"},
		{stFormat(`{"type":"repeat","min":1,"content":{"type":"const_string","value":"a"}}`), `"min" and "max"`},
		{stFormat(`{"type":"repeat","min":1.5,"max":2,"content":{"type":"const_string","value":"a"}}`), `"min" must be an integer`},
		{stFormat(`{"type":"star"}`), `missing "content"`},
		{stFormat(`{"type":"tag","begin":"<a>","content":{"type":"const_string","value":"a"}}`), `missing "end"`},
		{stFormat(`{"type":"tag","begin":"<a>","content":{"type":"const_string","value":"a"},"end":[]}`), "empty list"},
		{stFormat(`{"type":"tag","begin":"<a>","content":{"type":"any_text"},"end":["",""]}`), "non-empty string"},
		{stFormat(`{"type":"tag","begin":"<a>","content":{"type":"star","content":{"type":"const_string","value":"x"}},"end":""}`), "non-empty string"},
		{stFormat(`{"type":"tag","begin":{"type":"token","token":"<a>"},"content":{"type":"any_text"},"end":"</a>"}`), "token begin is not supported"},
		{stFormat(`{"type":"tag","begin":"<a>","content":{"type":"any_text"},"end":{"type":"token","token":1}}`), "token end is not supported"},
		{stFormat(`{"type":"triggered_tags","triggers":["<f"],"tags":[{"begin":"<g>","content":{"type":"any_text"},"end":"</g>"}]}`), "exactly one trigger (it starts with 0)"},
		{stFormat(`{"type":"triggered_tags","triggers":["<f","<f="],"tags":[{"begin":"<f=a>","content":{"type":"any_text"},"end":"</f>"}]}`), "exactly one trigger (it starts with 2)"},
		{stFormat(`{"type":"triggered_tags","triggers":["<f"],"tags":[]}`), `"tags" must not be empty`},
		{stFormat(`{"type":"triggered_tags","triggers":["<f"],"tags":[{"type":"const_string","value":"<f"}]}`), "must be a tag format"},
		{stFormat(`{"type":"triggered_tags","triggers":["<f"],"tags":[{"begin":"<f>","content":{"type":"any_text"},"end":"</f>"}],"at_least_one":"yes"}`), `"at_least_one" must be a boolean`},
		{stFormat(`{"type":"triggered_tags","triggers":[""],"tags":[{"begin":"<f>","content":{"type":"any_text"},"end":"</f>"}]}`), "empty strings"},
		{stFormat(`{"type":"tags_with_separator","tags":[{"begin":"<f>","content":{"type":"any_text"},"end":"</f>"}]}`), `missing "separator"`},
		{stFormat(`{"type":"dispatch","rules":[["<a>"]]}`), "[pattern string, format] pair"},
		{stFormat(`{"type":"dispatch","rules":[["",{"type":"any_text"}]]}`), "a pattern must have"},
		{stFormat(`{"type":"token","token":1}`), `token-level format "token" is not supported`},
		{stFormat(`{"type":"any_tokens"}`), `token-level format "any_tokens" is not supported`},
		{stFormat(`{"type":"token_triggered_tags","trigger_tokens":[1],"tags":[]}`), "token-level format"},
		{stFormat(`{"type":"qwen_xml_parameter","json_schema":{}}`), "not supported"},
		{stFormat(strings.Repeat(`{"type":"optional","content":`, 200) + `{"type":"const_string","value":"a"}` + strings.Repeat(`}`, 200)), "nested deeper"},
		{stFormat(tag(tag(tag(`{"type":"nope"}`)))), `format.content.content.content: unknown format type`},
	} {
		_, err := Compile(v, StructuralTag, c.spec, Options{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n error %v,\n want ErrInvalid containing %q", c.spec, err, c.want)
		}
	}
}
