package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// tokenizerFile holds the parts of tokenizer.json: the model is scanned
// directly, the small components are kept raw for encoding/json.
type tokenizerFile struct {
	AddedTokens   json.RawMessage
	Normalizer    json.RawMessage
	PreTokenizer  json.RawMessage
	PostProcessor json.RawMessage
	Decoder       json.RawMessage
	Model         bpeConfig
	ModelType     string
	hasModel      bool
}

type addedTokenJSON struct {
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

func scanTokenizerFile(b []byte) (*tokenizerFile, error) {
	f := &tokenizerFile{}
	s := &jscan{b: b}
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "model":
			f.hasModel = true
			return scanModel(s, f)
		case "added_tokens":
			f.AddedTokens, err = s.skip()
		case "normalizer":
			f.Normalizer, err = s.skip()
		case "pre_tokenizer":
			f.PreTokenizer, err = s.skip()
		case "post_processor":
			f.PostProcessor, err = s.skip()
		case "decoder":
			f.Decoder, err = s.skip()
		default:
			_, err = s.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.peek() != 0 {
		return nil, s.errf("trailing data after the top-level object")
	}
	return f, nil
}

func scanModel(s *jscan, f *tokenizerFile) error {
	c := &f.Model
	if s.peek() == 'n' {
		_, err := s.skip()
		return err
	}
	return s.object(func(key string) error {
		switch key {
		case "type":
			t, err := s.str()
			f.ModelType = t
			return err
		case "vocab":
			if s.peek() != '{' {
				return fmt.Errorf("%w: model vocab is not an object (only BPE is implemented)", ErrUnsupported)
			}
			c.vocab = make([]vocabEntry, 0, len(s.b)/64)
			return s.object(func(k string) error {
				id, err := s.integer()
				if err != nil {
					return err
				}
				if id < 0 {
					return fmt.Errorf("%w: negative id %d for token %q", ErrInvalid, id, k)
				}
				c.vocab = append(c.vocab, vocabEntry{k, id})
				return nil
			})
		case "merges":
			if s.peek() == 'n' {
				_, err := s.skip()
				return err
			}
			return s.array(func() error {
				if s.peek() == '"' {
					l, err := s.str()
					if err != nil {
						return err
					}
					a, b, ok := splitMergeLine(l)
					if !ok {
						return fmt.Errorf("%w: BPE merge %d %q is not two space-separated tokens", ErrInvalid, len(c.merges)+1, l)
					}
					c.merges = append(c.merges, [2]string{a, b})
					return nil
				}
				var pair [2]string
				n := 0
				err := s.array(func() error {
					v, err := s.str()
					if err != nil {
						return err
					}
					if n < 2 {
						pair[n] = v
					}
					n++
					return nil
				})
				if err != nil {
					return err
				}
				if n != 2 {
					return fmt.Errorf("%w: BPE merge %d has %d parts", ErrInvalid, len(c.merges)+1, n)
				}
				c.merges = append(c.merges, pair)
				return nil
			})
		}
		raw, err := s.skip()
		if err != nil {
			return err
		}
		optStr := func(dst *string, has *bool) error {
			var v *string
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%w: model %s: %v", ErrInvalid, key, err)
			}
			if v != nil {
				*dst = *v
				if has != nil {
					*has = true
				}
			}
			return nil
		}
		optBool := func(dst *bool) error {
			var v *bool
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%w: model %s: %v", ErrInvalid, key, err)
			}
			if v != nil {
				*dst = *v
			}
			return nil
		}
		switch key {
		case "unk_token":
			return optStr(&c.unk, &c.hasUnk)
		case "continuing_subword_prefix":
			return optStr(&c.prefix, nil)
		case "end_of_word_suffix":
			return optStr(&c.suffix, nil)
		case "fuse_unk":
			return optBool(&c.fuseUnk)
		case "byte_fallback":
			return optBool(&c.byteFallback)
		case "ignore_merges":
			return optBool(&c.ignoreMerges)
		case "dropout":
			var v *float64
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%w: model dropout: %v", ErrInvalid, err)
			}
			if v != nil && *v > 0 {
				return fmt.Errorf("%w: BPE dropout", ErrUnsupported)
			}
		}
		return nil
	})
}

