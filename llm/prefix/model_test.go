package prefix

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sightline/sightline/llm/input"
)

// The randomized tests drive a Radix the way the engine does (match, lock,
// retain, allocate, insert, unlock, release, evict) against a reference
// model and a refcounted fake pool, and check after every operation:
//   - matches and insert dups equal the model's longest page-aligned prefix;
//   - pages of locked handles are never evicted, evictions are LRU;
//   - every page the cache took is freed exactly once by Evict/Reset and the
//     pool ends empty (no leak, no double free).

// chooser is the source of decisions: a PRNG or fuzz bytes.
type chooser interface{ IntN(n int) int }

// byteChooser reads decisions from fuzz input; when it runs out it answers 0.
type byteChooser struct{ b []byte }

func (c *byteChooser) IntN(n int) int {
	if len(c.b) == 0 || n <= 1 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	if n > 256 {
		v = v<<8 | c.IntN(256)
	}
	return v % n
}

func (c *byteChooser) done() bool { return len(c.b) == 0 }

// fakePool is a refcounted page pool that fails the test on misuse.
type fakePool struct {
	tb   testing.TB
	refs map[int32]int
	next int32
}

func (p *fakePool) alloc(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = p.next
		p.refs[p.next] = 1
		p.next++
	}
	return out
}

func (p *fakePool) retain(pages []int32) {
	for _, pg := range pages {
		if p.refs[pg] <= 0 {
			p.tb.Fatalf("retain of free page %d", pg)
		}
		p.refs[pg]++
	}
}

func (p *fakePool) release(pages []int32) {
	for _, pg := range pages {
		if p.refs[pg] <= 0 {
			p.tb.Fatalf("double free of page %d", pg)
		}
		if p.refs[pg]--; p.refs[pg] == 0 {
			delete(p.refs, pg)
		}
	}
}

// request is a running sequence: its keys, its pages (one pool reference
// each) and the handle it holds locked, if any.
type request struct {
	keys   []uint32
	pages  []int32
	h      Handle
	locked bool
}

type harness struct {
	tb      testing.TB
	c       *Radix
	ps      int
	ch      chooser
	pool    fakePool
	model   map[string]int32 // keys[:(i+1)·ps] → page id of cached page i
	inCache map[int32]bool   // pages the cache took and has not freed
	running []*request
	history [][]uint32 // earlier prompts, for shared prefixes
	stats   struct{ hits, mediaHits, dups, taken, evicted, relocks int }
}

func newHarness(tb testing.TB, ps int, ch chooser) *harness {
	c, err := NewRadix(ps)
	if err != nil {
		tb.Fatal(err)
	}
	return &harness{
		tb: tb, c: c, ps: ps, ch: ch,
		pool:    fakePool{tb: tb, refs: map[int32]int{}},
		model:   map[string]int32{},
		inCache: map[int32]bool{},
	}
}

func prefixKey(keys []uint32) string {
	b := make([]byte, 4*len(keys))
	for i, k := range keys {
		binary.LittleEndian.PutUint32(b[4*i:], k)
	}
	return string(b)
}

// modelMatch is the model's longest cached prefix of keys, in pages, at most
// limit keys long, with its page ids.
func (h *harness) modelMatch(keys []uint32, limit int) []int32 {
	var pages []int32
	for i := 0; (i+1)*h.ps <= min(limit, len(keys)); i++ {
		pg, ok := h.model[prefixKey(keys[:(i+1)*h.ps])]
		if !ok {
			break
		}
		pages = append(pages, pg)
	}
	return pages
}

// genKeys makes a prompt: often a prefix of an earlier one, then text tokens
// from a small alphabet and media spans (Prompt.Keys) of a few images.
func (h *harness) genKeys() []uint32 {
	var keys []uint32
	if len(h.history) > 0 && h.ch.IntN(3) > 0 {
		old := h.history[h.ch.IntN(len(h.history))]
		keys = append(keys, old[:h.ch.IntN(len(old)+1)]...)
	}
	for range h.ch.IntN(4) {
		n := 1 + h.ch.IntN(3*h.ps)
		if h.ch.IntN(3) == 0 {
			p := input.Prompt{
				Tokens: make([]int32, n),
				Spans:  []input.Span{{Start: 0, Len: n, NPos: n, Key: uint64(1+h.ch.IntN(3)) << 20}},
			}
			keys = append(keys, p.Keys()...)
			continue
		}
		for range n {
			keys = append(keys, uint32(h.ch.IntN(3)))
		}
	}
	if len(h.history) < 64 && len(keys) > 0 {
		h.history = append(h.history, keys)
	}
	return keys
}

