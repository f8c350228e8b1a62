package grammar

import (
	"errors"
	"regexp"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzCompile compiles src and, on success, drives a matcher a little,
// checking that mask bits agree with Accept.
func fuzzCompile(t *testing.T, v *Vocab, kind Kind, src string) {
	t0 := time.Now()
	g, err := Compile(v, kind, src, Options{})
	if d := time.Since(t0); d > 20*time.Second {
		t.Fatalf("compile took %v", d)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		return
	}
	m := g.NewMatcher()
	mask := make([]uint64, v.MaskWords())
	for step := range 8 {
		if err := m.FillMask(mask); err != nil {
			if errors.Is(err, ErrDeadEnd) {
				return
			}
			t.Fatal(err)
		}
		var pick int32 = -1
		for id := range int32(v.Size()) {
			ok := mask[id>>6]&(1<<(id&63)) != 0
			if ok != (m.Clone().Accept(id) == nil) {
				t.Fatalf("step %d token %d: mask %v disagrees with Accept", step, id, ok)
			}
			if ok && (pick < 0 || (int(id)*7+step)%5 == 0) {
				pick = id
			}
		}
		if pick < 0 {
			return
		}
		if err := m.Accept(pick); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzRegexCompile(f *testing.F) {
	for _, c := range regexTable {
		f.Add(c.re)
	}
	f.Add(`(a|b){2,5}[^x-z]*\p{Greek}`)
	f.Add(`x{1000}`)
	v := byteVocab(f)
	f.Fuzz(func(t *testing.T, re string) { fuzzCompile(t, v, Regex, re) })
}

// FuzzRegexMatch: whole-string matching equals Go's regexp on valid UTF-8.
func FuzzRegexMatch(f *testing.F) {
	f.Add(`(ab|a)*b?`, "abab")
	f.Add(`[^a]é+`, "bé")
	f.Add(`(?i)k`, "\u212a")
	v := byteVocab(f)
	f.Fuzz(func(t *testing.T, re, s string) {
		want, err := regexp.Compile(`^(?:` + re + `)$`)
		if err != nil || len(re) > 64 {
			return
		}
		g, err := Compile(v, Regex, re, Options{})
		if err != nil {
			return
		}
		if !utf8.ValidString(s) {
			// Go's regexp reads invalid bytes as U+FFFD; the grammar only
			// produces valid UTF-8.
			if fullMatch(g, s) {
				t.Fatalf("%q accepted invalid UTF-8 %q", re, s)
			}
			return
		}
		if got := fullMatch(g, s); got != want.MatchString(s) {
			t.Fatalf("%q on %q: got %v, regexp %v", re, s, got, !got)
		}
	})
}

func FuzzEBNFCompile(f *testing.F) {
	for _, c := range ebnfTable {
		f.Add(c.g)
	}
	f.Add(`root ::= a{2,} | [^\x00-\x7f]
a ::= "x" a? # c`)
	v := byteVocab(f)
	f.Fuzz(func(t *testing.T, src string) { fuzzCompile(t, v, EBNF, src) })
}

func FuzzJSONSchemaCompile(f *testing.F) {
	for _, c := range schemaTable {
		f.Add(c.schema)
	}
	f.Add(nestedSchema)
	v := byteVocab(f)
	f.Fuzz(func(t *testing.T, src string) { fuzzCompile(t, v, JSONSchema, src) })
}

// FuzzJSONSchemaSound: every document a schema grammar accepts validates.
func FuzzJSONSchemaSound(f *testing.F) {
	for i, c := range schemaTable {
		for _, d := range c.accept {
			f.Add(uint8(i), d)
		}
		for _, d := range c.reject {
			f.Add(uint8(i), d)
		}
	}
	v := byteVocab(f)
	gs := make([]*Grammar, len(schemaTable))
	for i, c := range schemaTable {
		gs[i] = mustCompile(f, v, JSONSchema, c.schema, Options{})
	}
	f.Fuzz(func(t *testing.T, which uint8, doc string) {
		i := int(which) % len(schemaTable)
		if !fullMatch(gs[i], doc) {
			return
		}
		if err := validates(t, compileSchema(t, schemaTable[i].schema), doc); err != nil {
			t.Fatalf("schema %s accepted %q, which does not validate: %v", schemaTable[i].schema, doc, err)
		}
	})
}

func FuzzStructuralTagCompile(f *testing.F) {
	f.Add(toolTag)
	f.Add(`{"structures":[{"begin":"<a>","schema":{"type":"integer"},"end":"</a>"}],"triggers":["<a"]}`)
	for _, c := range formatTable {
		f.Add(stFormat(c.format))
	}
	f.Add(`{"format":{"type":"tag","begin":"<a>","content":{"type":"triggered_tags","triggers":["<b"],"tags":[{"begin":"<b>","content":{"type":"any_text"},"end":"</b>"}],"excludes":["x"]},"end":["</a>",""]}}`)
	v := byteVocab(f)
	f.Fuzz(func(t *testing.T, src string) { fuzzCompile(t, v, StructuralTag, src) })
}
