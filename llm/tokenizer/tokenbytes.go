package tokenizer

import "strings"

// TokenBytes returns the raw bytes token id contributes to the decoded output
// in the middle of a sequence (no leading-space stripping of a first token,
// byte tokens as their single byte, byte-level pieces as their bytes, which
// may be partial UTF-8). Special tokens give their text. Nil for ids outside
// the vocabulary. The result is a fresh slice.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	switch e := t.eng.(type) {
	case *hfEngine:
		return e.tokenBytes(id)
	case *llamaEngine:
		if !e.valid(id) {
			return nil
		}
		return append([]byte(nil), e.decBytes[e.decOff[id]:e.decOff[id+1]]...)
	}
	return nil
}

func (e *hfEngine) tokenBytes(id int32) []byte {
	if !e.valid(id) {
		return nil
	}
	if e.blOnly {
		return append([]byte(nil), e.decBytes[e.decOff[id]:e.decOff[id+1]]...)
	}
	return midDecode(e.dec, e.decStr[id])
}

// midDecode runs one token through a decoder chain as a token that is
// neither first nor last: decoders that only act on the first token of the
// output (Metaspace prefix, Strip after Fuse) leave it alone.
func midDecode(d decoder, s string) []byte {
	var chain []decoder
	var flat func(decoder)
	flat = func(d decoder) {
		if seq, ok := d.(decSeq); ok {
			for _, x := range seq {
				flat(x)
			}
			return
		}
		if d != nil {
			chain = append(chain, d)
		}
	}
	flat(d)
	cur := []byte(s)
	fused := false
	for _, x := range chain {
		switch x := x.(type) {
		case byteLevelDec:
			if b, ok := x.bl.decode(nil, string(cur)); ok {
				cur = b
			}
		case byteFallbackDec:
			if b, ok := parseByteToken(string(cur)); ok {
				cur = []byte{b}
			}
		case fuseDec:
			fused = true
		case stripDec:
			if !fused {
				cur = []byte(x.decodeChain([]string{string(cur)})[0])
			}
		case replaceDec:
			cur = []byte(x.r.normalize(string(cur)))
		case metaspaceDec:
			cur = []byte(strings.ReplaceAll(string(cur), string(x.repl), " "))
		case wordPieceDec:
			if p, ok := strings.CutPrefix(string(cur), x.prefix); ok {
				cur = []byte(p)
			} else {
				cur = append([]byte{' '}, cur...)
			}
		case bpeDec:
			cur = []byte(strings.ReplaceAll(string(cur), x.suffix, " "))
		default:
			cur = []byte(strings.Join(x.decodeChain([]string{string(cur)}), ""))
		}
	}
	return cur
}
