package tiny

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

func TestF16MatchesTensor(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(b uint32) {
		x := math.Float32frombits(b)
		var d [2]byte
		putF16(d[:], []float32{x})
		if got, want := uint16(d[0])|uint16(d[1])<<8, tensor.F32ToF16(x); got != want {
			t.Fatalf("putF16(%g = %#x) = %#x, want %#x", x, b, got, want)
		}
	}
	for e := uint32(0); e < 256; e++ { // every exponent, rounding edges and random mantissas, both signs
		for _, m := range []uint32{0, 1, 0xfff, 0x1000, 0x1001, 0x2fff, 0x3000, 0x7fe000, 0x7fefff, 0x7ff000, 0x7fffff} {
			check(e<<23 | m)
			check(1<<31 | e<<23 | m)
		}
		for i := 0; i < 2000; i++ {
			check(e<<23 | r.Uint32()&0x807fffff)
		}
	}
}

// TestFastRows checks that counter-based rows do not depend on how the
// tensor is cut into rows, and that values stay in range.
func TestFastRows(t *testing.T) {
	ts := tensorSpec{shape: []int{7, 13}, kind: kMatrix}
	src := newGen(5, 6, true).draw(ts)
	whole := append([]float32(nil), src(0, 91, make([]float32, 91))...)
	a, _ := ts.amplitude()
	for r := 0; r < 7; r++ {
		row := src(r, 13, make([]float32, 13))
		for i, v := range row {
			if v != whole[r*13+i] {
				t.Fatalf("row %d [%d] = %v, whole tensor has %v", r, i, v, whole[r*13+i])
			}
			if math.Abs(float64(v)) > a {
				t.Fatalf("%v outside ±%v", v, a)
			}
		}
	}
}

// BenchmarkEncodeF16 draws and encodes a 1024×4096 counter-based F16 matrix.
func BenchmarkEncodeF16(b *testing.B) {
	ts := tensorSpec{shape: []int{1024, 4096}, kind: kMatrix}
	g := newGen(1, 2, true)
	b.SetBytes(2 * 1024 * 4096)
	for b.Loop() {
		if _, err := encodeRows("x", tensor.F16, ts.shape, g.draw(ts)); err != nil {
			b.Fatal(err)
		}
	}
}
