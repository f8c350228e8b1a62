package prefix

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Radix is the radix-tree Cache. Children are found by their first page's
// keys (a map keyed by the page's bytes, so lookups never collide); an edge
// is compared key by key and matched in whole pages. Unlocked leaves sit in a
// min-heap by last use (a logical clock), so each eviction is O(log n).
type Radix struct {
	ps        int
	root      *node
	clock     uint64 // advanced by Match and Insert
	ids       uint64 // node ids, the LRU tie-break
	leaves    leafHeap
	owned     map[int32]struct{} // every cached page id
	evictable int                // keys in nodes with lock == 0
	locked    int                // keys in nodes with lock > 0
	scratch   []byte             // one page of keys as bytes, for lookups
}

// node is one edge of the tree: keys (a positive multiple of the page size)
// cached in pages, one id per page.
type node struct {
	parent   *node
	children map[string]*node // by first page's bytes; nil when none
	key      string           // this node's entry in parent.children
	keys     []uint32
	pages    []int32
	lock     int32 // held + Σ children's lock
	held     int32 // locks of handles ending in this node
	time     uint64
	id       uint64
	heapIdx  int // position in Radix.leaves, -1 when absent
	dead     bool
}

// NewRadix returns an empty radix cache of pageSize keys per page.
func NewRadix(pageSize int) (*Radix, error) {
	if pageSize < 1 {
		return nil, fmt.Errorf("%w: got %d", ErrPageSize, pageSize)
	}
	return &Radix{
		ps:      pageSize,
		root:    &node{heapIdx: -1},
		owned:   make(map[int32]struct{}),
		scratch: make([]byte, 4*pageSize),
	}, nil
}

// PageSize is the number of keys per page.
func (r *Radix) PageSize() int { return r.ps }

// Size returns the evictable and locked key counts.
func (r *Radix) Size() (evictable, locked int) { return r.evictable, r.locked }

// pageKey encodes one page of keys as a map key (little endian bytes).
func (r *Radix) pageKey(page []uint32) []byte {
	for i, k := range page {
		binary.LittleEndian.PutUint32(r.scratch[4*i:], k)
	}
	return r.scratch
}

// child returns n's child whose edge starts with page, or nil.
func (r *Radix) child(n *node, page []uint32) *node {
	if n.children == nil {
		return nil
	}
	return n.children[string(r.pageKey(page))]
}

// commonPages is the number of whole pages at the start of a and b that are equal.
func (r *Radix) commonPages(a, b []uint32) int {
	m := min(len(a), len(b))
	i := 0
	for i < m && a[i] == b[i] {
		i++
	}
	return i / r.ps
}

// walk follows keys (a whole number of pages) down from the root. It returns
// the deepest node reached, how many of its pages matched (less than all when
// the match ends inside it), and the matched page ids.
func (r *Radix) walk(keys []uint32) (n *node, within int, pages []int32) {
	n = r.root
	for d := 0; d < len(keys); {
		c := r.child(n, keys[d:d+r.ps])
		if c == nil {
			break
		}
		m := r.commonPages(c.keys, keys[d:])
		if pages == nil {
			pages = make([]int32, 0, len(keys)/r.ps)
		}
		pages = append(pages, c.pages[:m]...)
		d += m * r.ps
		n, within = c, m
		if m < len(c.pages) {
			break
		}
	}
	return n, within, pages
}

// touch stamps n and its ancestors with the current clock.
func (r *Radix) touch(n *node) {
	for x := n; x != r.root; x = x.parent {
		x.time = r.clock
	}
	if n.heapIdx >= 0 {
		heap.Fix(&r.leaves, n.heapIdx)
	}
}

// Match returns the longest cached page-aligned prefix of keys[:maxTokens].
func (r *Radix) Match(keys []uint32, maxTokens int) Handle {
	limit := max(0, min(len(keys), maxTokens))
	limit -= limit % r.ps
	n, within, pages := r.walk(keys[:limit])
	if len(pages) == 0 {
		return Handle{}
	}
	if n != r.root && within < len(n.pages) {
		// End the handle at a node boundary, so that locking it pins only
		// the matched pages and the rest of the node stays evictable.
		n = r.split(n, within)
	}
	r.clock++
	r.touch(n)
	return Handle{r: r, n: n, pages: pages, ps: r.ps}
}

// Insert stores keys[:n·PageSize] → pages[:n]; see Cache.
func (r *Radix) Insert(keys []uint32, pages []int32) (Inserted, error) {
	n := min(len(pages), len(keys)/r.ps)
	keys, pages = keys[:n*r.ps], pages[:n]
	at, within, path := r.walk(keys)
	dup := len(path)
	if err := r.claim(pages[dup:]); err != nil {
		return Inserted{}, err
	}
	if n == 0 {
		return Inserted{}, nil
	}
	r.clock++
	if at != r.root && within < len(at.pages) {
		// End the path at a node boundary, also when every page was cached
		// (dup == n): a handle ending inside a node would pin all of it.
		at = r.split(at, within)
	}
	if dup < n {
		at = r.addLeaf(at, keys[dup*r.ps:], pages[dup:])
		path = append(path, at.pages...)
	}
	r.touch(at)
	h := Handle{r: r, n: at, pages: path, ps: r.ps}
	return Inserted{Dup: dup, Taken: path[dup:], Handle: h}, nil
}

