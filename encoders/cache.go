package encoders

import (
	"container/list"
	"sync"

	"github.com/sightline/sightline/llm/tensor"
)

// Cache is a byte-budgeted LRU of embeddings keyed by media content key
// (SGLang's multimodal embedding cache). A nil *Cache caches nothing. Safe
// for concurrent use.
type Cache struct {
	mu     sync.Mutex
	budget int
	used   int
	order  *list.List // front = most recent; values are *entry
	byKey  map[uint64]*list.Element
	hits   int
	misses int
}

type entry struct {
	key uint64
	t   *tensor.Tensor
}

// NewCache returns a cache holding at most budget bytes of embeddings.
func NewCache(budget int) *Cache {
	return &Cache{budget: budget, order: list.New(), byKey: map[uint64]*list.Element{}}
}

// Get returns the embeddings for key if cached with rows rows.
func (c *Cache) Get(key uint64, rows int) (*tensor.Tensor, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok || el.Value.(*entry).t.Rows() != rows {
		c.misses++
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(el)
	return el.Value.(*entry).t, true
}

// Put stores t under key, evicting least recently used entries to fit.
func (c *Cache) Put(key uint64, t *tensor.Tensor) {
	if c == nil {
		return
	}
	size := len(t.Data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.budget {
		return
	}
	if el, ok := c.byKey[key]; ok {
		c.used -= len(el.Value.(*entry).t.Data)
		c.order.Remove(el)
		delete(c.byKey, key)
	}
	for c.used+size > c.budget {
		last := c.order.Back()
		e := last.Value.(*entry)
		c.used -= len(e.t.Data)
		c.order.Remove(last)
		delete(c.byKey, e.key)
	}
	c.byKey[key] = c.order.PushFront(&entry{key: key, t: t})
	c.used += size
}

// Flush drops every entry.
func (c *Cache) Flush() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	c.byKey = map[uint64]*list.Element{}
	c.used = 0
}

// Stats reports hits, misses and bytes in use.
func (c *Cache) Stats() (hits, misses, bytes int) {
	if c == nil {
		return 0, 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.used
}
