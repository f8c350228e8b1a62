//go:build cgo && unix

package whisper_test

import (
	"context"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/cpu"
	pw "github.com/sightline/sightline/processors/whisper"
)

// BenchmarkEncodeLargeV3 encodes one clip with a Whisper-large-v3-shape
// encoder (Qwen2-Audio-7B: 32 layers, d 1280, 20 heads, ff 5120, 128 mels,
// projector to 4096) with random F16 weights, on the CPU backend with 2
// threads. "30s" is a full chunk (1500 positions, 750 tokens); "10s" shows
// the saving of computing the real positions only (500 positions).
// Run with -benchtime=1x: one 30 s chunk takes tens of seconds. Besides
// wall time it reports the process CPU time per clip (cpu-ms/clip), which a
// busy shared machine inflates much less.
func BenchmarkEncodeLargeV3(b *testing.B) {
	spec := tiny.AudioShapes["whisper-large-v3"]
	const proj = 4096
	src, err := spec.AudioSource(proj, true)
	if err != nil {
		b.Fatal(err)
	}
	be, err := cpu.New(tensor.Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	cfg := whisper.Config{NMel: spec.NMel, D: spec.D, Layers: spec.Layers, Heads: spec.Heads, FFN: spec.FFN, Eps: spec.Eps, MaxPos: spec.MaxPos, ProjDim: proj}
	e, err := whisper.Load(src, whisper.GGUF, cfg, be)
	if err != nil {
		b.Fatal(err)
	}
	ext, err := pw.NewExtractor(pw.DefaultParams(spec.NMel))
	if err != nil {
		b.Fatal(err)
	}
	for _, sec := range []int{30, 10} {
		x := make([]float32, sec*16000)
		for i := range x {
			x[i] = float32(0.3 * math.Sin(2*math.Pi*440*float64(i)/16000))
		}
		c := ext.Extract(x)
		sp := &input.Span{Len: pw.Tokens(c.Frames), Features: &input.Features{Data: c.Mel, Shape: []int{spec.NMel, 3000}, Grid: [3]int{c.Frames}}}
		b.Run(time.Duration(sec*int(time.Second)).String(), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := e.Encode(context.Background(), []*input.Span{sp}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/clip")
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/clip")
		})
	}
}

// BenchmarkExtract is the feature extractor on one full 30 s chunk.
func BenchmarkExtract(b *testing.B) {
	ext, err := pw.NewExtractor(pw.DefaultParams(128))
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, 480000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(float64(i)*0.05))
	}
	for b.Loop() {
		ext.Extract(x)
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
