package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	id                                          int32
	content                                     string
	special, lstrip, rstrip, singleWord, normed bool
	pattern                                     string // text matched: content, or its normalized form
}

// trie matches added tokens leftmost-longest, like HF's Aho-Corasick.
type trie struct {
	nodes []trieNode
	first [256]bool
}

type trieNode struct {
	next map[byte]int32
	tok  int32 // index into the token list, -1 if not terminal
}

func newTrie() *trie { return &trie{nodes: []trieNode{{tok: -1}}} }

func (t *trie) insert(s string, tok int32) {
	if s == "" {
		return
	}
	t.first[s[0]] = true
	n := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		nx, ok := t.nodes[n].next[c]
		if !ok {
			if t.nodes[n].next == nil {
				t.nodes[n].next = make(map[byte]int32)
			}
			nx = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{tok: -1})
			t.nodes[n].next[c] = nx
		}
		n = nx
	}
	t.nodes[n].tok = tok
}

// longest returns the token of the longest key starting at s[i] and its end.
func (t *trie) longest(s string, i int) (tok int32, end int) {
	tok, end = -1, -1
	n := int32(0)
	for j := i; j < len(s); j++ {
		nx, ok := t.nodes[n].next[s[j]]
		if !ok {
			break
		}
		n = nx
		if t.nodes[n].tok >= 0 {
			tok, end = t.nodes[n].tok, j+1
		}
	}
	return tok, end
}

// find returns the leftmost-longest match at or after from.
func (t *trie) find(s string, from int) (tok int32, start, end int) {
	for i := from; i < len(s); i++ {
		if !t.first[s[i]] {
			continue
		}
		if tok, end := t.longest(s, i); tok >= 0 {
			return tok, i, end
		}
	}
	return -1, -1, -1
}

// addedVocab splits text on added tokens (HF AddedVocabulary).
type addedVocab struct {
	tokens []addedToken
	raw    *trie // tokens with normalized=false, matched on the input
	normed *trie // tokens with normalized=true, matched on normalized text
}

// segment is a run of text (tok < 0) or one matched added token.
type segment struct {
	text  string
	start int // byte offset in the string that was split
	tok   int32
}

// split is HF's find_matches on one string; skipSpecial drops matches of
// special tokens (encode_special_tokens / parse_special=false).
func (v *addedVocab) split(dst []segment, s string, t *trie, skipSpecial bool) []segment {
	if t == nil || len(t.nodes) == 1 {
		return append(dst, segment{text: s, tok: -1})
	}
	startOff := 0
	for i := 0; i < len(s); {
		k, st, en := t.find(s, i)
		if k < 0 {
			break
		}
		i = en
		tok := &v.tokens[k]
		if skipSpecial && tok.special {
			continue
		}
		if tok.singleWord {
			startOK := st == 0 || !endsWithWord(s[:st])
			stopOK := en == len(s) || !startsWithWord(s[en:])
			if !startOK || !stopOK {
				continue
			}
		}
		if tok.lstrip {
			ns := len(strings.TrimRightFunc(s[:st], isSpace))
			st = max(ns, startOff)
		}
		if tok.rstrip {
			en = len(s) - len(strings.TrimLeftFunc(s[en:], isSpace))
			i = en
		}
		if startOff < st {
			dst = append(dst, segment{text: s[startOff:st], start: startOff, tok: -1})
		}
		dst = append(dst, segment{text: s[st:en], start: st, tok: int32(k)})
		startOff = en
	}
	if startOff != len(s) {
		dst = append(dst, segment{text: s[startOff:], start: startOff, tok: -1})
	}
	return dst
}

func endsWithWord(s string) bool {
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWord(r)
}

func startsWithWord(s string) bool {
	if s == "" {
		return false
	}
	r, _ := runeAt(s, 0)
	return isWord(r)
}
