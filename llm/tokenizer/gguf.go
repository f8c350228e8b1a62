package tokenizer

import (
	"fmt"
	"sort"
	"strings"
)

// GGUFVocab is the tokenizer part of a GGUF file (tokenizer.ggml.* keys).
// Ids are -1 when absent.
type GGUFVocab struct {
	Model, Pre     string
	Tokens         []string
	Scores         []float32
	Types          []int32
	Merges         []string
	BOS, EOS       int32
	UNK, PAD, EOT  int32
	AddBOS, AddEOS bool
	AddSpacePrefix bool
	ChatTemplate   string
}

// Metadata is the subset of a GGUF reader that VocabFromGGUF needs; each
// getter reports false when the key is missing or has another type.
type Metadata interface {
	String(key string) (string, bool)
	Strings(key string) ([]string, bool)
	Float32s(key string) ([]float32, bool)
	Int32s(key string) ([]int32, bool)
	Uint(key string) (uint64, bool)
	Bool(key string) (bool, bool)
}

// llama.cpp token types (tokenizer.ggml.token_type).
const (
	typeUndefined   = 0
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// llama.cpp token attributes.
const (
	attrUnknown uint16 = 1 << iota
	attrUnused
	attrNormal
	attrControl
	attrUserDefined
	attrByte
)

// ggufPre is what a tokenizer.ggml.pre value selects in llama.cpp.
type ggufPre struct {
	regexes      []string
	ignoreMerges bool
	addBOS       bool
	nfc          bool // Hugging Face normalizes these with NFC; llama.cpp does not
}

const (
	patStarcoderDigits = `\p{N}`
	patDefaultPunct    = `[\p{P}\$\+<=>\^~\|]+`
	patQwen35          = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patBloom           = ` ?[^(\s|.,!?…。，、।۔،)]+`
	patSeedCoder       = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+`
	patBailing         = `'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
)

// ggufPres maps tokenizer.ggml.pre names to llama.cpp's pre-tokenizers
// (init-time, read-only).
var ggufPres = func() map[string]ggufPre {
	m := map[string]ggufPre{}
	set := func(p ggufPre, names ...string) {
		for _, n := range names {
			m[n] = p
		}
	}
	set(ggufPre{regexes: []string{patDefaultPunct, patGPT2Bare, `\p{N}+`, `[0-9][0-9][0-9]`}}, "", "default")
	set(ggufPre{regexes: []string{patLlama3CPP}, ignoreMerges: true, addBOS: true},
		"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano")
	set(ggufPre{regexes: []string{patLlama3CPP}}, "dbrx", "smaug-bpe", "glm4", "chatglm-bpe")
	set(ggufPre{regexes: []string{patQwen2CPP}, nfc: true}, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez")
	set(ggufPre{regexes: []string{patQwen2CPP}}, "stablelm2", "hunyuan", "solar-open", "grok-2")
	set(ggufPre{regexes: []string{patQwen35}, nfc: true}, "qwen35")
	set(ggufPre{regexes: []string{patGPT2Bare}},
		"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
		"modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion",
		"granite-docling", "exaone4")
	set(ggufPre{regexes: []string{patStarcoderDigits, patGPT2Bare}},
		"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2")
	set(ggufPre{regexes: []string{`[\p{P}\$\+<=>\^~\|` + "`" + `]+`, patGPT2Bare, `[0-9][0-9][0-9]`}}, "falcon")
	set(ggufPre{regexes: []string{patBloom}}, "poro-chat", "bloom", "gpt3-finnish")
	set(ggufPre{regexes: []string{patSeedCoder}}, "seed-coder")
	set(ggufPre{regexes: []string{patBailing}}, "bailingmoe", "bailingmoe2", "llada-moe")
	return m
}()

// VocabFromGGUF reads the tokenizer.ggml.* keys, filling in llama.cpp's
// defaults for absent ones.
func VocabFromGGUF(md Metadata) (GGUFVocab, error) {
	v := GGUFVocab{BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}
	var ok bool
	if v.Model, ok = md.String("tokenizer.ggml.model"); !ok {
		return v, fmt.Errorf("%w: GGUF has no tokenizer.ggml.model", ErrInvalid)
	}
	v.Pre, _ = md.String("tokenizer.ggml.pre")
	if v.Tokens, ok = md.Strings("tokenizer.ggml.tokens"); !ok {
		return v, fmt.Errorf("%w: GGUF has no tokenizer.ggml.tokens string array", ErrInvalid)
	}
	if v.Scores, ok = md.Float32s("tokenizer.ggml.scores"); !ok {
		if is, ok := md.Int32s("tokenizer.ggml.scores"); ok {
			v.Scores = make([]float32, len(is))
			for i, x := range is {
				v.Scores[i] = float32(x)
			}
		}
	}
	v.Types, _ = md.Int32s("tokenizer.ggml.token_type")
	v.Merges, _ = md.Strings("tokenizer.ggml.merges")
	v.ChatTemplate, _ = md.String("tokenizer.chat_template")
	switch v.Model {
	case "llama":
		v.BOS, v.EOS, v.UNK = 1, 2, 0
		v.AddBOS, v.AddSpacePrefix = true, true
	case "gpt2":
		v.BOS, v.EOS = 11, 11
		v.AddBOS = ggufPres[v.Pre].addBOS
	}
	n := uint64(len(v.Tokens))
	for _, k := range []struct {
		key string
		dst *int32
	}{
		{"tokenizer.ggml.bos_token_id", &v.BOS}, {"tokenizer.ggml.eos_token_id", &v.EOS},
		{"tokenizer.ggml.unknown_token_id", &v.UNK}, {"tokenizer.ggml.padding_token_id", &v.PAD},
		{"tokenizer.ggml.eot_token_id", &v.EOT},
	} {
		if *k.dst >= 0 && uint64(*k.dst) >= n {
			*k.dst = -1
		}
		if id, ok := md.Uint(k.key); ok && id < n {
			*k.dst = int32(id)
		}
	}
	for _, k := range []struct {
		key string
		dst *bool
	}{
		{"tokenizer.ggml.add_bos_token", &v.AddBOS}, {"tokenizer.ggml.add_eos_token", &v.AddEOS},
		{"tokenizer.ggml.add_space_prefix", &v.AddSpacePrefix},
	} {
		if b, ok := md.Bool(k.key); ok {
			*k.dst = b
		}
	}
	return v, nil
}

// llamaEngine tokenizes like llama.cpp's llama_vocab.
type llamaEngine struct {
	spm      bool
	pieces   []string
	attrs    []uint16
	scores   []float32
	toID     map[string]int32
	specials []int32 // CONTROL/USER_DEFINED/UNKNOWN ids, longest text first
	bos, eos int32
	unk      int32
	addBOS   bool
	addEOS   bool
	addSpace bool
	// gpt2
	bpe  *bpeModel
	pre  []splitPre
	fast *regex
	nfc  normalizer
	bl   *byteLevel
	// decode: bytes of each normal/byte token (control text separately)
	decBytes []byte
	decOff   []uint32
}

const maxGGUFTokens = 1 << 24

// FromGGUF builds a tokenizer from a GGUF vocabulary, with llama.cpp's
// semantics: "llama" is SentencePiece (scores, byte fallback, leading space),
// "gpt2" is byte-level BPE with the pre-tokenizer that Pre selects.
func FromGGUF(v GGUFVocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 || n > maxGGUFTokens {
		return nil, fmt.Errorf("%w: GGUF vocabulary has %d tokens", ErrInvalid, n)
	}
	if len(v.Scores) != 0 && len(v.Scores) < n {
		return nil, fmt.Errorf("%w: %d scores for %d tokens", ErrInvalid, len(v.Scores), n)
	}
	if len(v.Types) != 0 && len(v.Types) < n {
		return nil, fmt.Errorf("%w: %d token types for %d tokens", ErrInvalid, len(v.Types), n)
	}
	e := &llamaEngine{pieces: make([]string, n), attrs: make([]uint16, n), scores: make([]float32, n),
		toID: make(map[string]int32, n), bl: newByteLevel(), unk: -1}
	for i, s := range v.Tokens {
		if s == "" {
			s = fmt.Sprintf("[EMPTY_%d]", i)
		}
		if j, dup := e.toID[s]; dup {
			return nil, fmt.Errorf("%w: duplicate token %q (ids %d and %d)", ErrInvalid, s, j, i)
		}
		e.toID[s] = int32(i)
		e.pieces[i] = s
		if len(v.Scores) > 0 {
			e.scores[i] = v.Scores[i]
		}
		e.attrs[i] = attrNormal
		if len(v.Types) > 0 {
			e.attrs[i] = typeAttr(v.Types[i])
		}
	}
	inRange := func(id int32) int32 {
		if id < 0 || int(id) >= n {
			return -1
		}
		return id
	}
	e.bos, e.eos, e.unk = inRange(v.BOS), inRange(v.EOS), inRange(v.UNK)
	e.addBOS, e.addEOS, e.addSpace = v.AddBOS && e.bos >= 0, v.AddEOS && e.eos >= 0, v.AddSpacePrefix
	switch v.Model {
	case "llama":
		e.spm = true
	case "gpt2":
		if err := e.initBPE(v); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: GGUF tokenizer model %q", ErrUnsupported, v.Model)
	}
	eog := e.fixAttrs(inRange(v.EOT))
	for id := range n {
		if e.attrs[id]&(attrControl|attrUserDefined|attrUnknown) != 0 {
			e.specials = append(e.specials, int32(id))
		}
	}
	sort.SliceStable(e.specials, func(i, j int) bool {
		return len(e.pieces[e.specials[i]]) > len(e.pieces[e.specials[j]])
	})
	e.buildDecode()

	t := &Tokenizer{eng: e, pieces: e.pieces, present: make([]bool, n), special: make([]bool, n),
		bos: e.bos, addBOS: e.addBOS, template: v.ChatTemplate, strs: map[string]string{}}
	for id := range n {
		t.present[id] = true
		t.special[id] = e.attrs[id]&(attrControl|attrUnknown) != 0
	}
	t.eos = eog
	for _, k := range []struct {
		name string
		id   int32
	}{{"bos_token", e.bos}, {"eos_token", e.eos}, {"unk_token", e.unk}, {"pad_token", inRange(v.PAD)}} {
		if k.id >= 0 {
			t.strs[k.name] = e.pieces[k.id]
		}
	}
	return t, nil
}

func typeAttr(t int32) uint16 {
	switch t {
	case typeUnknown:
		return attrUnknown
	case typeUnused:
		return attrUnused
	case typeNormal:
		return attrNormal
	case typeControl:
		return attrControl
	case typeUserDefined:
		return attrUserDefined
	case typeByte:
		return attrByte
	}
	return 0
}

func (e *llamaEngine) initBPE(v GGUFVocab) error {
	p, ok := ggufPres[v.Pre]
	if !ok {
		return fmt.Errorf("%w: GGUF pre-tokenizer %q", ErrUnsupported, v.Pre)
	}
	if len(v.Merges) == 0 {
		return fmt.Errorf("%w: gpt2 GGUF vocabulary has no merges", ErrInvalid)
	}
	cfg := bpeConfig{ignoreMerges: p.ignoreMerges, firstMergeWins: true, skipBadMerges: true}
	cfg.vocab = make([]vocabEntry, len(e.pieces))
	for i, s := range e.pieces {
		cfg.vocab[i] = vocabEntry{s, int32(i)}
	}
	cfg.merges = make([][2]string, len(v.Merges))
	for i, m := range v.Merges {
		// llama.cpp splits at the first space after the first byte.
		if k := strings.IndexByte(m[min(1, len(m)):], ' '); k >= 0 && len(m) > 0 {
			k += min(1, len(m))
			cfg.merges[i] = [2]string{m[:k], m[k+1:]}
		}
	}
	var err error
	if e.bpe, err = newBPE(cfg, e.bl, true); err != nil {
		return err
	}
	for _, pat := range p.regexes {
		re, err := compileRegex(pat)
		if err != nil {
			return err
		}
		e.pre = append(e.pre, splitPre{re: re, behavior: behaviorIsolated})
	}
	if len(e.pre) == 1 && e.pre[0].re.fast != nil {
		e.fast = e.pre[0].re
	}
	if p.nfc {
		e.nfc = unicodeNorm{nfcForm}
	}
	return nil
}

// fixAttrs applies llama.cpp's load-time fixes (control-looking tokens forced
// to CONTROL, ...) and returns the end-of-generation ids: eos, eot, then the
// rest in id order.
func (e *llamaEngine) fixAttrs(eot int32) []int32 {
	forced := map[string]bool{
		"<|eom_id|>": true, "<|fim_prefix|>": true, "<fim-prefix>": true, "<fim_prefix>": true,
		"<｜fim▁begin｜>": true, "<PRE>": true, "▁<PRE>": true, "<|code_prefix|>": true, "<|prefix|>": true,
		"<|fim_suffix|>": true, "<fim-suffix>": true, "<fim_suffix>": true, "<｜fim▁hole｜>": true, "<SUF>": true,
		"▁<SUF>": true, "<|code_suffix|>": true, "<|suffix|>": true, "<|fim_middle|>": true, "<fim-middle>": true,
		"<fim_middle>": true, "<｜fim▁end｜>": true, "<MID>": true, "▁<MID>": true, "<|code_middle|>": true,
		"<|middle|>": true, "<|fim_pad|>": true, "<fim-pad>": true, "<fim_pad>": true, "<PAD>": true,
		"[PAD]": true, "<|fim_repo|>": true, "<|repo_name|>": true, "<fim-repo>": true, "<REPO>": true,
		"<reponame>": true, "<|file_sep|>": true,
	}
	eogSet := map[int32]bool{}
	for _, name := range []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>",
		"<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>"} {
		if id, ok := e.toID[name]; ok {
			eogSet[id] = true
		}
	}
	// The GGUF token types are the truth (Hugging Face semantics): llama.cpp
	// forces every control-looking name to CONTROL here, but a token stored
	// as NORMAL (Qwen's "</s>") stays ordinary text and does not end
	// generation, and one stored as USER_DEFINED (Qwen's "<|fim_prefix|>")
	// stays matched in text and kept on decode. Only tokens of no known type
	// take the forced attributes.
	for s, id := range e.toID {
		typed := e.attrs[id]&(attrNormal|attrControl|attrUserDefined) != 0
		if (forced[s] || eogNames[s]) && !typed {
			e.attrs[id] |= attrControl
		}
		if eogNames[s] && e.attrs[id] != attrNormal {
			eogSet[id] = true
		}
	}
	for _, s := range []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"} {
		if id, ok := e.toID[s]; ok {
			e.attrs[id] = attrUserDefined
		}
	}
	if e.eos >= 0 {
		eogSet[e.eos] = true
	}
	if eot >= 0 {
		eogSet[eot] = true
	}
	has := func(s string) (int32, bool) {
		id, ok := e.toID[s]
		return id, ok && eogSet[id]
	}
	_, ret := has("<|return|>")
	_, call := has("<|call|>")
	_, calls := has("<|calls|>")
	_, flush := has("<|flush|>")
	if end, ok := has("<|end|>"); ok && ((ret && (call || calls)) || ((call || calls) && flush)) {
		delete(eogSet, end)
		e.attrs[end] = attrUserDefined
	}
	if _, ok := has("<|tool_response>"); ok {
		if s, ok := has("</s>"); ok {
			delete(eogSet, s)
			e.attrs[s] = attrNormal
		}
	}
	var out []int32
	for _, id := range []int32{e.eos, eot} {
		if id >= 0 && eogSet[id] {
			out = append(out, id)
			delete(eogSet, id)
		}
	}
	rest := make([]int32, 0, len(eogSet))
	for id := range eogSet {
		rest = append(rest, id)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	return append(out, rest...)
}

// fragment is a run of text (tok < 0) or one special token.
type fragment struct {
	text string
	tok  int32
}

// partition is llama.cpp's tokenizer_st_partition: each special token, longest
// first, splits every remaining text fragment at all its occurrences.
func (e *llamaEngine) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{text: text, tok: -1}}
	if text == "" {
		return nil
	}
	var next []fragment
	for _, id := range e.specials {
		if !parseSpecial && e.attrs[id]&(attrControl|attrUnknown) != 0 {
			continue
		}
		pat := e.pieces[id]
		next = next[:0]
		changed := false
		for _, f := range frags {
			if f.tok >= 0 || !strings.Contains(f.text, pat) {
				next = append(next, f)
				continue
			}
			changed = true
			s := f.text
			for {
				k := strings.Index(s, pat)
				if k < 0 {
					if s != "" {
						next = append(next, fragment{text: s, tok: -1})
					}
					break
				}
				if k > 0 {
					next = append(next, fragment{text: s[:k], tok: -1})
				}
				next = append(next, fragment{tok: id})
				s = s[k+len(pat):]
			}
		}
		if changed {
			frags, next = append(frags[:0:0], next...), frags
		}
	}
	return frags
}

