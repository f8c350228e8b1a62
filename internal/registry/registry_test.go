package registry

import (
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := New[int]("thing")
	r.Register("b", 2)
	r.Register("a", 1)
	if v, err := r.Get("a"); err != nil || v != 1 {
		t.Fatalf("Get(a) = %d, %v", v, err)
	}
	if _, err := r.Get("c"); err == nil || !strings.Contains(err.Error(), `no thing "c" (have [a b])`) {
		t.Fatalf("Get(c) error %v", err)
	}
	if !slices.Equal(r.Names(), []string{"a", "b"}) {
		t.Fatalf("Names() = %v", r.Names())
	}
	var seen []string
	r.Each(func(n string, _ int) bool { seen = append(seen, n); return n != "a" })
	if !slices.Equal(seen, []string{"a"}) {
		t.Fatalf("Each stopped at %v", seen)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second registration of a name must panic")
		}
	}()
	r.Register("a", 3)
}
