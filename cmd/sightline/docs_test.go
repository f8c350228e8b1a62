package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"
)

// TestFlagsDocumented keeps the README true: every flag of every command is
// named in README.md or, for the SGLang aliases and compatibility flags
// that serve and caption share, in docs/api.md's flag table.
func TestFlagsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	api, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	for _, cmd := range []string{"serve", "run", "caption", "bench"} {
		var stderr bytes.Buffer
		if code := dispatch(t.Context(), []string{cmd, "--help"}, &bytes.Buffer{}, &stderr); code != 0 {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		names := flagLine.FindAllStringSubmatch(stderr.String(), -1)
		if len(names) < 3 {
			t.Fatalf("%s --help lists %d flags:\n%s", cmd, len(names), stderr.String())
		}
		for _, m := range names {
			dashes := "--"
			if len(m[1]) == 1 {
				dashes = "-" // -p
			}
			named := regexp.MustCompile(`(^|[^-\w])` + dashes + regexp.QuoteMeta(m[1]) + `\b[^-]`)
			if !named.Match(readme) && !((cmd == "serve" || cmd == "caption") && named.Match(api)) {
				t.Errorf("sightline %s --%s is documented neither in README.md nor (serve flags) in docs/api.md", cmd, m[1])
			}
		}
	}
}

// TestServeBadFlags: bad serve flag values are usage errors (exit 2) found
// before any model is loaded.
func TestServeBadFlags(t *testing.T) {
	for _, c := range []struct{ flag, value, want string }{
		{"--tool-call-parser", "hermes2", "--tool-call-parser"},
		{"--reasoning-parser", "o1", "--reasoning-parser"},
		{"--grammar-backend", "outlines", "--grammar-backend"},
		{"--chunked-prefill-size", "0", "--chunked-prefill-size"},
		{"--kv-cache-memory", "lots", "--kv-cache-memory"},
		{"--limit-mm-data-per-request", `{"image": -1}`, "--limit-mm-data-per-request"},
	} {
		var stderr bytes.Buffer
		// A model path that does not exist: reaching the loader would be exit 1.
		code := dispatch(t.Context(), []string{"serve", "--model-path", "/nonexistent/model.gguf", c.flag, c.value}, &bytes.Buffer{}, &stderr)
		if code != 2 || !bytes.Contains(stderr.Bytes(), []byte(c.want)) {
			t.Errorf("serve %s %q: exit %d, %s", c.flag, c.value, code, stderr.String())
		}
	}
}
