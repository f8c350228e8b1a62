package kvcache

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
)

func newPool(t *testing.T, pages int) *Pool {
	t.Helper()
	p, err := New(ref.New(), Spec{Layers: 2, KVHeads: 2, HeadDim: 4, PageSize: 4, Pages: pages, DType: tensor.F32})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAllocRetainRelease(t *testing.T) {
	p := newPool(t, 8)
	a, err := p.Alloc(3)
	if err != nil || len(a) != 3 || p.Free() != 5 || p.Used() != 3 {
		t.Fatalf("alloc: %v %v free %d", a, err, p.Free())
	}
	if _, err := p.Alloc(6); !errors.Is(err, ErrFull) {
		t.Fatalf("over-allocation: %v", err)
	}
	if p.Free() != 5 {
		t.Fatal("failed Alloc changed the free count")
	}
	if err := p.Retain(a[:2]); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(a); err != nil || p.Free() != 6 {
		t.Fatalf("release: %v free %d", err, p.Free())
	}
	if err := p.Release(a[:2]); err != nil || p.Free() != 8 {
		t.Fatalf("second release: %v free %d", err, p.Free())
	}
	for _, bad := range [][]int32{{a[0]}, {-1}, {8}} {
		if err := p.Release(bad); !errors.Is(err, ErrPage) {
			t.Fatalf("release %v: %v", bad, err)
		}
		if err := p.Retain(bad); !errors.Is(err, ErrPage) {
			t.Fatalf("retain %v: %v", bad, err)
		}
	}
	b, _ := p.Alloc(1)
	if err := p.Release([]int32{b[0], b[0]}); !errors.Is(err, ErrPage) || p.Refs(b[0]) != 1 {
		t.Fatalf("double release in one call: %v refs %d", err, p.Refs(b[0]))
	}
}

func TestRandomizedAccounting(t *testing.T) {
	p := newPool(t, 32)
	r := rand.New(rand.NewPCG(1, 2))
	refs := map[int32]int{}
	var held [][]int32
	for step := 0; step < 2000; step++ {
		switch r.IntN(3) {
		case 0:
			n := r.IntN(5)
			pg, err := p.Alloc(n)
			if err != nil {
				continue
			}
			for _, x := range pg {
				if refs[x] != 0 {
					t.Fatalf("page %d handed out twice", x)
				}
				refs[x] = 1
			}
			held = append(held, pg)
		case 1:
			if len(held) > 0 {
				i := r.IntN(len(held))
				if err := p.Retain(held[i]); err != nil {
					t.Fatal(err)
				}
				for _, x := range held[i] {
					refs[x]++
				}
				held = append(held, append([]int32(nil), held[i]...))
			}
		case 2:
			if len(held) > 0 {
				i := r.IntN(len(held))
				if err := p.Release(held[i]); err != nil {
					t.Fatal(err)
				}
				for _, x := range held[i] {
					refs[x]--
				}
				held = append(held[:i], held[i+1:]...)
			}
		}
		live := 0
		for pg, n := range refs {
			if int(p.Refs(pg)) != n {
				t.Fatalf("page %d: pool says %d refs, model %d", pg, p.Refs(pg), n)
			}
			if n > 0 {
				live++
			}
		}
		if p.Used() != live {
			t.Fatalf("used %d, live %d", p.Used(), live)
		}
	}
}

func TestSlotAndLayout(t *testing.T) {
	p := newPool(t, 4)
	if got := p.Slot([]int32{3, 1}, 5); got != 1*4+1 {
		t.Fatalf("slot %d", got)
	}
	k, v := p.Layer(1)
	if k.Shape[0] != 16 || v.Shape[1] != 2 || v.Shape[2] != 4 {
		t.Fatalf("layer shapes %v %v", k.Shape, v.Shape)
	}
	if _, err := New(ref.New(), Spec{Layers: 1, KVHeads: 1, HeadDim: 1, PageSize: 0, Pages: 1}); err == nil {
		t.Fatal("zero page size accepted")
	}
	if got := (Spec{Layers: 2, KVHeads: 2, HeadDim: 4, PageSize: 4, DType: tensor.F32}).PageBytes(); got != 2*2*4*2*4*4 {
		t.Fatalf("page bytes %d", got)
	}
}
