//go:build cgo && unix

package vit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/arbiter"
	"github.com/sightline/sightline/llm/tensor/cpu"
	"github.com/sightline/sightline/llm/weights"
)

// memSource is an in-memory weights.Source of random tensors.
type memSource map[string]weights.TensorData

func (m memSource) Tensors() []weights.Info {
	var out []weights.Info
	for _, t := range m {
		out = append(out, t.Info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (m memSource) Tensor(name string) (weights.Info, []byte, error) {
	t, ok := m[name]
	if !ok {
		return weights.Info{}, nil, fmt.Errorf("%w: %s", weights.ErrNotFound, name)
	}
	return t.Info, t.Data, nil
}

func (m memSource) Close() error { return nil }

// randomEncoder builds an encoder of cfg with random matrices of dtype mat
// (F32 norms, biases and position tables; an F16 patch embedding), named as
// in a GGUF mmproj. With twin, block-quantised matrices are stored as their
// dequantised F32 values instead: the same weights, no quantisation left.
func randomEncoder(b testing.TB, cfg vit.Config, be tensor.Backend, mid int, mat tensor.DType, twin bool) *vit.Encoder {
	r := rand.New(rand.NewPCG(1, 2))
	src := memSource{}
	add := func(name string, dt tensor.DType, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := make([]float32, n)
		a := 0.05
		for i := range vals {
			vals[i] = float32((r.Float64()*2 - 1) * a)
		}
		td, err := weights.EncodeTensor(name, dt, shape, vals)
		if err == nil && twin && dt.Quantized() {
			if err = tensor.DecodeRow(dt, td.Data, vals); err == nil {
				td, err = weights.EncodeTensor(name, tensor.F32, shape, vals)
			}
		}
		if err != nil {
			b.Fatal(err)
		}
		src[name] = td
	}
	D := cfg.Hidden
	names := vit.Names{Patch: "patch", PatchBias: "patch.bias", CLS: "cls", Pos: "pos", PreW: "pre.weight", PreB: "pre.bias",
		PostW: "post.weight", PostB: "post.bias", MM0: "mm.0", MM2: "mm.2",
		Block: func(i int, k string) string { return fmt.Sprintf("blk.%d.%s", i, k) }}
	add("patch", tensor.F16, D, cfg.Cols())
	add("cls", tensor.F32, D)
	if cfg.Positions > 0 {
		add("pos", tensor.F32, cfg.Positions, D)
	}
	for _, n := range []string{"pre", "post"} {
		add(n+".weight", tensor.F32, D)
		add(n+".bias", tensor.F32, D)
	}
	for i := 0; i < cfg.Layers; i++ {
		for _, k := range []string{"ln1", "ln2"} {
			add(names.Block(i, k+".weight"), tensor.F32, D)
			add(names.Block(i, k+".bias"), tensor.F32, D)
		}
		for _, k := range []string{"q", "k", "v", "o"} {
			add(names.Block(i, k)+".weight", mat, D, D)
			add(names.Block(i, k)+".bias", tensor.F32, D)
		}
		add(names.Block(i, "up")+".weight", mat, cfg.FFN, D)
		add(names.Block(i, "up")+".bias", tensor.F32, cfg.FFN)
		add(names.Block(i, "down")+".weight", mat, D, cfg.FFN)
		add(names.Block(i, "down")+".bias", tensor.F32, D)
		if cfg.Kind == vit.Qwen25VL {
			add(names.Block(i, "gate")+".weight", mat, cfg.FFN, D)
			add(names.Block(i, "gate")+".bias", tensor.F32, cfg.FFN)
		}
	}
	in := D
	if cfg.Kind == vit.Qwen2VL || cfg.Kind == vit.Qwen25VL {
		in = D * cfg.Merge * cfg.Merge
	}
	add("mm.0.weight", mat, mid, in)
	add("mm.0.bias", tensor.F32, mid)
	add("mm.2.weight", mat, cfg.Out, mid)
	add("mm.2.bias", tensor.F32, cfg.Out)
	e, err := vit.Load(cfg, nn.Params{Src: src, Be: be}, names)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchEncode reports the encode latency of one image in ms/image.
func benchEncode(b *testing.B, cfg vit.Config, mid int, grid [3]int) {
	be, err := cpu.New(tensor.Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	n := grid[0] * grid[1] * grid[2]
	r := rand.New(rand.NewPCG(3, 4))
	data := make([]float32, n*cfg.Cols())
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	sp := &input.Span{Len: cfg.OutRows(n), Features: &input.Features{Data: data, Shape: []int{n, cfg.Cols()}, Grid: grid}}
	// direct: the backend itself; arbiter: the background side a server's
	// encoders run on (ops in turns, MatMul/Attention in row blocks).
	for _, v := range []struct {
		name string
		be   tensor.Backend
	}{{"direct", be}, {"arbiter", arbiter.New(arbiter.Config{}).Background(be)}} {
		b.Run(v.name, func(b *testing.B) {
			e := randomEncoder(b, cfg, v.be, mid, tensor.F16, false)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				out, err := e.Encode(context.Background(), []*input.Span{sp})
				if err != nil {
					b.Fatal(err)
				}
				be.Free(out[0])
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/image")
			// CPU time of the process per image: on a shared, oversubscribed machine
			// wall time overstates the latency; cpu-ms/2 is the 2-thread latency the
			// same work would take on two idle cores.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/image")
		})
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncodeCLIPViTL336 is LLaVA-1.5's tower: CLIP ViT-L/14 at 336 px
// (577 positions, 23 stored layers as in a legacy mmproj) plus the 2-layer
// MLP projector into a 4096-wide decoder; F16 weights, 2 threads.
func BenchmarkEncodeCLIPViTL336(b *testing.B) {
	cfg := vit.Config{Kind: vit.CLIP, Hidden: 1024, Heads: 16, FFN: 4096, Layers: 23, Patch: 14, Temporal: 1,
		Positions: 577, Eps: 1e-5, Act: tensor.QuickGELU, ProjAct: tensor.GELU, Out: 4096}
	benchEncode(b, cfg, 4096, [3]int{1, 24, 24})
}

// BenchmarkEncodeQwen2VLViT448 is Qwen2-VL's 675M-parameter ViT (32 layers,
// 1280 wide) with its merger into a 1536-wide decoder (2B), on a 448×448
// image (1024 patches → 256 tokens); F16 weights, 2 threads.
func BenchmarkEncodeQwen2VLViT448(b *testing.B) {
	cfg := vit.Config{Kind: vit.Qwen2VL, Hidden: 1280, Heads: 16, FFN: 5120, Layers: 32, Patch: 14, Temporal: 2,
		Eps: 1e-6, Act: tensor.QuickGELU, ProjAct: tensor.GELU, RopeTheta: 10000, Merge: 2, Out: 1536}
	benchEncode(b, cfg, 5120, [3]int{1, 32, 32})
}

// BenchmarkEncodeQwen25VLViT448 is Qwen2.5-VL-3B's ViT (32 layers, 1280
// wide, gated SiLU MLP of 3420, RMSNorm, 112-pixel windows with full
// attention in layers 7, 15, 23, 31) with its merger into the 2048-wide
// decoder, on a 448×448 image (1024 patches in 16 windows → 256 tokens);
// F16 weights, 2 threads.
func BenchmarkEncodeQwen25VLViT448(b *testing.B) {
	cfg := vit.Config{Kind: vit.Qwen25VL, Hidden: 1280, Heads: 16, FFN: 3420, Layers: 32, Patch: 14, Temporal: 2,
		Eps: 1e-6, Act: tensor.SiLU, ProjAct: tensor.GELU, RopeTheta: 10000, Merge: 2, Out: 2048,
		Window: 112, FullAtt: []int{7, 15, 23, 31}}
	benchEncode(b, cfg, 5120, [3]int{1, 32, 32})
}