func (h *harness) check() {
	h.tb.Helper()
	if err := h.c.Check(); err != nil {
		h.tb.Fatal(err)
	}
	e, l := h.c.Size()
	if e+l != len(h.model)*h.ps || len(h.inCache) != len(h.model) || len(h.c.owned) != len(h.model) {
		h.tb.Fatalf("size (%d, %d), model %d pages, in cache %d", e, l, len(h.model), len(h.inCache))
	}
	for _, pg := range h.model {
		if !h.inCache[pg] {
			h.tb.Fatalf("model page %d is not in the cache", pg)
		}
	}
	// Locks pin exactly the locked handles' pages: pinning more would keep
	// pages nobody needs out of eviction (the engine counts on it).
	pinned := map[int32]bool{}
	for _, r := range h.running {
		if r.locked {
			for _, pg := range r.h.Pages() {
				pinned[pg] = true
			}
		}
	}
	if l != len(pinned)*h.ps {
		h.tb.Fatalf("%d keys locked, the locked handles hold %d pages", l, len(pinned))
	}
	for _, r := range h.running {
		if !r.locked {
			continue
		}
		for i, pg := range r.h.Pages() {
			if h.model[prefixKey(r.keys[:(i+1)*h.ps])] != pg || !h.inCache[pg] {
				h.tb.Fatalf("locked page %d (position %d) was evicted", pg, i)
			}
		}
	}
}

// admit matches a new prompt, maybe locks the match, and allocates the rest.
func (h *harness) admit(keys []uint32) *request {
	limit := len(keys) - 1
	m := h.c.Match(keys, limit)
	if want := h.modelMatch(keys, limit); !slices.Equal(m.Pages(), want) || m.Len() != len(want)*h.ps {
		h.tb.Fatalf("Match(%v, %d) = %d %v, model %v", keys, limit, m.Len(), m.Pages(), want)
	}
	r := &request{keys: keys, h: m}
	if m.Len() > 0 {
		h.stats.hits++
		if slices.ContainsFunc(keys[:m.Len()], func(k uint32) bool { return k>>31 == 1 }) {
			h.stats.mediaHits++
		}
	}
	if h.ch.IntN(4) > 0 {
		if err := h.c.Lock(m); err != nil {
			h.tb.Fatal(err)
		}
		r.locked = true
	}
	r.pages = slices.Clone(m.Pages())
	h.pool.retain(r.pages)
	r.pages = append(r.pages, h.pool.alloc((len(keys)-m.Len()+h.ps-1)/h.ps)...)
	return r
}

// insert caches r.keys[:n] (n keys; pages beyond are ignored by the cache)
// and checks the result against the model. With relock, the request moves
// its lock to the inserted path (chunked-prefill style).
func (h *harness) insert(r *request, n int, relock bool) {
	keys := r.keys[:n]
	whole := min(len(r.pages), n/h.ps)
	want := h.modelMatch(keys, whole*h.ps)
	ins, err := h.c.Insert(keys, r.pages)
	if err != nil {
		h.tb.Fatalf("Insert: %v", err)
	}
	if ins.Dup != len(want) || !slices.Equal(ins.Handle.Pages()[:ins.Dup], want) ||
		!slices.Equal(ins.Taken, r.pages[ins.Dup:whole]) || ins.Handle.Len() != whole*h.ps {
		h.tb.Fatalf("Insert(%d keys, %v) = dup %d taken %v path %v; model dup %v",
			n, r.pages, ins.Dup, ins.Taken, ins.Handle.Pages(), want)
	}
	h.pool.retain(ins.Taken)
	h.stats.dups += ins.Dup
	h.stats.taken += len(ins.Taken)
	for i, pg := range ins.Taken {
		if h.inCache[pg] {
			h.tb.Fatalf("page %d taken twice", pg)
		}
		h.inCache[pg] = true
		h.model[prefixKey(keys[:(ins.Dup+i+1)*h.ps])] = pg
	}
	if relock {
		if err := h.c.Lock(ins.Handle); err != nil {
			h.tb.Fatal(err)
		}
		if r.locked {
			if err := h.c.Unlock(r.h); err != nil {
				h.tb.Fatal(err)
			}
		}
		r.h, r.locked = ins.Handle, true
		h.stats.relocks++
	}
}

func (h *harness) finish(i int) {
	r := h.running[i]
	h.running = slices.Delete(h.running, i, i+1)
	if h.ch.IntN(5) > 0 {
		h.insert(r, len(r.keys), false)
	}
	if r.locked {
		if err := h.c.Unlock(r.h); err != nil {
			h.tb.Fatal(err)
		}
	}
	h.pool.release(r.pages)
}

// freed records pages dropped by Evict/Reset and releases them.
func (h *harness) freed(pages []int32) {
	for _, pg := range pages {
		if !h.inCache[pg] {
			h.tb.Fatalf("cache freed page %d it did not hold (or twice)", pg)
		}
		delete(h.inCache, pg)
	}
	for k, pg := range h.model {
		if !h.inCache[pg] {
			delete(h.model, k)
		}
	}
	for k := range h.model { // still prefix-closed: only leaves were dropped
		if len(k) > 4*h.ps {
			if _, ok := h.model[k[:len(k)-4*h.ps]]; !ok {
				h.tb.Fatalf("eviction dropped an interior page")
			}
		}
	}
	h.pool.release(pages)
}

