package chat

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type renderCase struct {
	name string
	tpl  string
	vars string // chat_template_kwargs JSON object, "" for none
	want string
}

func runCases(t *testing.T, cases []renderCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := Parse(c.tpl)
			if err != nil {
				t.Fatalf("parse %q: %v", c.tpl, err)
			}
			rc := RenderContext{}
			if c.vars != "" {
				rc.Extra = []byte(c.vars)
			}
			got, err := tpl.Render(context.Background(), rc)
			if err != nil {
				t.Fatalf("render %q: %v", c.tpl, err)
			}
			if got != c.want {
				t.Errorf("render %q:\n got %q\nwant %q", c.tpl, got, c.want)
			}
		})
	}
}

func renderErr(t *testing.T, tpl string, rc RenderContext) error {
	t.Helper()
	p, err := Parse(tpl)
	if err != nil {
		t.Fatalf("parse %q: %v", tpl, err)
	}
	out, err := p.Render(context.Background(), rc)
	if err == nil {
		t.Fatalf("render %q = %q, want an error", tpl, out)
	}
	return err
}

// Adapter 1: request JSON decodes into ordered dicts with Python's json.loads semantics.
func TestOrderedDictsFromJSON(t *testing.T) {
	runCases(t, []renderCase{
		{"key order kept", `{{ d }}|{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}|{{ d.keys()|list }}`,
			`{"d": {"z": 1, "a": 2, "m": 3}}`, "{'z': 1, 'a': 2, 'm': 3}|z=1,a=2,m=3,|['z', 'a', 'm']"},
		{"duplicate key keeps first position, last value", `{{ d }}`, `{"d": {"a": 1, "b": 2, "a": 3}}`, "{'a': 3, 'b': 2}"},
		{"nested order in tojson", `{{ d|tojson }}`, `{"d": {"b": {"y": [1, {"q": null, "p": true}], "x": 1.5}, "a": "é"}}`,
			`{"b": {"y": [1, {"q": null, "p": true}], "x": 1.5}, "a": "é"}`},
		{"many keys use the index", `{{ d.k9 }}{{ d['k0'] }}{{ 'k5' in d }}{{ d|length }}`,
			`{"d": {"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}}`, "90True10"},
		{"escapes and surrogate pairs", `{{ s }}|{{ s|length }}`, `{"s": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800"}`,
			"a\"\\/\b\f\n\r\té😀\ufffd|12"},
		{"attribute falls back to item, methods win", `{{ d.role }}|{{ d['items'] }}|{{ d.items is callable }}`,
			`{"d": {"role": "user", "items": 5}}`, "user|5|True"},
	})
}

// Adapter 2: tojson is HF's json.dumps wrapper.
func TestToJSON(t *testing.T) {
	runCases(t, []renderCase{
		{"python separators, no html escaping", `{{ d|tojson }}`, `{"d": {"a": "<b>&'\"", "b": [1, 2]}}`, `{"a": "<b>&'\"", "b": [1, 2]}`},
		{"indent int", `{{ d|tojson(indent=2) }}`, `{"d": {"a": [1, {}], "b": []}}`, "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}"},
		{"indent string", `{{ [1]|tojson(indent='\t') }}`, ``, "[\n\t1\n]"},
		{"ensure_ascii", `{{ 'é😀'|tojson(ensure_ascii=true) }}|{{ 'é'|tojson }}`, ``, `"\u00e9\ud83d\ude00"|"é"`},
		{"sort_keys and separators", `{{ d|tojson(sort_keys=true, separators=(',', ':')) }}`, `{"d": {"b": 1, "a": 2}}`, `{"a":2,"b":1}`},
		{"control characters", `{{ s|tojson }}`, `{"s": "\u001f\u007f\u2028x"}`, "\"\\u001f\u007f\u2028x\""},
		{"numbers", `{{ [1, 1.0, 1e16, 1.5e-7, -0.0, 1e400]|tojson }}`, ``, `[1, 1.0, 1e+16, 1.5e-07, -0.0, Infinity]`},
		{"json big int kept", `{{ n|tojson }}|{{ n }}`, `{"n": 123456789012345678901234}`, "123456789012345678901234|123456789012345678901234"},
		{"tuple and none", `{{ (1, none, true)|tojson }}`, ``, `[1, null, true]`},
		{"non-string keys", `{{ {1: 'a', none: 'b', 2.5: 'c', false: 'd'}|tojson }}`, ``, `{"1": "a", "null": "b", "2.5": "c", "false": "d"}`},
	})
	for _, tpl := range []string{`{{ zz|tojson }}`, `{{ namespace(a=1)|tojson }}`, `{{ {(1, 2): 3}|tojson }}`} {
		if err := renderErr(t, tpl, RenderContext{}); !errors.Is(err, ErrTemplate) {
			t.Errorf("%s: %v does not wrap ErrTemplate", tpl, err)
		}
	}
}

