package chat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// goldenCase is one line of testdata/<tokenizer>/chat_golden.jsonl.
type goldenCase struct {
	ID       string                     `json:"id"`
	Template string                     `json:"template"`
	Desc     string                     `json:"desc"`
	Context  map[string]json.RawMessage `json:"context"`
	Rendered *string                    `json:"rendered"`
	Error    *string                    `json:"error"`
	Python   struct {
		Agrees   bool    `json:"agrees"`
		Rendered *string `json:"rendered"`
		Error    *string `json:"error"`
	} `json:"python_jinja2"`
}

// want is the expected result; where Python jinja2 and @huggingface/jinja
// disagree, Python's.
func (g *goldenCase) want() (rendered string, fails bool) {
	r, e := g.Rendered, g.Error
	if !g.Python.Agrees {
		r, e = g.Python.Rendered, g.Python.Error
	}
	if e != nil || r == nil {
		return "", true
	}
	return *r, false
}

// renderContext maps the golden's render variables onto RenderContext:
// *_token strings are special tokens, the rest beyond messages, tools,
// documents and add_generation_prompt are chat_template_kwargs.
func (g *goldenCase) renderContext(t testing.TB) RenderContext {
	t.Helper()
	rc := RenderContext{Messages: g.Context["messages"], Tools: g.Context["tools"], Special: map[string]string{}}
	if err := json.Unmarshal(g.Context["add_generation_prompt"], &rc.AddGenerationPrompt); err != nil {
		t.Fatalf("%s: add_generation_prompt: %v", g.ID, err)
	}
	keys := make([]string, 0, len(g.Context))
	for k := range g.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var extra bytes.Buffer
	extra.WriteByte('{')
	for _, k := range keys {
		v := g.Context[k]
		switch {
		case reservedVars[k]:
			continue
		case strings.HasSuffix(k, "_token"):
			var s string
			if err := json.Unmarshal(v, &s); err == nil {
				rc.Special[k] = s
				continue
			}
		}
		if extra.Len() > 1 {
			extra.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		extra.Write(kb)
		extra.WriteByte(':')
		extra.Write(v)
	}
	extra.WriteByte('}')
	rc.Extra = extra.Bytes()
	return rc
}

func loadGoldens(t testing.TB, tokenizer string) (map[string]string, []goldenCase) {
	t.Helper()
	dir := filepath.Join("testdata", tokenizer)
	raw, err := os.ReadFile(filepath.Join(dir, "chat_templates.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpls map[string]struct {
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &tpls); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	for name, tp := range tpls {
		sources[name] = tp.Template
	}
	f, err := os.Open(filepath.Join(dir, "chat_golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var g goldenCase
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, g)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sources, cases
}

func TestChatGoldens(t *testing.T) {
	total := map[string]int{}
	for _, tok := range []string{"qwen3", "llama3", "mistral"} {
		sources, cases := loadGoldens(t, tok)
		if len(cases) == 0 {
			t.Fatalf("%s: no golden cases", tok)
		}
		parsed := map[string]*Template{}
		for name, src := range sources {
			tpl, err := Parse(src)
			if err != nil {
				t.Fatalf("%s/%s: parse: %v", tok, name, err)
			}
			parsed[name] = tpl
		}
		for _, g := range cases {
			name := tok + "/" + g.Template + "/" + g.ID
			tpl := parsed[g.Template]
			if tpl == nil {
				t.Fatalf("%s: unknown template", name)
			}
			want, fails := g.want()
			got, err := tpl.Render(context.Background(), g.renderContext(t))
			switch {
			case fails && err == nil:
				t.Errorf("%s (%s): rendered %q, want an error", name, g.Desc, got)
			case fails && !errors.Is(err, ErrTemplate):
				t.Errorf("%s: error %v does not wrap ErrTemplate", name, err)
			case !fails && err != nil:
				t.Errorf("%s (%s): %v", name, g.Desc, err)
			case !fails && got != want:
				t.Errorf("%s (%s):\n got %q\nwant %q", name, g.Desc, got, want)
			default:
				total[tok]++
				if fails {
					total[tok+" errors"]++
				}
				if !g.Python.Agrees {
					total[tok+" python-wins"]++
				}
			}
		}
		if total[tok] != len(cases) {
			t.Errorf("%s: %d of %d goldens match", tok, total[tok], len(cases))
		}
	}
	t.Logf("goldens matched: %v", total)
}
