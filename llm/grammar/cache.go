package grammar

import (
	"container/list"
	"sync"
)

// Compiler compiles constraints for one vocabulary and keeps the most
// recently used compiled grammars (with their token mask caches), keyed by
// (kind, source). Safe for concurrent use; concurrent requests for the same
// key compile once.
type Compiler struct {
	v        *Vocab
	o        Options
	capacity int

	mu    sync.Mutex
	lru   *list.List // of *entry, most recent first
	items map[cacheKey]*list.Element
}

type cacheKey struct {
	kind Kind
	src  string
}

type entry struct {
	key  cacheKey
	once sync.Once
	g    *Grammar
	err  error
}

// NewCompiler returns a compiler for v that caches up to capacity grammars
// (capacity ≤ 0 means 64). Failed compilations are cached too, so a
// repeated invalid schema costs nothing.
func NewCompiler(v *Vocab, o Options, capacity int) *Compiler {
	if capacity <= 0 {
		capacity = 64
	}
	return &Compiler{v: v, o: o, capacity: capacity, lru: list.New(), items: map[cacheKey]*list.Element{}}
}

// Vocab is the vocabulary c compiles for.
func (c *Compiler) Vocab() *Vocab { return c.v }

// Compile returns the compiled grammar of (kind, source), from the cache
// when present. Errors wrap ErrInvalid.
func (c *Compiler) Compile(kind Kind, source string) (*Grammar, error) {
	k := cacheKey{kind, source}
	c.mu.Lock()
	el, ok := c.items[k]
	if ok {
		c.lru.MoveToFront(el)
	} else {
		el = c.lru.PushFront(&entry{key: k})
		c.items[k] = el
		for c.lru.Len() > c.capacity {
			last := c.lru.Back()
			c.lru.Remove(last)
			delete(c.items, last.Value.(*entry).key)
		}
	}
	e := el.Value.(*entry)
	c.mu.Unlock()
	e.once.Do(func() { e.g, e.err = Compile(c.v, kind, source, c.o) })
	return e.g, e.err
}

// Len is the number of cached entries.
func (c *Compiler) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
