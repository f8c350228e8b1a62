// Package kvcache is the paged KV pool: fixed-size pages of K/V rows per
// layer, a free list and reference counts so that sequences can share
// prefix pages.
package kvcache

import (
	"errors"
	"fmt"

	"github.com/sightline/sightline/llm/tensor"
)

// ErrFull means the pool has fewer free pages than asked for.
var ErrFull = errors.New("kvcache: out of pages")

// Spec is the geometry of a pool.
type Spec struct {
	Layers, KVHeads, HeadDim int
	PageSize                 int // tokens per page
	Pages                    int
	DType                    tensor.DType // storage type of K and V (F32)
}

// PageBytes is the memory of one page over all layers (K and V).
func (s Spec) PageBytes() int {
	rb, _ := s.DType.RowBytes(s.KVHeads * s.HeadDim)
	return 2 * s.Layers * s.PageSize * rb
}

// Pool holds K/V for every layer as [Pages·PageSize, KVHeads, HeadDim] tensors.
// Slot p·PageSize+i is token i of page p. Not safe for concurrent use: the
// engine goroutine owns it.
type Pool struct {
	Spec
	k, v []*tensor.Tensor
	ref  []int32 // per page; 0 = free
	free []int32 // stack of free pages
}

// New allocates a pool on backend be.
func New(be tensor.Backend, s Spec) (*Pool, error) {
	if s.Layers <= 0 || s.KVHeads <= 0 || s.HeadDim <= 0 || s.PageSize <= 0 || s.Pages <= 0 {
		return nil, fmt.Errorf("kvcache: invalid spec %+v", s)
	}
	if s.DType != tensor.F32 {
		return nil, fmt.Errorf("kvcache: %v storage is not supported yet", s.DType)
	}
	p := &Pool{Spec: s, ref: make([]int32, s.Pages)}
	for l := 0; l < s.Layers; l++ {
		k, err := be.Alloc(s.DType, s.Pages*s.PageSize, s.KVHeads, s.HeadDim)
		if err != nil {
			return nil, fmt.Errorf("kvcache: layer %d: %w", l, err)
		}
		v, err := be.Alloc(s.DType, s.Pages*s.PageSize, s.KVHeads, s.HeadDim)
		if err != nil {
			return nil, fmt.Errorf("kvcache: layer %d: %w", l, err)
		}
		p.k, p.v = append(p.k, k), append(p.v, v)
	}
	for i := s.Pages - 1; i >= 0; i-- {
		p.free = append(p.free, int32(i))
	}
	return p, nil
}

// Layer returns layer l's K and V tensors.
func (p *Pool) Layer(l int) (k, v *tensor.Tensor) { return p.k[l], p.v[l] }

// Free is the number of unallocated pages.
func (p *Pool) Free() int { return len(p.free) }

// Used is the number of pages with a nonzero reference count.
func (p *Pool) Used() int { return p.Pages - len(p.free) }

// Alloc takes n pages with reference count 1.
func (p *Pool) Alloc(n int) ([]int32, error) {
	if n < 0 || n > len(p.free) {
		return nil, fmt.Errorf("%w: want %d, have %d", ErrFull, n, len(p.free))
	}
	pages := make([]int32, n)
	for i := range pages {
		pg := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.ref[pg] = 1
		pages[i] = pg
	}
	return pages, nil
}

// ErrPage reports a page id that is out of range or not allocated: a bug in
// the caller's accounting.
var ErrPage = errors.New("kvcache: bad page")

func (p *Pool) checkLive(pages []int32) error {
	for _, pg := range pages {
		if pg < 0 || int(pg) >= p.Pages || p.ref[pg] <= 0 {
			return fmt.Errorf("%w: %d is not allocated", ErrPage, pg)
		}
	}
	return nil
}

// Retain adds a reference to each page (sharing a cached prefix). It changes
// nothing and returns ErrPage if any page is not allocated.
func (p *Pool) Retain(pages []int32) error {
	if err := p.checkLive(pages); err != nil {
		return err
	}
	for _, pg := range pages {
		p.ref[pg]++
	}
	return nil
}

// Release drops a reference to each page; pages reaching zero are freed. It
// changes nothing and returns ErrPage if any page is not allocated (a page
// listed twice needs two references).
func (p *Pool) Release(pages []int32) error {
	need := map[int32]int32{}
	for _, pg := range pages {
		if pg < 0 || int(pg) >= p.Pages {
			return fmt.Errorf("%w: %d out of range", ErrPage, pg)
		}
		need[pg]++
		if need[pg] > p.ref[pg] {
			return fmt.Errorf("%w: %d released more often than retained", ErrPage, pg)
		}
	}
	for _, pg := range pages {
		p.ref[pg]--
		if p.ref[pg] == 0 {
			p.free = append(p.free, pg)
		}
	}
	return nil
}

// Refs is page pg's reference count.
func (p *Pool) Refs(pg int32) int32 { return p.ref[pg] }

// Slot is the pool row of token j of a sequence holding pages.
func (p *Pool) Slot(pages []int32, j int) int32 {
	return pages[j/p.PageSize]*int32(p.PageSize) + int32(j%p.PageSize)
}
