package chat

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func renderEmpty(t *testing.T, tpl *Template) string {
	t.Helper()
	out, err := tpl.Render(context.Background(), RenderContext{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoad(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"jinja file wins", map[string]string{"chat_template.jinja": "J", "chat_template.json": `{"chat_template": "JSON"}`, "tokenizer_config.json": `{"chat_template": "TC"}`}, "J"},
		{"json before tokenizer_config", map[string]string{"chat_template.json": `{"chat_template": "JSON"}`, "tokenizer_config.json": `{"chat_template": "TC"}`}, "JSON"},
		{"json without template falls through", map[string]string{"chat_template.json": `{"other": 1}`, "tokenizer_config.json": `{"chat_template": "TC"}`}, "TC"},
		{"tokenizer_config string", map[string]string{"tokenizer_config.json": `{"bos_token": "<s>", "chat_template": "{{ 'T' }}C"}`}, "TC"},
		{"tokenizer_config named list", map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "tool_use", "template": "U"}, {"name": "default", "template": "D"}]}`}, "D"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := Load(writeFiles(t, c.files))
			if err != nil {
				t.Fatal(err)
			}
			if got := renderEmpty(t, tpl); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	for name, files := range map[string]map[string]string{
		"empty dir":              {},
		"no chat_template key":   {"tokenizer_config.json": `{"bos_token": "<s>"}`},
		"null chat_template":     {"tokenizer_config.json": `{"chat_template": null}`},
		"list without a default": {"tokenizer_config.json": `{"chat_template": [{"name": "tool_use", "template": "U"}]}`},
	} {
		if _, err := Load(writeFiles(t, files)); !errors.Is(err, ErrNoTemplate) {
			t.Errorf("%s: %v, want ErrNoTemplate", name, err)
		}
	}
	for name, files := range map[string]map[string]string{
		"bad json":       {"tokenizer_config.json": `{"chat_template": `},
		"wrong type":     {"tokenizer_config.json": `{"chat_template": 5}`},
		"bad template":   {"chat_template.jinja": `{% if %}`},
		"not utf-8 file": {"chat_template.jinja": "\xff"},
	} {
		if _, err := Load(writeFiles(t, files)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: %v, want ErrSyntax", name, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{"t.jinja": "{{ 1 + 1 }}\n", "t.json": `{"chat_template": "{{ 3 }}"}`, "t.txt": "raw {{ 4 }}"})
	for name, want := range map[string]string{"t.jinja": "2", "t.json": "3", "t.txt": "raw 4"} {
		tpl, err := LoadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := renderEmpty(t, tpl); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.jinja")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestLoadQwen3TokenizerConfig loads the real Qwen3 tokenizer_config.json
// (testdata/qwen3) and checks it against the goldens of that template.
func TestLoadQwen3TokenizerConfig(t *testing.T) {
	tpl, err := Load("testdata/qwen3")
	if err != nil {
		t.Fatal(err)
	}
	_, cases := loadGoldens(t, "qwen3")
	n := 0
	for _, g := range cases {
		if g.Template != "qwen3_tokenizer_config" {
			continue
		}
		want, fails := g.want()
		got, err := tpl.Render(context.Background(), g.renderContext(t))
		if fails != (err != nil) || got != want {
			t.Errorf("%s: got %q, %v", g.ID, got, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no qwen3_tokenizer_config goldens")
	}
}
