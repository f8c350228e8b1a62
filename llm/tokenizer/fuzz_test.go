package tokenizer

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"github.com/sightline/sightline/internal/fixtures"
	"golang.org/x/text/unicode/norm"
)

var fuzzSeeds = []string{
	"", "Hello, world!", "  leading and trailing  ", "tab\there\r\nCRLF", "I'm you'RE they'll",
	"数字 12345 ٣٤ ½", "emoji 😀👍🏽 zwj 👨‍👩‍👧", "e\u0301 NFD", "\u00a0nbsp\u3000ideo", "<|im_start|>x<|im_end|>",
	"\xff\xfe invalid", "\x00\x01\x1f", "ſ's 'ſ", "a'ſ", strings.Repeat("ab", 50),
}

// FuzzFastPatterns checks the hand-written matchers against regexp2 running
// the same pattern. (ſ is excluded: Oniguruma's case folding matches it for
// (?i:s), regexp2's does not; the fast matcher follows Oniguruma.)
func FuzzFastPatterns(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	type pair struct {
		fast fastPattern
		re   *regexp2.Regexp
	}
	var pats []pair
	for p, fp := range knownPatterns {
		pats = append(pats, pair{fp, regexp2.MustCompile(p, regexp2.None)})
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0x17F) {
			return
		}
		for _, p := range pats {
			var want, got [][2]int
			slow := &regex{re: p.re}
			slow.each(s, func(a, b int) { want = append(want, [2]int{a, b}) })
			(&regex{fast: p.fast}).each(s, func(a, b int) { got = append(got, [2]int{a, b}) })
			if len(got) != len(want) {
				t.Fatalf("%s on %q: got %v want %v", p.re, s, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s on %q: got %v want %v", p.re, s, got, want)
				}
			}
		}
	})
}

// FuzzEncodeRoundTrip: encoding never panics, and for byte-level tokenizers
// decode(encode(s)) gives back s (NFC-normalized where the tokenizer
// normalizes; invalid UTF-8 comes back as U+FFFD).
func FuzzEncodeRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tiny := mustJSON(f, tinyJSON(f, [][2]string{{"a", "b"}, {"ab", "ab"}, {"Ġ", "a"}},
		[]map[string]any{{"content": "<|im_start|>", "special": true}}, nil), nil)
	type tok struct {
		tk  *Tokenizer
		nfc bool
	}
	toks := []tok{{tk: tiny}}
	for _, name := range fixtureNames { // those in testdata or ../shared
		if dir := fixtureDirOrEmpty(f, name); dir != "" {
			tk, err := Load(dir)
			if err != nil {
				f.Fatal(err)
			}
			toks = append(toks, tok{tk: tk, nfc: name == "qwen3"})
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, c := range toks {
			for _, o := range []EncodeOptions{{AddSpecial: true, ParseSpecial: true}, {}} {
				ids := c.tk.EncodeOpts(s, o)
				for _, id := range ids {
					if _, ok := c.tk.Piece(id); !ok {
						t.Fatalf("tokenizer %d: id %d not in vocabulary", i, id)
					}
				}
				_ = c.tk.Decode(ids, DecodeOptions{SkipSpecial: true})
			}
			if _, isHF := c.tk.eng.(*hfEngine); !isHF || !c.tk.eng.(*hfEngine).blOnly {
				continue // SentencePiece-style decoders rewrite spaces
			}
			want := sanitizeUTF8(s)
			if c.nfc {
				want = norm.NFC.String(want)
			}
			got := c.tk.Decode(c.tk.Encode(s, false), DecodeOptions{})
			if got != want {
				t.Fatalf("tokenizer %d: round trip of %q gave %q", i, s, got)
			}
		}
	})
}

// fixtureDirOrEmpty is fixtureDir without skipping ("" when absent).
func fixtureDirOrEmpty(t testing.TB, name string) string {
	d, ok := fixtures.Dir(t, "tokenizers/"+name)
	if !ok || !fileExists(filepath.Join(d, "tokenizer.json")) {
		return ""
	}
	return d
}

// FuzzFromJSON: arbitrary tokenizer.json bytes never panic or hang.
func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`))
	f.Add(tinyJSON(f, [][2]string{{"a", "b"}}, []map[string]any{{"content": "<x>", "lstrip": true}},
		map[string]any{"normalizer": map[string]any{"type": "NFC"}}))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"\u00e9":0,"\ud83d\ude00":1},"merges":[["\u00e9","\ud83d\ude00"]]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := FromJSON(b, nil)
		if err != nil {
			return
		}
		ids := tk.Encode("ab é <x> 😀", true)
		_ = tk.Decode(ids, DecodeOptions{})
	})
}

// FuzzGGUFSPM: the SentencePiece path never panics and round-trips text
// through byte fallback.
func FuzzGGUFSPM(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []int32{2, 3, 3}
	for b := 0; b < 256; b++ {
		tokens = append(tokens, "<0x"+strings.ToUpper(string("0123456789abcdef"[b>>4])+string("0123456789abcdef"[b&15]))+">")
		types = append(types, 6)
	}
	for _, w := range []string{"▁", "a", "b", "▁a", "ab", "▁ab", "é"} {
		tokens = append(tokens, w)
		types = append(types, 1)
	}
	scores := make([]float32, len(tokens))
	for i := range scores {
		scores[i] = float32(-i)
	}
	tk, err := FromGGUF(GGUFVocab{Model: "llama", Tokens: tokens, Scores: scores, Types: types,
		BOS: 1, EOS: 2, UNK: 0, PAD: -1, EOT: -1, AddBOS: true, AddSpacePrefix: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s, true)
		got := tk.Decode(ids, DecodeOptions{SkipSpecial: true})
		if !utf8.ValidString(s) || strings.ContainsAny(s, "▁") || strings.Contains(s, "<s>") ||
			strings.Contains(s, "</s>") || strings.Contains(s, "<unk>") {
			return
		}
		if got != s {
			t.Fatalf("round trip of %q gave %q (ids %v)", s, got, ids)
		}
	})
}
