package grammar

import (
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
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

// qwen3Vocab loads the Qwen3 tokenizer fixture (testdata/tokenizers/qwen3 of
// the repository, else ../shared/fixtures/tokenizers/qwen3) or skips.
func qwen3Vocab(t testing.TB) (*Vocab, *tokenizer.Tokenizer) {
	t.Helper()
	dir, ok := fixtures.Dir(t, "tokenizers/qwen3")
	if !ok {
		t.Skip("qwen3 tokenizer fixture absent: neither testdata/tokenizers/qwen3 nor ../shared/fixtures/tokenizers/qwen3")
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
