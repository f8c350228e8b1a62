package grammar

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// maskCases cover flat DFAs, recursion, context-dependent tokens and
// ambiguity.
var maskCases = []struct {
	kind Kind
	src  string
}{
	{JSONSchema, seedSchema},
	{JSONSchema, JSONObjectSchema},
	{JSONSchema, `{"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":3}},"required":["v"]}},"$ref":"#/$defs/n"}`},
	{JSONSchema, `{"type":"array","items":{"anyOf":[{"type":"string","maxLength":4},{"type":"number"},{"enum":["the","and",true]}]}}`},
	{Regex, `(the|a) [a-z]+ (is|was) \d+`},
	{Regex, `[^\n]{0,20}\n`},
	{EBNF, `root ::= "(" root ")" root | ""`},
	{EBNF, `root ::= s
s ::= "a" s s | "th" | t
t ::= "e" | "the" t`},
	{EBNF, `root ::= x+
x ::= "in" | "i" | "n" | "ing" | " " y
y ::= [a-z] | [a-z] y`},
	{StructuralTag, `{"type":"structural_tag","structures":[{"begin":"<f=a>","schema":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]},"end":"</f>"}],"triggers":["<f="]}`},
	{StructuralTag, `{"type":"structural_tag","format":{"type":"sequence","elements":[{"type":"tag","begin":"<think>","content":{"type":"any_text"},"end":"</think>"},{"type":"triggered_tags","triggers":["<f="],"tags":[{"begin":"<f=a>","content":{"type":"json_schema","json_schema":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}},"end":"</f>"}],"at_least_one":true}]}}`},
}

// checkMasks does random walks; at every step every token's mask bit must
// equal whether Accept takes it.
func checkMasks(t *testing.T, v *Vocab, g *Grammar, r *rand.Rand, walks, steps int, sample func(r *rand.Rand, allowed []int32) []int32) {
	t.Helper()
	mask := make([]uint64, v.MaskWords())
	for range walks {
		m := g.NewMatcher()
		for step := range steps {
			err := m.FillMask(mask)
			if err != nil && !(errors.Is(err, ErrDeadEnd)) {
				t.Fatal(err)
			}
			var allowed []int32
			for id := range int32(v.Size()) {
				if mask[id>>6]&(1<<(id&63)) != 0 {
					allowed = append(allowed, id)
				}
			}
			if errors.Is(err, ErrDeadEnd) != (len(allowed) == 0 && !m.Done()) {
				t.Fatalf("%s step %d: ErrDeadEnd %v with %d allowed, done %v", g.Kind(), step, err, len(allowed), m.Done())
			}
			for _, id := range sample(r, allowed) {
				ok := mask[id>>6]&(1<<(id&63)) != 0
				err := m.Clone().Accept(id)
				if ok != (err == nil) {
					t.Fatalf("%s step %d: token %d %q: mask %v, Accept error %v", g.Kind(), step, id, v.TokenBytes(id), ok, err)
				}
			}
			if len(allowed) == 0 || (m.Done() && r.IntN(4) == 0) {
				break
			}
			if err := m.Accept(allowed[r.IntN(len(allowed))]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func allTokens(v *Vocab) func(*rand.Rand, []int32) []int32 {
	return func(*rand.Rand, []int32) []int32 {
		ids := make([]int32, v.Size())
		for i := range ids {
			ids[i] = int32(i)
		}
		return ids
	}
}

func TestMaskExhaustiveTiny(t *testing.T) {
	v, _ := tinyVocab(t)
	r := rand.New(rand.NewPCG(7, 7))
	for _, c := range maskCases {
		g := mustCompile(t, v, c.kind, c.src, Options{})
		checkMasks(t, v, g, r, 8, 40, allTokens(v))
	}
}

func TestMaskExhaustiveBytes(t *testing.T) {
	v := byteVocab(t)
	r := rand.New(rand.NewPCG(8, 8))
	for _, c := range maskCases {
		g := mustCompile(t, v, c.kind, c.src, Options{Whitespace: WhitespaceCompact})
		checkMasks(t, v, g, r, 6, 60, allTokens(v))
	}
}

func TestMaskQwen3Sample(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: qwen3 vocabulary")
	}
	v, _ := qwen3Vocab(t)
	r := rand.New(rand.NewPCG(9, 9))
	sample := func(r *rand.Rand, allowed []int32) []int32 {
		ids := make([]int32, 0, 3000)
		for range 1500 {
			ids = append(ids, int32(r.IntN(v.Size())))
		}
		for range 1500 {
			if len(allowed) > 0 {
				ids = append(ids, allowed[r.IntN(len(allowed))])
			}
		}
		return ids
	}
	for _, c := range maskCases {
		g := mustCompile(t, v, c.kind, c.src, Options{})
		checkMasks(t, v, g, r, 2, 25, sample)
	}
}

// TestDeepNesting drives a stack 20,000 deep (arena compaction kicks in)
// and back, with masks along the way.
func TestDeepNesting(t *testing.T) {
	v := byteVocab(t)
	for _, c := range []struct {
		kind       Kind
		src        string
		open, shut string
	}{
		{EBNF, `root ::= "(" root ")" | ""`, "(", ")"},
		{JSONSchema, `{"type":"array"}`, "[", "]"},
	} {
		g := mustCompile(t, v, c.kind, c.src, Options{Whitespace: WhitespaceCompact})
		m := g.NewMatcher()
		mask := make([]uint64, v.MaskWords())
		open, _ := v.tokenOf(c.open)
		shut, _ := v.tokenOf(c.shut)
		depth := 20_000
		if c.kind == JSONSchema {
			if err := m.Accept(open); err != nil {
				t.Fatal(err)
			}
		}
		for i := range depth {
			if err := m.Accept(open); err != nil {
				t.Fatalf("%s: open %d: %v", c.src, i, err)
			}
			if i%5000 == 0 {
				if err := m.FillMask(mask); err != nil || mask[shut>>6]&(1<<(shut&63)) == 0 {
					t.Fatalf("%s: depth %d: closing not allowed (%v)", c.src, i, err)
				}
			}
		}
		if len(m.ar.nodes) > 3*depth {
			t.Errorf("%s: arena holds %d nodes for depth %d", c.src, len(m.ar.nodes), depth)
		}
		for i := range depth {
			if m.Done() {
				t.Fatalf("%s: done too early at %d", c.src, i)
			}
			if err := m.Accept(shut); err != nil {
				t.Fatalf("%s: close %d: %v", c.src, i, err)
			}
		}
		if c.kind == JSONSchema {
			if err := m.Accept(shut); err != nil {
				t.Fatal(err)
			}
		}
		if !m.Done() || m.Accept(shut) == nil {
			t.Errorf("%s: not done after closing everything, or accepts more", c.src)
		}
	}
}
