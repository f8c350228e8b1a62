package toolcall

import (
	"math/rand"
	"strings"
	"testing"
)

// bigCalls are outputs with one large call each, as a coding agent writing a
// file produces.
func bigCall(name string, lines int) string {
	code := strings.Repeat(`func f() { if x { return \"}\" } }\n`, lines)
	switch name {
	case "qwen25":
		return "Writing.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"content\": \"" + code + "\"}}\n</tool_call>"
	case "llama3":
		return "{\"name\": \"f\", \"parameters\": {\"content\": \"" + code + "\"}}"
	case "mistral":
		return "[TOOL_CALLS]f[ARGS]{\"content\": \"" + code + "\"}"
	default:
		return "[f(content=\"" + code + "\")]"
	}
}

func BenchmarkStreamBigCall(b *testing.B) {
	for _, name := range Names() {
		p, _ := New(name)
		text := bigCall(name, 1500) // ~50 KB
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s := p.NewStream(testTools)
				n := 0
				for j := 0; j < len(text); j += 4 {
					for _, d := range s.Feed(text[j:min(j+4, len(text))]) {
						if d.Call {
							n++
						}
					}
				}
				for _, d := range s.Flush() {
					if d.Call {
						n++
					}
				}
				if n != 1 {
					b.Fatalf("%d calls", n)
				}
			}
		})
	}
}

// TestStreamLong checks the stream against Parse on calls longer than
// scanAhead, where the stream waits for the closing bracket.
func TestStreamLong(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	n := scanAhead / 8
	js := strings.Repeat(`x]}) ' \" \\ [{ `, n)  // inside a JSON string
	py := strings.Repeat(`x]}) ' " \\ [{ `, n)   // inside """..."""
	pys := strings.Repeat(`x]}) \' " \\ [{ `, n) // inside '...'
	for _, name := range Names() {
		p, _ := New(name)
		big := bigCall(name, 200)
		texts := []string{
			big + " b",
			"a " + big,
			big[:3000],
			strings.Replace(big, "f", "nope", 1),
			`[f(a="""` + py + `""", b='` + pys + `')] and [g(x=` + py + `)`,
			"<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"" + js + "\"}}</tool_call>",
			"[TOOL_CALLS] [{\"name\": \"g\", \"arguments\": {\"a\": \"" + js + "\"}}]",
			"{\"name\": \"g\", \"arguments\": {\"a\": \"" + js + "\"}}",
			"{\"name\": \"g\", \"arguments\": {\"a\": \"" + js + "\"}",
		}
		counts := make([]int, len(texts))
		for i, text := range texts {
			_, calls := p.Parse(text, testTools)
			counts[i] = len(calls)
			checkStream(t, p, text, rng, 4)
		}
		t.Logf("%s: calls per text %v", name, counts)
		if counts[0] != 1 || counts[3] != 0 {
			t.Errorf("%s: calls per text %v", name, counts)
		}
	}
}
