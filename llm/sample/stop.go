package sample

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// RegexLookback bounds how far back (in bytes, before the newest text) a
// stop_regex match may start; this keeps each check O(lookback + delta).
const RegexLookback = 1024

// CompileStopRegex compiles a stop_regex pattern with Go's RE2 syntax, after
// rewriting Python's \Z (end of text) to \z. Python-re features RE2 lacks
// are rejected (400, wrapping ErrInvalid): lookahead/lookbehind (?= (?!
// (?<= (?<!, backreferences \1 and (?P=name), atomic groups (?>…),
// possessive quantifiers (*+ ++ ?+), conditionals (?(1)…), and the flags
// (?x) (?a) (?L). Differences that compile but behave differently: \d \w
// \s \b are ASCII-only in RE2 (Unicode in Python), and $ without (?m)
// matches only at the very end (Python also before a final newline).
func CompileStopRegex(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pyToRE2(pattern))
	if err != nil {
		return nil, invalidf("stop_regex pattern %q is not supported: %v (RE2 syntax: no lookaround, backreferences, atomic groups or possessive quantifiers)", pattern, err)
	}
	return re, nil
}

// pyToRE2 rewrites the unescaped \Z of Python to RE2's \z.
func pyToRE2(p string) string {
	if !strings.Contains(p, `\Z`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'Z' {
				b.WriteString(`\z`)
			} else {
				b.WriteByte('\\')
				b.WriteByte(p[i+1])
			}
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// StopMatch is a stop string or stop_regex found in the output text.
type StopMatch struct {
	Matched    string // the stop string, or the regex pattern as given
	Regex      bool
	Start, End int // byte range of the matched text in the output
}

// Reason is the finish reason for the match: {"type":"stop","matched":…}.
func (m StopMatch) Reason() FinishReason { return StopText(m.Matched) }

// StopChecker finds stop strings and stop_regex patterns in a sequence's
// decoded output, fed incrementally (a match may span any number of
// deltas; the prompt is never fed). The earliest-starting match wins; on a
// tie stop strings beat regexes and earlier list entries beat later ones.
// Empty stop strings are ignored.
type StopChecker struct {
	strs    []string
	maxLen  int
	res     []*regexp.Regexp
	pats    []string
	noTrim  bool
	text    strings.Builder
	checked int // bytes already fed; only matches ending after it are new
	done    bool
	match   StopMatch
}

// NewStopChecker compiles the request's stop and stop_regex lists; noTrim
// is no_stop_trim.
func NewStopChecker(stop, stopRegex []string, noTrim bool) (*StopChecker, error) {
	c := &StopChecker{noTrim: noTrim}
	for _, s := range stop {
		if s != "" {
			c.strs = append(c.strs, s)
			c.maxLen = max(c.maxLen, len(s))
		}
	}
	for _, p := range stopRegex {
		re, err := CompileStopRegex(p)
		if err != nil {
			return nil, err
		}
		c.res = append(c.res, re)
		c.pats = append(c.pats, p)
	}
	return c, nil
}

// Active reports whether there is anything to look for.
func (c *StopChecker) Active() bool { return len(c.strs) > 0 || len(c.res) > 0 }

// Feed appends newly decoded output text and reports a stop match that
// ends inside it. With armed false (fewer than min_new_tokens generated)
// the text is recorded but nothing can match; a later match may still
// begin in it. After a match, Feed ignores input and returns the match.
func (c *StopChecker) Feed(delta string, armed bool) (StopMatch, bool) {
	if c.done {
		return c.match, true
	}
	c.text.WriteString(delta)
	text := c.text.String()
	prev := c.checked
	c.checked = len(text)
	if !armed || len(text) == prev {
		return StopMatch{}, false
	}
	best := StopMatch{Start: -1}
	for _, s := range c.strs {
		from := max(0, prev-len(s)+1)
		if i := strings.Index(text[from:], s); i >= 0 {
			if st := from + i; best.Start < 0 || st < best.Start {
				best = StopMatch{Matched: s, Start: st, End: st + len(s)}
			}
		}
	}
	ws := max(0, prev-RegexLookback)
	for ws > 0 && !utf8.RuneStart(text[ws]) {
		ws--
	}
	for k, re := range c.res {
		for _, loc := range re.FindAllStringIndex(text[ws:], -1) {
			st, end := ws+loc[0], ws+loc[1]
			if end <= prev || (ws > 0 && st == ws) {
				continue // old, or possibly cut by the window
			}
			if best.Start < 0 || st < best.Start {
				best = StopMatch{Matched: c.pats[k], Regex: true, Start: st, End: end}
			}
			break
		}
	}
	if best.Start < 0 {
		return StopMatch{}, false
	}
	c.done, c.match = true, best
	return best, true
}

// Stopped returns the match once one was found.
func (c *StopChecker) Stopped() (StopMatch, bool) { return c.match, c.done }

// Text is the output text: after a match it ends before the matched text
// unless no_stop_trim (then it runs through the text fed so far).
func (c *StopChecker) Text() string {
	t := c.text.String()
	if c.done && !c.noTrim {
		return t[:c.match.Start]
	}
	return t
}

// Stable is how many leading bytes of Text() can no longer become part of
// a stop-string match: it holds back the longest suffix that is a prefix
// of a stop string. Streams that cannot retract text (incremental mode)
// may send only Text()[:Stable()]. Regexes are not held back.
func (c *StopChecker) Stable() int {
	t := c.Text()
	if c.done {
		return len(t)
	}
	hold := 0
	for _, s := range c.strs {
		for k := min(len(s)-1, len(t)); k > hold; k-- {
			if strings.HasSuffix(t, s[:k]) {
				hold = k
				break
			}
		}
	}
	return len(t) - hold
}
