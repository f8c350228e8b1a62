package toolcall

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var testTools = []Tool{
	{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)},
	{Name: "search"},
	{Name: "f"},
	{Name: "g"},
}

type tcase struct {
	name    string
	in      string
	content string // "=" means: the input, unchanged
	calls   []Call
}

func c(name, args string) Call { return Call{Name: name, Arguments: args} }

var cases = map[string][]tcase{
	"qwen25": {
		{"single", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>",
			"", []Call{c("get_weather", `{"city":"Paris","unit":"c"}`)}},
		{"text before", "Let me check.\n\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"go\"}}\n</tool_call>",
			"Let me check.", []Call{c("search", `{"q":"go"}`)}},
		{"several", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {\"b\": [1, 2.50, true, null]}}\n</tool_call>",
			"", []Call{c("f", `{"a":1}`), c("g", `{"b":[1,2.50,true,null]}`)}},
		{"text after", "<tool_call>{\"name\":\"f\",\"arguments\":{}}</tool_call>\n\nDone.", "Done.", []Call{c("f", `{}`)}},
		{"text between", "A\n<tool_call>\n{\"name\":\"f\",\"arguments\":{}}\n</tool_call>\nB\n", "A\nB", []Call{c("f", `{}`)}},
		{"braces and close tag in strings", "<tool_call>\n  {\"name\": \"search\",\n   \"arguments\": {\"q\": \"a}b</tool_call>\\\"{\", \"n\": {\"x\": [1, {\"y\": \"}]\"}]}}}  \n</tool_call>",
			"", []Call{c("search", `{"q":"a}b</tool_call>\"{","n":{"x":[1,{"y":"}]"}]}}`)}},
		{"unicode", "Voilà 🌍 <tool_call>{\"name\":\"search\",\"arguments\":{\"q\":\"東京 \\u00e9\\/\\n<&>\"}}</tool_call>",
			"Voilà 🌍", []Call{c("search", `{"q":"東京 é/\n<&>"}`)}},
		{"parameters key", "<tool_call>{\"name\":\"f\",\"parameters\":{\"a\":\"b\"}}</tool_call>", "", []Call{c("f", `{"a":"b"}`)}},
		{"arguments as a string", "<tool_call>{\"name\":\"f\",\"arguments\":\"{\\\"a\\\": 1}\"}</tool_call>", "", []Call{c("f", `{"a":1}`)}},
		{"no arguments", "<tool_call>{\"name\":\"g\"}</tool_call>", "", []Call{c("g", `{}`)}},
		{"unknown tool", "Hi <tool_call>\n{\"name\": \"rm_rf\", \"arguments\": {}}\n</tool_call>", "=", nil},
		{"malformed json", "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": }}\n</tool_call>", "=", nil},
		{"arguments not an object", "<tool_call>{\"name\":\"f\",\"arguments\":[1]}</tool_call>", "=", nil},
		{"junk before close", "<tool_call>{\"name\":\"f\",\"arguments\":{}} x</tool_call>", "=", nil},
		{"unterminated", "<tool_call>\n{\"name\": \"search\", \"arguments\": {}}", "=", nil},
		{"good then unterminated", "<tool_call>{\"name\":\"f\",\"arguments\":{}}</tool_call>\n<tool_call>{\"name\":\"g\"",
			"<tool_call>{\"name\":\"g\"", []Call{c("f", `{}`)}},
		{"marker in prose", "Use <tool_call> tags and </tool_call>.", "=", nil},
		{"plain text keeps whitespace", "  Hello \n", "=", nil},
	},
	"llama3": {
		{"single", `{"name": "get_weather", "parameters": {"city": "Paris"}}`, "", []Call{c("get_weather", `{"city":"Paris"}`)}},
		{"python tag", `<|python_tag|>{"name": "search", "arguments": {"q": "x"}}`, "", []Call{c("search", `{"q":"x"}`)}},
		{"text before tag", "Sure.\n<|python_tag|>{\"name\": \"f\", \"parameters\": {}}", "Sure.", []Call{c("f", `{}`)}},
		{"several", `{"name": "f", "parameters": {"a": 1}}; {"name": "g", "parameters": {"s": "x;y}"}}`,
			"", []Call{c("f", `{"a":1}`), c("g", `{"s":"x;y}"}`)}},
		{"several after tag", `<|python_tag|>{"name": "f", "parameters": {}};{"name": "g", "parameters": {}}`,
			"", []Call{c("f", `{}`), c("g", `{}`)}},
		{"newline separated", "{\"name\": \"f\", \"parameters\": {}}\n{\"name\": \"g\", \"parameters\": {}}", "", []Call{c("f", `{}`), c("g", `{}`)}},
		{"array", `[{"name": "f", "parameters": {}}, {"name": "g", "parameters": {"b": [1, 2]}}]`, "", []Call{c("f", `{}`), c("g", `{"b":[1,2]}`)}},
		{"leading whitespace", "\n {\"name\": \"f\", \"parameters\": {\"u\": \"ü\"}}", "", []Call{c("f", `{"u":"ü"}`)}},
		{"trailing separator", `{"name": "f", "parameters": {}};`, "", []Call{c("f", `{}`)}},
		{"text after", "{\"name\": \"f\", \"parameters\": {}}\nDone", "Done", []Call{c("f", `{}`)}},
		{"json in prose is text", `Sure. {"name": "f", "parameters": {}}`, "=", nil},
		{"plain json answer", `{"answer": 42}`, "=", nil},
		{"unknown tool", `{"name": "nope", "parameters": {}}`, "=", nil},
		{"unknown second", `{"name": "f", "parameters": {}}; {"name": "nope", "parameters": {}}`,
			`; {"name": "nope", "parameters": {}}`, []Call{c("f", `{}`)}},
		{"unterminated", `{"name": "f", "parameters": {"a": 1}`, "=", nil},
		{"tag then code", `<|python_tag|>brave_search.call(query="x")`, "=", nil},
		{"braces text", "{not json} ok", "=", nil},
	},
	"mistral": {
		{"single", `[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]`, "", []Call{c("get_weather", `{"city":"Paris"}`)}},
		{"several", `[TOOL_CALLS] [{"name": "f", "arguments": {"a": "]"}}, {"name": "g", "arguments": {}}]`,
			"", []Call{c("f", `{"a":"]"}`), c("g", `{}`)}},
		{"text before and after", "Sure.\n\n[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}]\nLet me know.", "Sure.\n\nLet me know.", []Call{c("f", `{}`)}},
		{"compact", `[TOOL_CALLS]get_weather[ARGS]{"city": "Paris", "days": [1, 2]}`, "", []Call{c("get_weather", `{"city":"Paris","days":[1,2]}`)}},
		{"compact several", `[TOOL_CALLS]f[ARGS]{}[TOOL_CALLS]g[ARGS]{"x": "]}[ARGS]"}`, "", []Call{c("f", `{}`), c("g", `{"x":"]}[ARGS]"}`)}},
		{"unicode", `[TOOL_CALLS] [{"name": "search", "arguments": {"q": "naïve 🙂"}}]`, "", []Call{c("search", `{"q":"naïve 🙂"}`)}},
		{"unknown in array", `[TOOL_CALLS] [{"name": "f", "arguments": {}}, {"name": "nope", "arguments": {}}]`, "=", nil},
		{"unknown compact", `[TOOL_CALLS]nope[ARGS]{}`, "=", nil},
		{"malformed", `[TOOL_CALLS] [{"name": "f", "arguments": {]`, "=", nil},
		{"unterminated", `[TOOL_CALLS] [{"name": "f", "arguments": {}}`, "=", nil},
		{"marker alone", "[TOOL_CALLS]", "=", nil},
		{"brackets in prose", "See [1] and [TOOL] here.", "=", nil},
	},
	"pythonic": {
		{"single", `[get_weather(city="Paris", unit='c')]`, "", []Call{c("get_weather", `{"city":"Paris","unit":"c"}`)}},
		{"several", `[f(a=1, b=-2.5, c=True, d=None, e=+3), g()]`, "", []Call{c("f", `{"a":1,"b":-2.5,"c":true,"d":null,"e":3}`), c("g", `{}`)}},
		{"nested", `[search(q="a]b)c", opts={'k': [1, 2, {"x": (3, 4)}], 1: False, 'e': (), 'p': (5)},)]`,
			"", []Call{c("search", `{"q":"a]b)c","opts":{"k":[1,2,{"x":[3,4]}],"1":false,"e":[],"p":5}}`)}},
		{"text around", "I will call it: [f(a=1)] ok", "I will call it: ok", []Call{c("f", `{"a":1}`)}},
		{"multiline", "[\n  f(\n    a=[1,\n       2],\n  ),\n  g(b='x')\n]", "", []Call{c("f", `{"a":[1,2]}`), c("g", `{"b":"x"}`)}},
		{"llama4 wrapper", "<|python_start|>[f(a=1)]<|python_end|>", "", []Call{c("f", `{"a":1}`)}},
		{"escapes and unicode", `[search(q="caf\u00e9\n東京\x41\101\'\"", r=r"\d+\"", u=u'ü', t="""a"b""")]`,
			"", []Call{c("search", `{"q":"café\n東京AA'\"","r":"\\d+\\\"","u":"ü","t":"a\"b"}`)}},
		{"numbers", `[f(a=1e20, b=1.0, c=0x1F, d=1_000, e=.5, f=-0, g=123456789012345678901234567890)]`,
			"", []Call{c("f", `{"a":1e+20,"b":1.0,"c":31,"d":1000,"e":0.5,"f":0,"g":123456789012345678901234567890}`)}},
		{"unknown tool", `[f(a=1), nope()]`, "=", nil},
		{"positional", `[f(1)]`, "=", nil},
		{"not a literal", `[f(a=x)]`, "=", nil},
		{"bytes literal", `[f(a=b"x")]`, "=", nil},
		{"duplicate keyword", `[f(a=1, a=2)]`, "=", nil},
		{"markdown", "See [docs](http://x) and [1], [f].", "=", nil},
		{"unterminated", `[f(a=1`, "=", nil},
		{"unterminated string", `[f(a="x)]`, "=", nil},
		{"empty list", `[]`, "=", nil},
	},
}

