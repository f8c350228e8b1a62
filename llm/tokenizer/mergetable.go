package tokenizer

import "math/bits"

// mergeTable maps a token pair to its merge (rank and result id): an
// open-addressing hash table, faster than a Go map for this hot lookup.
type mergeTable struct {
	slots []mergeSlot
	shift uint
}

type mergeSlot struct {
	key      uint64 // pairKey; emptyPair when free
	rank, id int32
}

const emptyPair = ^uint64(0)

func newMergeTable(n int) *mergeTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	t := &mergeTable{slots: make([]mergeSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for i := range t.slots {
		t.slots[i].key = emptyPair
	}
	return t
}

func (t *mergeTable) index(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> t.shift }

// put inserts or overwrites (a later duplicate merge wins, as in HF).
func (t *mergeTable) put(k uint64, m bpeMerge) {
	mask := uint64(len(t.slots) - 1)
	for i := t.index(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == k || s.key == emptyPair {
			*s = mergeSlot{key: k, rank: m.rank, id: m.id}
			return
		}
	}
}

func (t *mergeTable) get(k uint64) (bpeMerge, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := t.index(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == k {
			return bpeMerge{s.rank, s.id}, true
		}
		if s.key == emptyPair {
			return bpeMerge{}, false
		}
	}
}
