package reasoning

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustNew(t testing.TB, name string, thinking bool) Parser {
	t.Helper()
	p, err := New(name, thinking)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNames(t *testing.T) {
	if got, want := Names(), []string{"deepseek-r1", "qwen3"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	for _, n := range append(Names(), "Qwen3", "DeepSeek-R1") {
		if _, err := New(n, true); err != nil {
			t.Errorf("New(%q): %v", n, err)
		}
	}
	if _, err := New("llama", true); err == nil || !strings.Contains(err.Error(), "deepseek-r1, qwen3") {
		t.Errorf("New(llama) error = %v, want one listing the parsers", err)
	}
}

type splitCase struct {
	name, in, reasoning, content string
}

// Cases for a forced parser: deepseek-r1 always, qwen3 with thinking on.
var forcedCases = []splitCase{
	{"empty", "", "", ""},
	{"end tag only", "Let me think.</think>The answer is 42.", "Let me think.", "The answer is 42."},
	{"both tags", "<think>Let me think.</think>The answer is 42.", "Let me think.", "The answer is 42."},
	{"repeated start", "<think><think>hmm</think>ok", "hmm", "ok"},
	{"no tags", "Still thinking about it", "Still thinking about it", ""},
	{"unclosed", "<think>Still thinking", "Still thinking", ""},
	{"start tag only", "<think>", "", ""},
	{"empty think", "<think></think>Answer", "", "Answer"},
	{"empty think newlines", "<think>\n\n</think>\n\nAnswer", "\n\n", "\n\nAnswer"},
	{"newlines kept", "<think>\nStep 1.\n\nStep 2.\n</think>\n\n\nAnswer\n\n", "\nStep 1.\n\nStep 2.\n", "\n\n\nAnswer\n\n"},
	{"only reasoning", "<think>r</think>", "r", ""},
	{"text before think", "Hi <think>r</think>c", "Hi <think>r", "c"},
	{"space before think", " <think>r</think>c", " <think>r", "c"},
	{"second block is content", "<think>a</think>b<think>c</think>d", "a", "b<think>c</think>d"},
	{"partial tags are text", "a </thin b <thi</think>c </", "a </thin b <thi", "c </"},
	{"stray start inside", "<think>a<think>b</think>c", "a<think>b", "c"},
	{"utf8", "<think>思考 é🙂</think>答え🙂", "思考 é🙂", "答え🙂"},
}

// Cases for qwen3 with thinking off (unforced).
var unforcedCases = []splitCase{
	{"empty", "", "", ""},
	{"no tags", "Direct answer.\n\nMore.", "", "Direct answer.\n\nMore."},
	{"both tags", "<think>Let me think.</think>\n\nThe answer is 42.", "Let me think.", "\n\nThe answer is 42."},
	{"end tag only", "abc</think>def", "", "abc</think>def"},
	{"unclosed", "<think>Still thinking", "Still thinking", ""},
	{"empty think", "<think>\n\n</think>\n\nAnswer", "\n\n", "\n\nAnswer"},
	{"text before think", "Hi <think>r</think>c", "r", "Hi c"},
	{"text before unclosed", "Hi\n<think>r", "r", "Hi\n"},
	{"repeated start", "<think><think>hmm</think>ok", "hmm", "ok"},
	{"second block is content", "<think>a</think>b<think>c</think>d", "a", "b<think>c</think>d"},
	{"partial start is text", "a <thin b", "", "a <thin b"},
	{"utf8", "é<think>思考</think>🙂", "思考", "é🙂"},
}

// qwen3 also ends reasoning at <tool_call>, keeping the tag in content.
var qwenToolCases = []splitCase{
	{"tool ends reasoning", "<think>I should call it\n<tool_call>\n{\"name\":\"f\"}\n</tool_call>", "I should call it\n", "<tool_call>\n{\"name\":\"f\"}\n</tool_call>"},
	{"tool after end", "<think>r</think>\n\n<tool_call>{}</tool_call>", "r", "\n\n<tool_call>{}</tool_call>"},
	{"tool before end", "r<tool_call>x</think>y", "r", "<tool_call>x</think>y"},
	{"tool immediately", "<think><tool_call>x", "", "<tool_call>x"},
	{"partial tool is text", "r <tool_cal</think>c", "r <tool_cal", "c"},
}

func checkSplit(t *testing.T, p Parser, cases []splitCase) {
	t.Helper()
	for _, tc := range cases {
		r, c := p.Split(tc.in)
		if r != tc.reasoning || c != tc.content {
			t.Errorf("%s: Split(%q) = (%q, %q), want (%q, %q)", tc.name, tc.in, r, c, tc.reasoning, tc.content)
		}
		checkStreaming(t, p, tc.in, rand.New(rand.NewPCG(1, uint64(len(tc.in)))), 50)
	}
}

func TestDeepSeekR1(t *testing.T) {
	for _, thinking := range []bool{true, false} {
		checkSplit(t, mustNew(t, "deepseek-r1", thinking), forcedCases)
	}
	// No <tool_call> handling for deepseek-r1.
	checkSplit(t, mustNew(t, "deepseek-r1", true), []splitCase{
		{"tool is reasoning", "<think>r<tool_call>x</think>c", "r<tool_call>x", "c"},
	})
}

func TestQwen3Thinking(t *testing.T) {
	p := mustNew(t, "qwen3", true)
	checkSplit(t, p, forcedCases)
	checkSplit(t, p, qwenToolCases)
}

func TestQwen3NoThinking(t *testing.T) {
	p := mustNew(t, "qwen3", false)
	checkSplit(t, p, unforcedCases)
	checkSplit(t, p, []splitCase{
		{"tool without think is content", "<tool_call>{}</tool_call>", "", "<tool_call>{}</tool_call>"},
		{"tool in think", "Hi<think>r<tool_call>x", "r", "Hi<tool_call>x"},
	})
}

// TestStreamHoldsBack checks what Feed releases at once and what it keeps.
func TestStreamHoldsBack(t *testing.T) {
	type step struct{ in, r, c string } // in=="" means Flush
	for _, tc := range []struct {
		name     string
		parser   string
		thinking bool
		steps    []step
	}{
		{"forced", "deepseek-r1", true, []step{
			{"<th", "", ""}, {"ink>", "", ""}, {"Let me", "Let me", ""},
			{" see</th", " see", ""}, {"ink>\n\nIt", "", "\n\nIt"}, {" is 42", "", " is 42"}, {"", "", ""},
		}},
		{"forced no start tag", "deepseek-r1", true, []step{
			{"a <", "a ", ""}, {"b", "<b", ""}, {"</think", "", ""}, {"", "</think", ""},
		}},
		{"forced start never completes", "qwen3", true, []step{
			{"<thin", "", ""}, {"", "<thin", ""},
		}},
		{"unforced", "qwen3", false, []step{
			{"Hi <thi", "", "Hi "}, {"nk>r", "r", ""}, {"</think>c <think>", "", "c <think>"}, {"", "", ""},
		}},
		{"unforced held tag flushed as content", "qwen3", false, []step{
			{"a<thin", "", "a"}, {"", "", "<thin"},
		}},
		{"tool split", "qwen3", true, []step{
			{"<think>r<tool", "r", ""}, {"_call>{", "", "<tool_call>{"},
		}},
		{"utf8 held", "qwen3", true, []step{
			{"<think>é"[:8], "", ""}, {"é"[1:] + "x\xe6\x80", "éx", ""}, {"\x9d</think>\xf0\x9f", "思", ""},
			{"\x99", "", ""}, {"", "", "\xf0\x9f\x99"},
		}},
	} {
		s := mustNew(t, tc.parser, tc.thinking).NewStream()
		for i, st := range tc.steps {
			var r, c string
			if st.in == "" {
				r, c = s.Flush()
			} else {
				r, c = s.Feed(st.in)
			}
			if r != st.r || c != st.c {
				t.Errorf("%s step %d (%q): got (%q, %q), want (%q, %q)", tc.name, i, st.in, r, c, st.r, st.c)
			}
		}
	}
}

// checkStreaming feeds text to a fresh stream in 1-byte pieces, in two
// pieces at every split point, and in n random splittings, and requires the
// concatenated output to equal Split's (and, for valid UTF-8 input, every
// released piece to be valid UTF-8).
func checkStreaming(t testing.TB, p Parser, text string, rng *rand.Rand, n int) {
	t.Helper()
	wantR, wantC := p.Split(text)
	try := func(pieces []string) {
		t.Helper()
		s := p.NewStream()
		var r, c strings.Builder
		valid := utf8.ValidString(text)
		add := func(pr, pc string) {
			if valid && (!utf8.ValidString(pr) || !utf8.ValidString(pc)) {
				t.Fatalf("pieces %q: released invalid UTF-8 (%q, %q)", pieces, pr, pc)
			}
			r.WriteString(pr)
			c.WriteString(pc)
		}
		for _, piece := range pieces {
			add(s.Feed(piece))
		}
		add(s.Flush())
		if r.String() != wantR || c.String() != wantC {
			t.Fatalf("pieces %q: stream = (%q, %q), Split = (%q, %q)", pieces, r.String(), c.String(), wantR, wantC)
		}
	}
	bytes := make([]string, len(text))
	for i := 0; i < len(text); i++ {
		bytes[i] = text[i : i+1]
	}
	try(bytes)
	if len(text) <= 128 {
		for i := 0; i <= len(text); i++ {
			try([]string{text[:i], "", text[i:]})
		}
	}
	for range n {
		var pieces []string
		rest := text
		maxLen := 1 + rng.IntN(12)
		for len(rest) > 0 {
			k := min(len(rest), rng.IntN(maxLen+1))
			pieces = append(pieces, rest[:k])
			rest = rest[k:]
		}
		try(pieces)
	}
}

func fuzzParser(f *testing.F, parsers ...Parser) {
	var seeds []string
	for _, cs := range [][]splitCase{forcedCases, unforcedCases, qwenToolCases} {
		for _, tc := range cs {
			seeds = append(seeds, tc.in)
		}
	}
	seeds = append(seeds, "<think><thi<think>x</thi</think></think>", "<<think>></<//think>>", "<tool_call<tool_call></think>")
	for i, s := range seeds {
		f.Add(s, uint64(i))
	}
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		for _, p := range parsers {
			r, c := p.Split(text)
			if len(r)+len(c) > len(text) {
				t.Fatalf("Split(%q) = (%q, %q): longer than input", text, r, c)
			}
			checkStreaming(t, p, text, rand.New(rand.NewPCG(seed, 7)), 8)
		}
	})
}

func FuzzQwen3(f *testing.F) {
	fuzzParser(f, mustNew(f, "qwen3", true), mustNew(f, "qwen3", false))
}

func FuzzDeepSeekR1(f *testing.F) {
	fuzzParser(f, mustNew(f, "deepseek-r1", true))
}