// Adapter 3: raise_exception aborts with the template's message.
func TestRaiseException(t *testing.T) {
	err := renderErr(t, `{% if messages|length == 0 %}{{ raise_exception("No messages: " ~ 3) }}{% endif %}ok`, RenderContext{})
	if !errors.Is(err, ErrTemplate) || errors.Is(err, ErrLimit) {
		t.Fatalf("error %v: want ErrTemplate only", err)
	}
	if !strings.HasSuffix(err.Error(), ": No messages: 3") {
		t.Errorf("message %q does not end with the raised text", err.Error())
	}
	// raised inside a macro inside a loop, in a filter argument
	err = renderErr(t, `{% macro m(x) %}{{ raise_exception('bad ' ~ x) }}{% endmacro %}{% for i in [7] %}{{ ('a' ~ m(i))|upper }}{% endfor %}`, RenderContext{})
	if !strings.HasSuffix(err.Error(), ": bad 7") {
		t.Errorf("nested raise: %v", err)
	}
}

// Adapter 4: Python str.replace / str.split semantics.
func TestPythonStringMethods(t *testing.T) {
	runCases(t, []renderCase{
		{"replace all and count", `{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'abc'.replace('', '-') }}|{{ 'abc'.replace('', '-', 2) }}`, ``, "bbb|bba|-a-b-c-|-a-bc"},
		{"replace filter", `{{ 'x.y.z'|replace('.', '/', 1) }}|{{ 5|replace('5', 'five') }}`, ``, "x/y.z|five"},
		{"split without sep", `{{ ' a \t b\n'.split() }}|{{ ''.split() }}|{{ ' a b c '.split(none, 1) }}|{{ 'a\u3000b'.split() }}`, ``, "['a', 'b']|[]|['a', 'b c ']|['a', 'b']"},
		{"split with sep", `{{ 'a,,b'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ ''.split(',') }}|{{ 'a,b,c'.rsplit(',', 1) }}`, ``, "['a', '', 'b']|['a', 'b,c']|['']|['a,b', 'c']"},
		{"think split like qwen3", `{{ s.split('</think>')[-1].lstrip('\n') }}|{{ s.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') }}`,
			`{"s": "<think>\nplan\n</think>\n\nanswer"}`, "answer|plan"},
		{"strip family", `[{{ ' \u00a0x\u2028 '.strip() }}]|{{ 'xxhixx'.strip('x') }}|{{ '--a--'.lstrip('-') }}|{{ '--a--'.rstrip('-') }}`, ``, "[x]|hi|a--|--a"},
		{"startswith tuple and bounds", `{{ 'hello'.startswith(('x', 'he')) }}{{ 'hello'.endswith('lo', 0, 5) }}{{ 'hello'.startswith('l', 2) }}`, ``, "TrueTrueTrue"},
		{"rune indices", `{{ 'é東x'.find('x') }}|{{ 'é東x'[1] }}|{{ 'é東x'|length }}`, ``, "2|東|3"},
	})
	if err := renderErr(t, `{{ 'a'.split('') }}`, RenderContext{}); !errors.Is(err, ErrTemplate) {
		t.Errorf("empty separator: %v", err)
	}
}

