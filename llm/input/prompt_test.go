package input

import "testing"

func TestKeysSeparateMedia(t *testing.T) {
	mk := func(key uint64) []uint32 {
		p := &Prompt{Tokens: []int32{5, 9, 9, 9, 9, 7}, Spans: []Span{{Start: 1, Len: 4, Key: key}}}
		return p.Keys()
	}
	a, b, c := mk(0xdeadbeef), mk(0xdeadbeef<<32), mk(0xdeadbeef)
	if a[0] != 5 || a[5] != 7 {
		t.Fatalf("text keys changed: %v", a)
	}
	same := 0
	for i := 1; i < 5; i++ {
		if a[i]>>31 != 1 {
			t.Fatalf("media key %d lacks the high bit: %#x", i, a[i])
		}
		if a[i] != c[i] {
			t.Fatal("keys are not deterministic")
		}
		if a[i] == b[i] {
			same++
		}
		if i > 1 && a[i] == a[i-1] {
			t.Fatal("rows of one span share a key")
		}
	}
	if same == 4 {
		t.Fatal("different media keys give identical span keys")
	}
}

func TestSaltSeparatesPrompts(t *testing.T) {
	base := &Prompt{Tokens: []int32{1, 2, 3, 4}}
	a := &Prompt{Tokens: base.Tokens, Salt: 7}
	b := &Prompt{Tokens: base.Tokens, Salt: 8}
	ka, kb, k0 := a.Keys(), b.Keys(), base.Keys()
	for i := range ka {
		if ka[i] == kb[i] || ka[i] == k0[i] {
			t.Fatalf("key %d shared across salts: %v %v %v", i, ka, kb, k0)
		}
	}
	if again := (&Prompt{Tokens: base.Tokens, Salt: 7}).Keys(); again[3] != ka[3] {
		t.Fatal("salted keys are not deterministic")
	}
}