func (e *llamaEngine) encode(text string, o EncodeOptions) []int32 {
	out := make([]int32, 0, len(text)/4+4)
	if o.AddSpecial && e.addBOS {
		out = append(out, e.bos)
	}
	if !e.spm {
		text = replaceInvalidBytes(text)
	}
	prevSpecial := true
	for _, f := range e.partition(text, o.ParseSpecial) {
		if f.tok >= 0 {
			out = append(out, f.tok)
			prevSpecial = true
			continue
		}
		if e.spm {
			s := f.text
			if e.addSpace && prevSpecial {
				s = " " + s
			}
			out = e.spmTokenize(out, strings.ReplaceAll(s, " ", "▁"))
		} else {
			out = e.bpeTokenize(out, f.text)
		}
		prevSpecial = false
	}
	if o.AddSpecial && e.addEOS {
		out = append(out, e.eos)
	}
	return out
}

// replaceInvalidBytes replaces each invalid UTF-8 byte with U+FFFD, as
// llama.cpp's unicode_cpts_from_utf8 does for BPE vocabularies.
func replaceInvalidBytes(s string) string {
	if isValidUTF8(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // range yields U+FFFD for every invalid byte
	}
	return b.String()
}

func (e *llamaEngine) bpeTokenize(out []int32, s string) []int32 {
	if e.nfc != nil {
		s = e.nfc.normalize(s)
	}
	if e.fast != nil {
		prev := 0
		e.fast.each(s, func(st, en int) {
			if prev != st {
				out = e.bpe.tokenize(out, s[prev:st])
			}
			out = e.bpe.tokenize(out, s[st:en])
			prev = en
		})
		if prev != len(s) {
			out = e.bpe.tokenize(out, s[prev:])
		}
		return out
	}
	words := []piece{{s: s}}
	for _, p := range e.pre {
		var next []piece
		for _, w := range words {
			next = p.split(next, w)
		}
		words = next
	}
	for _, w := range words {
		out = e.bpe.tokenize(out, w.s)
	}
	return out
}

