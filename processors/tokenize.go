package processors

import (
	"strings"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tokenizer"
)

// TextTokenizer is what Tokenize needs (*tokenizer.Tokenizer satisfies it).
type TextTokenizer interface {
	EncodeOpts(text string, o tokenizer.EncodeOptions) []int32
	BOS() (int32, bool)
	AddBOS() bool
}

// Tokenize tokenizes prompt text holding Marker occurrences the way
// llama.cpp's mtmd_tokenize does: the text is split on Marker, every piece
// is tokenized on its own (special tokens parsed, no BOS/EOS), and
// input.MediaMarker stands where each marker was. With addSpecial, BOS is
// prepended when the tokenizer adds one.
func Tokenize(tok TextTokenizer, text string, addSpecial bool) []int32 {
	var out []int32
	if addSpecial && tok.AddBOS() {
		if b, ok := tok.BOS(); ok {
			out = append(out, b)
		}
	}
	for i, piece := range strings.Split(text, Marker) {
		if i > 0 {
			out = append(out, input.MediaMarker)
		}
		if piece != "" {
			out = append(out, tok.EncodeOpts(piece, tokenizer.EncodeOptions{ParseSpecial: true})...)
		}
	}
	return out
}
