package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func texts(ps []piece) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.s
	}
	return out
}

func preFromJSON(t *testing.T, js string) preTokenizer {
	t.Helper()
	ps, err := parsePreTokenizer(json.RawMessage(js), newByteLevel(), 0)
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if len(ps) == 1 {
		return ps[0]
	}
	return preSeq(ps)
}

// The expectations below are the examples of the tokenizers crate's docs
// and unit tests for each component.
func TestPreTokenizers(t *testing.T) {
	cases := []struct {
		js, in string
		want   []string
	}{
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false}`, "the-final--countdown",
			[]string{"the", "final", "countdown"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"Isolated","invert":false}`, "the-final--countdown",
			[]string{"the", "-", "final", "-", "-", "countdown"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithPrevious","invert":false}`, "the-final--countdown",
			[]string{"the-", "final-", "-", "countdown"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithNext","invert":false}`, "the-final--countdown",
			[]string{"the", "-final", "-", "-countdown"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"Contiguous","invert":false}`, "the-final--countdown",
			[]string{"the", "-", "final", "--", "countdown"}},
		{`{"type":"Split","pattern":{"Regex":"\\s+"},"behavior":"Removed","invert":false}`, "How are  you",
			[]string{"How", "are", "you"}},
		{`{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Removed","invert":true}`, "How are you?",
			[]string{"How", "are", "you"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`, "Hey   friend!",
			[]string{"▁Hey", "▁", "▁", "▁friend!"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}`, "Hey friend!",
			[]string{"▁Hey▁friend!"}},
		{`{"type":"Digits","individual_digits":true}`, "Hey 123 friend!", []string{"Hey ", "1", "2", "3", " friend!"}},
		{`{"type":"Digits","individual_digits":false}`, "Hey 123 friend!", []string{"Hey ", "123", " friend!"}},
		{`{"type":"Punctuation","behavior":"Isolated"}`, "Hey friend!     How are you?!?",
			[]string{"Hey friend", "!", "     How are you", "?", "!", "?"}},
		{`{"type":"Whitespace"}`, "How are you doing?", []string{"How", "are", "you", "doing", "?"}},
		{`{"type":"Whitespace"}`, "\n", nil},
		{`{"type":"WhitespaceSplit"}`, "Hey man!", []string{"Hey", "man!"}},
		{`{"type":"BertPreTokenizer"}`, "Hey friend!     How are you?!?",
			[]string{"Hey", "friend", "!", "How", "are", "you", "?", "!", "?"}},
		{`{"type":"CharDelimiterSplit","delimiter":"x"}`, "axbxxc", []string{"a", "b", "c"}},
		{`{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`,
			"Hello my friend, how is your day going?",
			[]string{"ĠHello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}},
		{`{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}`, "é ", []string{"Ã©Ġ"}},
		{`{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]}`,
			"a12 b3", []string{"a", "1", "2", "b", "3"}},
	}
	for _, c := range cases {
		got := texts(preFromJSON(t, c.js).split(nil, piece{s: c.in, start: true}))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s on %q: got %q, want %q", c.js, c.in, got, c.want)
		}
	}
	// prepend_scheme "first" only prepends at the start of the input.
	p := preFromJSON(t, `{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}`)
	if got := texts(p.split(nil, piece{s: "a b", start: true})); !slices.Equal(got, []string{"▁a▁b"}) {
		t.Errorf("first at start: %q", got)
	}
	if got := texts(p.split(nil, piece{s: "a b"})); !slices.Equal(got, []string{"a▁b"}) {
		t.Errorf("first elsewhere: %q", got)
	}
}

func TestNormalizers(t *testing.T) {
	cases := []struct{ js, in, want string }{
		{`{"type":"Lowercase"}`, "HeLLo İ", "hello i\u0307"},
		{`{"type":"NFKC"}`, "ﬁ①", "fi1"},
		{`{"type":"NFC"}`, "e\u0301", "é"},
		{`{"type":"NFD"}`, "é", "e\u0301"},
		{`{"type":"NFKD"}`, "ﬁé", "fie\u0301"},
		{`{"type":"Strip","strip_left":true,"strip_right":false}`, "  hi  ", "hi  "},
		{`{"type":"Strip","strip_left":true,"strip_right":true}`, "\u3000hi\n", "hi"},
		{`{"type":"StripAccents"}`, "e\u0301a", "ea"},
		{`{"type":"Prepend","prepend":"▁"}`, "hi", "▁hi"},
		{`{"type":"Prepend","prepend":"▁"}`, "", ""},
		{`{"type":"Replace","pattern":{"String":" "},"content":"▁"}`, "a b  c", "a▁b▁▁c"},
		{`{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "}`, "a \t\nb", "a b"},
		{`{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}`,
			"Héllo\tWorld\u0000中", "hello world 中 "},
		{`{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}`,
			"Hello world", "▁Hello▁world"},
		{`{"type":"ByteLevel"}`, "é ", "Ã©Ġ"},
	}
	for _, c := range cases {
		n, err := parseNormalizer(json.RawMessage(c.js), newByteLevel(), 0)
		if err != nil {
			t.Fatalf("%s: %v", c.js, err)
		}
		if got := n.normalize(c.in); got != c.want {
			t.Errorf("%s on %q: got %q, want %q", c.js, c.in, got, c.want)
		}
	}
}

func TestDecoders(t *testing.T) {
	cases := []struct {
		js   string
		in   []string
		want string
	}{
		{`{"type":"ByteFallback"}`, []string{"<0x61>", "<0xC3>", "<0xA9>", "b"}, "aéb"},
		{`{"type":"ByteFallback"}`, []string{"<0xE2>", "<0x82>", "x", "<0xF0>"}, "\uFFFD\uFFFDx\uFFFD"},
		{`{"type":"Strip","content":" ","start":1,"stop":0}`, []string{" hey", "  x"}, "hey x"},
		{`{"type":"Strip","content":" ","start":0,"stop":2}`, []string{"a   "}, "a "},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`,
			[]string{"▁Hey", "▁friend", "▁▁"}, "Hey friend  "},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}`, []string{"▁Hey"}, " Hey"},
		{`{"type":"Fuse"}`, []string{"a", "b"}, "ab"},
		{`{"type":"Replace","pattern":{"String":"▁"},"content":" "}`, []string{"▁a", "b▁"}, " ab "},
		{`{"type":"ByteLevel"}`, []string{"Ġhello", "Ã©", "ðŁĺ"}, " helloé\uFFFD"},
		{`{"type":"WordPiece","prefix":"##","cleanup":true}`, []string{"hel", "##lo", "world", "!"}, "hello world!"},
		{`{"type":"BPEDecoder","suffix":"</w>"}`, []string{"hel", "lo</w>", "wor", "ld</w>"}, "hello world"},
		{`{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}`,
			[]string{"▁Hello", "<0xE2>", "<0x82>", "<0xAC>"}, "Hello€"},
	}
	for _, c := range cases {
		d, err := parseDecoder(json.RawMessage(c.js), newByteLevel(), 0)
		if err != nil {
			t.Fatalf("%s: %v", c.js, err)
		}
		if got := strings.Join(d.decodeChain(c.in), ""); got != c.want {
			t.Errorf("%s on %q: got %q, want %q", c.js, c.in, got, c.want)
		}
	}
}

// TestLossyUTF8 checks Rust's from_utf8_lossy replacement rule.
func TestLossyUTF8(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"\xF0\x9F\x98", "\uFFFD"},
		{"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xC0\x80", "\uFFFD\uFFFD"},
		{"\xE0\x80a", "\uFFFD\uFFFDa"},
		{"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"a\xE2\x82", "a\uFFFD"},
		{"\xE2\x82\xAC\xFF", "€\uFFFD"},
		{"ok", "ok"},
	}
	for _, c := range cases {
		if got := lossyString([]byte(c.in)); got != c.want {
			t.Errorf("lossy(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// tinyJSON builds a byte-level BPE tokenizer.json: every byte of the GPT-2
// alphabet plus the given merges, added tokens and components.
func tinyJSON(t testing.TB, merges [][2]string, added []map[string]any, parts map[string]any) []byte {
	t.Helper()
	bl := newByteLevel()
	vocab := map[string]int{}
	for b := 0; b < 256; b++ {
		vocab[string(bl.char[b])] = len(vocab)
	}
	var ms []string
	for _, m := range merges {
		if _, ok := vocab[m[0]+m[1]]; !ok {
			vocab[m[0]+m[1]] = len(vocab)
		}
		ms = append(ms, m[0]+" "+m[1])
	}
	for i, a := range added {
		a["id"] = len(vocab) + i
		for _, k := range []string{"single_word", "lstrip", "rstrip", "special"} {
			if _, ok := a[k]; !ok {
				a[k] = false
			}
		}
		if _, ok := a["normalized"]; !ok {
			a["normalized"] = false
		}
	}
	doc := map[string]any{
		"version": "1.0", "added_tokens": added,
		"model": map[string]any{"type": "BPE", "vocab": vocab, "merges": ms, "unk_token": nil,
			"byte_fallback": false, "fuse_unk": false, "ignore_merges": false},
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
	}
	for k, v := range parts {
		doc[k] = v
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t testing.TB, tj, cfg []byte) *Tokenizer {
	t.Helper()
	tk, err := FromJSON(tj, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func idOf(t testing.TB, tk *Tokenizer, s string) int32 {
	t.Helper()
	id, ok := tk.TokenID(s)
	if !ok {
		t.Fatalf("no token %q", s)
	}
	return id
}

func TestBPEMerges(t *testing.T) {
	tk := mustJSON(t, tinyJSON(t, [][2]string{{"a", "a"}, {"b", "c"}, {"aa", "a"}, {"Ġ", "aa"}}, nil, nil), nil)
	// "aaaa": (a,a) merges leftmost first twice → aa aa; (aa,a) never applies.
	if got, want := tk.Encode("aaaa", false), []int32{idOf(t, tk, "aa"), idOf(t, tk, "aa")}; !slices.Equal(got, want) {
		t.Errorf("aaaa: %v want %v", got, want)
	}
	// "aaa": aa + a, then (aa,a) → aaa.
	if got, want := tk.Encode("aaa", false), []int32{idOf(t, tk, "aaa")}; !slices.Equal(got, want) {
		t.Errorf("aaa: %v want %v", got, want)
	}
	if got, want := tk.Encode(" aab c", false), []int32{idOf(t, tk, "Ġaa"), idOf(t, tk, "b"), idOf(t, tk, "Ġ"), idOf(t, tk, "c")}; !slices.Equal(got, want) {
		t.Errorf(" aab c: %v want %v", got, want)
	}
	if got := tk.Decode(tk.Encode("héllo wörld ✓", false), DecodeOptions{}); got != "héllo wörld ✓" {
		t.Errorf("round trip: %q", got)
	}
}

func TestAddedTokens(t *testing.T) {
	added := []map[string]any{
		{"content": "<mask>", "lstrip": true, "special": true},
		{"content": "<r>", "rstrip": true, "special": true},
		{"content": "ab", "single_word": true},
		{"content": "Hello", "normalized": true},
		{"content": "<s>", "special": true},
	}
	parts := map[string]any{
		"normalizer":     map[string]any{"type": "Lowercase"},
		"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}}, "special_tokens": map[string]any{"<s>": map[string]any{"id": "<s>", "ids": []int{260}, "tokens": []string{"<s>"}}}},
	}
	tk := mustJSON(t, tinyJSON(t, nil, added, parts), []byte(`{"bos_token":"<s>","eos_token":{"content":"<r>"},"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}]}`))
	mask, r, ab, hello, bos := idOf(t, tk, "<mask>"), idOf(t, tk, "<r>"), idOf(t, tk, "ab"), idOf(t, tk, "Hello"), idOf(t, tk, "<s>")
	enc := func(s string) []int32 { return tk.EncodeOpts(s, EncodeOptions{ParseSpecial: true}) }
	cat := func(parts ...[]int32) []int32 { return slices.Concat(parts...) }
	one := func(id int32) []int32 { return []int32{id} }
	for _, c := range []struct {
		in   string
		want []int32
	}{
		{"a  <mask> b", cat(enc("a"), one(mask), enc(" b"))}, // lstrip eats the spaces before
		{"a <r>  b", cat(enc("a "), one(r), enc("b"))},       // rstrip eats the spaces after
		{"ab cab ab", cat(one(ab), enc(" cab "), one(ab))},   // single_word skips "cab"
		{"say HELLO", cat(enc("say "), one(hello))},          // normalized token matches lowercased text
		{"x<s>y", cat(enc("x"), one(bos), enc("y"))},         // special tokens in text
	} {
		if got := enc(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v want %v", c.in, got, c.want)
		}
	}
	// ParseSpecial=false: special tokens are text, non-special ones still match.
	if got := tk.EncodeOpts("<s> ab", EncodeOptions{}); slices.Contains(got, bos) || !slices.Contains(got, ab) {
		t.Errorf("ParseSpecial=false: %v", got)
	}
	if got, want := tk.Encode("ab", true), []int32{bos, ab}; !slices.Equal(got, want) {
		t.Errorf("template: %v want %v", got, want)
	}
	if !tk.AddBOS() || !tk.IsSpecial(bos) || tk.IsSpecial(ab) {
		t.Errorf("AddBOS %v IsSpecial(bos) %v IsSpecial(ab) %v", tk.AddBOS(), tk.IsSpecial(bos), tk.IsSpecial(ab))
	}
	if b, ok := tk.BOS(); !ok || b != bos {
		t.Errorf("BOS %d %v", b, ok)
	}
	if e := tk.EOS(); !slices.Equal(e, []int32{r}) {
		t.Errorf("EOS %v", e)
	}
	if tk.ChatTemplate() != "D" || tk.SpecialTokens()["eos_token"] != "<r>" {
		t.Errorf("template %q, specials %v", tk.ChatTemplate(), tk.SpecialTokens())
	}
	// Decoding: the normalized added token decodes as its normalized form;
	// special tokens are dropped by SkipSpecial.
	ids := cat(one(bos), enc("hi "), one(hello), one(mask), enc("x"))
	if got := tk.Decode(ids, DecodeOptions{}); got != "<s>hi hello<mask>x" {
		t.Errorf("decode: %q", got)
	}
	if got := tk.Decode(ids, DecodeOptions{SkipSpecial: true}); got != "hi hellox" {
		t.Errorf("decode skip: %q", got)
	}
	if got := tk.Decode(ids, DecodeOptions{SpacesBetweenSpecial: true}); got != "<s> hi  hello <mask> x" {
		t.Errorf("decode spaces: %q", got)
	}
	if got := tk.Decode(append(ids, -1, 1<<30), DecodeOptions{}); got != "<s>hi hello<mask>x" {
		t.Errorf("out-of-range ids should be dropped: %q", got)
	}
}

func TestStreamDecoder(t *testing.T) {
	tk := mustJSON(t, tinyJSON(t, nil, nil, nil), nil)
	text := "a€😀b"
	ids := tk.Encode(text, false)
	d := tk.NewStreamDecoder(DecodeOptions{})
	var chunks []string
	for _, id := range ids {
		if c := d.Add(id); c != "" {
			if !utf8.ValidString(c) || strings.ContainsRune(c, utf8.RuneError) {
				t.Fatalf("chunk %q is not clean UTF-8", c)
			}
			chunks = append(chunks, c)
		}
	}
	if rest := d.Flush(); rest != "" {
		chunks = append(chunks, rest)
	}
	if got := strings.Join(chunks, ""); got != text || !slices.Equal(chunks, []string{"a", "€", "😀", "b"}) {
		t.Errorf("chunks %q", chunks)
	}
	// A stream ending inside a character emits nothing until Flush.
	d = tk.NewStreamDecoder(DecodeOptions{})
	for _, id := range tk.Encode("😀", false)[:2] {
		if c := d.Add(id); c != "" {
			t.Errorf("partial character emitted %q", c)
		}
	}
	if rest := d.Flush(); rest != "\uFFFD" {
		t.Errorf("flush %q", rest)
	}
	if d.Err() != nil {
		t.Error(d.Err())
	}
}

func TestFromJSONErrors(t *testing.T) {
	bad := map[string]string{
		"empty":        ``,
		"not object":   `[]`,
		"no model":     `{"added_tokens":[]}`,
		"unigram":      `{"model":{"type":"Unigram","vocab":[["a",0.0]]}}`,
		"bad merge":    `{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}}`,
		"merge parts":  `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}}`,
		"dup vocab":    `{"model":{"type":"BPE","vocab":{"a":0,"a":1},"merges":[]}}`,
		"unknown norm": `{"normalizer":{"type":"Precompiled"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
		"bad regex":    `{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated","invert":false},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
		"huge id":      `{"model":{"type":"BPE","vocab":{"a":2000000000},"merges":[]}}`,
		"trailing":     `{"model":{"type":"BPE","vocab":{"a":0},"merges":[]}} x`,
		"deep":         `{"normalizer":` + strings.Repeat(`{"type":"Sequence","normalizers":[`, 40) + strings.Repeat(`]}`, 40) + `,"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
	}
	for name, js := range bad {
		if _, err := FromJSON([]byte(js), nil); err == nil {
			t.Errorf("%s: expected an error", name)
		}
	}
	if _, err := FromJSON([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}}`), []byte(`{`)); err == nil {
		t.Error("bad tokenizer_config.json should fail")
	}
}

// TestStreamWindowBound: ids that produce no text do not grow the window
// without bound, and the chunks still add up to the full decode.
func TestStreamWindowBound(t *testing.T) {
	tk := mustJSON(t, tinyJSON(t, nil, []map[string]any{{"content": "<x>", "special": true}}, nil), nil)
	x := idOf(t, tk, "<x>")
	var ids []int32
	for range 500 {
		ids = append(ids, x)
	}
	ids = append(ids, tk.Encode("tail é", false)...)
	for _, bad := range []byte{0x80, 0xBF, 0xC3} { // lone continuation / truncated bytes
		ids = append(ids, idOf(t, tk, string(newByteLevel().char[bad])))
	}
	for _, o := range []DecodeOptions{{SkipSpecial: true}, {}} {
		d := tk.NewStreamDecoder(o)
		var sb strings.Builder
		for _, id := range ids {
			sb.WriteString(d.Add(id))
			if len(d.ids) > 2*maxPending+1 {
				t.Fatalf("window grew to %d ids", len(d.ids))
			}
		}
		sb.WriteString(d.Flush())
		if got, want := sb.String(), tk.Decode(ids, o); got != want {
			t.Errorf("skip=%v: chunks %q, decode %q", o.SkipSpecial, got, want)
		}
	}
}

func bpeJSON(t *testing.T, vocab map[string]int, merges []string, model map[string]any, parts map[string]any) []byte {
	t.Helper()
	m := map[string]any{"type": "BPE", "vocab": vocab, "merges": merges}
	for k, v := range model {
		m[k] = v
	}
	doc := map[string]any{"model": m}
	for k, v := range parts {
		doc[k] = v
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBPEOptions covers unk_token, fuse_unk, byte_fallback and ignore_merges
// as merge_word implements them.
func TestBPEOptions(t *testing.T) {
	vocab := map[string]int{"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "bc": 5, "abc": 6, "<0x64>": 7}
	merges := []string{"b c", "a b"}
	for _, c := range []struct {
		model map[string]any
		in    string
		want  []int32
	}{
		{nil, "abc", []int32{1, 5}}, // (b,c) has the lower rank
		{map[string]any{"ignore_merges": true}, "abc", []int32{6}},
		{map[string]any{"unk_token": "<unk>"}, "aee", []int32{1, 0, 0}},
		{map[string]any{"unk_token": "<unk>", "fuse_unk": true}, "aeeb", []int32{1, 0, 2}},
		{map[string]any{"unk_token": "<unk>", "byte_fallback": true}, "dab", []int32{7, 4}},
		{map[string]any{"unk_token": "<unk>", "byte_fallback": true}, "ead", []int32{0, 1, 7}},
		// a pending unk is not flushed by byte-fallback tokens (merge_word order)
		{map[string]any{"unk_token": "<unk>", "byte_fallback": true}, "ed", []int32{7, 0}},
		{nil, "aex", []int32{1}}, // no unk_token: unknown characters vanish
	} {
		tk := mustJSON(t, bpeJSON(t, vocab, merges, c.model, nil), nil)
		if got := tk.Encode(c.in, false); !slices.Equal(got, c.want) {
			t.Errorf("%v %q: got %v want %v", c.model, c.in, got, c.want)
		}
	}
	// continuing_subword_prefix / end_of_word_suffix take part in lookups and merges.
	v2 := map[string]int{"a": 0, "##b": 1, "##c</w>": 2, "a##b": 3, "ab": 4, "b": 5, "c</w>": 6}
	tk := mustJSON(t, bpeJSON(t, v2, []string{"a ##b"}, map[string]any{"continuing_subword_prefix": "##", "end_of_word_suffix": "</w>"}, nil), nil)
	if got := tk.Encode("abc", false); !slices.Equal(got, []int32{4, 2}) {
		t.Errorf("prefix/suffix: %v", got)
	}
}

// TestMetaspacePipeline is a Llama-2 style tokenizer.json: Metaspace
// pre-tokenizer and decoder.
func TestMetaspacePipeline(t *testing.T) {
	vocab := map[string]int{"<s>": 0, "▁": 1, "h": 2, "i": 3, "▁h": 4, "▁hi": 5, "x": 6}
	parts := map[string]any{
		"added_tokens":  []any{map[string]any{"id": 0, "content": "<s>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false}},
		"pre_tokenizer": map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
		"decoder":       map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
	}
	tk := mustJSON(t, bpeJSON(t, vocab, []string{"▁ h", "▁h i"}, nil, parts), nil)
	for _, c := range []struct {
		in   string
		want []int32
	}{
		{"hi hi", []int32{5, 5}},
		{"<s>hi", []int32{0, 2, 3}}, // "first": no ▁ after a token at offset 0
		{"x<s> hi", []int32{1, 6, 0, 5}},
	} {
		if got := tk.Encode(c.in, false); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v want %v", c.in, got, c.want)
		}
	}
	if got := tk.Decode([]int32{5, 5, 0, 5}, DecodeOptions{}); got != "hi hi<s> hi" {
		t.Errorf("decode %q", got)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	added := []map[string]any{{"content": "<s>", "special": true}, {"content": "</s>", "special": true}, {"content": "<|im_end|>", "special": true}}
	files := map[string]string{
		"tokenizer.json":          string(tinyJSON(t, nil, added, nil)),
		"tokenizer_config.json":   `{"bos_token":"<s>","chat_template":"from config","pad_token":null}`,
		"special_tokens_map.json": `{"eos_token":{"content":"</s>","lstrip":false},"unk_token":"<s>"}`,
		"generation_config.json":  `{"eos_token_id":[257, 2]}`,
		"chat_template.jinja":     "{{ messages }}",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ChatTemplate() != "{{ messages }}" {
		t.Errorf("template %q", tk.ChatTemplate())
	}
	// eos from special_tokens_map, then generation_config, then the named
	// end-of-generation tokens.
	if got, want := tk.EOS(), []int32{257, 2, 258}; !slices.Equal(got, want) {
		t.Errorf("EOS %v want %v", got, want)
	}
	if got := tk.SpecialTokens(); got["bos_token"] != "<s>" || got["eos_token"] != "</s>" || got["unk_token"] != "<s>" || len(got) != 3 {
		t.Errorf("special tokens %v", got)
	}
	if b, ok := tk.BOS(); !ok || b != 256 || tk.AddBOS() {
		t.Errorf("BOS %d %v AddBOS %v", b, ok, tk.AddBOS())
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty directory should fail")
	}
}

// TestConcurrentEncode: a Tokenizer is shared by goroutines (run with -race).
func TestConcurrentEncode(t *testing.T) {
	tk := mustJSON(t, tinyJSON(t, [][2]string{{"a", "b"}, {"Ġ", "ab"}}, nil, nil), nil)
	inputs := []string{"ab ab abab", "héllo wörld", "a b c d e f g", strings.Repeat("ab", 300)}
	want := make([][]int32, len(inputs))
	for i, s := range inputs {
		want[i] = tk.Encode(s, false)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for k := range 200 {
				i := (g + k) % len(inputs)
				if got := tk.Encode(inputs[i], false); !slices.Equal(got, want[i]) {
					done <- errors.New("concurrent encode differs for " + inputs[i])
					return
				}
				d := tk.NewStreamDecoder(DecodeOptions{})
				for _, id := range want[i] {
					d.Add(id)
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestStreamPrime: a continuation primed with its prompt keeps the leading
// space SentencePiece drops at the start of a decode.
func TestStreamPrime(t *testing.T) {
	tk := spmTestTokenizer(t)
	prompt := tk.EncodeOpts("Once upon a time", EncodeOptions{AddSpecial: true})
	cont := tk.EncodeOpts("Once upon a time there was", EncodeOptions{AddSpecial: true})[len(prompt):]
	plain := tk.NewStreamDecoder(DecodeOptions{SkipSpecial: true})
	primed := tk.NewStreamDecoder(DecodeOptions{SkipSpecial: true})
	primed.Prime(prompt)
	var a, b string
	for _, id := range cont {
		a += plain.Add(id)
		b += primed.Add(id)
	}
	a, b = a+plain.Flush(), b+primed.Flush()
	if a != "there was" || b != " there was" {
		t.Fatalf("plain %q, primed %q", a, b)
	}
}
