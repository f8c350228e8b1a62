package sample

import "math/bits"

// Bitset is a set of token ids, bit i of word i/64. A nil Bitset passed as
// a mask means "every token allowed"; a non-nil one allows exactly its set
// bits (ids at or beyond 64·len are not allowed).
type Bitset []uint64

// NewBitset returns an empty set able to hold ids [0, n).
func NewBitset(n int) Bitset {
	if n < 0 {
		n = 0
	}
	return make(Bitset, (n+63)/64)
}

// Set adds id; ids outside the set's range are ignored.
func (b Bitset) Set(id int32) {
	if id >= 0 && int(id>>6) < len(b) {
		b[id>>6] |= 1 << (uint(id) & 63)
	}
}

// Clear removes id.
func (b Bitset) Clear(id int32) {
	if id >= 0 && int(id>>6) < len(b) {
		b[id>>6] &^= 1 << (uint(id) & 63)
	}
}

// Has reports whether id is in the set.
func (b Bitset) Has(id int32) bool {
	return id >= 0 && int(id>>6) < len(b) && b[id>>6]&(1<<(uint(id)&63)) != 0
}

// Fill sets ids [0, n) and clears the rest.
func (b Bitset) Fill(n int) {
	b.Reset()
	for i := range b {
		switch lo := i * 64; {
		case lo+64 <= n:
			b[i] = ^uint64(0)
		case lo < n:
			b[i] = 1<<uint(n-lo) - 1
		}
	}
}

// Reset clears every id.
func (b Bitset) Reset() { clear(b) }

// Count is the number of ids in the set.
func (b Bitset) Count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}