// splitMergeLine splits "a b" (exactly one space, HF semantics).
func splitMergeLine(l string) (string, string, bool) {
	k := -1
	for i := 0; i < len(l); i++ {
		if l[i] == ' ' {
			if k >= 0 {
				return "", "", false
			}
			k = i
		}
	}
	if k < 0 {
		return "", "", false
	}
	return l[:k], l[k+1:], true
}

// component is the common shape of normalizer/pre-tokenizer/decoder JSON.
type component struct {
	Type string `json:"type"`
	// Sequence
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Decoders      []json.RawMessage `json:"decoders"`
	Processors    []json.RawMessage `json:"processors"`
	// Replace, Split
	Pattern  *patternJSON `json:"pattern"`
	Content  *string      `json:"content"`
	Behavior string       `json:"behavior"`
	Invert   bool         `json:"invert"`
	// Prepend
	Prepend string `json:"prepend"`
	// Strip normalizer / decoder
	StripLeft  bool `json:"strip_left"`
	StripRight bool `json:"strip_right"`
	Start      int  `json:"start"`
	Stop       int  `json:"stop"`
	// BertNormalizer
	CleanText          *bool `json:"clean_text"`
	HandleChineseChars *bool `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          *bool `json:"lowercase"`
	// ByteLevel, Metaspace
	AddPrefixSpace *bool   `json:"add_prefix_space"`
	UseRegex       *bool   `json:"use_regex"`
	Replacement    *string `json:"replacement"`
	PrependScheme  *string `json:"prepend_scheme"`
	Split          *bool   `json:"split"`
	// Digits, CharDelimiterSplit
	IndividualDigits bool   `json:"individual_digits"`
	Delimiter        string `json:"delimiter"`
	// WordPiece / BPEDecoder
	Prefix  *string `json:"prefix"`
	Cleanup *bool   `json:"cleanup"`
	Suffix  *string `json:"suffix"`
	// TemplateProcessing
	Single        []map[string]json.RawMessage `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int32 `json:"ids"`
	} `json:"special_tokens"`
	// BertProcessing / RobertaProcessing
	Sep []json.RawMessage `json:"sep"`
	Cls []json.RawMessage `json:"cls"`
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// maxDepth bounds nested Sequences so hostile JSON cannot recurse deeply.
const maxDepth = 16

func parseComponent(b json.RawMessage, depth int, what string) (component, error) {
	var c component
	if depth > maxDepth {
		return c, fmt.Errorf("%w: %s nested too deeply", ErrInvalid, what)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: %s: %v", ErrInvalid, what, err)
	}
	return c, nil
}

func boolOr(p *bool, d bool) bool {
	if p == nil {
		return d
	}
	return *p
}

func (c component) pattern(what string) (string, *regex, error) {
	if c.Pattern == nil {
		return "", nil, fmt.Errorf("%w: %s %s has no pattern", ErrInvalid, c.Type, what)
	}
	switch {
	case c.Pattern.Regex != nil:
		re, err := compileRegex(*c.Pattern.Regex)
		return "", re, err
	case c.Pattern.String != nil:
		return *c.Pattern.String, nil, nil
	}
	return "", nil, fmt.Errorf("%w: %s %s pattern is neither String nor Regex", ErrInvalid, c.Type, what)
}

