package grammar

import (
	"fmt"
	"math/bits"
)

// Matcher tracks one sequence's output against a Grammar. Not safe for
// concurrent use; different Matchers of one Grammar may run in parallel.
//
// States: while CanContinue, FillMask allows at least one token (given a
// vocabulary that can spell every byte). Done means the output so far is a
// complete match, so EOS may be sampled. Terminated (Done and not
// CanContinue) means EOS is the only possible continuation.
type Matcher struct {
	g        *Grammar
	s        sim
	ar       *arena
	front    []frame // byte-ready stacks
	complete bool
	buf      []frame
	fr       [][]frame // per-depth scratch for context-dependent checks
	live     int       // arena nodes kept by the last compaction
}

// NewMatcher starts a sequence at the beginning of the grammar.
func (g *Grammar) NewMatcher() *Matcher {
	m := &Matcher{g: g, ar: newArena()}
	m.s = sim{a: g.a, ar: m.ar}
	m.Reset()
	return m
}

// Reset returns m to the beginning of the grammar.
func (m *Matcher) Reset() {
	m.ar.nodes = m.ar.nodes[:0]
	clear(m.ar.index)
	m.live = 0
	m.front = append(m.front[:0], m.s.start(frame{m.g.rootAt, parentRoot}, m.buf)...)
	m.complete = m.s.complete
}

// Clone returns an independent copy of m in the same state (for forking a
// sequence, or trying a token without committing).
func (m *Matcher) Clone() *Matcher {
	ar := &arena{nodes: append([]frame(nil), m.ar.nodes...), index: make(map[frame]int32, len(m.ar.index))}
	for k, v := range m.ar.index {
		ar.index[k] = v
	}
	c := &Matcher{g: m.g, ar: ar, front: append([]frame(nil), m.front...), complete: m.complete, live: m.live}
	c.s = sim{a: m.g.a, ar: ar}
	return c
}

// Done reports whether the output so far is a complete match: EOS allowed.
func (m *Matcher) Done() bool { return m.complete }

// CanContinue reports whether the grammar admits more output.
func (m *Matcher) CanContinue() bool { return len(m.front) > 0 }

// Terminated reports that the output is complete and nothing may follow.
func (m *Matcher) Terminated() bool { return m.complete && len(m.front) == 0 }

// Accept advances past token tok. A token the grammar does not allow
// (including EOS and other special tokens) returns an error wrapping
// ErrRejected and leaves m unchanged.
func (m *Matcher) Accept(tok int32) error {
	b := m.g.v.TokenBytes(tok)
	if b == nil {
		return fmt.Errorf("%w: token %d has no text the grammar can match", ErrRejected, tok)
	}
	if err := m.advance(b); err != nil {
		return fmt.Errorf("%w: token %d (%q)", err, tok, b)
	}
	return nil
}

// AcceptString advances past the bytes of s (forced text, tests).
func (m *Matcher) AcceptString(s string) error {
	if s == "" {
		return nil
	}
	if err := m.advance([]byte(s)); err != nil {
		return fmt.Errorf("%w: %q", err, s)
	}
	return nil
}

func (m *Matcher) advance(b []byte) error {
	mark := len(m.ar.nodes)
	cur := append(m.buf[:0], m.front...)
	var nxt []frame
	complete := false
	for i, c := range b {
		nxt = m.s.step(cur, c, nxt)
		if m.s.overflow {
			m.ar.rollback(mark)
			return fmt.Errorf("%w: grammar too ambiguous (more than %d parse stacks)", ErrRejected, maxFrontier)
		}
		if i == len(b)-1 {
			complete = m.s.complete
		}
		cur, nxt = nxt, cur
		if len(cur) == 0 {
			if i == len(b)-1 && complete {
				break
			}
			m.ar.rollback(mark)
			return ErrRejected
		}
	}
	m.buf = m.front
	m.front = cur
	m.complete = complete
	if n := len(m.ar.nodes); n > 1<<14 && n > 2*m.live {
		m.compact()
	}
	return nil
}