func TestParse(t *testing.T) {
	for pname, cs := range cases {
		p, err := New(pname)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range cs {
			t.Run(pname+"/"+tc.name, func(t *testing.T) {
				content, calls := p.Parse(tc.in, testTools)
				want := tc.content
				if want == "=" {
					want = tc.in
				}
				if content != want {
					t.Errorf("content = %q, want %q", content, want)
				}
				if !reflect.DeepEqual(calls, tc.calls) {
					t.Errorf("calls = %q, want %q", calls, tc.calls)
				}
				for _, c := range calls {
					if !json.Valid([]byte(c.Arguments)) {
						t.Errorf("arguments %q are not JSON", c.Arguments)
					}
				}
				checkStream(t, p, tc.in, rand.New(rand.NewSource(int64(len(tc.in)))), 20)
			})
		}
	}
}

func TestNoTools(t *testing.T) {
	for _, name := range Names() {
		p, _ := New(name)
		for _, tc := range cases[name] {
			if content, calls := p.Parse(tc.in, nil); content != tc.in || calls != nil {
				t.Errorf("%s %s: without tools got %q, %q", name, tc.name, content, calls)
			}
		}
	}
}

func TestNew(t *testing.T) {
	if got := Names(); !reflect.DeepEqual(got, []string{"qwen25", "llama3", "mistral", "pythonic"}) {
		t.Errorf("Names() = %q", got)
	}
	for _, n := range append(Names(), "qwen") {
		if _, err := New(n); err != nil {
			t.Errorf("New(%q): %v", n, err)
		}
	}
	_, err := New("hermes")
	if err == nil || !strings.Contains(err.Error(), "qwen25, llama3, mistral, pythonic") {
		t.Errorf("New(hermes) error = %v", err)
	}
}