func parseNormalizer(b json.RawMessage, bl *byteLevel, depth int) (normalizer, error) {
	c, err := parseComponent(b, depth, "normalizer")
	if err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq normSeq
		for _, x := range c.Normalizers {
			n, err := parseNormalizer(x, bl, depth+1)
			if err != nil {
				return nil, err
			}
			seq = append(seq, n)
		}
		return seq, nil
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "Prepend":
		return prepend{c.Prepend}, nil
	case "Replace":
		lit, re, err := c.pattern("normalizer")
		if err != nil {
			return nil, err
		}
		if c.Content == nil {
			return nil, fmt.Errorf("%w: Replace normalizer has no content", ErrInvalid)
		}
		return replace{lit: lit, re: re, content: *c.Content}, nil
	case "Strip":
		return strip{c.StripLeft, c.StripRight}, nil
	case "StripAccents":
		return stripAccents{}, nil
	case "BertNormalizer":
		lower := boolOr(c.Lowercase, true)
		return bertNormalizer{cleanText: boolOr(c.CleanText, true), chinese: boolOr(c.HandleChineseChars, true),
			stripAccents: boolOr(c.StripAccents, lower), lowercase: lower}, nil
	case "ByteLevel":
		return byteLevelNorm{bl}, nil
	}
	return nil, fmt.Errorf("%w: normalizer %q", ErrUnsupported, c.Type)
}

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed":
		return behaviorRemoved, nil
	case "Isolated", "":
		return behaviorIsolated, nil
	case "MergedWithPrevious":
		return behaviorMergedWithPrevious, nil
	case "MergedWithNext":
		return behaviorMergedWithNext, nil
	case "Contiguous":
		return behaviorContiguous, nil
	}
	return 0, fmt.Errorf("%w: split behavior %q", ErrInvalid, s)
}

func parsePrependScheme(c component) (prependScheme, error) {
	sc := prependAlways
	if c.PrependScheme != nil {
		switch *c.PrependScheme {
		case "always":
		case "first":
			sc = prependFirst
		case "never":
			sc = prependNever
		default:
			return 0, fmt.Errorf("%w: prepend_scheme %q", ErrInvalid, *c.PrependScheme)
		}
	}
	if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
		sc = prependNever
	}
	return sc, nil
}

func singleRune(s *string, def rune, what string) (rune, error) {
	if s == nil {
		return def, nil
	}
	r, n := utf8.DecodeRuneInString(*s)
	if n == 0 || n != len(*s) {
		return 0, fmt.Errorf("%w: %s %q must be one character", ErrInvalid, what, *s)
	}
	return r, nil
}

// parsePreTokenizer returns the flattened list of pre-tokenizers.
func parsePreTokenizer(b json.RawMessage, bl *byteLevel, depth int) ([]preTokenizer, error) {
	c, err := parseComponent(b, depth, "pre_tokenizer")
	if err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var out []preTokenizer
		for _, x := range c.Pretokenizers {
			p, err := parsePreTokenizer(x, bl, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	case "ByteLevel":
		p := byteLevelPre{addPrefixSpace: boolOr(c.AddPrefixSpace, true), bl: bl}
		if boolOr(c.UseRegex, true) {
			p.re, _ = compileRegex(patGPT2)
		}
		return []preTokenizer{p}, nil
	case "Split":
		lit, re, err := c.pattern("pre-tokenizer")
		if err != nil {
			return nil, err
		}
		beh, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{splitPre{lit: lit, re: re, behavior: beh, invert: c.Invert}}, nil
	case "Metaspace":
		r, err := singleRune(c.Replacement, '▁', "Metaspace replacement")
		if err != nil {
			return nil, err
		}
		sc, err := parsePrependScheme(c)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{metaspacePre{repl: string(r), scheme: sc, splitOn: boolOr(c.Split, true)}}, nil
	case "Digits":
		beh := behaviorContiguous
		if c.IndividualDigits {
			beh = behaviorIsolated
		}
		return []preTokenizer{charSplitPre{f: isNumber, behavior: beh}}, nil
	case "Punctuation":
		beh, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{charSplitPre{f: isPunct, behavior: beh}}, nil
	case "Whitespace":
		return []preTokenizer{whitespacePre{}}, nil
	case "WhitespaceSplit":
		return []preTokenizer{charSplitPre{f: isSpace, behavior: behaviorRemoved}}, nil
	case "CharDelimiterSplit":
		d, err := singleRune(&c.Delimiter, 0, "delimiter")
		if err != nil {
			return nil, err
		}
		return []preTokenizer{charSplitPre{f: func(r rune) bool { return r == d }, behavior: behaviorRemoved}}, nil
	case "BertPreTokenizer":
		return []preTokenizer{bertPre{}}, nil
	}
	return nil, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, c.Type)
}

