package tokenizer

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkLoad measures Load of the 11 MB qwen3 tokenizer.json.
func BenchmarkLoad(b *testing.B) {
	dir := fixtureDir(b, "qwen3")
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCorpus builds ≥1 MiB of mixed text (prose, code, CJK, emoji,
// numbers, whitespace) from the golden corpus strings.
func benchCorpus(b *testing.B) string {
	cases := readJSONL[goldenCase](b, filepath.Join(fixtureDir(b, "qwen3"), "golden.jsonl"))
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		for _, c := range cases {
			sb.WriteString(c.Text)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// BenchmarkEncodeQwen3 reports encode throughput (MB/s) on ≥1 MiB of mixed
// text, tokenized as one call. Run with -cpu 1 for single-core numbers; the
// MB/cpu-s metric divides by the process's CPU time instead of wall time.
func BenchmarkEncodeQwen3(b *testing.B) {
	tk := loadFixture(b, "qwen3")
	text := benchCorpus(b)
	tk.Encode(text, false) // warm the word cache like a long-running server
	b.SetBytes(int64(len(text)))
	c0, ok := processCPU()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		tk.Encode(text, false)
		n++
	}
	if c1, _ := processCPU(); ok && c1 > c0 {
		b.ReportMetric(float64(n*len(text))/1e6/(c1-c0).Seconds(), "MB/cpu-s")
	}
}

// BenchmarkEncodeQwen3Cold is the same with a fresh word cache each time.
func BenchmarkEncodeQwen3Cold(b *testing.B) {
	text := benchCorpus(b)
	dir := fixtureDir(b, "qwen3")
	b.SetBytes(int64(len(text)))
	var cpu time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		tk, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		c0, ok := processCPU()
		b.StartTimer()
		tk.Encode(text, false)
		if c1, _ := processCPU(); ok {
			cpu += c1 - c0
		}
		n++
	}
	if cpu > 0 {
		b.ReportMetric(float64(n*len(text))/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkStreamDecodeQwen3 reports streaming-decoder tokens/s.
func BenchmarkStreamDecodeQwen3(b *testing.B) {
	tk := loadFixture(b, "qwen3")
	ids := tk.Encode(benchCorpus(b), false)[:200000]
	c0, ok := processCPU()
	b.ResetTimer()
	n := 0
	defer func() {
		if c1, _ := processCPU(); ok && c1 > c0 {
			b.ReportMetric(float64(n)/(c1-c0).Seconds(), "tokens/cpu-s")
		}
	}()
	for b.Loop() {
		d := tk.NewStreamDecoder(DecodeOptions{})
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
		n += len(ids)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}
