package prefix

import (
	"container/heap"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/input"
)

// seq returns keys base, base+1, … (n of them).
func seq(base uint32, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = base + uint32(i)
	}
	return out
}

func cat(parts ...[]uint32) []uint32 { return slices.Concat(parts...) }

func newRadix(t *testing.T, ps int) *Radix {
	t.Helper()
	r, err := NewRadix(ps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func check(t *testing.T, c Cache) {
	t.Helper()
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
}

func insert(t *testing.T, c Cache, keys []uint32, pages []int32) Inserted {
	t.Helper()
	ins, err := c.Insert(keys, pages)
	if err != nil {
		t.Fatalf("Insert(%v, %v): %v", keys, pages, err)
	}
	check(t, c)
	return ins
}

func match(t *testing.T, c Cache, keys []uint32, maxTokens int) Handle {
	t.Helper()
	h := c.Match(keys, maxTokens)
	check(t, c)
	return h
}

func wantSize(t *testing.T, c Cache, evictable, locked int) {
	t.Helper()
	if e, l := c.Size(); e != evictable || l != locked {
		t.Fatalf("Size() = (%d, %d), want (%d, %d)", e, l, evictable, locked)
	}
}

func TestNewRejectsPageSize(t *testing.T) {
	for _, ps := range []int{0, -1, -100} {
		if _, err := NewRadix(ps); !errors.Is(err, ErrPageSize) {
			t.Errorf("NewRadix(%d): %v", ps, err)
		}
		if _, err := NewNone(ps); !errors.Is(err, ErrPageSize) {
			t.Errorf("NewNone(%d): %v", ps, err)
		}
	}
}

// TestPackageExample replays the example of the package doc.
func TestPackageExample(t *testing.T) {
	r := newRadix(t, 4)
	a := seq(100, 10)
	ins := insert(t, r, a, []int32{7, 3, 9})
	if ins.Dup != 0 || !slices.Equal(ins.Taken, []int32{7, 3}) || ins.Handle.Len() != 8 {
		t.Fatalf("insert A: %+v", ins)
	}
	wantSize(t, r, 8, 0)

	b := cat(seq(100, 4), seq(200, 8))
	h := match(t, r, b, len(b)-1)
	if h.Len() != 4 || !slices.Equal(h.Pages(), []int32{7}) {
		t.Fatalf("match B: len %d pages %v", h.Len(), h.Pages())
	}
	if err := r.Lock(h); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	wantSize(t, r, 4, 4) // the match split a0..a7 at its end: the lock pins a0..a3 only
	ins = insert(t, r, b, []int32{7, 5, 8})
	if ins.Dup != 1 || !slices.Equal(ins.Taken, []int32{5, 8}) ||
		!slices.Equal(ins.Handle.Pages(), []int32{7, 5, 8}) || ins.Handle.Len() != 12 {
		t.Fatalf("insert B: %+v", ins)
	}
	wantSize(t, r, 12, 4) // h pins a0..a3; a4..a7 and b4..b11 are free
	if err := r.Unlock(h); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	wantSize(t, r, 16, 0)

	if freed := r.Evict(4); !slices.Equal(freed, []int32{3}) {
		t.Fatalf("Evict(4) = %v, want [3]", freed)
	}
	check(t, r)
	wantSize(t, r, 12, 0)
	if h := match(t, r, a, len(a)); h.Len() != 4 {
		t.Fatalf("A after eviction matches %d keys", h.Len())
	}
}

func TestMatch(t *testing.T) {
	stored := [][]uint32{
		seq(0, 12),                  // pages 10 11 12
		cat(seq(0, 4), seq(50, 8)),  // shares page 10, then 13 14
		cat(seq(0, 6), seq(90, 10)), // shares page 10, then diverges inside its second page
	}
	pages := [][]int32{{10, 11, 12}, {10, 13, 14}, {10, 15, 16, 17}}
	tests := []struct {
		name  string
		keys  []uint32
		max   int
		want  int
		pages []int32
	}{
		{"empty", nil, 100, 0, nil},
		{"miss", seq(1, 12), 100, 0, nil},
		{"full", seq(0, 12), 12, 12, []int32{10, 11, 12}},
		{"capped by max", seq(0, 12), 11, 8, []int32{10, 11}},
		{"max not page aligned", seq(0, 12), 6, 4, []int32{10}},
		{"max zero", seq(0, 12), 0, 0, nil},
		{"max negative", seq(0, 12), -5, 0, nil},
		{"longer query", seq(0, 30), 29, 12, []int32{10, 11, 12}},
		{"partial last page", seq(0, 11), 100, 8, []int32{10, 11}},
		{"mismatch inside a page", cat(seq(0, 6), []uint32{77}), 100, 4, []int32{10}},
		{"second branch", cat(seq(0, 4), seq(50, 9)), 100, 12, []int32{10, 13, 14}},
		{"branch prefix inside node", cat(seq(0, 4), seq(50, 5)), 100, 8, []int32{10, 13}},
		{"third branch", cat(seq(0, 6), seq(90, 10)), 100, 16, []int32{10, 15, 16, 17}},
		{"diverge at first key", []uint32{5, 1, 2, 3}, 100, 0, nil},
	}
	r := newRadix(t, 4)
	for i := range stored {
		ins := insert(t, r, stored[i], pages[i])
		if !slices.Equal(ins.Handle.Pages(), pages[i]) {
			t.Fatalf("insert %d: handle pages %v", i, ins.Handle.Pages())
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := match(t, r, tc.keys, tc.max)
			if h.Len() != tc.want || !slices.Equal(h.Pages(), tc.pages) {
				t.Fatalf("Match = %d %v, want %d %v", h.Len(), h.Pages(), tc.want, tc.pages)
			}
		})
	}
}

func TestInsert(t *testing.T) {
	tests := []struct {
		name        string
		keys        []uint32
		pages       []int32
		dup         int
		taken, path []int32
	}{
		{"all new", seq(0, 8), []int32{1, 2}, 0, []int32{1, 2}, []int32{1, 2}},
		{"all dup, other ids", seq(0, 8), []int32{5, 6}, 2, nil, []int32{1, 2}},
		{"extends a leaf", seq(0, 12), []int32{1, 2, 3}, 2, []int32{3}, []int32{1, 2, 3}},
		{"splits a node", cat(seq(0, 4), seq(40, 4)), []int32{1, 4}, 1, []int32{4}, []int32{1, 4}},
		{"ends inside a node", seq(0, 4), []int32{9}, 1, nil, []int32{1}},
		{"pages beyond keys ignored", seq(60, 5), []int32{20, 21, 22}, 0, []int32{20}, []int32{20}},
		{"keys beyond pages ignored", seq(70, 12), []int32{23}, 0, []int32{23}, []int32{23}},
		{"too few keys for a page", seq(80, 3), []int32{24}, 0, nil, nil},
		{"no pages", seq(90, 8), nil, 0, nil, nil},
	}
	r := newRadix(t, 4)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins := insert(t, r, tc.keys, tc.pages)
			if ins.Dup != tc.dup || !slices.Equal(ins.Taken, tc.taken) || !slices.Equal(ins.Handle.Pages(), tc.path) {
				t.Fatalf("Insert = dup %d taken %v path %v, want %d %v %v",
					ins.Dup, ins.Taken, ins.Handle.Pages(), tc.dup, tc.taken, tc.path)
			}
			if ins.Handle.Len() != len(tc.path)*4 {
				t.Fatalf("handle length %d", ins.Handle.Len())
			}
		})
	}
	// Stored: 0..11 → 1 2 3 (split into [1] and [2 3]), 0..3 40..43 → [4], 60..63, 70..73.
	wantSize(t, r, 24, 0)
}

