package tensor

import (
	"math"
	"testing"
)

func TestF16RoundTripAllValues(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			if back := F32ToF16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, f, back)
		}
	}
}

func TestF32ToF16Rounding(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0}, {5.960464477539063e-08, 0x0001},
		{1 + 1.0/2048, 0x3c00},           // tie → even
		{1 + 3.0/2048, 0x3c02},           // tie → even (up)
		{float32(math.Inf(-1)), 0xfc00},  // −Inf
		{6.102025508880615e-05, 0x0400},  // rounds up from the top subnormal into the normal range
		{2.9802322387695312e-08, 0x0000}, // half of the smallest subnormal: tie → even (0)
		{4.470348358154297e-08, 0x0001},  // 0.75 of the smallest subnormal
	}
	for _, c := range cases {
		if got := F32ToF16(c.in); got != c.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

func TestBF16(t *testing.T) {
	if got := F32ToBF16(1.00390625); got != 0x3f80 { // tie → even
		t.Errorf("tie: %#04x", got)
	}
	if got := F32ToBF16(1.01171875); got != 0x3f82 { // tie → even (up)
		t.Errorf("tie up: %#04x", got)
	}
	if f := BF16ToF32(F32ToBF16(float32(math.NaN()))); !math.IsNaN(float64(f)) {
		t.Errorf("NaN lost: %v", f)
	}
}

func TestQ8RoundTrip(t *testing.T) {
	src := make([]float32, 64)
	for i := range src {
		src[i] = float32(i-20) * 0.37
	}
	enc, err := EncodeRow(Q8_0, nil, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != 2*Q8BlockBytes {
		t.Fatalf("%d bytes", len(enc))
	}
	dec := make([]float32, 64)
	if err := DecodeRow(Q8_0, enc, dec); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 2; b++ {
		var amax float64
		for _, v := range src[b*32 : b*32+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		for i := b * 32; i < b*32+32; i++ {
			if d := math.Abs(float64(dec[i] - src[i])); d > amax/127*0.51+1e-3 {
				t.Fatalf("[%d] %v → %v", i, src[i], dec[i])
			}
		}
	}
	if _, err := EncodeRow(Q8_0, nil, src[:40]); err == nil {
		t.Fatal("Q8_0 accepted a 40-element row")
	}
}

func FuzzDecodeRow(f *testing.F) {
	f.Add(byte(3), 32, []byte{0, 60, 1, 2, 3})
	f.Add(byte(1), 3, []byte{0, 60, 0, 188})
	f.Fuzz(func(t *testing.T, dt byte, n int, data []byte) {
		if n < 0 || n > 1<<12 {
			return
		}
		dst := make([]float32, n)
		if err := DecodeRow(DType(dt%(byte(numDTypes)+1)), data, dst); err != nil {
			return
		}
		enc, err := EncodeRow(DType(dt%(byte(numDTypes)+1)), nil, dst)
		if err != nil {
			t.Fatalf("decoded row does not encode: %v", err)
		}
		if !DType(dt%(byte(numDTypes)+1)).Quantized() && len(enc) > len(data) {
			t.Fatalf("re-encoding grew %d → %d bytes", len(data), len(enc))
		}
	})
}
