package tokenizer

import (
	"path/filepath"
	"testing"
)

// concatBytes joins the TokenBytes of ids.
func concatBytes(tk *Tokenizer, ids []int32) string {
	var b []byte
	for _, id := range ids {
		b = append(b, tk.TokenBytes(id)...)
	}
	return string(b)
}

// TestTokenBytesGolden: the token bytes of an encoding concatenate to its
// decoding (plus the SentencePiece prefix space the decoder strips).
func TestTokenBytesGolden(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			tk := loadFixture(t, name)
			cases := readJSONL[goldenCase](t, filepath.Join(fixtureDir(t, name), "golden.jsonl"))
			for _, c := range cases {
				want := tk.Decode(c.Encode.IDs, DecodeOptions{})
				got := concatBytes(tk, c.Encode.IDs)
				if got != want && got != " "+want {
					t.Errorf("%s: TokenBytes concat %q, decode %q", c.ID, got, want)
				}
			}
			if tk.TokenBytes(-1) != nil || tk.TokenBytes(int32(tk.VocabSize())) != nil {
				t.Error("out-of-range ids must give nil")
			}
		})
	}
}

func TestTokenBytesSPM(t *testing.T) {
	tk := spmTestTokenizer(t)
	text := "Once upon a time, there was a little girl named Lily. ü€"
	ids := tk.Encode(text, false)
	if got := concatBytes(tk, ids); got != " "+text {
		t.Errorf("concat %q, want %q", got, " "+text)
	}
	if tk.TokenBytes(-5) != nil {
		t.Error("negative id must give nil")
	}
}