func TestInsertRejectsBadPages(t *testing.T) {
	r := newRadix(t, 2)
	insert(t, r, seq(0, 4), []int32{1, 2})
	tests := []struct {
		name  string
		keys  []uint32
		pages []int32
	}{
		{"negative", seq(10, 4), []int32{3, -1}},
		{"already cached elsewhere", seq(10, 4), []int32{3, 2}},
		{"listed twice", seq(10, 6), []int32{3, 4, 3}},
		{"cached, after a dup prefix", cat(seq(0, 2), seq(20, 2)), []int32{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Insert(tc.keys, tc.pages)
			if !errors.Is(err, ErrPage) {
				t.Fatalf("Insert(%v, %v) err = %v, want ErrPage", tc.keys, tc.pages, err)
			}
			check(t, r)
			wantSize(t, r, 4, 0)
			if h := match(t, r, tc.keys, len(tc.keys)); h.Len() > 2 {
				t.Fatalf("rejected insert is visible: matched %d", h.Len())
			}
		})
	}
	// The pages rejected above were not recorded: they can be inserted now.
	ins := insert(t, r, seq(10, 6), []int32{3, 4, 5})
	if !slices.Equal(ins.Taken, []int32{3, 4, 5}) {
		t.Fatalf("taken %v", ins.Taken)
	}
}