// spmBigram is a candidate merge of two adjacent symbols.
type spmBigram struct {
	score       float32
	left, right int32
	size        int32
}

type spmSymbol struct {
	start, n   int32
	prev, next int32
}

// spmTokenize is llama.cpp's llm_tokenizer_spm_session::tokenize.
func (e *llamaEngine) spmTokenize(out []int32, text string) []int32 {
	var syms []spmSymbol
	for off := 0; off < len(text); {
		l := min(utf8LeadLen(text[off]), len(text)-off)
		syms = append(syms, spmSymbol{start: int32(off), n: int32(l), prev: int32(len(syms)) - 1, next: int32(len(syms)) + 1})
		off += l
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	var q []spmBigram
	less := func(a, b spmBigram) bool { // a has priority over b
		return a.score > b.score || (a.score == b.score && a.left < b.left)
	}
	push := func(b spmBigram) {
		q = append(q, b)
		for i := len(q) - 1; i > 0; {
			p := (i - 1) / 2
			if !less(q[i], q[p]) {
				break
			}
			q[i], q[p] = q[p], q[i]
			i = p
		}
	}
	pop := func() spmBigram {
		top := q[0]
		q[0] = q[len(q)-1]
		q = q[:len(q)-1]
		for i := 0; ; {
			l, c := 2*i+1, i
			if l < len(q) && less(q[l], q[c]) {
				c = l
			}
			if r := l + 1; r < len(q) && less(q[r], q[c]) {
				c = r
			}
			if c == i {
				break
			}
			q[i], q[c] = q[c], q[i]
			i = c
		}
		return top
	}
	tryAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := syms[l], syms[r]
		s := text[a.start : a.start+a.n+b.n]
		id, ok := e.toID[s]
		if !ok {
			return
		}
		push(spmBigram{score: e.scores[id], left: l, right: r, size: int32(len(s))})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(q) > 0 {
		b := pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		tryAdd(l.prev, b.left)
		tryAdd(b.left, l.next)
	}
	for i := int32(0); i != -1; i = syms[i].next {
		s := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := e.toID[s]; ok {
			out = append(out, id)
			continue
		}
		for k := 0; k < len(s); k++ {
			if id, ok := e.byteToken(s[k]); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// byteToken is llama_vocab::byte_to_token for SPM: <0xXX>, else the byte
// itself as a token, else unk.
func (e *llamaEngine) byteToken(c byte) (int32, bool) {
	if id, ok := e.toID[fmt.Sprintf("<0x%02X>", c)]; ok {
		return id, true
	}
	if id, ok := e.toID[string([]byte{c})]; ok {
		return id, true
	}
	return e.unk, e.unk >= 0
}

func (e *llamaEngine) tokenID(s string) (int32, bool) {
	id, ok := e.toID[s]
	return id, ok
}

// buildDecode precomputes token_to_piece(special=true) for every id.
func (e *llamaEngine) buildDecode() {
	e.decOff = make([]uint32, len(e.pieces)+1)
	for id, s := range e.pieces {
		e.decOff[id] = uint32(len(e.decBytes))
		a := e.attrs[id]
		switch {
		case a&(attrUnknown|attrControl|attrUserDefined) != 0:
			e.decBytes = append(e.decBytes, s...)
		case a&attrNormal != 0:
			if e.spm {
				e.decBytes = append(e.decBytes, strings.ReplaceAll(s, "▁", " ")...)
				continue
			}
			k := len(e.decBytes)
			var ok bool
			if e.decBytes, ok = e.bl.decode(e.decBytes, s); !ok {
				e.decBytes = append(e.decBytes[:k], s...)
			}
		case a&attrByte != 0:
			if b, ok := parseByteToken(s); ok {
				e.decBytes = append(e.decBytes, b)
			}
		}
	}
	e.decOff[len(e.pieces)] = uint32(len(e.decBytes))
}

func (e *llamaEngine) valid(id int32) bool { return id >= 0 && int(id) < len(e.pieces) }

func (e *llamaEngine) skipped(id int32, o DecodeOptions) bool {
	return !e.valid(id) || (o.SkipSpecial && e.attrs[id]&(attrControl|attrUnknown) != 0)
}

// decode concatenates the pieces; with a space prefix (SPM) the first kept
// token loses one leading space, as in llama_detokenize.
func (e *llamaEngine) decode(ids []int32, o DecodeOptions) string {
	if o.SpacesBetweenSpecial {
		added := func(id int32) (string, bool) {
			if e.attrs[id]&(attrControl|attrUserDefined|attrUnknown) != 0 {
				return e.pieces[id], true
			}
			return "", false
		}
		first := true
		return joinParts(ids, added, func(id int32) bool { return e.skipped(id, o) }, func(run []int32) string {
			s := e.decodeRun(run, o, first)
			first = false
			return s
		})
	}
	return e.decodeRun(ids, o, true)
}

func (e *llamaEngine) decodeRun(ids []int32, o DecodeOptions, first bool) string {
	buf := make([]byte, 0, len(ids)*4)
	strip := first && e.addSpace
	for _, id := range ids {
		if e.skipped(id, o) {
			continue
		}
		p := e.decBytes[e.decOff[id]:e.decOff[id+1]]
		if strip && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		strip = false
		buf = append(buf, p...)
	}
	return lossyString(buf)
}
