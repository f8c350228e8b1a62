package tokenizer

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// regex finds the non-overlapping leftmost matches of a pattern. Patterns the
// known tokenizers use get a hand-written matcher (same semantics, no
// backtracking engine); everything else goes through regexp2, which supports
// the look-arounds RE2 lacks.
type regex struct {
	fast fastPattern
	re   *regexp2.Regexp
}

// regexTimeout bounds one regexp2 search so that a pathological pattern and
// input cannot hang encoding; the unsearched rest is then left unsplit.
const regexTimeout = 2 * time.Second

func compileRegex(pattern string) (*regex, error) {
	if f, ok := knownPatterns[pattern]; ok {
		return &regex{fast: f}, nil
	}
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("%w: regex %q: %v", ErrInvalid, pattern, err)
	}
	re.MatchTimeout = regexTimeout
	return &regex{re: re}, nil
}

// each calls fn with the byte span of every match, in order.
func (x *regex) each(s string, fn func(start, end int)) {
	if x.fast != nil {
		for i := 0; i < len(s); {
			st, en := x.fast.next(s, i)
			if st < 0 {
				return
			}
			fn(st, en)
			if en == st {
				en++ // the fast patterns never match empty; keep progress anyway
			}
			i = en
		}
		return
	}
	var offs []int // rune index → byte offset, nil for ASCII text
	if !isASCII(s) {
		offs = make([]int, 0, utf8.RuneCountInString(s)+1)
		for i := range s {
			offs = append(offs, i)
		}
		offs = append(offs, len(s))
	}
	pos := func(r int) int {
		if offs == nil {
			return r
		}
		return offs[r]
	}
	m, err := x.re.FindStringMatch(s)
	for err == nil && m != nil {
		fn(pos(m.Index), pos(m.Index+m.Length))
		m, err = x.re.FindNextMatch(m)
	}
}

// fastPattern returns the next match at or after byte offset from, or -1.
type fastPattern interface {
	next(s string, from int) (start, end int)
}

const (
	patGPT2     = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	patGPT2Bare = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
	patLlama3   = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patQwen2    = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// llama.cpp's spellings of the same two patterns (ASCII-only case folding).
	patLlama3CPP = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patQwen2CPP  = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// knownPatterns is an init-time, read-only table.
var knownPatterns = map[string]fastPattern{
	patGPT2:      gpt2Pattern{trailingSpace: true},
	patGPT2Bare:  gpt2Pattern{},
	patLlama3:    llama3Pattern{maxDigits: 3, foldLongS: true},
	patQwen2:     llama3Pattern{maxDigits: 1, foldLongS: true},
	patLlama3CPP: llama3Pattern{maxDigits: 3},
	patQwen2CPP:  llama3Pattern{maxDigits: 1},
}

func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < 0x80 {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// contraction returns the length of a contraction suffix ('s 't 're 've 'm
// 'll 'd, without the apostrophe) at s[i:], or 0. fold also accepts upper
// case and U+017F (ſ, which Unicode case folding maps to s).
func contraction(s string, i int, fold bool) int {
	r, n := runeAt(s, i)
	if r < 0 {
		return 0
	}
	low := func(r rune) rune {
		if fold && r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}
	c := low(r)
	if fold && r == 0x17F {
		c = 's'
	}
	switch c {
	case 's', 't', 'm', 'd':
		return n
	case 'r', 'v', 'l':
		want := rune('e')
		if c == 'l' {
			want = 'l'
		}
		r2, n2 := runeAt(s, i+n)
		if r2 >= 0 && low(r2) == want {
			return n + n2
		}
	}
	return 0
}

func spanLetters(s string, i int) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if !isLetter(r) {
			break
		}
		i += n
	}
	return i
}

func spanNumbers(s string, i, max int) int {
	for k := 0; i < len(s) && (max <= 0 || k < max); k++ {
		r, n := runeAt(s, i)
		if !isNumber(r) {
			break
		}
		i += n
	}
	return i
}

func isOtherClass(r rune) bool { return r >= 0 && class(r) == 0 }

func spanOther(s string, i int) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if !isOtherClass(r) {
			break
		}
		i += n
	}
	return i
}

// spanSpace returns the end of the whitespace run at i and the start of its
// last rune.
func spanSpace(s string, i int) (end, last int) {
	last = i
	for i < len(s) {
		r, n := runeAt(s, i)
		if !isSpace(r) {
			break
		}
		last = i
		i += n
	}
	return i, last
}

// gpt2Pattern is patGPT2 (trailingSpace) or patGPT2Bare.
type gpt2Pattern struct{ trailingSpace bool }

func (p gpt2Pattern) next(s string, from int) (int, int) {
	for i := from; i < len(s); {
		if e := p.at(s, i); e > i {
			return i, e
		}
		_, n := runeAt(s, i)
		i += n
	}
	return -1, -1
}

func (p gpt2Pattern) at(s string, i int) int {
	r0, _ := runeAt(s, i)
	if r0 == '\'' {
		if n := contraction(s, i+1, false); n > 0 {
			return i + 1 + n
		}
	}
	j := i
	r := r0
	if r0 == ' ' {
		if r1, _ := runeAt(s, i+1); r1 >= 0 && !isSpace(r1) {
			j, r = i+1, r1
		}
	}
	switch {
	case isLetter(r):
		return spanLetters(s, j)
	case isNumber(r):
		return spanNumbers(s, j, 0)
	case isOtherClass(r):
		return spanOther(s, j)
	}
	if !isSpace(r0) {
		return i
	}
	end, last := spanSpace(s, i)
	if end == len(s) {
		return end
	}
	if last > i {
		return last
	}
	if p.trailingSpace {
		return end
	}
	return i
}

// llama3Pattern is patLlama3 (maxDigits 3) / patQwen2 (maxDigits 1).
type llama3Pattern struct {
	maxDigits int
	foldLongS bool
}

func (p llama3Pattern) next(s string, from int) (int, int) {
	for i := from; i < len(s); {
		if e := p.at(s, i); e > i {
			return i, e
		}
		_, n := runeAt(s, i)
		i += n
	}
	return -1, -1
}

func (p llama3Pattern) at(s string, i int) int {
	r0, n0 := runeAt(s, i)
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r0 == '\'' {
		if n := contraction(s, i+1, true); n > 0 {
			if p.foldLongS || !hasLongS(s[i+1:i+1+n]) {
				return i + 1 + n
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isLetter(r0) {
		return spanLetters(s, i)
	}
	if r0 != '\r' && r0 != '\n' && !isNumber(r0) {
		if r1, _ := runeAt(s, i+n0); isLetter(r1) {
			return spanLetters(s, i+n0)
		}
	}
	// \p{N}{1,maxDigits}
	if isNumber(r0) {
		return spanNumbers(s, i, p.maxDigits)
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	j := i
	if r0 == ' ' {
		j = i + 1
	}
	if r, _ := runeAt(s, j); isOtherClass(r) {
		e := spanOther(s, j)
		for e < len(s) && (s[e] == '\r' || s[e] == '\n') {
			e++
		}
		return e
	}
	if !isSpace(r0) {
		return i
	}
	end, last := spanSpace(s, i)
	// \s*[\r\n]+ : up to and including the last CR/LF of the run
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	// \s+(?!\S) then \s+
	if end == len(s) {
		return end
	}
	if last > i {
		return last
	}
	return end
}

func hasLongS(s string) bool {
	for _, r := range s {
		if r == 0x17F {
			return true
		}
	}
	return false
}
