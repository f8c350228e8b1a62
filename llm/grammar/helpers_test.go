package grammar

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/tokenizer"
)

// byteVocab has every single byte plus a few multi-byte tokens.
func byteVocab(t testing.TB) *Vocab {
	t.Helper()
	var toks [][]byte
	for b := range 256 {
		toks = append(toks, []byte{byte(b)})
	}
	for _, s := range []string{`{"`, `":`, `", "`, `"}`, "true", "null", "  ", "\n", "ab", "abc", "Hello", "Hi", "He", "é", "\xe4\xb8", "123", "0.", "[{", "}]", "<function=", "</function>"} {
		toks = append(toks, []byte(s))
	}
	v, err := NewVocab(len(toks)+3, toks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustCompile(t testing.TB, v *Vocab, k Kind, src string, o Options) *Grammar {
	t.Helper()
	g, err := Compile(v, k, src, o)
	if err != nil {
		t.Fatalf("compile %s %q: %v", k, src, err)
	}
	return g
}

// fullMatch reports whether s is a complete match of g.
func fullMatch(g *Grammar, s string) bool {
	m := g.NewMatcher()
	return m.AcceptString(s) == nil && m.Done()
}

// prefixOK reports whether s is a viable prefix of g.
func prefixOK(g *Grammar, s string) bool {
	m := g.NewMatcher()
	return m.AcceptString(s) == nil
}

// repoShared locates ../shared next to the repository root.
func repoShared(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// qwen3Vocab loads the qwen3 tokenizer fixture or skips.
func qwen3Vocab(t testing.TB) (*Vocab, *tokenizer.Tokenizer) {
	t.Helper()
	dir := filepath.Join(repoShared(t), "fixtures", "tokenizers", "qwen3")
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Skipf("qwen3 tokenizer fixture not present (%v); it lives outside the repo in ../shared", err)
	}
	tk, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VocabFromTokenizer(tk, 151936)
	if err != nil {
		t.Fatal(err)
	}
	return v, tk
}

// tinyVocab is the vocabulary of internal/tiny.NewVocab(0) via its tokenizer.json.
func tinyVocab(t testing.TB) (*Vocab, *tokenizer.Tokenizer) {
	t.Helper()
	tv, err := tiny.NewVocab(0)
	if err != nil {
		t.Fatal(err)
	}
	tj, err := tv.TokenizerJSON()
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tv.TokenizerConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.FromJSON(tj, tc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VocabFromTokenizer(tk, len(tv.Tokens))
	if err != nil {
		t.Fatal(err)
	}
	return v, tk
}

// tokenOf finds the id of a token with exactly the bytes s .
func (v *Vocab) tokenOf(s string) (int32, bool) {
	for _, id := range v.toks {
		if string(v.bytes(id)) == s {
			return id, true
		}
	}
	return -1, false
}
