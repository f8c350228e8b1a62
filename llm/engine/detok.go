package engine

import "github.com/sightline/sightline/llm/tokenizer"

// TokenizerText adapts a tokenizer to the engine's Detokenizer.
func TokenizerText(t *tokenizer.Tokenizer) Detokenizer { return tokText{t} }

type tokText struct{ t *tokenizer.Tokenizer }

func (d tokText) NewStream(skip, spaces bool) TextStream {
	return d.t.NewStreamDecoder(tokenizer.DecodeOptions{SkipSpecial: skip, SpacesBetweenSpecial: spaces})
}
