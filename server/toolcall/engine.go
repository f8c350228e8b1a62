package toolcall

import (
	"strings"
	"unicode/utf8"
)

// outcome is what a syntax makes of the text at a candidate position.
type outcome int

const (
	needMore outcome = iota // undecided until more text (or the end) arrives
	noMatch                 // not a call: the first n bytes are content
	match                   // a call (or calls): the first n bytes are consumed
)

// state is what a syntax may know about the text before the buffer.
type state struct {
	clean     bool // all content so far is whitespace (calls may precede)
	afterCall bool // the buffer starts right after a call
	calls     int  // calls found so far
}

// syntax is one family's call format. The engine relies on two promises:
//
//   - find(s) is the earliest position at which a call could start in s or in
//     any continuation of s (a suffix of s that could grow into a marker
//     counts); it returns len(s) when there is none.
//   - try(s, false) answers needMore unless every continuation of s would get
//     the same answer; try(s, true) treats s as the whole rest of the output
//     and never answers needMore. noMatch always has n >= 1.
//
// Together they make the result independent of how the output is split.
type syntax interface {
	find(s string, st state) int
	try(s string, eof bool, st state, x *ctx) (r outcome, n int, calls []Call)
}

// ctx is what try gets besides the text: the tools, where s starts in the
// output, and a memo that spares rescanning a long call on every Feed.
type ctx struct {
	tools map[string]bool
	base  int // position of try's s in the whole output
	memo  memo
}

// engine drives a syntax over a stream.
type engine struct {
	syn syntax
	ctx ctx

	in  strings.Builder // the whole output so far
	off int             // in[:off] is decided
	lim int             // in[:lim] ends on a whole UTF-8 sequence
	ws  string          // trailing whitespace of the content, held back

	clean, afterCall, done bool
	calls                  int
	out                    []Delta
}

func (e *engine) Feed(text string) []Delta {
	if e.done {
		return nil
	}
	e.in.WriteString(text)
	e.lim = completeUTF8(e.in.String())
	e.run(false)
	return e.take()
}

func (e *engine) Flush() []Delta {
	if e.done {
		return nil
	}
	e.done = true
	e.lim = e.in.Len()
	e.run(true)
	if e.off < e.lim { // unreachable when the syntax keeps its promises
		e.content(e.in.String()[e.off:e.lim])
		e.off = e.lim
	}
	if e.calls == 0 && e.ws != "" {
		e.emit(e.ws)
	}
	e.ws = ""
	return e.take()
}

func (e *engine) take() []Delta {
	out := e.out
	e.out = nil
	return out
}

func (e *engine) st() state {
	return state{clean: e.clean, afterCall: e.afterCall, calls: e.calls}
}

func (e *engine) run(eof bool) {
	for {
		buf := e.in.String()[e.off:e.lim]
		if e.afterCall {
			t := strings.TrimLeft(buf, spaces)
			e.off += len(buf) - len(t)
			buf = t
		}
		if buf == "" {
			return
		}
		if i := e.syn.find(buf, e.st()); i > 0 {
			e.content(buf[:i])
			e.off += i
			if buf = buf[i:]; buf == "" {
				return
			}
		}
		e.ctx.base = e.off
		r, n, calls := e.syn.try(buf, eof, e.st(), &e.ctx)
		switch {
		case r == match && n > 0:
			for _, c := range calls {
				e.out = append(e.out, Delta{Call: true, Index: e.calls, Name: c.Name, Args: c.Arguments})
				e.calls++
			}
			e.off += min(n, len(buf))
			e.afterCall = true
		case r == needMore && !eof:
			return
		default: // noMatch, or a broken promise: make progress as content
			n = max(1, min(n, len(buf)))
			e.content(buf[:n])
			e.off += n
		}
	}
}

const spaces = " \t\r\n"

// content adds text outside calls, holding back its trailing whitespace.
func (e *engine) content(s string) {
	if s == "" {
		return
	}
	k := len(strings.TrimRight(s, spaces))
	if k == 0 {
		e.ws += s
		return
	}
	e.clean, e.afterCall = false, false
	e.emit(e.ws + s[:k])
	e.ws = s[k:]
}

func (e *engine) emit(s string) {
	if n := len(e.out); n > 0 && !e.out[n-1].Call {
		e.out[n-1].Content += s
		return
	}
	e.out = append(e.out, Delta{Content: s})
}

// completeUTF8 returns the length of s without an incomplete UTF-8 sequence
// at its end.
func completeUTF8(s string) int {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if utf8.FullRuneInString(s[i:]) {
				return len(s)
			}
			return i
		}
	}
	return len(s)
}

// prefix reports how s relates to the marker m: 2 when s starts with m, 1
// when s is a proper prefix of m, 0 otherwise.
func prefix(s, m string) int {
	if strings.HasPrefix(s, m) {
		return 2
	}
	if len(s) < len(m) && strings.HasPrefix(m, s) {
		return 1
	}
	return 0
}

// findMarker returns the first position of m in s, or of a suffix of s that
// is a proper prefix of m, or len(s).
func findMarker(s, m string) int {
	if i := strings.Index(s, m); i >= 0 {
		return i
	}
	for j := max(0, len(s)-len(m)+1); j < len(s); j++ {
		if strings.HasPrefix(m, s[j:]) {
			return j
		}
	}
	return len(s)
}

// skipSpace returns the index of the first non-space byte of s at or after i.
func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(spaces, s[i]) >= 0 {
		i++
	}
	return i
}

// undecided is needMore before the end and noMatch(n) at it.
func undecided(eof bool, n int) (outcome, int, []Call) {
	if eof {
		return noMatch, n, nil
	}
	return needMore, 0, nil
}
