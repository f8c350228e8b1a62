package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Load reads a Hugging Face tokenizer directory: tokenizer.json (required),
// tokenizer_config.json, special_tokens_map.json, generation_config.json
// (eos_token_id) and chat_template.jinja / chat_template.json when present.
func Load(dir string) (*Tokenizer, error) {
	tj, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		return b, nil
	}
	var x extras
	files := []struct {
		name string
		dst  *[]byte
	}{
		{"tokenizer_config.json", &x.config},
		{"special_tokens_map.json", &x.specialMap},
		{"generation_config.json", &x.generation},
		{"chat_template.jinja", &x.jinja},
		{"chat_template.json", &x.templateJSON},
	}
	for _, f := range files {
		if *f.dst, err = read(f.name); err != nil {
			return nil, err
		}
	}
	t, err := build(tj, x)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return t, nil
}

// FromJSON builds a tokenizer from tokenizer.json and (optionally, may be
// nil) tokenizer_config.json contents.
func FromJSON(tokenizerJSON, tokenizerConfigJSON []byte) (*Tokenizer, error) {
	return build(tokenizerJSON, extras{config: tokenizerConfigJSON})
}

type extras struct {
	config, specialMap, generation, jinja, templateJSON []byte
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func build(tj []byte, x extras) (*Tokenizer, error) {
	f, err := scanTokenizerFile(tj)
	if err != nil {
		return nil, err
	}
	if !f.hasModel {
		return nil, fmt.Errorf("%w: tokenizer.json has no model", ErrInvalid)
	}
	if f.ModelType != "BPE" && !(f.ModelType == "" && f.Model.merges != nil) {
		return nil, fmt.Errorf("%w: model type %q (only BPE is implemented)", ErrUnsupported, f.ModelType)
	}
	if f.Model.vocab == nil {
		return nil, fmt.Errorf("%w: BPE model has no vocab", ErrInvalid)
	}
	var addedList []addedTokenJSON
	if !isNull(f.AddedTokens) {
		if err := json.Unmarshal(f.AddedTokens, &addedList); err != nil {
			return nil, fmt.Errorf("%w: added_tokens: %v", ErrInvalid, err)
		}
	}
	bl := newByteLevel()
	cfg := f.Model

	e := &hfEngine{}
	if !isNull(f.Normalizer) {
		if e.norm, err = parseNormalizer(f.Normalizer, bl, 0); err != nil {
			return nil, err
		}
	}
	var pres []preTokenizer
	if !isNull(f.PreTokenizer) {
		if pres, err = parsePreTokenizer(f.PreTokenizer, bl, 0); err != nil {
			return nil, err
		}
	}
	// Raw byte-level mode: the last pre-tokenizer is ByteLevel, so its
	// alphabet mapping can be folded into the model's vocabulary.
	raw := false
	if n := len(pres); n > 0 {
		if b, ok := pres[n-1].(byteLevelPre); ok && cfg.prefix == "" && cfg.suffix == "" {
			b.raw = true
			pres[n-1] = b
			raw = true
			switch {
			case n == 1 && b.re != nil && !b.addPrefixSpace:
				e.fast = b.re
			case n == 2 && b.re == nil && !b.addPrefixSpace:
				if s, ok := pres[0].(splitPre); ok && s.re != nil && s.behavior == behaviorIsolated && !s.invert {
					e.fast = s.re
				}
			}
		}
	}
	switch len(pres) {
	case 0:
	case 1:
		e.pre = pres[0]
	default:
		e.pre = preSeq(pres)
	}
	if e.model, err = newBPE(cfg, bl, raw); err != nil {
		return nil, err
	}
	if !isNull(f.Decoder) {
		if e.dec, err = parseDecoder(f.Decoder, bl, 0); err != nil {
			return nil, err
		}
	}

	// Vocabulary: model tokens, then added tokens (which take precedence).
	maxID := int32(-1)
	for _, v := range cfg.vocab {
		maxID = max(maxID, v.id)
	}
	nextID := int32(len(cfg.vocab))
	e.added = &addedVocab{raw: newTrie(), normed: newTrie()}
	e.addedIDs = make(map[string]int32)
	specialSet := map[string]bool{}
	for _, a := range addedList {
		if a.Content == "" {
			continue
		}
		id, ok := e.addedIDs[a.Content]
		if !ok {
			if id, ok = e.model.lookup(a.Content); !ok {
				id = nextID
				nextID++
			}
		}
		normed := a.Normalized == nil || *a.Normalized
		tok := addedToken{id: id, content: a.Content, special: a.Special, lstrip: a.Lstrip, rstrip: a.Rstrip,
			singleWord: a.SingleWord, normed: normed, pattern: a.Content}
		if normed && e.norm != nil {
			tok.pattern = e.norm.normalize(a.Content)
		}
		e.addedIDs[a.Content] = id
		if a.Special {
			specialSet[a.Content] = true
		}
		idx := int32(len(e.added.tokens))
		e.added.tokens = append(e.added.tokens, tok)
		if normed {
			e.added.normed.insert(tok.pattern, idx)
		} else {
			e.added.raw.insert(tok.pattern, idx)
		}
		maxID = max(maxID, id)
	}
	// Ids index dense tables: refuse sparse id spaces that would make a tiny
	// file allocate gigabytes.
	if limit := int64(2*(len(cfg.vocab)+len(addedList))) + 1<<16; int64(maxID) >= limit {
		return nil, fmt.Errorf("%w: token id %d is far beyond the %d tokens defined", ErrInvalid, maxID, len(cfg.vocab)+len(addedList))
	}
	n := int(maxID) + 1
	t := &Tokenizer{eng: e, pieces: make([]string, n), present: make([]bool, n), special: make([]bool, n), bos: -1}
	e.decStr = make([]string, n)
	e.decOK = make([]bool, n)
	e.skip = make([]bool, n)
	e.isAdded = make([]bool, n)
	for _, v := range cfg.vocab {
		t.pieces[v.id], t.present[v.id] = v.s, true
		e.decStr[v.id], e.decOK[v.id] = v.s, true
	}
	for _, a := range e.added.tokens {
		t.pieces[a.id], t.present[a.id] = a.content, true
		e.decStr[a.id], e.decOK[a.id] = a.content, true
		if a.normed && a.pattern != a.content {
			e.decStr[a.id] = a.pattern
		}
		e.isAdded[a.id] = true
	}
	for id := range n {
		if e.decOK[id] && specialSet[e.decStr[id]] {
			e.skip[id] = true
		}
		if t.present[id] && specialSet[t.pieces[id]] {
			t.special[id] = true
		}
	}
	if _, ok := e.dec.(byteLevelDec); ok {
		e.blOnly = true
		e.decOff = make([]uint32, n+1)
		for id := range n {
			e.decOff[id] = uint32(len(e.decBytes))
			if !e.decOK[id] {
				continue
			}
			k := len(e.decBytes)
			var ok bool
			if e.decBytes, ok = bl.decode(e.decBytes, e.decStr[id]); !ok {
				e.decBytes = append(e.decBytes[:k], e.decStr[id]...)
			}
		}
		e.decOff[n] = uint32(len(e.decBytes))
	}
	if !isNull(f.PostProcessor) {
		if e.post, err = parsePost(f.PostProcessor, 0); err != nil {
			return nil, err
		}
		for _, id := range e.post.all() {
			if id < 0 || int(id) >= n || !t.present[id] {
				return nil, fmt.Errorf("%w: post-processor adds id %d, which is not in the vocabulary", ErrInvalid, id)
			}
		}
	}
	if err := t.applyConfig(x, specialSet); err != nil {
		return nil, err
	}
	if e.post != nil {
		lead := e.post.leading()
		t.addBOS = len(lead) > 0 && (t.bos < 0 || lead[0] == t.bos)
		if t.bos < 0 && len(lead) > 0 {
			t.bos = lead[0]
		}
	}
	return t, nil
}

// tokenString reads a special-token entry of tokenizer_config.json: a string,
// an AddedToken object, or null.
func tokenString(b json.RawMessage) (string, bool) {
	if isNull(b) {
		return "", false
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s, true
	}
	var o struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(b, &o) == nil && o.Content != "" {
		return o.Content, true
	}
	return "", false
}

// applyConfig reads tokenizer_config.json and friends.
func (t *Tokenizer) applyConfig(x extras, specialSet map[string]bool) error {
	var cfg map[string]json.RawMessage
	if len(x.config) > 0 {
		if err := json.Unmarshal(x.config, &cfg); err != nil {
			return fmt.Errorf("%w: tokenizer_config.json: %v", ErrInvalid, err)
		}
	}
	var smap map[string]json.RawMessage
	if len(x.specialMap) > 0 {
		if err := json.Unmarshal(x.specialMap, &smap); err != nil {
			return fmt.Errorf("%w: special_tokens_map.json: %v", ErrInvalid, err)
		}
	}
	t.strs = map[string]string{}
	for _, k := range []string{"bos_token", "eos_token", "unk_token", "pad_token"} {
		v, ok := tokenString(cfg[k])
		if !ok {
			v, ok = tokenString(smap[k])
		}
		if ok {
			t.strs[k] = v
		}
	}
	if s, ok := t.strs["bos_token"]; ok {
		if id, ok := t.TokenID(s); ok {
			t.bos = id
		}
	}
	var eos []int32
	if s, ok := t.strs["eos_token"]; ok {
		if id, ok := t.TokenID(s); ok {
			eos = append(eos, id)
		}
	}
	if len(x.generation) > 0 {
		var g struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if err := json.Unmarshal(x.generation, &g); err != nil {
			return fmt.Errorf("%w: generation_config.json: %v", ErrInvalid, err)
		}
		var one int32
		var many []int32
		if json.Unmarshal(g.EOS, &one) == nil && !isNull(g.EOS) {
			eos = append(eos, one)
		} else if json.Unmarshal(g.EOS, &many) == nil {
			eos = append(eos, many...)
		}
	}
	var named []int32
	for s := range specialSet {
		if eogNames[s] {
			if id, ok := t.TokenID(s); ok {
				named = append(named, id)
			}
		}
	}
	sort.Slice(named, func(i, j int) bool { return named[i] < named[j] })
	for _, id := range append(eos, named...) {
		if id >= 0 && int(id) < len(t.pieces) && !containsID(t.eos, id) {
			t.eos = append(t.eos, id)
		}
	}

	t.template = chatTemplateFrom(cfg["chat_template"])
	if len(x.templateJSON) > 0 {
		var tj struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
		}
		if err := json.Unmarshal(x.templateJSON, &tj); err != nil {
			return fmt.Errorf("%w: chat_template.json: %v", ErrInvalid, err)
		}
		if s := chatTemplateFrom(tj.ChatTemplate); s != "" {
			t.template = s
		}
	}
	if len(x.jinja) > 0 {
		t.template = string(x.jinja)
	}
	return nil
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// chatTemplateFrom reads a chat_template value: a string, or a list of
// {name, template} (the "default" one, else the first).
func chatTemplateFrom(b json.RawMessage) string {
	if isNull(b) {
		return ""
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if json.Unmarshal(b, &list) != nil || len(list) == 0 {
		return ""
	}
	for _, e := range list {
		if e.Name == "default" {
			return e.Template
		}
	}
	return list[0].Template
}
