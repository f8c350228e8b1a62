package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
)

// fixtureDir returns a folder holding the uncompressed files of the
// tokenizer fixture name: testdata/tokenizers/name of the repository (qwen3;
// tokenizer.json and golden.jsonl gzipped there and unpacked into a temporary
// folder) or ../shared/fixtures/tokenizers/name. It skips when neither has it
// (llama3 and mistral are not shipped: see testdata/README.md).
func fixtureDir(t testing.TB, name string) string {
	t.Helper()
	d, ok := fixtures.Dir(t, "tokenizers/"+name)
	if !ok || !fileExists(filepath.Join(d, "tokenizer.json")) {
		t.Skipf("tokenizer fixture %s is not in testdata/tokenizers (licence: see testdata/README.md) and ../shared/fixtures is absent", name)
	}
	return d
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

var loaded = map[string]*Tokenizer{}

func loadFixture(t testing.TB, name string) *Tokenizer {
	t.Helper()
	if tk, ok := loaded[name]; ok {
		return tk
	}
	tk, err := Load(fixtureDir(t, name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	loaded[name] = tk
	return tk
}

// streamStep is one entry of a golden stream: a chunk, null, or an error.
type streamStep struct {
	text  *string
	isErr bool
}

func (s *streamStep) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		s.isErr = true
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.text = &v
	return nil
}

type decodePair struct {
	Keep string `json:"keep_special"`
	Skip string `json:"skip_special"`
}

type streamPair struct {
	Keep []streamStep `json:"keep_special"`
	Skip []streamStep `json:"skip_special"`
}

type goldenCase struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Encode   struct {
		IDs    []int32  `json:"ids"`
		Tokens []string `json:"tokens"`
	} `json:"encode"`
	EncodeSpecial struct {
		IDs    []int32  `json:"ids"`
		Tokens []string `json:"tokens"`
	} `json:"encode_add_special"`
	Decode        decodePair `json:"decode"`
	DecodeSpecial decodePair `json:"decode_add_special"`
	Stream        streamPair `json:"stream"`
}

type decodeCase struct {
	ID     string     `json:"id"`
	Kind   string     `json:"kind"`
	IDs    []int32    `json:"ids"`
	Tokens []*string  `json:"tokens"`
	Decode decodePair `json:"decode"`
	Stream streamPair `json:"stream"`
}

func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkStream runs a StreamDecoder over ids and compares with the golden
// steps; it returns a description of the first difference or "". It also
// checks that the chunks plus Flush concatenate to the one-shot decode.
func checkStream(tk *Tokenizer, ids []int32, o DecodeOptions, want []streamStep) string {
	if len(want) != len(ids) {
		return "golden has a different number of steps"
	}
	all := tk.NewStreamDecoder(o)
	var sb strings.Builder
	for _, id := range ids {
		sb.WriteString(all.Add(id))
	}
	sb.WriteString(all.Flush())
	if full := tk.Decode(ids, o); sb.String() != full {
		return "chunks concatenate to " + quote(sb.String()) + ", decode is " + quote(full)
	}
	d := tk.NewStreamDecoder(o)
	for i, id := range ids {
		got := d.Add(id)
		w := want[i]
		switch {
		case w.isErr:
			if d.Err() == nil {
				return "step " + itoa(i) + ": want InvalidPrefix"
			}
			return ""
		case w.text == nil && got != "":
			return "step " + itoa(i) + ": got " + quote(got) + ", want nothing"
		case w.text != nil && got != *w.text:
			return "step " + itoa(i) + ": got " + quote(got) + ", want " + quote(*w.text)
		}
	}
	return ""
}

func itoa(i int) string     { b, _ := json.Marshal(i); return string(b) }
func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

var fixtureNames = []string{"qwen3", "llama3", "mistral"}

// TestGoldenEncodeDecode checks every golden.jsonl case of every fixture:
// ids and tokens (with and without special tokens), decodes and streams.
func TestGoldenEncodeDecode(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			tk := loadFixture(t, name)
			cases := readJSONL[goldenCase](t, filepath.Join(fixtureDir(t, name), "golden.jsonl"))
			counts := map[string]int{}
			fail := func(c goldenCase, what, msg string) {
				t.Errorf("%s %s [%s] %.60q: %s", c.ID, what, c.Category, c.Text, msg)
			}
			for _, c := range cases {
				if got := tk.Encode(c.Text, false); !slices.Equal(got, c.Encode.IDs) {
					fail(c, "encode", diffIDs(tk, got, c.Encode.IDs))
				} else {
					counts["encode"]++
				}
				if got := pieces(tk, c.Encode.IDs); !slices.Equal(got, c.Encode.Tokens) {
					fail(c, "tokens", "piece mismatch")
				} else {
					counts["tokens"]++
				}
				if got := tk.Encode(c.Text, true); !slices.Equal(got, c.EncodeSpecial.IDs) {
					fail(c, "encode_add_special", diffIDs(tk, got, c.EncodeSpecial.IDs))
				} else {
					counts["encode_add_special"]++
				}
				for _, d := range []struct {
					what string
					ids  []int32
					skip bool
					want string
				}{
					{"decode.keep", c.Encode.IDs, false, c.Decode.Keep},
					{"decode.skip", c.Encode.IDs, true, c.Decode.Skip},
					{"decode_add_special.keep", c.EncodeSpecial.IDs, false, c.DecodeSpecial.Keep},
					{"decode_add_special.skip", c.EncodeSpecial.IDs, true, c.DecodeSpecial.Skip},
				} {
					if got := tk.Decode(d.ids, DecodeOptions{SkipSpecial: d.skip}); got != d.want {
						fail(c, d.what, "got "+quote(got)+" want "+quote(d.want))
					} else {
						counts["decode"]++
					}
				}
				for _, s := range []struct {
					what string
					skip bool
					want []streamStep
				}{{"stream.keep", false, c.Stream.Keep}, {"stream.skip", true, c.Stream.Skip}} {
					if msg := checkStream(tk, c.Encode.IDs, DecodeOptions{SkipSpecial: s.skip}, s.want); msg != "" {
						fail(c, s.what, msg)
					} else {
						counts["stream"]++
					}
				}
			}
			t.Logf("%s: %d cases; passed encode %d, tokens %d, encode_add_special %d, decode %d/%d, stream %d/%d",
				name, len(cases), counts["encode"], counts["tokens"], counts["encode_add_special"],
				counts["decode"], 4*len(cases), counts["stream"], 2*len(cases))
		})
	}
}

