package tokenizer

import (
	"fmt"
	"strings"
	"sync"
)

// bpeModel is HF's BPE model. In raw mode (byte-level tokenizers) words are
// raw bytes rather than GPT-2 alphabet strings: vocabulary keys are stored
// decoded, which saves the per-word alphabet mapping on the hot path.
type bpeModel struct {
	vocab map[string]int32 // model-space keys; in raw mode only keys outside the alphabet
	raw   bool
	bl    *byteLevel
	// raw mode
	rawVocab map[string]int32
	byteTok  [256]int32 // id of the alphabet char of each byte, -1 if absent

	merges       *mergeTable
	unk          int32 // -1: none
	fuseUnk      bool
	byteFallback bool
	fallback     [256]int32 // ids of <0xXX>, -1 if absent
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix
	cache        *wordCache
}

type bpeMerge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeConfig is the parsed JSON model.
type bpeConfig struct {
	vocab        []vocabEntry
	merges       [][2]string
	unk          string
	hasUnk       bool
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string
	suffix       string
	// llama.cpp (GGUF) semantics: the first of duplicate merges keeps its
	// rank, and merges of unknown tokens are ignored instead of rejected.
	firstMergeWins bool
	skipBadMerges  bool
}

type vocabEntry struct {
	s  string
	id int32
}

// newBPE builds the model; raw selects raw-byte words (see bpeModel).
func newBPE(c bpeConfig, bl *byteLevel, raw bool) (*bpeModel, error) {
	m := &bpeModel{
		bl: bl, raw: raw, unk: -1, fuseUnk: c.fuseUnk, byteFallback: c.byteFallback,
		ignoreMerges: c.ignoreMerges, prefix: c.prefix, suffix: c.suffix,
		merges: newMergeTable(len(c.merges)),
		cache:  newWordCache(1 << 16),
	}
	dup := func(e vocabEntry) error {
		return fmt.Errorf("%w: token %q appears twice in the vocabulary", ErrInvalid, e.s)
	}
	if raw {
		m.rawVocab = make(map[string]int32, len(c.vocab))
		m.vocab = make(map[string]int32)
		var buf []byte
		for _, e := range c.vocab {
			var ok bool
			target := m.vocab
			key := e.s
			if buf, ok = bl.decode(buf[:0], e.s); ok {
				target, key = m.rawVocab, string(buf)
			}
			n := len(target)
			target[key] = e.id
			if len(target) == n {
				return nil, dup(e)
			}
		}
		for b := 0; b < 256; b++ {
			m.byteTok[b] = -1
			if id, ok := m.rawVocab[string([]byte{byte(b)})]; ok {
				m.byteTok[b] = id
			}
		}
	} else {
		m.vocab = make(map[string]int32, len(c.vocab))
		for _, e := range c.vocab {
			n := len(m.vocab)
			m.vocab[e.s] = e.id
			if len(m.vocab) == n {
				return nil, dup(e)
			}
		}
	}
	if c.hasUnk {
		id, ok := m.lookup(c.unk)
		if !ok {
			return nil, fmt.Errorf("%w: unk_token %q is not in the vocabulary", ErrInvalid, c.unk)
		}
		m.unk = id
	}
	for b := 0; b < 256; b++ {
		m.fallback[b] = -1
		if id, ok := m.lookup(fmt.Sprintf("<0x%02X>", b)); ok {
			m.fallback[b] = id
		}
	}
	var buf []byte
	for i, mg := range c.merges {
		a, ok1 := m.lookup(mg[0])
		b, ok2 := m.lookup(mg[1])
		if !ok1 || !ok2 {
			if c.skipBadMerges {
				continue
			}
			return nil, fmt.Errorf("%w: merge %d (%q %q) uses a token outside the vocabulary", ErrInvalid, i, mg[0], mg[1])
		}
		right := mg[1]
		if len(c.prefix) > 0 && len(right) >= len(c.prefix) && right[:len(c.prefix)] == c.prefix {
			right = right[len(c.prefix):]
		}
		var id int32
		var ok bool
		if raw {
			var okA, okB bool
			buf, okA = bl.decode(buf[:0], mg[0])
			buf, okB = bl.decode(buf, right)
			if okA && okB {
				id, ok = m.rawVocab[string(buf)]
			}
		}
		if !ok {
			id, ok = m.lookup(mg[0] + right)
		}
		if !ok {
			if c.skipBadMerges {
				continue
			}
			return nil, fmt.Errorf("%w: merge %d result %q is not in the vocabulary", ErrInvalid, i, mg[0]+right)
		}
		if c.firstMergeWins {
			if _, dup := m.merges.get(pairKey(a, b)); dup {
				continue
			}
		}
		m.merges.put(pairKey(a, b), bpeMerge{int32(i), id})
	}
	return m, nil
}

// lookup finds a model-space token.
func (m *bpeModel) lookup(s string) (int32, bool) {
	if !m.raw {
		id, ok := m.vocab[s]
		return id, ok
	}
	var arr [64]byte
	buf, ok := m.bl.decode(arr[:0], s)
	if !ok {
		id, ok := m.vocab[s]
		return id, ok
	}
	id, ok := m.rawVocab[string(buf)]
	return id, ok
}

// maxCachedWord mirrors HF: longer words are not cached.
const maxCachedWord = 256

