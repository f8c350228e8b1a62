package prefix

import (
	"math/rand/v2"
	"testing"
)

// benchPrompts returns n 1000-key prompts sharing a 512-key system prefix.
func benchPrompts(n int, rng *rand.Rand) [][]uint32 {
	system := make([]uint32, 512)
	for i := range system {
		system[i] = rng.Uint32N(150000)
	}
	out := make([][]uint32, n)
	for i := range out {
		p := append(make([]uint32, 0, 1000), system...)
		for len(p) < 1000 {
			p = append(p, rng.Uint32N(150000))
		}
		out[i] = p
	}
	return out
}

// benchCache fills a cache with prompts, giving each page a fresh id.
func benchCache(b *testing.B, ps int, prompts [][]uint32, next *int32) *Radix {
	r, err := NewRadix(ps)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range prompts {
		if _, err := r.Insert(p, benchPages(len(p)/ps, next)); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

func benchPages(n int, next *int32) []int32 {
	pages := make([]int32, n)
	for i := range pages {
		pages[i] = *next
		*next++
	}
	return pages
}

func BenchmarkMatch1000(b *testing.B) {
	for _, ps := range []int{1, 16} {
		b.Run(map[int]string{1: "page1", 16: "page16"}[ps], func(b *testing.B) {
			prompts := benchPrompts(64, rand.New(rand.NewPCG(1, 2)))
			var next int32
			r := benchCache(b, ps, prompts, &next)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := prompts[i%len(prompts)]
				if h := r.Match(p, len(p)-1); h.Len() < 990-ps {
					b.Fatalf("matched %d", h.Len())
				}
				i++
			}
		})
	}
}

// BenchmarkInsert1000 inserts a new prompt (512 keys shared, 488 new) and
// evicts as much, so the tree keeps its size.
func BenchmarkInsert1000(b *testing.B) {
	for _, ps := range []int{1, 16} {
		b.Run(map[int]string{1: "page1", 16: "page16"}[ps], func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			prompts := benchPrompts(65, rng)
			fresh := prompts[64]
			var next int32
			r := benchCache(b, ps, prompts[:64], &next)
			b.ReportAllocs()
			for b.Loop() {
				for j := 512; j < 1000; j++ {
					fresh[j] = rng.Uint32N(150000)
				}
				ins, err := r.Insert(fresh, benchPages(1000/ps, &next))
				if err != nil || ins.Dup < 512/ps {
					b.Fatalf("dup %d, %v", ins.Dup, err)
				}
				r.Evict(len(ins.Taken) * ps)
			}
		})
	}
}

// BenchmarkInsertCached inserts a prompt that is fully cached (a request
// that matched everything finishing).
func BenchmarkInsertCached(b *testing.B) {
	for _, ps := range []int{1, 16} {
		b.Run(map[int]string{1: "page1", 16: "page16"}[ps], func(b *testing.B) {
			prompts := benchPrompts(64, rand.New(rand.NewPCG(5, 6)))
			var next int32
			r := benchCache(b, ps, prompts, &next)
			pages := benchPages(1000/ps, &next)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if ins, err := r.Insert(prompts[i%len(prompts)], pages); err != nil || len(ins.Taken) != 0 {
					b.Fatalf("taken %d, %v", len(ins.Taken), err)
				}
				i++
			}
		})
	}
}