func TestSplitOnlyAtPageBoundaries(t *testing.T) {
	r := newRadix(t, 4)
	insert(t, r, seq(0, 16), []int32{1, 2, 3, 4})
	// Diverges at key 9 (inside page 2): only pages 0 and 1 are shared.
	ins := insert(t, r, cat(seq(0, 9), seq(100, 7)), []int32{5, 6, 7, 8})
	if ins.Dup != 2 || !slices.Equal(ins.Taken, []int32{7, 8}) {
		t.Fatalf("insert: %+v", ins)
	}
	for n := r.root; len(n.children) > 0; {
		for _, c := range n.children {
			if len(c.keys)%4 != 0 {
				t.Fatalf("edge of %d keys", len(c.keys))
			}
			n = c
		}
	}
	if len(r.root.children) != 1 {
		t.Fatalf("root has %d children", len(r.root.children))
	}
	for _, c := range r.root.children {
		if !slices.Equal(c.pages, []int32{1, 2}) || len(c.children) != 2 {
			t.Fatalf("shared node pages %v with %d children", c.pages, len(c.children))
		}
	}
}

func TestLRUEviction(t *testing.T) {
	r := newRadix(t, 2)
	a, b, c := seq(0, 4), seq(10, 4), seq(20, 4)
	insert(t, r, a, []int32{1, 2})
	insert(t, r, b, []int32{3, 4})
	insert(t, r, c, []int32{5, 6})
	match(t, r, a, 4) // a is now the most recent
	steps := []struct {
		tokens int
		freed  []int32
	}{
		{0, nil},
		{1, []int32{3, 4}},      // b: oldest; a whole leaf goes even for one token
		{4, []int32{5, 6}},      // c
		{2, []int32{1, 2}},      // a
		{10, nil},               // empty
		{-1, nil},               // nothing asked
		{1 << 30, []int32(nil)}, // still empty
	}
	for i, s := range steps {
		if got := r.Evict(s.tokens); !slices.Equal(got, s.freed) {
			t.Fatalf("step %d: Evict(%d) = %v, want %v", i, s.tokens, got, s.freed)
		}
		check(t, r)
	}
	wantSize(t, r, 0, 0)
}

func TestEvictLeavesBeforeParents(t *testing.T) {
	r := newRadix(t, 1)
	insert(t, r, []uint32{1, 2, 3}, []int32{1, 2, 3})
	insert(t, r, []uint32{1, 2, 4}, []int32{1, 2, 4}) // split after 1 2
	insert(t, r, []uint32{9}, []int32{9})
	match(t, r, []uint32{1, 2, 3}, 3)
	// Oldest leaf first: 4 (insert 2), then 9 (insert 3), then 3, then the
	// now-childless parent 1 2.
	want := [][]int32{{4}, {9}, {3}, {1, 2}}
	for i, w := range want {
		if got := r.Evict(1); !slices.Equal(got, w) {
			t.Fatalf("eviction %d = %v, want %v", i, got, w)
		}
		check(t, r)
	}
}

