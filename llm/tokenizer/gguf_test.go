package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/llm/weights"
)

// ggufTokenizer reads the tokenizer of an oracle GGUF file, rel as named in
// the oracle index ("oracle/models/tiny-llama.gguf",
// "models/stories260K/stories260K.gguf"): testdata/oracle or the embedded
// default model, else ../shared/fixtures. It skips when the file is absent
// (tiny-qwen2.gguf, 45 MB, is only in ../shared).
func ggufTokenizer(t testing.TB, rel string) *Tokenizer {
	t.Helper()
	path := oracle.MustPath(t, rel)
	g, err := weights.OpenGGUF(path)
	if err != nil {
		t.Fatalf("OpenGGUF(%s): %v", rel, err)
	}
	defer g.Close()
	v, err := VocabFromGGUF(g)
	if err != nil {
		t.Fatalf("VocabFromGGUF(%s): %v", rel, err)
	}
	tk, err := FromGGUF(v)
	if err != nil {
		t.Fatalf("FromGGUF(%s): %v", rel, err)
	}
	return tk
}

type oracleCase struct {
	Case          string   `json:"case"`
	Mode          string   `json:"mode"`
	Prompt        string   `json:"prompt"`
	PromptTokens  []int32  `json:"prompt_tokens"`
	PromptPieces  []string `json:"prompt_pieces"`
	GreedyTokens  []int32  `json:"greedy_tokens"`
	GreedyTextHex string   `json:"greedy_text_hex"`
	Chunks        []struct {
		Type   string   `json:"type"`
		Tokens []int32  `json:"tokens"`
		Pieces []string `json:"pieces"`
	} `json:"chunks"`
}

