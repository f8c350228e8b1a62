package grammar

import (
	"slices"
	"strings"
)

// Token mask cache (the adaptive token mask cache of XGrammar, adapted to
// our pushdown automaton). For a position p, every token is
//   - accepted: its bytes can be consumed from p without returning from
//     p's rule, so it is allowed whatever the stack below p is;
//   - rejected: every path dies inside p's rule;
//   - uncertain: some path returns from p's rule before the token ends, so
//     the stack below decides; the matcher checks these one by one.
// Positions of rules that are never called have no uncertain tokens.

// posMask is the cached classification of one position.
type posMask struct {
	ids  []int32  // accepted ids when bits is nil
	bits []uint64 // accepted ids as a bitset (many accepted)
	// Uncertain tokens, grouped by the text left after returning from the
	// rule (a token may be in several groups, one per return point); sorted
	// by suffix.
	groups []sufGroup
}

type sufGroup struct {
	suf string
	ids []int32
}

// maskCollector gathers accepted and uncertain ids during a trie walk.
type maskCollector struct {
	v      *Vocab
	follow byteSet // bytes that may follow a return
	acc    []int32
	bits   []uint64
	groups map[string][]int32
}

func (c *maskCollector) accept(node int32) {
	v := c.v
	for _, id := range v.toks[v.tstart[node]:v.tstart[node+1]] {
		if c.bits != nil {
			c.bits[id>>6] |= 1 << (id & 63)
			continue
		}
		c.acc = append(c.acc, id)
		if len(c.acc) > len(v.toks)/32+64 {
			c.bits = make([]uint64, (v.size+63)/64)
			for _, x := range c.acc {
				c.bits[x>>6] |= 1 << (x & 63)
			}
			c.acc = nil
		}
	}
}

// uncertain records the tokens of nodes [from, to), which may return from
// the rule after pops[k] bytes for any k.
func (c *maskCollector) uncertain(from, to int32, pops []int) {
	v := c.v
	if c.groups == nil {
		c.groups = map[string][]int32{}
	}
	for _, id := range v.toks[v.tstart[from]:v.tstart[to]] {
		b := v.bytes(id)
		for _, k := range pops {
			if k < len(b) && c.follow.has(b[k]) {
				c.groups[string(b[k:])] = append(c.groups[string(b[k:])], id)
			}
		}
	}
}

func (c *maskCollector) result() *posMask {
	m := &posMask{}
	if c.bits != nil {
		m.bits = c.bits
	} else {
		m.ids = c.acc
		if m.ids == nil {
			m.ids = []int32{}
		}
	}
	for suf, ids := range c.groups {
		m.groups = append(m.groups, sufGroup{suf, ids})
	}
	slices.SortFunc(m.groups, func(a, b sufGroup) int { return strings.Compare(a.suf, b.suf) })
	return m
}

// computeMask classifies every token at position p.
func computeMask(a *automaton, v *Vocab, p int32) *posMask {
	if a.rules[a.pos[p].rule].flat {
		return flatMask(a, v, p)
	}
	return pdaMask(a, v, p)
}

// flatMask walks the trie with plain DFA transitions (p's rule calls
// nothing); states are local to the rule.
func flatMask(a *automaton, v *Vocab, p int32) *posMask {
	r := a.pos[p].rule
	c := &maskCollector{v: v, follow: a.follow[r]}
	ri := &a.rules[r]
	cls := &a.cls[r]
	ncls := ri.ncls
	start := ri.start
	trans := a.trans[a.pos[start].tbase : a.pos[start].tbase+ri.n*ncls]
	final := make([]bool, ri.n)
	if ri.callable {
		for s := range final {
			final[s] = a.pos[start+int32(s)].final
		}
	}
	st := make([]int32, v.maxDepth+1)
	st[0] = p - start
	var pops []int
	n := int32(len(v.tb))
	tb, dep, end := v.tb, v.dep, v.end
	for i := int32(1); i < n; {
		d := int(dep[i])
		t := trans[st[d-1]*ncls+int32(cls[tb[i]])]
		for len(pops) > 0 && pops[len(pops)-1] >= d {
			pops = pops[:len(pops)-1]
		}
		if t < 0 {
			if len(pops) > 0 {
				c.uncertain(i, end[i], pops)
			}
			i = end[i]
			continue
		}
		t -= start
		st[d] = t
		if final[t] {
			pops = append(pops, d)
		}
		c.accept(i)
		i++
	}
	return c.result()
}

// pdaMask walks the trie with the pushdown simulation from (p, bottom).
func pdaMask(a *automaton, v *Vocab, p int32) *posMask {
	c := &maskCollector{v: v, follow: a.follow[a.pos[p].rule]}
	s := &sim{a: a, ar: newArena()}
	fr := make([][]frame, v.maxDepth+1)
	fr[0] = []frame{{p, parentBottom}}
	var pops []int
	n := int32(len(v.tb))
	for i := int32(1); i < n; {
		d := int(v.dep[i])
		for len(pops) > 0 && pops[len(pops)-1] >= d {
			pops = pops[:len(pops)-1]
		}
		prev := fr[d-1]
		if len(prev) == 1 {
			// Fast path: one stack staying inside a plain state.
			f := prev[0]
			if t := a.next(f.pos, v.tb[i]); t >= 0 && a.pos[t].plain {
				fr[d] = append(fr[d][:0], frame{t, f.parent})
				c.accept(i)
				i++
				continue
			}
		}
		fr[d] = s.step(prev, v.tb[i], fr[d])
		popped := s.popped && !s.overflow
		if len(fr[d]) == 0 || s.overflow {
			fr[d] = fr[d][:0]
			if popped {
				c.accept(i)
			} else if len(pops) > 0 {
				c.uncertain(i, i+1, pops)
			}
			if popped {
				pops = append(pops, d)
			}
			if len(pops) > 0 && i+1 < v.end[i] {
				c.uncertain(i+1, v.end[i], pops)
			}
			i = v.end[i]
			continue
		}
		if popped {
			pops = append(pops, d)
		}
		c.accept(i)
		i++
	}
	return c.result()
}
