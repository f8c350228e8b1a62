package tokenizer

import "strings"

// hfEngine is the tokenizer.json pipeline: added tokens, normalizer,
// pre-tokenizer, BPE model, post-processor, decoder.
type hfEngine struct {
	added *addedVocab
	norm  normalizer
	pre   preTokenizer
	// fast replaces pre when it is "split on re (Isolated), then raw
	// byte-level": every match and every gap is one word.
	fast  *regex
	model *bpeModel
	post  postProcessor
	dec   decoder

	addedIDs map[string]int32 // added token content → id
	decStr   []string         // id → string handed to the decoder ("" + !ok when absent)
	decOK    []bool
	skip     []bool // id is dropped by SkipSpecial
	isAdded  []bool
	// byte-level fast decode: concatenated decoder bytes of every id
	blOnly   bool
	decBytes []byte
	decOff   []uint32
}

func (e *hfEngine) encode(text string, o EncodeOptions) []int32 {
	text = sanitizeUTF8(text)
	out := make([]int32, 0, len(text)/4+4)
	skipSpecial := !o.ParseSpecial
	var segs, subs []segment
	segs = e.added.split(segs, text, e.added.raw, skipSpecial)
	for _, sg := range segs {
		if sg.tok >= 0 {
			out = append(out, e.added.tokens[sg.tok].id)
			continue
		}
		n := sg.text
		if e.norm != nil {
			n = e.norm.normalize(n)
		}
		if n == "" {
			continue
		}
		subs = e.added.split(subs[:0], n, e.added.normed, skipSpecial)
		for _, sub := range subs {
			if sub.tok >= 0 {
				out = append(out, e.added.tokens[sub.tok].id)
				continue
			}
			out = e.words(out, piece{s: sub.text, start: sg.start == 0 && sub.start == 0})
		}
	}
	if o.AddSpecial && e.post != nil {
		out = e.post.process(out)
	}
	return out
}

// words pre-tokenizes one normalized piece and runs the model on each word.
func (e *hfEngine) words(out []int32, p piece) []int32 {
	if p.s == "" {
		return out
	}
	switch {
	case e.fast != nil:
		s := p.s
		prev := 0
		e.fast.each(s, func(st, en int) {
			if prev != st {
				out = e.model.tokenize(out, s[prev:st])
			}
			out = e.model.tokenize(out, s[st:en])
			prev = en
		})
		if prev != len(s) {
			out = e.model.tokenize(out, s[prev:])
		}
	case e.pre != nil:
		for _, q := range e.pre.split(nil, p) {
			out = e.model.tokenize(out, q.s)
		}
	default:
		out = e.model.tokenize(out, p.s)
	}
	return out
}

func (e *hfEngine) tokenID(s string) (int32, bool) {
	if id, ok := e.addedIDs[s]; ok {
		return id, true
	}
	return e.model.lookup(s)
}

func (e *hfEngine) valid(id int32) bool { return id >= 0 && int(id) < len(e.decOK) && e.decOK[id] }

func (e *hfEngine) decode(ids []int32, o DecodeOptions) string {
	skip := func(id int32) bool { return !e.valid(id) || (o.SkipSpecial && e.skip[id]) }
	if o.SpacesBetweenSpecial {
		added := func(id int32) (string, bool) {
			if e.isAdded[id] {
				return e.decStr[id], true
			}
			return "", false
		}
		return joinParts(ids, added, skip, func(run []int32) string { return e.decodeRun(run, false) })
	}
	return e.decodeRun(ids, o.SkipSpecial)
}

// decodeRun is Tokenizer::decode of the tokenizers crate.
func (e *hfEngine) decodeRun(ids []int32, skipSpecial bool) string {
	if e.blOnly {
		buf := make([]byte, 0, len(ids)*4)
		for _, id := range ids {
			if !e.valid(id) || (skipSpecial && e.skip[id]) {
				continue
			}
			buf = append(buf, e.decBytes[e.decOff[id]:e.decOff[id+1]]...)
		}
		return lossyString(buf)
	}
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if !e.valid(id) || (skipSpecial && e.skip[id]) {
			continue
		}
		toks = append(toks, e.decStr[id])
	}
	if e.dec == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(e.dec.decodeChain(toks), "")
}
