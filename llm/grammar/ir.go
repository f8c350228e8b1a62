package grammar

import (
	"slices"
	"unicode/utf8"
)

// kind is an IR node kind. The front ends (regex, EBNF, JSON Schema,
// structural tags) all lower to this IR: regular expressions over bytes
// with references to other rules.
type kind uint8

const (
	kEmpty  kind = iota // ε
	kNone               // ∅
	kBytes              // the literal byte string lit
	kClass              // one byte of set
	kRunes              // one code point in the sorted, disjoint ranges runes (UTF-8)
	kSeq                // kids in order
	kAlt                // any of kids
	kRepeat             // kids[0] repeated min..max times (max < 0: unbounded)
	kRef                // the rule rule
	kFrag               // the explicit byte automaton frag
)

// node is an immutable IR expression; subtrees may be shared.
type node struct {
	k        kind
	lit      []byte
	set      byteSet
	runes    []rune // pairs lo, hi
	kids     []*node
	min, max int
	rule     int
	frag     *frag
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(b byte)      { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}
func (s byteSet) empty() bool { return s[0]|s[1]|s[2]|s[3] == 0 }

// frag is an explicit automaton over bytes embedded in an expression:
// states 0..n-1, start 0, edges per state, final states. It may be
// nondeterministic.
type frag struct {
	edges [][]fragEdge
	final []bool
}

type fragEdge struct {
	lo, hi byte
	to     int32
}

var (
	empty   = &node{k: kEmpty}
	nothing = &node{k: kNone}
)

func lit(s string) *node {
	if s == "" {
		return empty
	}
	return &node{k: kBytes, lit: []byte(s)}
}

func litBytes(b []byte) *node {
	if len(b) == 0 {
		return empty
	}
	return &node{k: kBytes, lit: slices.Clone(b)}
}

func class(s byteSet) *node {
	if s.empty() {
		return nothing
	}
	return &node{k: kClass, set: s}
}

// runeClass is one code point from ranges (pairs lo, hi, any order; overlaps
// allowed). Surrogates are never produced.
func runeClass(ranges ...rune) *node {
	r := normRanges(ranges)
	if len(r) == 0 {
		return nothing
	}
	return &node{k: kRunes, runes: r}
}

func seq(kids ...*node) *node {
	var out []*node
	for _, k := range kids {
		switch k.k {
		case kEmpty:
			continue
		case kNone:
			return nothing
		case kSeq:
			out = append(out, k.kids...)
			continue
		}
		out = append(out, k)
	}
	switch len(out) {
	case 0:
		return empty
	case 1:
		return out[0]
	}
	return &node{k: kSeq, kids: out}
}

func alt(kids ...*node) *node {
	var out []*node
	for _, k := range kids {
		switch k.k {
		case kNone:
			continue
		case kAlt:
			out = append(out, k.kids...)
			continue
		}
		out = append(out, k)
	}
	switch len(out) {
	case 0:
		return nothing
	case 1:
		return out[0]
	}
	return &node{k: kAlt, kids: out}
}

func repeat(x *node, min, max int) *node {
	if max >= 0 && max < min {
		return nothing
	}
	if max == 0 || x.k == kEmpty {
		return empty
	}
	if x.k == kNone {
		if min == 0 {
			return empty
		}
		return nothing
	}
	if min == 1 && max == 1 {
		return x
	}
	return &node{k: kRepeat, kids: []*node{x}, min: min, max: max}
}

func opt(x *node) *node  { return repeat(x, 0, 1) }
func star(x *node) *node { return repeat(x, 0, -1) }
func plus(x *node) *node { return repeat(x, 1, -1) }
func ref(r int) *node    { return &node{k: kRef, rule: r} }

// normRanges sorts and merges rune ranges, clipping to valid scalar values
// (surrogates removed).
func normRanges(in []rune) []rune {
	type rg struct{ lo, hi rune }
	var rs []rg
	for i := 0; i+1 < len(in); i += 2 {
		lo, hi := in[i], in[i+1]
		if lo > hi {
			lo, hi = hi, lo
		}
		lo = max(lo, 0)
		hi = min(hi, utf8.MaxRune)
		if lo > hi {
			continue
		}
		// Split around the surrogate block.
		if lo <= 0xDFFF && hi >= 0xD800 {
			if lo < 0xD800 {
				rs = append(rs, rg{lo, 0xD7FF})
			}
			if hi > 0xDFFF {
				rs = append(rs, rg{0xE000, hi})
			}
			continue
		}
		rs = append(rs, rg{lo, hi})
	}
	slices.SortFunc(rs, func(a, b rg) int { return int(a.lo - b.lo) })
	var out []rune
	for _, r := range rs {
		if n := len(out); n > 0 && r.lo <= out[n-1]+1 {
			out[n-1] = max(out[n-1], r.hi)
			continue
		}
		out = append(out, r.lo, r.hi)
	}
	return out
}

// negateRanges is the complement of normalized ranges within the scalar values.
func negateRanges(r []rune) []rune {
	var out []rune
	next := rune(0)
	for i := 0; i+1 < len(r); i += 2 {
		if r[i] > next {
			out = append(out, next, r[i]-1)
		}
		next = r[i+1] + 1
	}
	if next <= utf8.MaxRune {
		out = append(out, next, utf8.MaxRune)
	}
	return normRanges(out)
}

// byteRange is one position of a UTF-8 sequence pattern.
type byteRange struct{ lo, hi byte }

// utf8Seqs expands the scalar range [lo, hi] (no surrogates) into byte-range
// sequences whose union is exactly the UTF-8 encodings of that range.
func utf8Seqs(lo, hi rune, emit func([]byteRange)) {
	bounds := []rune{0x7F, 0x7FF, 0xFFFF, utf8.MaxRune}
	for _, b := range bounds {
		if lo > hi {
			return
		}
		if lo <= b {
			top := min(hi, b)
			utf8Split(lo, top, emit)
			lo = top + 1
		}
	}
}

// utf8Split handles a range whose ends encode to the same length.
func utf8Split(lo, hi rune, emit func([]byteRange)) {
	n := utf8.RuneLen(lo)
	for i := 1; i < n; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				utf8Split(lo, lo|m, emit)
				utf8Split((lo|m)+1, hi, emit)
				return
			}
			if hi&m != m {
				utf8Split(lo, (hi&^m)-1, emit)
				utf8Split(hi&^m, hi, emit)
				return
			}
		}
	}
	var a, b [4]byte
	utf8.EncodeRune(a[:], lo)
	utf8.EncodeRune(b[:], hi)
	seq := make([]byteRange, n)
	for i := range n {
		seq[i] = byteRange{a[i], b[i]}
	}
	emit(seq)
}

// anyChar is any Unicode scalar value.
func anyChar() *node { return runeClass(0, utf8.MaxRune) }