// Adapter 5: strftime_now formats the clock like Python's datetime.strftime.
func TestStrftimeNow(t *testing.T) {
	at := time.Date(2025, 3, 4, 9, 7, 5, 123456000, time.Local)
	tpl, err := Parse(`{{ strftime_now("%d %b %Y") }}|{{ strftime_now("%A %B %-d, %H:%M:%S %p %I %j %f %%") }}|{{ strftime_now("%e|%y|%m|%a|%w|%u") }}`,
		WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render(context.Background(), RenderContext{})
	if err != nil {
		t.Fatal(err)
	}
	want := "04 Mar 2025|Tuesday March 4, 09:07:05 AM 09 063 123456 %| 4|25|03|Tue|2|2"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// The default clock is the wall clock.
	tpl, err = Parse(`{{ strftime_now("%Y") }}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tpl.Render(context.Background(), RenderContext{}); err != nil || got != time.Now().Format("2006") {
		t.Errorf("default clock: %q, %v", got, err)
	}
}

// Adapter 6: trim_blocks and lstrip_blocks as HF sets them, including the
// mid-line case a naive lstrip gets wrong.
func TestWhitespaceControl(t *testing.T) {
	runCases(t, []renderCase{
		{"lstrip only at line start", `{% if true %}a{% endif %} {% if true %}b{% endif %}`, ``, "a b"},
		{"lstrip and trim", "x\n    {% if true %}\n    y\n    {% endif %}\nz", ``, "x\n    y\nz"},
		{"lstrip after trimmed newline", "{% if true %}\n  {% if true %}A{% endif %}\n{% endif %}", ``, "A"},
		{"plus disables lstrip and trim", "  {%+ if true +%}\nk{% endif %}", ``, "  \nk"},
		{"minus strips unicode whitespace", "a\u00a0\u2028 {%- if true -%} \u3000b{% endif %}", ``, "ab"},
		{"print tags are not lstripped or trimmed", "  {{ 1 }}\n  {{ 2 }}\n", ``, "  1\n  2"},
		{"comments", "a\n  {# c #}\nb {#- d -#}  c", ``, "a\nbc"},
		{"raw keeps text", "{% raw %}{{ x }}{% if %}{% endraw %}", ``, "{{ x }}{% if %}"},
		{"crlf and one trailing newline", "{% if true %}\r\nA\r\n{% endif %}\r\n\r\n", ``, "A\n"},
		{"one trailing newline dropped", "A\r\n\r\n", ``, "A\n"},
		{"trailing brace before a tag", "{ {%- if true %}x{% endif %}", ``, "{x"},
	})
}

// Adapter 7: {% generation %} renders its body (HF's AssistantTracker).
func TestGenerationTag(t *testing.T) {
	tpl, err := Parse(`{% for m in messages %}{% generation %}<{{ m.content }}>{% endgeneration %}{% endfor %}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render(context.Background(), RenderContext{Messages: []byte(`[{"role":"assistant","content":"hi"},{"role":"assistant","content":"yo"}]`)})
	if err != nil || got != "<hi><yo>" {
		t.Errorf("got %q, %v", got, err)
	}
}

// Adapter 8: JSON integers stay ints; floats print like Python.
func TestNumbers(t *testing.T) {
	runCases(t, []renderCase{
		{"ints", `{{ n }} {{ n * 2 }} {{ n // 2 }} {{ n / 2 }} {{ 2 ** 3 }} {{ n|round }} {{ -n % 3 }}`, `{"n": 7}`, "7 14 3 3.5 8 7 2"},
		{"floats", `{{ f }} {{ f * 2 }} {{ 1e16 }} {{ 0.1 + 0.2 }} {{ 3.0|int }} {{ 2.5|round }}`, `{"f": 1.0}`, "1.0 2.0 1e+16 0.30000000000000004 3 2.0"},
		{"loop counters are ints", `{% for x in 'ab' %}{{ loop.index }}{{ loop.length / 2 }}{% endfor %}`, ``, "11.021.0"},
	})
	if err := renderErr(t, `{{ 9223372036854775807 + 1 }}`, RenderContext{}); !errors.Is(err, ErrTemplate) {
		t.Errorf("overflow: %v", err)
	}
}

// None (JSON null) and Undefined (missing) differ as in Python.
func TestNoneAndUndefined(t *testing.T) {
	runCases(t, []renderCase{
		{"print", `[{{ m.content }}][{{ m.missing }}]`, `{"m": {"content": null}}`, "[None][]"},
		{"tests", `{{ m.content is defined }}{{ m.content is none }}{{ m.missing is defined }}{{ m.missing is none }}`, `{"m": {"content": null}}`, "TrueTrueFalseFalse"},
		{"default only replaces undefined", `{{ m.content|default('d') }}|{{ m.missing|default('d') }}|{{ m.content|default('d', true) }}`, `{"m": {"content": null}}`, "None|d|d"},
		{"tools is None without tools", `{{ tools is none }}{{ documents is none }}`, ``, "TrueTrue"},
		{"attribute of None is undefined", `[{{ m.content.x }}]`, `{"m": {"content": null}}`, "[]"},
	})
	for _, tpl := range []string{`{{ zz.attr }}`, `{{ zz + 'a' }}`, `{{ 'a' + none }}`, `{% for x in none %}{% endfor %}`} {
		if err := renderErr(t, tpl, RenderContext{}); !errors.Is(err, ErrTemplate) {
			t.Errorf("%s: %v", tpl, err)
		}
	}
}

// Conditional expressions anywhere, as Gemma 3's template uses them.
func TestConditionalExpressions(t *testing.T) {
	runCases(t, []renderCase{
		{"gemma3", `{{ '<start_of_turn>' + role + '\n' + (prefix if first else "") }}`, `{"role": "user", "prefix": "P: ", "first": true}`, "<start_of_turn>user\nP: "},
		{"chained and nested", `{{ [1 if x else 2, ('a' if not x else 'b' if y else 'c')] }}`, `{"x": false, "y": false}`, "[2, 'a']"},
		{"in call args", `{{ 'ab'.replace('a', 'x' if x else 'y') }}`, `{"x": true}`, "xb"},
	})
}

func TestStringIteration(t *testing.T) {
	runCases(t, []renderCase{{"runes", `{% for c in s %}[{{ c }}]{% endfor %}{{ s|list|length }}`, `{"s": "é👍a"}`, "[é][👍][a]3"}})
}

// The immutable sandbox: mutation and file access are refused.
func TestSandbox(t *testing.T) {
	for _, tpl := range []string{`{{ items.append(1) }}`, `{{ d.update({}) }}`, `{{ d.pop('a') }}`} {
		err := renderErr(t, tpl, RenderContext{Extra: []byte(`{"items": [], "d": {"a": 1}}`)})
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "unsafe") {
			t.Errorf("%s: %v", tpl, err)
		}
	}
	for _, tpl := range []string{`{% include "/etc/passwd" %}`, `{% import "x" as y %}`, `{% extends "base" %}`, `{% do x %}`, `{% from "a" import b %}`} {
		if _, err := Parse(tpl); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: parse error %v, want ErrSyntax", tpl, err)
		}
	}
	runCases(t, []renderCase{{"engine internals are not variables", `[{{ self }}][{{ __gonja_caller__ }}]`, ``, "[][]"}})
}