func TestLockProtects(t *testing.T) {
	r := newRadix(t, 2)
	insert(t, r, seq(0, 8), []int32{1, 2, 3, 4})
	insert(t, r, cat(seq(0, 4), seq(50, 4)), []int32{1, 2, 5, 6})
	h := match(t, r, seq(0, 8), 8)
	for range 2 { // locks count
		if err := r.Lock(h); err != nil {
			t.Fatal(err)
		}
		check(t, r)
	}
	wantSize(t, r, 4, 8)
	if got := r.Evict(100); !slices.Equal(got, []int32{5, 6}) {
		t.Fatalf("Evict with a lock = %v", got)
	}
	check(t, r)
	wantSize(t, r, 0, 8)
	if err := r.Unlock(h); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	if got := r.Evict(100); got != nil {
		t.Fatalf("Evict with one lock left = %v", got)
	}
	if err := r.Unlock(h); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	if err := r.Unlock(h); !errors.Is(err, ErrNotLocked) {
		t.Fatalf("third Unlock: %v", err)
	}
	check(t, r)
	wantSize(t, r, 8, 0)
	got := r.Evict(100)
	slices.Sort(got)
	if !slices.Equal(got, []int32{1, 2, 3, 4}) {
		t.Fatalf("final Evict = %v", got)
	}
	check(t, r)
}

func TestHandleErrors(t *testing.T) {
	r, other := newRadix(t, 1), newRadix(t, 1)
	insert(t, r, []uint32{1, 2}, []int32{1, 2})
	h := match(t, r, []uint32{1, 2}, 2)
	if err := other.Lock(h); !errors.Is(err, ErrHandle) {
		t.Fatalf("Lock in another cache: %v", err)
	}
	if err := other.Unlock(h); !errors.Is(err, ErrHandle) {
		t.Fatalf("Unlock in another cache: %v", err)
	}
	none, _ := NewNone(1)
	if err := none.Lock(h); !errors.Is(err, ErrHandle) {
		t.Fatalf("None.Lock of a radix handle: %v", err)
	}
	if err := r.Lock(Handle{}); err != nil {
		t.Fatalf("Lock of the zero handle: %v", err)
	}
	if err := r.Unlock(Handle{}); err != nil {
		t.Fatalf("Unlock of the zero handle: %v", err)
	}
	r.Evict(1)
	check(t, r)
	if err := r.Lock(h); !errors.Is(err, ErrStale) {
		t.Fatalf("Lock after eviction: %v", err)
	}
	if err := r.Unlock(h); !errors.Is(err, ErrStale) {
		t.Fatalf("Unlock after eviction: %v", err)
	}
	// The same path inserted again is a new node: the old handle stays stale.
	insert(t, r, []uint32{1, 2}, []int32{1, 2})
	if err := r.Lock(h); !errors.Is(err, ErrStale) {
		t.Fatalf("Lock after re-insert: %v", err)
	}
	check(t, r)
	wantSize(t, r, 2, 0)
}

// TestInsertHandlePinsOnlyItsPages: an Insert whose keys were all cached
// and end inside a node (a request that computed a prefix of a cached
// sequence) returns a handle that, locked, pins its own pages only: the rest
// of the node stays evictable, or a request holding it could never get the
// pages it needs.
func TestInsertHandlePinsOnlyItsPages(t *testing.T) {
	r := newRadix(t, 1)
	insert(t, r, seq(0, 8), []int32{1, 2, 3, 4, 5, 6, 7, 8})
	ins := insert(t, r, seq(0, 2), []int32{20, 21})
	if ins.Dup != 2 || !slices.Equal(ins.Handle.Pages(), []int32{1, 2}) {
		t.Fatalf("insert: %+v", ins)
	}
	if err := r.Lock(ins.Handle); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	wantSize(t, r, 6, 2)
	got := r.Evict(100)
	slices.Sort(got)
	if !slices.Equal(got, []int32{3, 4, 5, 6, 7, 8}) {
		t.Fatalf("Evict = %v", got)
	}
	if err := r.Unlock(ins.Handle); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	wantSize(t, r, 2, 0)
}

