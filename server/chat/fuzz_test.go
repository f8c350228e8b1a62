package chat

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var fuzzTemplates = []string{
	`{% for m in messages %}{{ m.role }}: {{ m.content }}{% endfor %}`,
	`{{ messages|tojson(indent=2) }}{% if add_generation_prompt %}A:{% endif %}`,
	`{% set ns = namespace(x=0) %}{% for m in messages if m.content is string %}{% set ns.x = ns.x + m.content|length %}{% endfor %}{{ ns.x }}`,
	`{% macro r(n) %}{% if n %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(messages|length) }}`,
	`{{ (messages[0].content if messages else '')|trim|upper }}{{ '%s-%d'|format('a', 1) }}`,
	`{% for c in messages[0]['content'] %}{{ c['type'] if c is mapping else c }}{% endfor %}`,
	"  {%- raw %}{{ x }}{% endraw -%}\n{# c #}{%+ if true +%}\n{{ 'é'|length }}{% endif %}",
	`{{ (1, 2)[0] ~ [1][::-1]|string ~ {'a': none}|dictsort|string }}{{ 7 // 2 ** 2 % 3 }}`,
}

var fuzzMessages = []string{
	`[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f","arguments":{"b":1,"a":[true,null,1.5]}}}]}]`,
	`[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image"}]}]`,
	`[]`, `[{"role":"system","content":"\u00e9\ud83d\ude00\n"}]`, `{"not":"a list"}`, `[1, "x", null]`,
}

// FuzzRender: parsing and rendering never panic (a recovered panic shows up
// as an "internal error"), errors carry a sentinel, output respects the limits.
func FuzzRender(f *testing.F) {
	for _, tok := range []string{"qwen3", "llama3", "mistral"} {
		sources, _ := loadGoldens(f, tok)
		for _, src := range sources {
			f.Add(src, []byte(fuzzMessages[0]))
		}
	}
	for i, src := range fuzzTemplates {
		f.Add(src, []byte(fuzzMessages[i%len(fuzzMessages)]))
	}
	const maxOut = 1 << 16
	f.Fuzz(func(t *testing.T, src string, messages []byte) {
		tpl, err := Parse(src, WithLimits(Limits{MaxOutputBytes: maxOut, MaxSteps: 5000, MaxAllocBytes: 1 << 22}),
			WithClock(func() time.Time { return time.Unix(0, 0) }))
		if err != nil {
			if !errors.Is(err, ErrSyntax) || strings.Contains(err.Error(), "internal") {
				t.Fatalf("parse %q: %v", src, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := tpl.Render(ctx, RenderContext{
			Messages: messages, AddGenerationPrompt: true,
			Special: map[string]string{"bos_token": "<s>", "eos_token": "</s>"},
			Extra:   []byte(`{"enable_thinking": false}`),
		})
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("render panicked: template %q messages %q: %v", src, messages, err)
			}
			if !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrInput) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		if len(out) > maxOut {
			t.Fatalf("output of %d bytes exceeds the limit", len(out))
		}
		if !utf8.ValidString(out) {
			t.Fatalf("output is not valid UTF-8: %q", out)
		}
	})
}

// FuzzDecodeJSON: the request decoder accepts exactly what encoding/json
// accepts and decodes to the same values, in order.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range fuzzMessages {
		f.Add([]byte(s))
	}
	for _, s := range []string{`1e400`, `-0`, `12345678901234567890`, `"\ud800x"`, `{"a":1,"a":2}`, "\"\xff\"", `[1,]`, ` {"k" : [ ] } `, `tru`, `0.5e-3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := decodeJSON(raw)
		if json.Valid(raw) != (err == nil) {
			if err != nil && strings.Contains(err.Error(), "nested deeper") {
				return
			}
			t.Fatalf("%q: json.Valid=%v, decodeJSON error %v", raw, json.Valid(raw), err)
		}
		if err != nil {
			return
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			if strings.Contains(err.Error(), "cannot unmarshal number") { // beyond float64: we give ±Inf like Python
				return
			}
			t.Fatalf("%q: %v", raw, err)
		}
		if got := plainJSON(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %#v, encoding/json %#v", raw, got, want)
		}
	})
}

// plainJSON converts a decoded value to encoding/json's generic form.
func plainJSON(v any) any {
	switch x := v.(type) {
	case pyNone:
		return nil
	case int:
		return float64(x)
	case bigInt:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case float64:
		if math.IsInf(x, 0) {
			return nil
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	case *pyDict:
		out := map[string]any{}
		for i, k := range x.keys {
			out[k.(string)] = plainJSON(x.vals[i])
		}
		return out
	}
	return v
}

// FuzzTemplate mutates the Python probe templates against the probes'
// variables: no panics, sentinel errors only, bounded valid output.
func FuzzTemplate(f *testing.F) {
	probes, vars := readProbes(f)
	for i, p := range probes {
		if i%2 == 0 { // half of the probes keep the seed set small
			f.Add(p.Template)
		}
	}
	const maxOut = 1 << 16
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse(src, WithLimits(Limits{MaxOutputBytes: maxOut, MaxSteps: 5000, MaxAllocBytes: 1 << 22}), WithClock(probeClock))
		if err != nil {
			if !errors.Is(err, ErrSyntax) || strings.Contains(err.Error(), "internal") {
				t.Fatalf("parse %q: %v", src, err)
			}
			return
		}
		out, err := tpl.Render(context.Background(), RenderContext{Extra: vars})
		if err != nil {
			if strings.Contains(err.Error(), "internal error") || !errors.Is(err, ErrTemplate) {
				t.Fatalf("render %q: %v", src, err)
			}
			return
		}
		if len(out) > maxOut || !utf8.ValidString(out) {
			t.Fatalf("render %q: bad output (%d bytes)", src, len(out))
		}
	})
}