func TestSyntaxErrors(t *testing.T) {
	for _, src := range []string{
		`{% if x %}no end`, `{% endif %}`, `{% for x in y %}{% else %}{% else %}{% endfor %}`, `{{ 'unclosed }}`,
		`{{ 1 + }}`, `{{ a b }}`, `{{ x|nosuchfilter }}`, `{{ x is nosuchtest }}`, `{% break %}`,
		`{% for x in y %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}`, `{% macro m(a=1, b) %}{% endmacro %}`,
		"\xff\xfe", `{% set %}`, `{% endfor x %}`, `{{ '\N{NO SUCH NAME}' }}`, `{{ 99999999999999999999 }}`,
		`{% raw %}never closed`, `{# never closed`, "{{ " + strings.Repeat("(", maxExprDepth) + "1" + strings.Repeat(")", maxExprDepth) + " }}", "{{{{% if x %}{% endif %}",
		strings.Repeat("{% if x %}", maxBlockDepth+1),
	} {
		if _, err := Parse(src); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: error %v, want ErrSyntax", src, err)
		}
	}
	if _, err := Parse(strings.Repeat("x", maxTemplateBytes+1)); !errors.Is(err, ErrSyntax) {
		t.Errorf("oversized template: %v", err)
	}
}

func TestRenderInput(t *testing.T) {
	tpl, err := Parse(`{{ messages|length }}|{{ tools }}|{{ add_generation_prompt }}|{{ bos_token }}|{{ enable_thinking }}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render(context.Background(), RenderContext{
		Messages: []byte(`[{"role":"user","content":"x"}]`), Tools: []byte(`[{"type":"function"}]`), AddGenerationPrompt: true,
		Special: map[string]string{"bos_token": "<s>"}, Extra: []byte(`{"enable_thinking": false, "bos_token": "<B>"}`),
	})
	if want := "1|[{'type': 'function'}]|True|<B>|False"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	got, err = tpl.Render(context.Background(), RenderContext{Messages: []byte(" null "), Tools: []byte("null")})
	if want := "0|None|False||"; err != nil || got != want {
		t.Errorf("empty input: got %q, %v; want %q", got, err, want)
	}
	for name, rc := range map[string]RenderContext{
		"messages object":   {Messages: []byte(`{"role":"user"}`)},
		"bad json":          {Messages: []byte(`[{"role":}]`)},
		"trailing data":     {Messages: []byte(`[] []`)},
		"bad tools":         {Tools: []byte(`[`)},
		"extra not object":  {Extra: []byte(`[1]`)},
		"extra sets tools":  {Extra: []byte(`{"tools": []}`)},
		"too deep":          {Messages: []byte(strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2))},
		"control character": {Messages: []byte("[\"a\x01\"]")},
	} {
		if _, err := tpl.Render(context.Background(), rc); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v, want ErrInput", name, err)
		}
	}
}