// compact drops arena nodes no current stack refers to.
func (m *Matcher) compact() {
	nodes := m.ar.nodes
	live := make([]int32, len(nodes))
	for i := range live {
		live[i] = -1
	}
	for _, f := range m.front {
		for p := f.parent; p >= 0 && live[p] == -1; p = nodes[p].parent {
			live[p] = 0
		}
	}
	na := newArena()
	for i, f := range nodes {
		if live[i] < 0 {
			continue
		}
		if f.parent >= 0 {
			f.parent = live[f.parent]
		}
		live[i] = na.intern(f)
	}
	for i := range m.front {
		if p := m.front[i].parent; p >= 0 {
			m.front[i].parent = live[p]
		}
	}
	m.ar.nodes, m.ar.index = na.nodes, na.index
	m.live = len(na.nodes)
}

// FillMask writes the allowed tokens into dst (bit i of dst[i/64] is token
// i); dst must hold at least Vocab().MaskWords() words, extra words are
// cleared. EOS is never set: the caller adds it when Done. It returns
// ErrDeadEnd when no token is allowed and the output is not complete.
func (m *Matcher) FillMask(dst []uint64) error {
	v := m.g.v
	n := v.MaskWords()
	if len(dst) < n {
		return fmt.Errorf("grammar: mask has %d words, the vocabulary needs %d", len(dst), n)
	}
	clear(dst)
	mark := len(m.ar.nodes)
	for i, f := range m.front {
		dup := false
		for _, g := range m.front[:i] {
			if g.pos == f.pos {
				dup = true
				break
			}
		}
		pm := m.g.mask(f.pos)
		if !dup {
			if pm.bits != nil {
				or(dst, pm.bits)
			} else {
				for _, id := range pm.ids {
					dst[id>>6] |= 1 << (id & 63)
				}
			}
		}
		if len(pm.groups) > 0 && f.parent >= 0 {
			m.checkGroups(dst, f, pm.groups)
		}
	}
	m.ar.rollback(mark)
	if m.complete {
		return nil
	}
	for _, w := range dst[:n] {
		if w != 0 {
			return nil
		}
	}
	return ErrDeadEnd
}

func or(dst, src []uint64) {
	dst = dst[:len(src)]
	for i, w := range src {
		dst[i] |= w
	}
}

// checkGroups decides the context-dependent tokens of stack f: a group's
// tokens are allowed when its suffix (the bytes after returning from f's
// rule) is accepted by the parent's continuation. Consecutive suffixes
// share the configurations of their common prefix.
func (m *Matcher) checkGroups(dst []uint64, f frame, groups []sufGroup) {
	v := m.g.v
	if len(m.fr) < v.maxDepth+2 {
		m.fr = make([][]frame, v.maxDepth+2)
	}
	fr := m.fr
	fr[0] = m.s.start(m.ar.nodes[f.parent], fr[0])
	if len(fr[0]) == 0 {
		return
	}
	prev := ""
	valid := 0 // fr[0..valid] hold live configurations for prev's prefix
	for _, g := range groups {
		b := g.suf
		l := 0
		for l < len(prev) && l < len(b) && prev[l] == b[l] {
			l++
		}
		d := min(l, valid)
		ok := false
		for ; d < len(b); d++ {
			fr[d+1] = m.s.step(fr[d], b[d], fr[d+1])
			if m.s.overflow {
				fr[d+1] = fr[d+1][:0]
			}
			if len(fr[d+1]) == 0 {
				ok = d+1 == len(b) && m.s.complete && !m.s.overflow
				break
			}
		}
		if d == len(b) {
			ok = true
		}
		valid = d
		prev = b
		if ok {
			for _, id := range g.ids {
				dst[id>>6] |= 1 << (id & 63)
			}
		}
	}
}

// Allowed counts the set bits of a mask (diagnostics and tests).
func Allowed(mask []uint64) int {
	n := 0
	for _, w := range mask {
		n += bits.OnesCount64(w)
	}
	return n
}