// nodeTimes maps each cached page to its node's last-use time.
func (h *harness) nodeTimes() map[int32]uint64 {
	out := map[int32]uint64{}
	stack := []*node{h.c.root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, pg := range n.pages {
			out[pg] = n.time
		}
		for _, c := range n.children {
			stack = append(stack, c)
		}
	}
	return out
}

func (h *harness) evict(tokens int) {
	before := h.nodeTimes()
	evictable, _ := h.c.Size()
	got := h.c.Evict(tokens)
	if len(got)*h.ps < min(tokens, evictable) {
		h.tb.Fatalf("Evict(%d) freed %d pages with %d keys evictable", tokens, len(got), evictable)
	}
	var newest uint64
	for _, pg := range got {
		newest = max(newest, before[pg])
	}
	for _, leaf := range h.c.leaves {
		if leaf.time < newest {
			h.tb.Fatalf("evicted a page used at %d but kept a leaf used at %d", newest, leaf.time)
		}
	}
	h.stats.evicted += len(got)
	h.freed(got)
}

func (h *harness) step() {
	switch op := h.ch.IntN(20); {
	case op < 7: // a new request; some finish at once, others keep running
		r := h.admit(h.genKeys())
		if len(h.running) < 8 && h.ch.IntN(2) == 0 {
			h.running = append(h.running, r)
		} else {
			h.running = append(h.running, r)
			h.finish(len(h.running) - 1)
		}
	case op < 11 && len(h.running) > 0:
		h.finish(h.ch.IntN(len(h.running)))
	case op < 13 && len(h.running) > 0: // cache a computed chunk, move the lock
		r := h.running[h.ch.IntN(len(h.running))]
		h.insert(r, h.ch.IntN(len(r.keys)+1), true)
	case op < 17:
		h.evict(h.ch.IntN(6 * h.ps))
	case op < 19: // a probe that is never locked
		keys := h.genKeys()
		limit := h.ch.IntN(len(keys) + 2)
		m := h.c.Match(keys, limit)
		if want := h.modelMatch(keys, limit); !slices.Equal(m.Pages(), want) {
			h.tb.Fatalf("probe Match = %v, model %v", m.Pages(), want)
		}
	default:
		h.freed(h.c.Reset())
		if e, _ := h.c.Size(); e != 0 {
			h.tb.Fatalf("Reset left %d evictable keys", e)
		}
	}
	h.check()
}

// drain finishes every request, flushes the cache and checks nothing leaked.
func (h *harness) drain() {
	for len(h.running) > 0 {
		h.finish(len(h.running) - 1)
		h.check()
	}
	h.freed(h.c.Reset())
	h.check()
	if len(h.model) != 0 || len(h.inCache) != 0 || len(h.pool.refs) != 0 {
		h.tb.Fatalf("after drain: %d model pages, %d in cache, %d pool pages referenced",
			len(h.model), len(h.inCache), len(h.pool.refs))
	}
	if e, l := h.c.Size(); e != 0 || l != 0 {
		h.tb.Fatalf("after drain: size (%d, %d)", e, l)
	}
}

func TestRandomAgainstModel(t *testing.T) {
	for _, ps := range []int{1, 2, 4} {
		var total struct{ hits, mediaHits, dups, taken, evicted, relocks int }
		for seed := range uint64(20) {
			h := newHarness(t, ps, rand.New(rand.NewPCG(seed, uint64(ps))))
			for range 400 {
				h.step()
			}
			h.drain()
			s := h.stats
			total.hits += s.hits
			total.mediaHits += s.mediaHits
			total.dups += s.dups
			total.taken += s.taken
			total.evicted += s.evicted
			total.relocks += s.relocks
		}
		// The generator must reach the interesting cases.
		if s := total; s.hits < 100 || s.mediaHits < 10 || s.dups < 100 || s.evicted < 100 || s.relocks < 100 {
			t.Fatalf("page size %d: weak runs %+v", ps, s)
		}
		t.Logf("page size %d: %+v", ps, total)
	}
}

func FuzzOps(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0, 2, 1, 1, 1, 0, 3, 12, 2, 0, 0, 1})
	f.Add([]byte("\x02\x00\x01\x02\x00\x01\x05\x03\x00\x02\x00\x10\x0f\x13\x00\x01\x02\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 4096 {
			return
		}
		ch := &byteChooser{b: data[1:]}
		h := newHarness(t, 1+int(data[0])%4, ch)
		for !ch.done() {
			h.step()
		}
		h.drain()
	})
}