func oracleCases(t *testing.T) (map[string]string, map[string]oracleCase) {
	index := oracle.MustPath(t, "golden/index.json")
	dir := filepath.Dir(index)
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Cases []struct {
			Case  string `json:"case"`
			Model string `json:"model"`
			JSON  string `json:"json"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	models := map[string]string{}
	cases := map[string]oracleCase{}
	for _, c := range idx.Cases {
		raw, err := os.ReadFile(filepath.Join(dir, c.JSON))
		if err != nil {
			t.Fatal(err)
		}
		var oc oracleCase
		if err := json.Unmarshal(raw, &oc); err != nil {
			t.Fatalf("%s: %v", c.JSON, err)
		}
		models[c.Case] = c.Model
		cases[c.Case] = oc
	}
	return models, cases
}

// TestGGUFOracleText checks llama.cpp's prompt tokens (add_special and
// parse_special true) of every text case, the rendering of each prompt
// piece, and the decode of the greedy continuation.
func TestGGUFOracleText(t *testing.T) {
	models, cases := oracleCases(t)
	names := make([]string, 0, len(cases))
	for name, c := range cases {
		if c.Mode == "text" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatal("no oracle text cases")
	}
	slices.Sort(names)
	toks := map[string]*Tokenizer{}
	for _, name := range names {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			tk := toks[models[name]]
			if tk == nil {
				tk = ggufTokenizer(t, models[name]) // skips this case when the model is absent
				toks[models[name]] = tk
			}
			if got := tk.Encode(c.Prompt, true); !slices.Equal(got, c.PromptTokens) {
				t.Errorf("%s: %s", name, diffIDs(tk, got, c.PromptTokens))
			}
			spm := tk.eng.(*llamaEngine).spm
			for i, id := range c.PromptTokens {
				want := c.PromptPieces[i]
				if spm {
					want = strings.TrimPrefix(want, " ") // Decode drops the SPM prefix space
				}
				if got := tk.Decode([]int32{id}, DecodeOptions{}); got != want {
					t.Errorf("%s: Decode([%d]) = %q, want %q", name, id, got, want)
				}
			}
			raw, err := hex.DecodeString(c.GreedyTextHex)
			if err != nil {
				t.Fatal(err)
			}
			want := lossyString(raw)
			if spm {
				want = strings.TrimPrefix(want, " ")
			}
			// greedy_text concatenates token_to_piece(special=false): control
			// tokens render as nothing.
			if got := tk.Decode(c.GreedyTokens, DecodeOptions{SkipSpecial: true}); got != want {
				t.Errorf("%s: greedy decode %q, want %q", name, got, want)
			}
		})
	}
}

// TestGGUFOracleAudioChunks re-tokenizes the text chunks of the Qwen2-Audio
// case (byte-level BPE: the pieces spell the chunk text exactly). mtmd
// tokenizes the <|audio_bos|>/<|audio_eos|> markers as separate texts, so
// the chunks are split there.
func TestGGUFOracleAudioChunks(t *testing.T) {
	models, cases := oracleCases(t)
	c, ok := cases["mm-qwen2a-tones_1s"]
	if !ok {
		t.Skip("mm-qwen2a-tones_1s not in the oracle index")
	}
	tk := ggufTokenizer(t, models["mm-qwen2a-tones_1s"])
	n := 0
	for i, ch := range c.Chunks {
		if ch.Type != "text" {
			continue
		}
		n++
		text := strings.Join(ch.Pieces, "")
		var got []int32
		for k, part := range splitKeep(text, "<|audio_bos|>", "<|audio_eos|>") {
			got = append(got, tk.Encode(part, i == 0 && k == 0)...)
		}
		if !slices.Equal(got, ch.Tokens) {
			t.Errorf("chunk %d %q: %s", i, text, diffIDs(tk, got, ch.Tokens))
		}
	}
	if n != 2 {
		t.Fatalf("expected 2 text chunks, got %d", n)
	}
}

// TestGGUFMatchesTokenizerJSON checks that tiny-qwen2.gguf (which carries the
// Qwen3 vocabulary) tokenizes the golden corpus exactly like qwen3's
// tokenizer.json, "</s>" included: the GGUF stores it as a NORMAL token, so
// (unlike llama.cpp, which forces control-looking names to CONTROL) it is
// ordinary text, three BPE ids, and it does not end generation.
func TestGGUFMatchesTokenizerJSON(t *testing.T) {
	gg := ggufTokenizer(t, filepath.Join("oracle", "models", "tiny-qwen2.gguf")) // skips first when absent
	hf := loadFixture(t, "qwen3")
	if gg.VocabSize() != hf.VocabSize() {
		t.Fatalf("vocab sizes differ: gguf %d, json %d", gg.VocabSize(), hf.VocabSize())
	}
	for id := int32(0); id < int32(hf.VocabSize()); id++ {
		a, _ := hf.Piece(id)
		b, _ := gg.Piece(id)
		if a != b {
			t.Fatalf("Piece(%d): json %q, gguf %q", id, a, b)
		}
	}
	ctl, ok := gg.TokenID("</s>")
	if !ok || gg.IsSpecial(ctl) || slices.Contains(gg.EOS(), ctl) {
		t.Fatalf("</s> (id %d, %v) must be ordinary text and no end of generation", ctl, ok)
	}
	if got := gg.EncodeOpts("</s>", EncodeOptions{ParseSpecial: true}); len(got) != 3 {
		t.Fatalf("\"</s>\" tokenizes to %v, Hugging Face gives three ids", got)
	}
	cases := readJSONL[goldenCase](t, filepath.Join(fixtureDir(t, "qwen3"), "golden.jsonl"))
	withTag := 0
	for _, c := range cases {
		if strings.Contains(c.Text, "</s>") {
			withTag++
		}
		for _, addSpecial := range []bool{false, true} {
			if got := gg.Encode(c.Text, addSpecial); !slices.Equal(got, c.Encode.IDs) {
				t.Errorf("%s [%s] %.50q add=%v: %s", c.ID, c.Category, c.Text, addSpecial, diffIDs(gg, got, c.Encode.IDs))
			}
		}
		if got := gg.Decode(c.Encode.IDs, DecodeOptions{}); got != c.Decode.Keep {
			t.Errorf("%s: decode %q, want %q", c.ID, got, c.Decode.Keep)
		}
		if got := gg.Decode(c.Encode.IDs, DecodeOptions{SkipSpecial: true}); got != c.Decode.Skip {
			t.Errorf("%s: decode skip %q, want %q", c.ID, got, c.Decode.Skip)
		}
	}
	t.Logf("%d corpus strings identical to tokenizer.json (%d with \"</s>\")", len(cases), withTag)
}

// TestGGUFSPMStories checks stories260K (tok512 SentencePiece) behaviour.
func TestGGUFSPMStories(t *testing.T) {
	tk := ggufTokenizer(t, filepath.Join("models", "stories260K", "stories260K.gguf"))
	if !tk.AddBOS() {
		t.Error("SPM vocabulary without add_bos_token key should add BOS")
	}
	if bos, ok := tk.BOS(); !ok || bos != 1 {
		t.Errorf("BOS = %d, %v", bos, ok)
	}
	if eos := tk.EOS(); len(eos) == 0 || eos[0] != 2 {
		t.Errorf("EOS = %v", eos)
	}
	// byte fallback: a character outside tok512 becomes its UTF-8 bytes
	ids := tk.Encode("你", false)
	want := []int32{}
	for _, b := range []byte(" 你") {
		id, ok := tk.TokenID("<0x" + strings.ToUpper(hex.EncodeToString([]byte{b})) + ">")
		if b == ' ' {
			id, ok = tk.TokenID("▁")
		}
		if !ok {
			t.Fatalf("byte token for %#x missing", b)
		}
		want = append(want, id)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("Encode(é) = %v, want %v", ids, want)
	}
	if got := tk.Decode(ids, DecodeOptions{}); got != "你" {
		t.Errorf("Decode = %q", got)
	}
	// special tokens are text when parse_special is false
	if got := tk.EncodeOpts("<s>", EncodeOptions{ParseSpecial: true}); !slices.Equal(got, []int32{1}) {
		t.Errorf("<s> parsed: %v", got)
	}
	if got := tk.EncodeOpts("<s>", EncodeOptions{}); slices.Contains(got, 1) {
		t.Errorf("<s> not parsed should not give BOS: %v", got)
	}
}

// splitKeep splits s before and after every occurrence of the markers.
func splitKeep(s string, markers ...string) []string {
	var out []string
	for s != "" {
		best, at := "", -1
		for _, m := range markers {
			if k := strings.Index(s, m); k >= 0 && (at < 0 || k < at) {
				best, at = m, k
			}
		}
		if at < 0 {
			return append(out, s)
		}
		if at > 0 {
			out = append(out, s[:at])
		}
		out = append(out, best)
		s = s[at+len(best):]
	}
	return out
}

// TestSPMTestdata runs the tok512 SentencePiece vocabulary from testdata (no
// ../shared needed) against llama.cpp's prompt tokens.
func TestSPMTestdata(t *testing.T) {
	tk := spmTestTokenizer(t)
	for _, name := range []string{"text-stories260K-p1.json", "text-stories260K-p2.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var c oracleCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		if got := tk.Encode(c.Prompt, true); !slices.Equal(got, c.PromptTokens) {
			t.Errorf("%s: %s", name, diffIDs(tk, got, c.PromptTokens))
		}
		if got, want := tk.Decode(c.PromptTokens, DecodeOptions{SkipSpecial: true}), c.Prompt; got != want {
			t.Errorf("%s: decode %q, want %q", name, got, want)
		}
		if got, want := tk.Decode(c.PromptTokens, DecodeOptions{}), "<s> "+c.Prompt; got != want {
			t.Errorf("%s: decode keep %q, want %q", name, got, want)
		}
	}
}

// spmTestTokenizer is the tok512 SentencePiece vocabulary of testdata.
func spmTestTokenizer(t *testing.T) *Tokenizer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tok512_vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v GGUFVocab
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	tk, err := FromGGUF(v)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}