// A handle whose node is split later still pins (and unpins) its whole path.
func TestLockSurvivesSplit(t *testing.T) {
	r := newRadix(t, 2)
	insert(t, r, seq(0, 8), []int32{1, 2, 3, 4})
	h := match(t, r, seq(0, 8), 8)
	if err := r.Lock(h); err != nil {
		t.Fatal(err)
	}
	insert(t, r, cat(seq(0, 2), seq(30, 2)), []int32{1, 5}) // splits h's node after page 1
	insert(t, r, cat(seq(0, 4), seq(40, 2)), []int32{1, 2, 6})
	wantSize(t, r, 4, 8)
	got := r.Evict(100)
	slices.Sort(got)
	if !slices.Equal(got, []int32{5, 6}) {
		t.Fatalf("Evict = %v", got)
	}
	check(t, r)
	if err := r.Unlock(h); err != nil {
		t.Fatal(err)
	}
	check(t, r)
	wantSize(t, r, 8, 0)
}

func TestResetKeepsLockedPaths(t *testing.T) {
	r := newRadix(t, 2)
	insert(t, r, seq(0, 4), []int32{1, 2})
	insert(t, r, cat(seq(0, 2), seq(10, 4)), []int32{1, 3, 4})
	insert(t, r, seq(20, 2), []int32{5})
	h := match(t, r, cat(seq(0, 2), seq(10, 4)), 6)
	if err := r.Lock(h); err != nil {
		t.Fatal(err)
	}
	got := r.Reset()
	slices.Sort(got)
	if !slices.Equal(got, []int32{2, 5}) {
		t.Fatalf("Reset = %v", got)
	}
	check(t, r)
	wantSize(t, r, 0, 6)
	if m := match(t, r, cat(seq(0, 2), seq(10, 4)), 6); !slices.Equal(m.Pages(), []int32{1, 3, 4}) {
		t.Fatalf("locked path after Reset: %v", m.Pages())
	}
	if err := r.Unlock(h); err != nil {
		t.Fatal(err)
	}
	got = r.Reset()
	slices.Sort(got)
	if !slices.Equal(got, []int32{1, 3, 4}) {
		t.Fatalf("second Reset = %v", got)
	}
	check(t, r)
	wantSize(t, r, 0, 0)
	if len(r.owned) != 0 || len(r.leaves) != 0 || len(r.root.children) != 0 {
		t.Fatal("empty cache still holds state")
	}
}

func TestNone(t *testing.T) {
	c, err := NewNone(4)
	if err != nil {
		t.Fatal(err)
	}
	if c.PageSize() != 4 {
		t.Fatalf("page size %d", c.PageSize())
	}
	keys := seq(0, 10)
	for range 2 {
		ins, err := c.Insert(keys, []int32{1, 2, 3})
		if err != nil || ins.Dup != 2 || len(ins.Taken) != 0 || ins.Handle.Len() != 0 {
			t.Fatalf("Insert = %+v, %v", ins, err)
		}
		check(t, c)
	}
	h := c.Match(keys, 10)
	if h.Len() != 0 || h.Pages() != nil {
		t.Fatalf("Match = %d %v", h.Len(), h.Pages())
	}
	if c.Lock(h) != nil || c.Unlock(h) != nil {
		t.Fatal("zero handle rejected")
	}
	if c.Evict(100) != nil || c.Reset() != nil {
		t.Fatal("None freed pages")
	}
	wantSize(t, c, 0, 0)
}

// mediaPrompt is n text tokens t, then a media span of n rows with content
// key key, then n more tokens.
func mediaPrompt(n int, key uint64) []uint32 {
	p := input.Prompt{Tokens: make([]int32, 3*n)}
	for i := range p.Tokens {
		p.Tokens[i] = int32(i % 7)
	}
	p.Spans = []input.Span{{Start: n, Len: n, NPos: n, Key: key}}
	return p.Keys()
}

