package arbiter

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tensor/tensortest"
)

// newBackend is the backend the equivalence tests wrap (the CPU backend with cgo).
var newBackend = func() tensor.Backend { return ref.New() }

func randT(t *testing.T, be tensor.Backend, r *rand.Rand, shape ...int) *tensor.Tensor {
	t.Helper()
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	x, err := be.FromF32(v, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func same(t *testing.T, be tensor.Backend, what string, a, b *tensor.Tensor) {
	t.Helper()
	x, y := make([]float32, a.Len()), make([]float32, b.Len())
	if err := be.ToF32(a, x); err != nil {
		t.Fatal(err)
	}
	if err := be.ToF32(b, y); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("%s: element %d differs: %v vs %v", what, i, x[i], y[i])
		}
	}
}

// TestBlocksAreBitIdentical: MatMul and Attention cut into row blocks give
// exactly the uncut results.
func TestBlocksAreBitIdentical(t *testing.T) {
	be := newBackend()
	defer be.Close()
	arb := New(Config{BlockFLOPs: 5000})
	wrapped := arb.Background(be)
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 3, 600, 1100, 1600} { // MatMul blocks keep ≥ 512 rows
		a := randT(t, be, r, m, 24)
		w := randT(t, be, r, 40, 24)
		want, _ := be.Alloc(tensor.F32, m, 40)
		got, _ := be.Alloc(tensor.F32, m, 40)
		if err := be.MatMul(want, a, w); err != nil {
			t.Fatal(err)
		}
		if err := wrapped.MatMul(got, a, w); err != nil {
			t.Fatal(err)
		}
		same(t, be, "matmul", want, got)
	}
	for _, m := range []int{1, 17, 64, 130, 300} { // Attention blocks keep ≥ 64 rows
		for _, causal := range []bool{false, true} {
			q := randT(t, be, r, m, 4, 8)
			k := randT(t, be, r, m+5, 2, 8)
			v := randT(t, be, r, m+5, 2, 8)
			at := tensor.Attn{Scale: 0.3, Causal: causal, QPos0: 5}
			want, _ := be.Alloc(tensor.F32, m, 4, 8)
			got, _ := be.Alloc(tensor.F32, m, 4, 8)
			if err := be.Attention(want, q, k, v, at); err != nil {
				t.Fatal(err)
			}
			if err := wrapped.Attention(got, q, k, v, at); err != nil {
				t.Fatal(err)
			}
			same(t, be, "attention", want, got)
		}
	}
}

func TestWrappedShapeErrors(t *testing.T) {
	be := newBackend()
	defer be.Close()
	tensortest.ShapeErrors(t, New(Config{BlockFLOPs: 100}).Background(be))
}

// TestForegroundIsNotStarved: while background work runs back to back, a
// foreground loop keeps getting turns within its share, and the background
// still progresses between them.
func TestForegroundIsNotStarved(t *testing.T) {
	a := New(Config{})
	var stop atomic.Bool
	var bgOps atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			_ = a.background(func() error { time.Sleep(2 * time.Millisecond); return nil })
			bgOps.Add(1)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	before := bgOps.Load()
	for i := 0; i < 20; i++ {
		release := a.Foreground()
		time.Sleep(4 * time.Millisecond)
		release()
	}
	during := bgOps.Load() - before
	stop.Store(true)
	wg.Wait()
	st := a.Stats()
	// Each foreground turn waits for the background's share (≈ the 4 ms
	// turn) plus the op in flight (2 ms); allow a loaded machine 20× that.
	if st.MaxForegroundWait > 120*time.Millisecond {
		t.Fatalf("foreground waited up to %v", st.MaxForegroundWait)
	}
	if during < 10 {
		t.Fatalf("background ran only %d ops during 20 foreground turns", during)
	}
}

// TestIdleForegroundLeavesAllToBackground: without foreground demand the
// background never waits for a share.
func TestIdleForegroundLeavesAllToBackground(t *testing.T) {
	a := New(Config{})
	release := a.Foreground()
	release()
	start := time.Now()
	for i := 0; i < 1000; i++ {
		_ = a.background(func() error { return nil })
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("1000 uncontended background turns took %v", el)
	}
}

// TestNoLostWakeup: foreground and background turns racing with tiny and
// uneven hold times never leave both sides asleep (a wait condition that
// turned true by the clock alone, with nobody to broadcast, once did).
func TestNoLostWakeup(t *testing.T) {
	a := New(Config{})
	done := make(chan struct{})
	var stop atomic.Bool
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			_ = a.background(func() error {
				if i%7 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
				return nil
			})
		}
	}()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := 0; i < 3000; i++ {
			release := a.Foreground()
			if i%5 == 0 {
				time.Sleep(20 * time.Microsecond)
			}
			release()
		}
	}()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("foreground and background deadlocked")
	}
	stop.Store(true)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("background stuck after the foreground finished")
	}
}
