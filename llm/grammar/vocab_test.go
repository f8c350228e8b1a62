package grammar

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unicode/utf8"
)

// TestVocabTrie checks the depth-first trie: every token's path spells its
// bytes, subtrees are contiguous, and tokens come in sorted order.
func TestVocabTrie(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var toks [][]byte
	for range 500 {
		b := make([]byte, 1+r.IntN(5))
		for i := range b {
			b[i] = "abc\x00\xff"[r.IntN(5)]
		}
		toks = append(toks, b)
	}
	toks = append(toks, nil, []byte{}, []byte("abc"), []byte("abc")) // empty and duplicates
	v, err := NewVocab(len(toks)+10, toks, []int32{3})
	if err != nil {
		t.Fatal(err)
	}
	if v.TokenBytes(3) != nil || v.TokenBytes(500) != nil || v.TokenBytes(int32(len(toks)+5)) != nil || v.TokenBytes(-1) != nil {
		t.Error("excluded, empty or out-of-range ids must have no bytes")
	}
	path := make([]byte, 0, 8)
	n := int32(len(v.tb))
	for i := int32(1); i < n; i++ {
		d := int(v.dep[i])
		if d < 1 || d > len(path)+1 {
			t.Fatalf("node %d depth %d after path of %d", i, d, len(path))
		}
		path = append(path[:d-1], v.tb[i])
		if v.end[i] <= i || v.end[i] > n {
			t.Fatalf("node %d subtree end %d", i, v.end[i])
		}
		for j := i + 1; j < v.end[i]; j++ {
			if int(v.dep[j]) <= d {
				t.Fatalf("node %d inside subtree of %d is not deeper", j, i)
			}
		}
		for _, id := range v.toks[v.tstart[i]:v.tstart[i+1]] {
			if !bytes.Equal(v.TokenBytes(id), path) {
				t.Fatalf("token %d at path %q has bytes %q", id, path, v.TokenBytes(id))
			}
		}
	}
	want := 0
	for i, b := range toks {
		if len(b) > 0 && i != 3 {
			want++
		}
	}
	if len(v.toks) != want || !slices.IsSortedFunc(v.toks, func(a, b int32) int { return bytes.Compare(v.TokenBytes(a), v.TokenBytes(b)) }) {
		t.Errorf("%d tokens in the trie, want %d, sorted", len(v.toks), want)
	}
	if _, err := NewVocab(2, toks, nil); err == nil {
		t.Error("more tokens than the vocabulary size must fail")
	}
}

func TestVocabFromTokenizerTiny(t *testing.T) {
	v, tk := tinyVocab(t)
	for id := range int32(v.Size()) {
		b := v.TokenBytes(id)
		if tk.IsSpecial(id) != (b == nil) {
			t.Errorf("token %d: special %v, bytes %q", id, tk.IsSpecial(id), b)
		}
	}
	if v.MaskWords() != (v.Size()+63)/64 {
		t.Error("MaskWords")
	}
}

// TestUTF8Seqs: the byte-range sequences of a scalar range match exactly
// the encodings of its runes.
func TestUTF8Seqs(t *testing.T) {
	for _, rg := range [][2]rune{{0, 0x10FFFF}, {0x7F, 0x80}, {0x7FF, 0x801}, {0xD000, 0xE100}, {0xFFFF, 0x10000}, {0x10FFF0, 0x10FFFF}, {0x1234, 0x5678}, {'a', 'a'}} {
		x := runeClass(rg[0], rg[1])
		var seqs [][]byteRange
		for i := 0; i+1 < len(x.runes); i += 2 {
			utf8Seqs(x.runes[i], x.runes[i+1], func(q []byteRange) { seqs = append(seqs, slices.Clone(q)) })
		}
		var buf [4]byte
		for r := rune(0); r <= utf8.MaxRune; r++ {
			if r >= 0xD800 && r <= 0xDFFF {
				continue // no encoding (EncodeRune would give U+FFFD's)
			}
			in := r >= rg[0] && r <= rg[1]
			n := utf8.EncodeRune(buf[:], r)
			got := 0
			for _, q := range seqs {
				if len(q) != n {
					continue
				}
				ok := true
				for i := range q {
					ok = ok && buf[i] >= q[i].lo && buf[i] <= q[i].hi
				}
				if ok {
					got++
				}
			}
			if in != (got == 1) || got > 1 {
				t.Fatalf("range %U-%U rune %U: in %v, matched by %d sequences", rg[0], rg[1], r, in, got)
			}
		}
	}
}

func TestCompilerCache(t *testing.T) {
	v := byteVocab(t)
	c := NewCompiler(v, Options{}, 2)
	g1, err := c.Compile(Regex, "a+")
	if err != nil {
		t.Fatal(err)
	}
	if g2, _ := c.Compile(Regex, "a+"); g2 != g1 {
		t.Error("cache miss for the same key")
	}
	if g3, _ := c.Compile(EBNF, "a+"); g3 == g1 {
		t.Error("kind is part of the key")
	}
	if _, err := c.Compile(Regex, "("); err == nil {
		t.Error("invalid regex compiled")
	}
	if c.Len() != 2 {
		t.Errorf("len %d, want capacity 2", c.Len())
	}
	if g4, _ := c.Compile(Regex, "a+"); g4 == g1 {
		t.Error("evicted entry returned")
	}
	// Concurrent compiles of one key share one grammar.
	var wg sync.WaitGroup
	got := make([]*Grammar, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = c.Compile(JSONSchema, seedSchema)
		}()
	}
	wg.Wait()
	for _, g := range got {
		if g == nil || g != got[0] {
			t.Fatal("concurrent compiles returned different grammars")
		}
	}
}

// TestConcurrentMatchers runs matchers of one grammar in parallel (masks
// computed lazily by whichever goroutine comes first); run with -race.
func TestConcurrentMatchers(t *testing.T) {
	v, _ := tinyVocab(t)
	g := mustCompile(t, v, JSONSchema, JSONObjectSchema, Options{})
	ref := maskTrace(g, 1)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := maskTrace(g, 1); !slices.Equal(got, ref) {
				t.Errorf("worker %d: masks differ", w)
			}
		}()
	}
	g.Precompute(context.Background(), 2)
	wg.Wait()
}

// maskTrace walks deterministically and returns every mask word.
func maskTrace(g *Grammar, seed uint64) []uint64 {
	r := rand.New(rand.NewPCG(seed, seed))
	v := g.Vocab()
	mask := make([]uint64, v.MaskWords())
	var out []uint64
	m := g.NewMatcher()
	for range 40 {
		if m.FillMask(mask) != nil {
			break
		}
		out = append(out, mask...)
		var ids []int32
		for id := range int32(v.Size()) {
			if mask[id>>6]&(1<<(id&63)) != 0 {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 || m.Accept(ids[r.IntN(len(ids))]) != nil {
			break
		}
	}
	return out
}