// TestGoldenDecode checks decode_golden.jsonl (random ids, partial UTF-8, edges).
func TestGoldenDecode(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			tk := loadFixture(t, name)
			cases := readJSONL[decodeCase](t, filepath.Join(fixtureDir(t, name), "decode_golden.jsonl"))
			pass := 0
			for _, c := range cases {
				ok := true
				for i, id := range c.IDs {
					p, has := tk.Piece(id)
					if (c.Tokens[i] == nil) == has || (has && p != *c.Tokens[i]) {
						t.Errorf("%s: Piece(%d) = %q, %v", c.ID, id, p, has)
						ok = false
					}
				}
				for _, d := range []struct {
					skip bool
					want string
				}{{false, c.Decode.Keep}, {true, c.Decode.Skip}} {
					if got := tk.Decode(c.IDs, DecodeOptions{SkipSpecial: d.skip}); got != d.want {
						t.Errorf("%s (%s) decode skip=%v: got %q want %q", c.ID, c.Kind, d.skip, got, d.want)
						ok = false
					}
				}
				for _, s := range []struct {
					skip bool
					want []streamStep
				}{{false, c.Stream.Keep}, {true, c.Stream.Skip}} {
					if msg := checkStream(tk, c.IDs, DecodeOptions{SkipSpecial: s.skip}, s.want); msg != "" {
						t.Errorf("%s (%s) stream skip=%v: %s", c.ID, c.Kind, s.skip, msg)
						ok = false
					}
				}
				if ok {
					pass++
				}
			}
			t.Logf("%s: %d/%d decode cases pass", name, pass, len(cases))
		})
	}
}

func pieces(tk *Tokenizer, ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i], _ = tk.Piece(id)
	}
	return out
}

func diffIDs(tk *Tokenizer, got, want []int32) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-2)
	g := pieces(tk, got[lo:min(len(got), i+4)])
	w := pieces(tk, want[lo:min(len(want), i+4)])
	b1, _ := json.Marshal(g)
	b2, _ := json.Marshal(w)
	return "first difference at " + itoa(i) + ": got " + string(b1) + " want " + string(b2)
}

// TestGoldenChatIDs encodes every rendered chat prompt of chat_golden.jsonl
// (tokenizer ids only; rendering is tested in server/chat).
func TestGoldenChatIDs(t *testing.T) {
	type chatCase struct {
		ID       string  `json:"id"`
		Template string  `json:"template"`
		Rendered *string `json:"rendered"`
		IDs      []int32 `json:"ids"`
	}
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			tk := loadFixture(t, name)
			cases := readJSONL[chatCase](t, filepath.Join(fixtureDir(t, name), "chat_golden.jsonl"))
			n, pass := 0, 0
			for _, c := range cases {
				if c.Rendered == nil {
					continue
				}
				n++
				if got := tk.Encode(*c.Rendered, false); !slices.Equal(got, c.IDs) {
					t.Errorf("%s/%s: %s", c.ID, c.Template, diffIDs(tk, got, c.IDs))
					continue
				}
				pass++
			}
			if n == 0 {
				t.Fatal("no rendered chat cases")
			}
			t.Logf("%s: %d/%d rendered chats encode identically", name, pass, n)
		})
	}
}