// tokenize appends the ids of one pre-token.
func (m *bpeModel) tokenize(dst []int32, word string) []int32 {
	if word == "" {
		return dst
	}
	if m.raw && len(word) == 1 && m.byteTok[word[0]] >= 0 {
		return append(dst, m.byteTok[word[0]]) // one symbol: nothing to merge
	}
	if m.ignoreMerges {
		var id int32
		var ok bool
		if m.raw {
			id, ok = m.rawVocab[word]
		} else {
			id, ok = m.vocab[word]
		}
		if ok {
			return append(dst, id)
		}
	}
	if ids, ok := m.cache.get(word); ok {
		return append(dst, ids...)
	}
	n := len(dst)
	dst = m.mergeWord(dst, word)
	if len(word) < maxCachedWord {
		m.cache.put(word, dst[n:])
	}
	return dst
}

type bpeSymbol struct {
	id         int32
	prev, next int32
	alive      bool
}

type bpeWork struct {
	syms []bpeSymbol
	heap []bpeEntry
}

// mergeWord is HF's merge_word + Word::merge_all.
func (m *bpeModel) mergeWord(dst []int32, w string) []int32 {
	wk := m.cache.work.Get().(*bpeWork)
	defer m.cache.work.Put(wk)
	syms := wk.syms[:0]
	add := func(id int32) {
		syms = append(syms, bpeSymbol{id: id, prev: int32(len(syms)) - 1, next: int32(len(syms)) + 1, alive: true})
	}
	pendingUnk := false
	flushUnk := func() {
		if pendingUnk {
			add(m.unk)
			pendingUnk = false
		}
	}
	for i := 0; i < len(w); {
		var s string
		var n int
		var id int32 = -1
		if m.raw {
			n = 1
			id = m.byteTok[w[i]]
		} else {
			_, n = runeAt(w, i)
			if n == 0 {
				n = 1
			}
			s = w[i : i+n]
			if m.prefix != "" && i > 0 {
				s = m.prefix + s
			}
			if m.suffix != "" && i+n == len(w) {
				s += m.suffix
			}
			if v, ok := m.vocab[s]; ok {
				id = v
			}
		}
		if id >= 0 {
			flushUnk()
			add(id)
			i += n
			continue
		}
		if m.byteFallback {
			if m.raw {
				s = string(m.bl.char[w[i]])
			}
			ok := true
			for k := 0; k < len(s); k++ {
				if m.fallback[s[k]] < 0 {
					ok = false
					break
				}
			}
			if ok {
				for k := 0; k < len(s); k++ {
					add(m.fallback[s[k]])
				}
				i += n
				continue
			}
		}
		if m.unk >= 0 {
			if pendingUnk && !m.fuseUnk {
				add(m.unk)
			}
			pendingUnk = true
		}
		i += n
	}
	flushUnk()
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	// merge_all: a min-heap of candidate merges ordered by (rank, pos). An
	// entry is stale unless the pair now at pos still has the ids it was
	// made from, which is HF's "same new id" test.
	h := wk.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if mg, ok := m.merges.get(pairKey(syms[i].id, syms[i+1].id)); ok {
			h = append(h, bpeEntry{uint64(mg.rank)<<32 | uint64(i), syms[i].id, syms[i+1].id, mg.id})
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for len(h) > 0 {
		top := h[0]
		h[0] = h[len(h)-1]
		h = h[:len(h)-1]
		siftDown(h, 0)
		pos := int32(uint32(top.key))
		cur := &syms[pos]
		if !cur.alive || cur.next < 0 || cur.id != top.left {
			continue
		}
		right := &syms[cur.next]
		if right.id != top.right {
			continue
		}
		cur.id = top.id
		right.alive = false
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = pos
		}
		if cur.prev >= 0 {
			p := syms[cur.prev].id
			if mg, ok := m.merges.get(pairKey(p, cur.id)); ok {
				h = heapPush(h, bpeEntry{uint64(mg.rank)<<32 | uint64(cur.prev), p, cur.id, mg.id})
			}
		}
		if cur.next >= 0 {
			n := syms[cur.next].id
			if mg, ok := m.merges.get(pairKey(cur.id, n)); ok {
				h = heapPush(h, bpeEntry{uint64(mg.rank)<<32 | uint64(pos), cur.id, n, mg.id})
			}
		}
	}
	for i := range syms {
		if syms[i].alive {
			dst = append(dst, syms[i].id)
		}
	}
	wk.syms, wk.heap = syms, h
	return dst
}

// bpeEntry is a candidate merge; key is rank<<32 | position.
type bpeEntry struct {
	key             uint64
	left, right, id int32
}

func heapPush(h []bpeEntry, e bpeEntry) []bpeEntry {
	h = append(h, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[i].key >= h[p].key {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func siftDown(h []bpeEntry, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && h[r].key < h[l].key {
			c = r
		}
		if h[c].key >= h[i].key {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// wordCache maps words to their ids; bounded, sharded for concurrent use.
type wordCache struct {
	perShard int
	shards   [32]cacheShard
	work     sync.Pool // *bpeWork scratch
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
}

func newWordCache(capacity int) *wordCache {
	c := &wordCache{perShard: capacity / 32}
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32)
	}
	c.work.New = func() any { return &bpeWork{} }
	return c
}

// shard picks a shard from a cheap mix of the word (the map hashes again).
func (c *wordCache) shard(w string) *cacheShard {
	h := uint(len(w))*0x9E37 + uint(w[0])*31 + uint(w[len(w)-1])*131 + uint(w[len(w)/2])
	return &c.shards[h&31]
}

func (c *wordCache) get(w string) ([]int32, bool) {
	sh := c.shard(w)
	sh.mu.RLock()
	ids, ok := sh.m[w]
	sh.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	sh := c.shard(w)
	sh.mu.Lock()
	if len(sh.m) < c.perShard {
		sh.m[strings.Clone(w)] = append([]int32(nil), ids...)
	}
	sh.mu.Unlock()
}
