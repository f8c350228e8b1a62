package grammar

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// nestedSchema nests objects six deep, with arrays, enums, patterns and
// optional properties at every level.
const nestedSchema = `{
 "type": "object",
 "properties": {
  "id": {"type": "string", "pattern": "^[a-z0-9]{4,8}$"},
  "meta": {"type": "object", "properties": {
    "created": {"type": "string", "format": "date"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 4},
    "owner": {"type": "object", "properties": {
      "name": {"type": "string"},
      "role": {"enum": ["admin", "user", "guest"]},
      "address": {"type": "object", "properties": {
        "city": {"type": "string"},
        "geo": {"type": "object", "properties": {
          "lat": {"type": "number", "minimum": -90, "maximum": 90},
          "lon": {"type": "number", "minimum": -180, "maximum": 180},
          "precision": {"type": "object", "properties": {
            "meters": {"type": "integer", "minimum": 0, "maximum": 10000},
            "source": {"enum": ["gps", "wifi", "ip"]}
          }, "required": ["meters"]}
        }, "required": ["lat", "lon"]}
      }, "required": ["city", "geo"]}
    }, "required": ["name", "role"]}
  }, "required": ["owner"]},
  "items": {"type": "array", "items": {"type": "object", "properties": {
    "sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}, "price": {"type": "number"}
  }, "required": ["sku", "qty"]}, "minItems": 1, "maxItems": 5},
  "active": {"type": "boolean"}
 },
 "required": ["id", "meta", "items"]
}`

// maskLatencies runs random walks over allowed tokens and returns the
// duration of every FillMask.
func maskLatencies(tb testing.TB, g *Grammar, walks, steps int, seed uint64) []time.Duration {
	v := g.Vocab()
	r := rand.New(rand.NewPCG(seed, seed))
	mask := make([]uint64, v.MaskWords())
	var out []time.Duration
	var allowed []int32
	for range walks {
		m := g.NewMatcher()
		for range steps {
			t0 := time.Now()
			if err := m.FillMask(mask); err != nil {
				tb.Fatal(err)
			}
			out = append(out, time.Since(t0))
			allowed = allowed[:0]
			for w, x := range mask {
				for x != 0 {
					b := x & -x
					allowed = append(allowed, int32(w*64+bits.TrailingZeros64(b)))
					x ^= b
				}
			}
			if len(allowed) == 0 {
				break
			}
			if err := m.Accept(allowed[r.IntN(len(allowed))]); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return out
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// docLatencies feeds the tokens of a valid document (the tokenizer's own
// encoding) and returns the duration of every FillMask on the way.
func docLatencies(tb testing.TB, g *Grammar, ids []int32) []time.Duration {
	mask := make([]uint64, g.Vocab().MaskWords())
	m := g.NewMatcher()
	var out []time.Duration
	for _, id := range ids {
		t0 := time.Now()
		if err := m.FillMask(mask); err != nil {
			tb.Fatal(err)
		}
		out = append(out, time.Since(t0))
		if mask[id>>6]&(1<<(id&63)) == 0 {
			tb.Fatalf("document token %d not allowed", id)
		}
		if err := m.Accept(id); err != nil {
			tb.Fatal(err)
		}
	}
	if !m.Done() {
		tb.Fatal("document incomplete")
	}
	return out
}

// BenchmarkMaskQwen3Doc reports FillMask latency along real documents
// tokenized by qwen3: first pass on a fresh grammar (lazy masks), then a
// second pass (cached).
func BenchmarkMaskQwen3Doc(b *testing.B) {
	v, tk := qwen3Vocab(b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, c := range []struct{ name, schema, doc string }{
		{"seed", seedSchema, `{"name": "Paris", "population": 2148000}`},
		{"nested", nestedSchema, `{"id": "ab12", "meta": {"created": "2024-01-02", "tags": ["x", "y"], "owner": {"name": "Ann Lee", "role": "admin", "address": {"city": "Paris", "geo": {"lat": 48.85, "lon": 2.35, "precision": {"meters": 10, "source": "gps"}}}}}, "items": [{"sku": "A1", "qty": 2, "price": 9.5}, {"sku": "B7", "qty": 1}], "active": true}`},
		{"nested_pretty", nestedSchema, "{\n  \"id\": \"ab12\",\n  \"meta\": {\n    \"owner\": {\n      \"name\": \"Ann\",\n      \"role\": \"user\"\n    }\n  },\n  \"items\": [\n    {\"sku\": \"A1\", \"qty\": 2}\n  ]\n}"},
	} {
		b.Run(c.name, func(b *testing.B) {
			ids := tk.Encode(c.doc, false)
			for range b.N {
				g, err := Compile(v, JSONSchema, c.schema, Options{})
				if err != nil {
					b.Fatal(err)
				}
				first := docLatencies(b, g, ids)
				again := docLatencies(b, g, ids)
				us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
				b.ReportMetric(float64(len(ids)), "tokens")
				b.ReportMetric(us(percentile(first, 0.5)), "first-p50-µs")
				b.ReportMetric(us(percentile(first, 0.99)), "first-p99-µs")
				b.ReportMetric(us(percentile(again, 0.5)), "cached-p50-µs")
				b.ReportMetric(us(percentile(again, 0.99)), "cached-p99-µs")
			}
		})
	}
}

// BenchmarkMaskQwen3 reports FillMask latency percentiles per token on the
// qwen3 vocabulary (151,936 ids) during random walks over allowed tokens:
// "lazy" walks start on a freshly compiled grammar, so masks of positions
// seen for the first time are computed inside FillMask; "warm" walks run
// after Precompute (every position cached). Also reported: compile time
// and single-threaded Precompute time. Wall-clock times: on a loaded
// machine the p99 includes preemption.
func BenchmarkMaskQwen3(b *testing.B) {
	v, _ := qwen3Vocab(b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, c := range []struct{ name, kind, src string }{
		{"seed", string(JSONSchema), seedSchema},
		{"nested", string(JSONSchema), nestedSchema},
		{"json_object", string(JSONSchema), JSONObjectSchema},
		{"regex", string(Regex), `(the|a) [a-z]+ (is|was) \d+`},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				t0 := time.Now()
				g, err := Compile(v, Kind(c.kind), c.src, Options{})
				if err != nil {
					b.Fatal(err)
				}
				compile := time.Since(t0)
				lazy := maskLatencies(b, g, 8, 64, 1)
				g2, _ := Compile(v, Kind(c.kind), c.src, Options{})
				t0 = time.Now()
				g2.Precompute(context.Background(), 1)
				pre := time.Since(t0)
				warm := maskLatencies(b, g2, 32, 64, 2)
				us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
				b.ReportMetric(us(compile)/1000, "compile-ms")
				b.ReportMetric(us(pre)/1000, "precompute-ms")
				b.ReportMetric(us(percentile(lazy, 0.5)), "lazy-p50-µs")
				b.ReportMetric(us(percentile(lazy, 0.99)), "lazy-p99-µs")
				b.ReportMetric(us(percentile(warm, 0.5)), "warm-p50-µs")
				b.ReportMetric(us(percentile(warm, 0.99)), "warm-p99-µs")
				b.ReportMetric(float64(g.States()), "states")
			}
		})
	}
}