func parseDecoder(b json.RawMessage, bl *byteLevel, depth int) (decoder, error) {
	c, err := parseComponent(b, depth, "decoder")
	if err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq decSeq
		for _, x := range c.Decoders {
			d, err := parseDecoder(x, bl, depth+1)
			if err != nil {
				return nil, err
			}
			seq = append(seq, d)
		}
		if len(seq) == 1 {
			return seq[0], nil
		}
		return seq, nil
	case "ByteLevel":
		return byteLevelDec{bl}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Strip":
		r, err := singleRune(c.Content, ' ', "Strip content")
		if err != nil {
			return nil, err
		}
		if c.Start < 0 || c.Stop < 0 {
			return nil, fmt.Errorf("%w: Strip decoder with negative counts", ErrInvalid)
		}
		return stripDec{content: r, start: c.Start, stop: c.Stop}, nil
	case "Replace":
		lit, re, err := c.pattern("decoder")
		if err != nil {
			return nil, err
		}
		if c.Content == nil {
			return nil, fmt.Errorf("%w: Replace decoder has no content", ErrInvalid)
		}
		return replaceDec{replace{lit: lit, re: re, content: *c.Content}}, nil
	case "Metaspace":
		r, err := singleRune(c.Replacement, '▁', "Metaspace replacement")
		if err != nil {
			return nil, err
		}
		sc, err := parsePrependScheme(c)
		if err != nil {
			return nil, err
		}
		return metaspaceDec{repl: r, scheme: sc}, nil
	case "WordPiece":
		p := "##"
		if c.Prefix != nil {
			p = *c.Prefix
		}
		return wordPieceDec{prefix: p, cleanup: boolOr(c.Cleanup, true)}, nil
	case "BPEDecoder":
		s := "</w>"
		if c.Suffix != nil {
			s = *c.Suffix
		}
		return bpeDec{suffix: s}, nil
	}
	return nil, fmt.Errorf("%w: decoder %q", ErrUnsupported, c.Type)
}

func parsePost(b json.RawMessage, depth int) (postProcessor, error) {
	c, err := parseComponent(b, depth, "post_processor")
	if err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq postSeq
		for _, x := range c.Processors {
			p, err := parsePost(x, depth+1)
			if err != nil {
				return nil, err
			}
			seq = append(seq, p)
		}
		return seq, nil
	case "ByteLevel":
		return noopPost{}, nil
	case "TemplateProcessing":
		var t templatePost
		seen := false
		for _, item := range c.Single {
			if raw, ok := item["SpecialToken"]; ok {
				var st struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(raw, &st); err != nil {
					return nil, fmt.Errorf("%w: TemplateProcessing: %v", ErrInvalid, err)
				}
				sp, ok := c.SpecialTokens[st.ID]
				if !ok {
					return nil, fmt.Errorf("%w: TemplateProcessing uses undefined special token %q", ErrInvalid, st.ID)
				}
				if seen {
					t.after = append(t.after, sp.IDs...)
				} else {
					t.before = append(t.before, sp.IDs...)
				}
				continue
			}
			if _, ok := item["Sequence"]; ok {
				if seen {
					return nil, fmt.Errorf("%w: TemplateProcessing single template has two sequences", ErrInvalid)
				}
				seen = true
				continue
			}
			return nil, fmt.Errorf("%w: TemplateProcessing item %v", ErrInvalid, item)
		}
		return t, nil
	case "BertProcessing", "RobertaProcessing":
		cls, err := pairID(c.Cls)
		if err != nil {
			return nil, err
		}
		sep, err := pairID(c.Sep)
		if err != nil {
			return nil, err
		}
		return templatePost{before: []int32{cls}, after: []int32{sep}}, nil
	}
	return nil, fmt.Errorf("%w: post-processor %q", ErrUnsupported, c.Type)
}

// pairID reads a ["token", id] pair.
func pairID(p []json.RawMessage) (int32, error) {
	if len(p) != 2 {
		return 0, fmt.Errorf("%w: expected [token, id]", ErrInvalid)
	}
	var id int32
	if err := json.Unmarshal(p[1], &id); err != nil {
		return 0, fmt.Errorf("%w: [token, id]: %v", ErrInvalid, err)
	}
	return id, nil
}