func TestMediaKeysDoNotMatchOtherMedia(t *testing.T) {
	r := newRadix(t, 4)
	a := mediaPrompt(8, 0xdeadbeef)
	insert(t, r, a, []int32{1, 2, 3, 4, 5, 6})
	for i, k := range a[8:16] {
		if k&(1<<31) == 0 {
			t.Fatalf("media key %d lacks the high bit: %#x", i, k)
		}
	}
	if h := match(t, r, a, len(a)); h.Len() != 24 {
		t.Fatalf("same image matches %d keys", h.Len())
	}
	for _, key := range []uint64{0xdeadbeee, 1<<40 | 0xdeadbeef, 1} {
		b := mediaPrompt(8, key)
		if h := match(t, r, b, len(b)); h.Len() != 8 {
			t.Fatalf("other image %#x matches %d keys, want the 8 text keys", key, h.Len())
		}
	}
	// Text tokens never collide with media keys (token ids are below 2³¹).
	txt := make([]uint32, 24)
	copy(txt, a[:8])
	for i := 8; i < 24; i++ {
		txt[i] = a[i] &^ (1 << 31)
	}
	if h := match(t, r, txt, len(txt)); h.Len() != 8 {
		t.Fatalf("text matches media keys: %d", h.Len())
	}
}

// TestCheckDetectsCorruption breaks one invariant at a time.
func TestCheckDetectsCorruption(t *testing.T) {
	build := func(t *testing.T) (r *Radix, leaf, inner *node) {
		r = newRadix(t, 2)
		insert(t, r, seq(0, 6), []int32{1, 2, 3})
		insert(t, r, cat(seq(0, 2), seq(20, 2)), []int32{1, 4})
		insert(t, r, seq(40, 2), []int32{5})
		inner = r.child(r.root, seq(0, 2))
		leaf = r.child(inner, seq(20, 2))
		if inner == nil || leaf == nil || len(r.leaves) != 3 {
			t.Fatal("unexpected tree shape")
		}
		return r, leaf, inner
	}
	tests := []struct {
		name    string
		corrupt func(r *Radix, leaf, inner *node)
		want    string
	}{
		{"page twice", func(r *Radix, leaf, inner *node) { leaf.pages[0] = 1 }, "stored twice"},
		{"page not owned", func(r *Radix, leaf, inner *node) { delete(r.owned, 4) }, "owned set"},
		{"owned but not stored", func(r *Radix, leaf, inner *node) { r.owned[99] = struct{}{} }, "owned but"},
		{"unaligned edge", func(r *Radix, leaf, inner *node) { leaf.keys = leaf.keys[:1] }, "page size"},
		{"pages/keys mismatch", func(r *Radix, leaf, inner *node) { leaf.pages = append(leaf.pages, 9) }, "page size"},
		{"wrong map key", func(r *Radix, leaf, inner *node) { leaf.keys[0] = 77 }, "map key"},
		{"wrong parent", func(r *Radix, leaf, inner *node) { leaf.parent = r.root }, "wrong parent"},
		{"lock without holder", func(r *Radix, leaf, inner *node) { leaf.lock++; inner.lock++ }, "lock 1, held 0"},
		{"negative held", func(r *Radix, leaf, inner *node) { leaf.held-- }, "held -1"},
		{"child newer than parent", func(r *Radix, leaf, inner *node) { leaf.time = inner.time + 1 }, "used after"},
		{"dead node linked", func(r *Radix, leaf, inner *node) { leaf.dead = true }, "evicted node"},
		{"size counter", func(r *Radix, leaf, inner *node) { r.evictable++ }, "size"},
		{"leaf missing from heap", func(r *Radix, leaf, inner *node) {
			heap.Remove(&r.leaves, leaf.heapIdx)
		}, "heap slot -1"},
		{"inner node in heap", func(r *Radix, leaf, inner *node) { heap.Push(&r.leaves, inner) }, "unlocked leaf false"},
		{"heap slot points elsewhere", func(r *Radix, leaf, inner *node) {
			i, j := 0, 1
			r.leaves[i], r.leaves[j] = r.leaves[j], r.leaves[i]
		}, "holds another node"},
		{"heap order", func(r *Radix, leaf, inner *node) {
			last := r.leaves[len(r.leaves)-1]
			for x := last; x != r.root; x = x.parent {
				x.time = 0
			}
		}, "heap order"},
		{"root holds a lock", func(r *Radix, leaf, inner *node) { r.root.lock = 1 }, "root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, leaf, inner := build(t)
			tc.corrupt(r, leaf, inner)
			err := r.Check()
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}