// TestStreamDeltas checks what a client sees while a call streams in: text
// before the call comes out before the call completes, a marker prefix is
// held back, and the call arrives as one delta.
func TestStreamDeltas(t *testing.T) {
	p, _ := New("qwen25")
	s := p.NewStream(testTools)
	var got []Delta
	for _, piece := range []string{"Hi", " there\n<tool", "_call>\n{\"name\": \"f\",", " \"arguments\": {\"a\": 1}}\n</tool_call>", "\n"} {
		got = append(got, s.Feed(piece)...)
	}
	got = append(got, s.Flush()...)
	want := []Delta{{Content: "Hi"}, {Content: " there"}, {Call: true, Index: 0, Name: "f", Args: `{"a":1}`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deltas = %+v, want %+v", got, want)
	}
	// A multi-byte rune split across pieces is not emitted in halves.
	s = p.NewStream(testTools)
	if d := s.Feed("é\xe6\x9d"); !reflect.DeepEqual(d, []Delta{{Content: "é"}}) {
		t.Errorf("deltas = %+v", d)
	}
	if d := s.Feed("\xb1!"); !reflect.DeepEqual(d, []Delta{{Content: "東!"}}) {
		t.Errorf("deltas = %+v", d)
	}
}

// checkStream feeds text in random pieces (and one byte at a time) and checks
// the deltas against Parse.
func checkStream(t *testing.T, p Parser, text string, rng *rand.Rand, rounds int) {
	t.Helper()
	content, calls := p.Parse(text, testTools)
	for r := 0; r < rounds; r++ {
		var pieces []string
		switch r {
		case 0:
			pieces = []string{text}
		case 1:
			for i := 0; i < len(text); i++ {
				pieces = append(pieces, text[i:i+1])
			}
		default:
			for rest := text; rest != ""; {
				n := 1 + rng.Intn(min(len(rest), 1+rng.Intn(12)))
				pieces = append(pieces, rest[:n])
				rest = rest[n:]
			}
		}
		s := p.NewStream(testTools)
		var ds []Delta
		for _, piece := range pieces {
			ds = append(ds, s.Feed(piece)...)
		}
		ds = append(ds, s.Flush()...)
		if msg := compare(ds, content, calls, utf8.ValidString(text)); msg != "" {
			t.Fatalf("split %q: %s\ndeltas: %+v", pieces, msg, ds)
		}
	}
}

func compare(ds []Delta, content string, calls []Call, validUTF8 bool) string {
	var b strings.Builder
	var got []Call
	for _, d := range ds {
		if !d.Call {
			if d.Content == "" || d.Name != "" || d.Args != "" {
				return "bad content delta"
			}
			if validUTF8 && !utf8.ValidString(d.Content) {
				return "content delta splits a rune: " + d.Content
			}
			b.WriteString(d.Content)
			continue
		}
		if d.Content != "" {
			return "call delta with content"
		}
		switch {
		case d.Index == len(got):
			if d.Name == "" {
				return "first delta of a call has no name"
			}
			got = append(got, Call{Name: d.Name})
		case d.Index == len(got)-1:
			if d.Name != "" {
				return "name repeated"
			}
		default:
			return "call index out of order"
		}
		got[d.Index].Arguments += d.Args
	}
	if b.String() != content {
		return "content " + quote(b.String()) + " != Parse's " + quote(content)
	}
	if !reflect.DeepEqual(got, calls) {
		return "calls differ from Parse's"
	}
	return ""
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestStreamRandom builds outputs from fragments that look like calls,
// half-calls, markers and text, and checks random splits of them.
func TestStreamRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, name := range Names() {
		p, _ := New(name)
		frags := fragments(name)
		for i := 0; i < 300; i++ {
			var b strings.Builder
			for n := rng.Intn(6); n >= 0; n-- {
				b.WriteString(frags[rng.Intn(len(frags))])
			}
			checkStream(t, p, b.String(), rng, 6)
		}
	}
}

var commonFrags = []string{"Hello", " ", "\n", "é東🙂", "{", "}", "[", "]", ";", ",", "\"", "x", "(", ")", "=",
	`{"name": "f", "arguments": {"a": "}"}}`, `{"name": "g"}`, `{"name": "nope", "parameters": {}}`}

func fragments(name string) []string {
	extra := map[string][]string{
		"qwen25":   {"<tool_call>", "</tool_call>", "<tool_", "\n</tool_call>\n"},
		"llama3":   {"<|python_tag|>", "<|python", `{"name": "f", "parameters": {"b": [1]}}`, "; "},
		"mistral":  {"[TOOL_CALLS]", "[TOOL_CALLS] [", "[ARGS]", "f[ARGS]{}", "[TOOL_", "g", "nope"},
		"pythonic": {"[f(a=1)]", "[g()", "f(", "a=", "'s'", "<|python_start|>", "<|python_end|>", "True", "-1.5e3", "nope("},
	}[name]
	var out []string
	for _, f := range append(append([]string(nil), commonFrags...), extra...) {
		out = append(out, f, f) // the format's own fragments twice as likely
	}
	for _, tc := range cases[name] {
		out = append(out, tc.in)
	}
	return out
}

func fuzzParser(f *testing.F, name string) {
	p, err := New(name)
	if err != nil {
		f.Fatal(err)
	}
	for _, tc := range cases[name] {
		f.Add(tc.in, int64(len(tc.in)))
	}
	f.Fuzz(func(t *testing.T, text string, seed int64) {
		content, calls := p.Parse(text, testTools)
		for _, c := range calls {
			if !json.Valid([]byte(c.Arguments)) || !strings.HasPrefix(c.Arguments, "{") {
				t.Fatalf("arguments %q are not a JSON object", c.Arguments)
			}
		}
		if len(calls) == 0 && content != text {
			t.Fatalf("no calls but content %q != text", content)
		}
		checkStream(t, p, text, rand.New(rand.NewSource(seed)), 4)
	})
}

func FuzzQwen25(f *testing.F)   { fuzzParser(f, "qwen25") }
func FuzzLlama3(f *testing.F)   { fuzzParser(f, "llama3") }
func FuzzMistral(f *testing.F)  { fuzzParser(f, "mistral") }
func FuzzPythonic(f *testing.F) { fuzzParser(f, "pythonic") }
