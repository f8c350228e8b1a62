package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// piece is a pre-token in progress. start reports that it begins at offset 0
// of the original input (Metaspace's "first" prepend scheme needs it).
type piece struct {
	s     string
	start bool
}

// preTokenizer splits (and may rewrite) one piece, appending the results.
type preTokenizer interface {
	split(dst []piece, p piece) []piece
}

// splitBehavior is HF's SplitDelimiterBehavior.
type splitBehavior int

const (
	behaviorRemoved splitBehavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

// span is one [start, end) region of a piece and whether the pattern matched it.
type span struct {
	start, end int
	match      bool
}

// regexSpans lists matches and the gaps between them (HF Pattern::find_matches).
func regexSpans(s string, re *regex, invert bool, dst []span) []span {
	prev := 0
	re.each(s, func(st, en int) {
		if prev != st {
			dst = append(dst, span{prev, st, invert})
		}
		dst = append(dst, span{st, en, !invert})
		prev = en
	})
	if prev != len(s) {
		dst = append(dst, span{prev, len(s), invert})
	}
	return dst
}

// literalSpans is regexSpans for a literal pattern.
func literalSpans(s, lit string, invert bool, dst []span) []span {
	if lit == "" {
		return append(dst, span{0, len(s), invert})
	}
	prev := 0
	for i := 0; i <= len(s)-len(lit); {
		k := strings.Index(s[i:], lit)
		if k < 0 {
			break
		}
		st := i + k
		if prev != st {
			dst = append(dst, span{prev, st, invert})
		}
		dst = append(dst, span{st, st + len(lit), !invert})
		prev = st + len(lit)
		i = prev
	}
	if prev != len(s) {
		dst = append(dst, span{prev, len(s), invert})
	}
	return dst
}

// charSpans marks every rune satisfying f as its own match.
func charSpans(s string, f func(rune) bool, dst []span) []span {
	last := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if f(r) {
			if last < i {
				dst = append(dst, span{last, i, false})
			}
			dst = append(dst, span{i, i + n, true})
			last = i + n
		}
		i += n
	}
	if last < len(s) {
		dst = append(dst, span{last, len(s), false})
	}
	return dst
}

// applyBehavior turns spans into pieces the way NormalizedString::split does.
func applyBehavior(dst []piece, p piece, spans []span, b splitBehavior) []piece {
	type rng struct{ st, en int }
	var out []rng
	switch b {
	case behaviorIsolated:
		for _, sp := range spans {
			out = append(out, rng{sp.start, sp.end})
		}
	case behaviorRemoved:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, rng{sp.start, sp.end})
			}
		}
	case behaviorContiguous:
		prevMatch := false
		for _, sp := range spans {
			if sp.match == prevMatch && len(out) > 0 {
				out[len(out)-1].en = sp.end
			} else {
				out = append(out, rng{sp.start, sp.end})
			}
			prevMatch = sp.match
		}
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].en = sp.end
			} else {
				out = append(out, rng{sp.start, sp.end})
			}
			prevMatch = sp.match
		}
	case behaviorMergedWithNext:
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].st = sp.start
			} else {
				out = append(out, rng{sp.start, sp.end})
			}
			prevMatch = sp.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	for _, r := range out {
		if r.en > r.st {
			dst = append(dst, piece{s: p.s[r.st:r.en], start: p.start && r.st == 0})
		}
	}
	return dst
}

type preSeq []preTokenizer

func (q preSeq) split(dst []piece, p piece) []piece {
	cur := []piece{p}
	for _, t := range q {
		var next []piece
		for _, c := range cur {
			next = t.split(next, c)
		}
		cur = next
	}
	return append(dst, cur...)
}

// splitPre is HF's Split pre-tokenizer.
type splitPre struct {
	lit      string
	re       *regex // nil for a literal pattern
	behavior splitBehavior
	invert   bool
}

func (t splitPre) split(dst []piece, p piece) []piece {
	if p.s == "" {
		return dst
	}
	var spans []span
	if t.re != nil {
		spans = regexSpans(p.s, t.re, t.invert, nil)
	} else {
		spans = literalSpans(p.s, t.lit, t.invert, nil)
	}
	return applyBehavior(dst, p, spans, t.behavior)
}

// byteLevelPre is HF's ByteLevel pre-tokenizer. With raw set the final
// byte→alphabet mapping is skipped (the BPE model then works on raw bytes).
type byteLevelPre struct {
	addPrefixSpace bool
	re             *regex // GPT-2 pattern when use_regex, else nil
	bl             *byteLevel
	raw            bool
}

func (t byteLevelPre) split(dst []piece, p piece) []piece {
	if p.s == "" {
		return dst
	}
	if t.addPrefixSpace && !strings.HasPrefix(p.s, " ") {
		p.s = " " + p.s
	}
	n := len(dst)
	if t.re != nil {
		dst = applyBehavior(dst, p, regexSpans(p.s, t.re, false, nil), behaviorIsolated)
	} else {
		dst = append(dst, p)
	}
	if !t.raw {
		for i := n; i < len(dst); i++ {
			dst[i].s = t.bl.encode(dst[i].s)
		}
	}
	return dst
}

// metaspacePre is HF's Metaspace pre-tokenizer.
type metaspacePre struct {
	repl    string
	scheme  prependScheme
	splitOn bool
}

type prependScheme int

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

func (t metaspacePre) split(dst []piece, p piece) []piece {
	if p.s == "" {
		return dst
	}
	s := strings.ReplaceAll(p.s, " ", t.repl)
	switch t.scheme {
	case prependAlways:
		if !strings.HasPrefix(s, t.repl) {
			s = t.repl + s
		}
	case prependFirst:
		if !strings.HasPrefix(s, t.repl) && p.start {
			s = t.repl + s
		}
	}
	q := piece{s: s, start: p.start}
	if !t.splitOn {
		return append(dst, q)
	}
	return applyBehavior(dst, q, literalSpans(s, t.repl, false, nil), behaviorMergedWithNext)
}

// charSplitPre covers Digits, Punctuation, WhitespaceSplit and CharDelimiterSplit.
type charSplitPre struct {
	f        func(rune) bool
	behavior splitBehavior
}

func (t charSplitPre) split(dst []piece, p piece) []piece {
	if p.s == "" {
		return dst
	}
	return applyBehavior(dst, p, charSpans(p.s, t.f, nil), t.behavior)
}

// whitespacePre is HF's Whitespace: keep the runs of \w+|[^\w\s]+.
type whitespacePre struct{}

func (whitespacePre) split(dst []piece, p piece) []piece {
	s := p.s
	for i := 0; i < len(s); {
		r, n := runeAt(s, i)
		var j int
		switch {
		case isWord(r):
			j = spanWhile(s, i, isWord)
		case !isSpace(r):
			j = spanWhile(s, i, func(r rune) bool { return !isWord(r) && !isSpace(r) })
		default:
			i += n
			continue
		}
		dst = append(dst, piece{s: s[i:j], start: p.start && i == 0})
		i = j
	}
	return dst
}

func spanWhile(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if !f(r) {
			break
		}
		i += n
	}
	return i
}

// bertPre is HF's BertPreTokenizer: drop whitespace, isolate punctuation.
type bertPre struct{}

func (bertPre) split(dst []piece, p piece) []piece {
	var tmp []piece
	tmp = charSplitPre{f: isSpace, behavior: behaviorRemoved}.split(tmp, p)
	for _, q := range tmp {
		dst = charSplitPre{f: isPunct, behavior: behaviorIsolated}.split(dst, q)
	}
	return dst
}
