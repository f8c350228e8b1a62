//go:build hftokenizers

package hf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/daulet/tokenizers"

	"github.com/sightline/sightline/llm/tokenizer"
)

// ErrNUL reports text containing a NUL byte, which the C interface of the
// Rust library cannot carry.
var ErrNUL = errors.New("hf: text contains a NUL byte")

// Tokenizer encodes and decodes with the Rust library; metadata (TokenID,
// Piece, BOS, EOS, ChatTemplate, ...) comes from the embedded pure-Go
// tokenizer loaded from the same files.
type Tokenizer struct {
	*tokenizer.Tokenizer
	data []byte
	rust *tokenizers.Tokenizer // added tokens recognised (parse_special)

	plainOnce sync.Once
	plain     *tokenizers.Tokenizer // special tokens encoded as text
	plainErr  error
}

var _ tokenizer.Codec = (*Tokenizer)(nil)

// Load reads a tokenizer directory (tokenizer.json and friends).
func Load(dir string) (*Tokenizer, error) {
	meta, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	return newTokenizer(meta, data)
}

// FromJSON builds a tokenizer from tokenizer.json and optional
// tokenizer_config.json contents.
func FromJSON(tokenizerJSON, tokenizerConfigJSON []byte) (*Tokenizer, error) {
	meta, err := tokenizer.FromJSON(tokenizerJSON, tokenizerConfigJSON)
	if err != nil {
		return nil, err
	}
	return newTokenizer(meta, tokenizerJSON)
}

func newTokenizer(meta *tokenizer.Tokenizer, data []byte) (*Tokenizer, error) {
	r, err := tokenizers.FromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	return &Tokenizer{Tokenizer: meta, data: data, rust: r}, nil
}

// Close releases the Rust tokenizers.
func (t *Tokenizer) Close() error {
	err := t.rust.Close()
	if t.plain != nil {
		err = errors.Join(err, t.plain.Close())
	}
	return err
}

// Encode is Tokenizer::encode(text, add_special_tokens). Text with a NUL
// byte falls back to the pure-Go implementation.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	return t.EncodeOpts(text, tokenizer.EncodeOptions{AddSpecial: addSpecial, ParseSpecial: true})
}

// EncodeOpts encodes with explicit options (ParseSpecial false uses a second
// Rust tokenizer built with encode_special_tokens).
func (t *Tokenizer) EncodeOpts(text string, o tokenizer.EncodeOptions) []int32 {
	if hasNUL(text) {
		return t.Tokenizer.EncodeOpts(text, o)
	}
	r := t.rust
	if !o.ParseSpecial {
		t.plainOnce.Do(func() {
			t.plain, t.plainErr = tokenizers.FromBytes(t.data, tokenizers.WithEncodeSpecialTokens())
		})
		if t.plainErr != nil {
			return t.Tokenizer.EncodeOpts(text, o)
		}
		r = t.plain
	}
	ids, _ := r.Encode(text, o.AddSpecial)
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// Decode is Tokenizer::decode(ids, skip_special_tokens). Ids outside the
// vocabulary are dropped first; SpacesBetweenSpecial (a transformers
// feature the Rust library lacks) and decodes containing NUL use the
// pure-Go implementation.
func (t *Tokenizer) Decode(ids []int32, o tokenizer.DecodeOptions) string {
	if o.SpacesBetweenSpecial {
		return t.Tokenizer.Decode(ids, o)
	}
	u := make([]uint32, 0, len(ids))
	for _, id := range ids {
		if _, ok := t.Piece(id); ok {
			u = append(u, uint32(id))
		}
	}
	s := t.rust.Decode(u, o.SkipSpecial)
	if len(s) == 0 && len(u) > 0 {
		return t.Tokenizer.Decode(ids, o) // NUL in the output cannot cross the C boundary
	}
	return s
}

// NewStreamDecoder streams with the Rust decode.
func (t *Tokenizer) NewStreamDecoder(o tokenizer.DecodeOptions) *tokenizer.StreamDecoder {
	return tokenizer.NewStreamDecoderFor(t, o)
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
