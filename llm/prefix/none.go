package prefix

import "fmt"

// None is the Cache for --disable-radix-cache: it matches nothing and takes
// no pages. Insert reports every whole page as already cached (Dup = n, Taken
// empty), so the caller retains nothing and releases its own pages as usual.
type None struct{ ps int }

// NewNone returns a cache that caches nothing, with pageSize keys per page.
func NewNone(pageSize int) (*None, error) {
	if pageSize < 1 {
		return nil, fmt.Errorf("%w: got %d", ErrPageSize, pageSize)
	}
	return &None{ps: pageSize}, nil
}

// PageSize is the number of keys per page.
func (c *None) PageSize() int { return c.ps }

// Match returns the zero Handle.
func (c *None) Match(keys []uint32, maxTokens int) Handle { return Handle{} }

// Insert takes nothing: Dup is the number of whole pages, Taken is empty.
func (c *None) Insert(keys []uint32, pages []int32) (Inserted, error) {
	return Inserted{Dup: min(len(pages), len(keys)/c.ps)}, nil
}

// Lock accepts only the zero Handle, the only kind None hands out.
func (c *None) Lock(h Handle) error { return c.valid(h) }

// Unlock accepts only the zero Handle.
func (c *None) Unlock(h Handle) error { return c.valid(h) }

func (c *None) valid(h Handle) error {
	if h.n != nil {
		return ErrHandle
	}
	return nil
}

// Evict frees nothing.
func (c *None) Evict(tokens int) []int32 { return nil }

// Reset frees nothing.
func (c *None) Reset() []int32 { return nil }

// Size is always zero.
func (c *None) Size() (evictable, locked int) { return 0, 0 }

// Check has nothing to verify.
func (c *None) Check() error { return nil }

var (
	_ Cache = (*Radix)(nil)
	_ Cache = (*None)(nil)
)
