// Package tokenizer implements Hugging Face tokenizer.json tokenizers and GGUF
// vocabularies in pure Go, with the exact semantics of the reference
// implementations: HF tokenizers (Rust) for tokenizer.json, llama.cpp for
// GGUF vocabularies.
//
// A Tokenizer is immutable after construction and safe for concurrent use.
package tokenizer

import (
	"errors"
	"strings"
)

// Sentinel errors.
var (
	// ErrInvalid reports malformed tokenizer data.
	ErrInvalid = errors.New("tokenizer: invalid tokenizer data")
	// ErrUnsupported reports a valid but unimplemented component.
	ErrUnsupported = errors.New("tokenizer: unsupported component")
)

// EncodeOptions controls Encode.
type EncodeOptions struct {
	// AddSpecial applies the post-processor (BOS/EOS templates).
	AddSpecial bool
	// ParseSpecial recognises special tokens written in the text. When false
	// they are tokenized as plain text (HF encode_special_tokens=true,
	// llama.cpp parse_special=false); non-special added tokens still match.
	ParseSpecial bool
}

// DecodeOptions controls Decode and streaming.
type DecodeOptions struct {
	// SkipSpecial drops special tokens (skip_special_tokens).
	SkipSpecial bool
	// SpacesBetweenSpecial decodes the runs between added tokens separately
	// and joins all parts with one space, as transformers' slow tokenizers do
	// with spaces_between_special_tokens=True. False is the tokenizers (fast)
	// behaviour, which the goldens use.
	SpacesBetweenSpecial bool
}

// engine is the tokenization algorithm behind a Tokenizer.
type engine interface {
	encode(text string, o EncodeOptions) []int32
	decode(ids []int32, o DecodeOptions) string
	tokenID(piece string) (int32, bool)
}

// Codec is the encode/decode method set shared by *Tokenizer and the
// cgo-backed hf.Tokenizer (build tag hftokenizers).
type Codec interface {
	Encode(text string, addSpecial bool) []int32
	EncodeOpts(text string, o EncodeOptions) []int32
	Decode(ids []int32, o DecodeOptions) string
}

var _ Codec = (*Tokenizer)(nil)

// Tokenizer converts text to token ids and back.
type Tokenizer struct {
	eng      engine
	pieces   []string // id → token text (id_to_token); "" where absent
	present  []bool
	special  []bool
	bos      int32 // -1: none
	addBOS   bool
	eos      []int32
	template string
	strs     map[string]string
}

// Encode tokenizes text. Special tokens written in the text are recognised
// (HF semantics); addSpecial applies the post-processor (BOS etc.).
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	return t.eng.encode(text, EncodeOptions{AddSpecial: addSpecial, ParseSpecial: true})
}

// EncodeOpts tokenizes text with explicit options.
func (t *Tokenizer) EncodeOpts(text string, o EncodeOptions) []int32 {
	return t.eng.encode(text, o)
}

// Decode converts ids to text. Ids outside the vocabulary are dropped.
func (t *Tokenizer) Decode(ids []int32, o DecodeOptions) string {
	if len(ids) == 0 {
		return ""
	}
	return t.eng.decode(ids, o)
}

// TokenID returns the id of a vocabulary or added token.
func (t *Tokenizer) TokenID(piece string) (int32, bool) { return t.eng.tokenID(piece) }

// Piece returns the vocabulary text of id (id_to_token).
func (t *Tokenizer) Piece(id int32) (string, bool) {
	if id < 0 || int(id) >= len(t.pieces) || !t.present[id] {
		return "", false
	}
	return t.pieces[id], true
}

// VocabSize is one more than the largest token id.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// IsSpecial reports whether id is a special (control) token.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// BOS returns the beginning-of-sequence token.
func (t *Tokenizer) BOS() (int32, bool) { return t.bos, t.bos >= 0 }

// EOS returns every end-of-generation id (eos first, then eot, eom, ...).
func (t *Tokenizer) EOS() []int32 { return append([]int32(nil), t.eos...) }

// AddBOS reports whether Encode with addSpecial prepends BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// ChatTemplate returns the Jinja chat template, or "" if there is none.
func (t *Tokenizer) ChatTemplate() string { return t.template }

// SpecialTokens returns the bos_token, eos_token, unk_token and pad_token
// strings that are set, for chat templates.
func (t *Tokenizer) SpecialTokens() map[string]string {
	m := make(map[string]string, len(t.strs))
	for k, v := range t.strs {
		m[k] = v
	}
	return m
}

// eogNames are the token texts llama.cpp treats as end of generation.
var eogNames = map[string]bool{
	"<|eot_id|>": true, "<|im_end|>": true, "<|end|>": true, "<|return|>": true, "<|call|>": true,
	"<|flush|>": true, "<|calls|>": true, "<end_of_turn>": true, "<|endoftext|>": true, "</s>": true,
	"<|eom_id|>": true, "<EOT>": true, "_<EOT>": true, "[EOT]": true, "[EOS]": true,
	"<|end_of_text|>": true, "<end_of_utterance>": true, "<eos>": true, "<turn|>": true,
	"<|tool_response>": true, "<｜end▁of▁sentence｜>": true, "[e~[": true,
}

// joinParts implements SpacesBetweenSpecial: runs of ordinary tokens are
// decoded by run, added tokens are kept verbatim, parts joined with " ".
func joinParts(ids []int32, isAdded func(int32) (string, bool), skip func(int32) bool, run func([]int32) string) string {
	var parts []string
	var cur []int32
	for _, id := range ids {
		if skip(id) {
			continue
		}
		if s, ok := isAdded(id); ok {
			if len(cur) > 0 {
				parts = append(parts, run(cur))
				cur = nil
			}
			parts = append(parts, s)
			continue
		}
		cur = append(cur, id)
	}
	if len(cur) > 0 {
		parts = append(parts, run(cur))
	}
	return strings.Join(parts, " ")
}
