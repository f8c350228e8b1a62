package grammar

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/sightline/sightline/llm/tokenizer"
)

// maxTokenLen bounds the bytes of one token; longer tokens are never allowed.
const maxTokenLen = 1 << 12

// Vocab is a model vocabulary prepared for mask computation: the byte
// string of every allowed token id in a trie stored in depth-first order.
// Immutable and safe for concurrent use; build it once per tokenizer.
type Vocab struct {
	size  int      // mask length in tokens (ids ≥ size are never allowed)
	data  []byte   // token bytes, by id, concatenated
	off   []uint32 // id → data[off[id]:off[id+1]]
	valid []bool   // id can be produced by the grammar (non-empty, not excluded)

	// Trie, node 0 the root; node i > 0 has byte tb[i] at depth dep[i] and
	// its subtree is [i, end[i]). Tokens ending at node i are
	// toks[tstart[i]:tstart[i+1]]; toks is in trie (lexicographic) order.
	tb       []byte
	dep      []uint16
	end      []int32
	tstart   []int32
	toks     []int32
	maxDepth int
	all      []uint64 // bitset of valid ids
}

// NewVocab prepares a vocabulary of size ids (the model's logit count).
// tokens[id] is the byte string token id appends to the output; ids with
// nil or empty bytes, ids listed in exclude (special tokens such as EOS)
// and ids ≥ len(tokens) are never allowed by a grammar.
func NewVocab(size int, tokens [][]byte, exclude []int32) (*Vocab, error) {
	if size < 0 || size > 1<<24 {
		return nil, fmt.Errorf("grammar: vocabulary size %d out of range", size)
	}
	if len(tokens) > size {
		return nil, fmt.Errorf("grammar: %d token strings for a vocabulary of %d", len(tokens), size)
	}
	v := &Vocab{size: size, off: make([]uint32, size+1), valid: make([]bool, size)}
	ex := map[int32]bool{}
	for _, id := range exclude {
		ex[id] = true
	}
	var order []int32
	for id := range size {
		v.off[id] = uint32(len(v.data))
		if id < len(tokens) {
			b := tokens[id]
			if len(b) > 0 && len(b) <= maxTokenLen && !ex[int32(id)] {
				v.data = append(v.data, b...)
				v.valid[id] = true
				order = append(order, int32(id))
			}
		}
	}
	v.off[size] = uint32(len(v.data))
	slices.SortStableFunc(order, func(a, b int32) int { return bytes.Compare(v.bytes(a), v.bytes(b)) })

	// Build the trie in depth-first order from the sorted strings.
	v.tb = []byte{0}
	v.dep = []uint16{0}
	v.end = []int32{0}
	path := []int32{0} // path[d] = node at depth d on the current branch
	var prev []byte
	v.tstart = []int32{0}
	nodeTok := []int32{} // node of each token in order
	for _, id := range order {
		b := v.bytes(id)
		l := 0
		for l < len(prev) && l < len(b) && prev[l] == b[l] {
			l++
		}
		// Close nodes deeper than l.
		for d := len(path) - 1; d > l; d-- {
			v.end[path[d]] = int32(len(v.tb))
		}
		path = path[:l+1]
		for d := l; d < len(b); d++ {
			v.tb = append(v.tb, b[d])
			v.dep = append(v.dep, uint16(d+1))
			v.end = append(v.end, 0)
			path = append(path, int32(len(v.tb)-1))
		}
		nodeTok = append(nodeTok, path[len(path)-1])
		v.maxDepth = max(v.maxDepth, len(b))
		prev = b
	}
	for d := len(path) - 1; d >= 0; d-- {
		v.end[path[d]] = int32(len(v.tb))
	}
	n := len(v.tb)
	v.tstart = make([]int32, n+1)
	for _, nd := range nodeTok {
		v.tstart[nd+1]++
	}
	for i := range n {
		v.tstart[i+1] += v.tstart[i]
	}
	v.toks = order
	v.all = make([]uint64, (size+63)/64)
	for _, id := range order {
		v.all[id>>6] |= 1 << (id & 63)
	}
	return v, nil
}

// VocabFromTokenizer prepares tok's vocabulary with size ids (0: the
// tokenizer's own size; a model may have more logits than tokens). Special
// tokens are excluded: the engine adds EOS itself when the grammar is done.
func VocabFromTokenizer(tok *tokenizer.Tokenizer, size int) (*Vocab, error) {
	if size == 0 {
		size = tok.VocabSize()
	}
	n := min(size, tok.VocabSize())
	tokens := make([][]byte, n)
	var ex []int32
	for id := range int32(n) {
		if tok.IsSpecial(id) {
			ex = append(ex, id)
			continue
		}
		tokens[id] = tok.TokenBytes(id)
	}
	return NewVocab(size, tokens, ex)
}

// Size is the number of token ids a mask covers.
func (v *Vocab) Size() int { return v.size }

// MaskWords is the length of a mask bitset: bit i of word i/64 is token i.
func (v *Vocab) MaskWords() int { return (v.size + 63) / 64 }

// TokenBytes returns the bytes of token id, nil if the grammar never allows it.
func (v *Vocab) TokenBytes(id int32) []byte {
	if id < 0 || int(id) >= v.size || !v.valid[id] {
		return nil
	}
	return v.bytes(id)
}

func (v *Vocab) bytes(id int32) []byte { return v.data[v.off[id]:v.off[id+1]] }