// claim records pages as owned, or changes nothing and reports ErrPage.
func (r *Radix) claim(pages []int32) error {
	for i, p := range pages {
		_, dupe := r.owned[p]
		if p < 0 || dupe {
			for _, q := range pages[:i] {
				delete(r.owned, q)
			}
			if p < 0 {
				return fmt.Errorf("%w: page %d is negative", ErrPage, p)
			}
			return fmt.Errorf("%w: page %d is already cached or listed twice", ErrPage, p)
		}
		r.owned[p] = struct{}{}
	}
	return nil
}

// split cuts c after its first m pages (0 < m < len(c.pages)) into a new
// parent holding that head; c keeps the tail, its children and its handles.
func (r *Radix) split(c *node, m int) *node {
	cut := m * r.ps
	r.ids++
	p := &node{
		parent:  c.parent,
		key:     c.key,
		keys:    slices.Clone(c.keys[:cut]),
		pages:   slices.Clone(c.pages[:m]),
		lock:    c.lock,
		time:    c.time,
		id:      r.ids,
		heapIdx: -1,
	}
	c.parent.children[p.key] = p
	c.keys = slices.Clone(c.keys[cut:])
	c.pages = slices.Clone(c.pages[m:])
	c.key = string(r.pageKey(c.keys[:r.ps]))
	c.parent = p
	p.children = map[string]*node{c.key: c}
	return p
}

// addLeaf adds an unlocked leaf under parent holding keys → pages (copied).
func (r *Radix) addLeaf(parent *node, keys []uint32, pages []int32) *node {
	r.ids++
	c := &node{
		parent:  parent,
		key:     string(r.pageKey(keys[:r.ps])),
		keys:    slices.Clone(keys),
		pages:   slices.Clone(pages),
		id:      r.ids,
		heapIdx: -1,
	}
	if parent.children == nil {
		parent.children = make(map[string]*node)
	}
	parent.children[c.key] = c
	if parent.heapIdx >= 0 {
		heap.Remove(&r.leaves, parent.heapIdx)
	}
	heap.Push(&r.leaves, c)
	r.evictable += len(keys)
	return c
}

// valid reports whether h may be locked or unlocked in r.
func (r *Radix) valid(h Handle) error {
	if h.r != r {
		return ErrHandle
	}
	if h.n.dead {
		return ErrStale
	}
	return nil
}

// Lock pins h's path; see Cache.
func (r *Radix) Lock(h Handle) error {
	if h.n == nil {
		return nil
	}
	if err := r.valid(h); err != nil {
		return err
	}
	h.n.held++
	for x := h.n; x != r.root; x = x.parent {
		if x.lock == 0 {
			r.evictable -= len(x.keys)
			r.locked += len(x.keys)
			if x.heapIdx >= 0 {
				heap.Remove(&r.leaves, x.heapIdx)
			}
		}
		x.lock++
	}
	return nil
}

// Unlock undoes one Lock of h.
func (r *Radix) Unlock(h Handle) error {
	if h.n == nil {
		return nil
	}
	if err := r.valid(h); err != nil {
		return err
	}
	if h.n.held == 0 {
		return ErrNotLocked
	}
	h.n.held--
	for x := h.n; x != r.root; x = x.parent {
		x.lock--
		if x.lock == 0 {
			r.locked -= len(x.keys)
			r.evictable += len(x.keys)
			if len(x.children) == 0 {
				heap.Push(&r.leaves, x)
			}
		}
	}
	return nil
}

// Evict drops LRU unlocked leaves until tokens keys' worth of pages are freed.
func (r *Radix) Evict(tokens int) (freed []int32) {
	for got := 0; got < tokens && len(r.leaves) > 0; {
		x := heap.Pop(&r.leaves).(*node)
		got += len(x.keys)
		freed = append(freed, x.pages...)
		r.drop(x)
	}
	return freed
}

// Reset drops every unlocked node; locked paths stay.
func (r *Radix) Reset() (freed []int32) { return r.Evict(math.MaxInt) }

// drop removes the unlocked leaf x (already out of the heap) from the tree.
func (r *Radix) drop(x *node) {
	p := x.parent
	delete(p.children, x.key)
	for _, pg := range x.pages {
		delete(r.owned, pg)
	}
	r.evictable -= len(x.keys)
	*x = node{dead: true, heapIdx: -1}
	if p != r.root && len(p.children) == 0 && p.lock == 0 {
		heap.Push(&r.leaves, p)
	}
}

// leafHeap orders unlocked leaves by last use, oldest first.
type leafHeap []*node

func (h leafHeap) Len() int { return len(h) }
func (h leafHeap) Less(i, j int) bool {
	if h[i].time != h[j].time {
		return h[i].time < h[j].time
	}
	return h[i].id < h[j].id
}
func (h leafHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *leafHeap) Push(x any) {
	n := x.(*node)
	n.heapIdx = len(*h)
	*h = append(*h, n)
}
func (h *leafHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	n.heapIdx = -1
	return n
}
