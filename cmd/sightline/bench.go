package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/weights"
)

// llamaCppBaseline is llama-bench on this machine class at 2 threads
// (shared/perf/llamacpp-baseline.md) for the Qwen2-0.5B shape: pp512, tg128 tokens/s.
var llamaCppBaseline = map[string][2]float64{"F16": {355.29, 34.07}, "F32": {285.41, 26.34}}

// prober is implemented by backends that can measure the machine's limits.
type prober interface {
	ProbeTriad(mb, reps int) float64
	ProbeFMA() float64
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c computeFlags
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	path := fs.String("model", "", "model: HF directory or .gguf file (required; e.g. from mktiny --shape qwen2-0.5b)")
	nPrompt := fs.Int("prompt-tokens", 512, "prompt length of the prefill test")
	nGen := fs.Int("gen-tokens", 128, "tokens of the decode test")
	reps := fs.Int("reps", 3, "repetitions (the best is reported)")
	conc := fs.String("concurrency", "", "serving benchmark instead: comma-separated client counts (e.g. 1,4,8,16), each request --gen-tokens long")
	cachedPrompt := fs.Int("cached-prompt", 1000, "serving benchmark: prompt length of the prefix-cache TTFT test (0 skips it)")
	baseline := fs.String("baseline", "", "llama.cpp pp,tg tokens/s measured on this machine (default: shared/perf's numbers for the Qwen2-0.5B shape)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file (C kernels show as cgo calls)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if *path == "" || *nPrompt <= 0 || *nGen <= 0 || *reps <= 0 {
		return usagef("need --model and positive --prompt-tokens, --gen-tokens, --reps")
	}
	var base [2]float64
	var err error
	if *baseline != "" {
		if _, err := fmt.Sscanf(*baseline, "%g,%g", &base[0], &base[1]); err != nil {
			return usagef("--baseline wants pp,tg (two numbers)")
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	lc := launch.Config{ModelPath: *path, BackendName: c.backend, Threads: c.threads, CPULevel: c.level, TextOnly: true,
		MaxRunning: 1, MaxTotalTokens: 16, Seed: 1}
	if *conc != "" {
		if lc.MaxRunning, lc.MaxTotalTokens, err = serveBenchSize(*conc, *nGen, *cachedPrompt); err != nil {
			return err
		}
	}
	rt, err := launch.Open(ctx, lc)
	if err != nil {
		return err
	}
	defer rt.Close()
	be, m := rt.Backend, rt.Model
	cfg := m.Config()
	if *conc != "" {
		return serveBench(ctx, stdout, rt, *conc, *nGen, *cachedPrompt)
	}
	kv, err := kvcache.New(be, cfg.KVSpec(16, (*nPrompt+*nGen)/16+2))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int32, *nPrompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(cfg.Vocab))
	}
	var pp, tg float64
	for r := 0; r < *reps; r++ {
		run := &model.Runner{M: m, KV: kv}
		start := time.Now()
		if _, err := run.Prefill(ctx, &input.Prompt{Tokens: prompt}, false); err != nil {
			return err
		}
		pp = max(pp, float64(*nPrompt)/time.Since(start).Seconds())
		if err := run.Release(); err != nil {
			return err
		}
		// decode: a one-token prompt, then nGen single-token steps (llama-bench tg)
		if _, err := run.Prefill(ctx, &input.Prompt{Tokens: prompt[:1]}, false); err != nil {
			return err
		}
		start = time.Now()
		for i := 0; i < *nGen; i++ {
			if _, err := run.Step(ctx, prompt[(i+1)%len(prompt)]); err != nil {
				return err
			}
		}
		tg = max(tg, float64(*nGen)/time.Since(start).Seconds())
		if err := run.Release(); err != nil {
			return err
		}
	}
	wbytes, dtype := weightBytes(m.Source)
	flopsPerTok := 2 * float64(matrixParams(cfg)) // prefill: every matrix but the output projection
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(stdout, "model %s: %s, %d layers, hidden %d, vocab %d, %s weights %.0f MB; backend %s\n",
		*path, cfg.Arch, cfg.Layers, cfg.Hidden, cfg.Vocab, dtype, float64(wbytes)/1e6, be.Name())
	haveBase := base[0] > 0
	if !haveBase {
		base, haveBase = llamaCppBaseline[dtype]
		haveBase = haveBase && cfg.Hidden == 896 && cfg.Layers == 24 && cfg.Vocab == 151936
	}
	var triad, fma float64
	if p, ok := be.(prober); ok {
		triad, fma = p.ProbeTriad(256, 2), p.ProbeFMA()
		fmt.Fprintf(stdout, "machine: triad %.1f GB/s, FMA peak %.1f GFLOP/s\n", triad, fma)
	}
	fmt.Fprintln(tw, "test\ttokens/s\tllama.cpp\tratio\troofline\t")
	row := func(name string, v, b, roof float64) {
		bs, ratio, rf := "-", "-", "-"
		if haveBase {
			bs, ratio = fmt.Sprintf("%.2f", b), fmt.Sprintf("%.2f", v/b)
		}
		if roof > 0 {
			rf = fmt.Sprintf("%.0f%%", 100*roof)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t\n", name, v, bs, ratio, rf)
	}
	var ppRoof, tgRoof float64
	if fma > 0 {
		ppRoof = pp * flopsPerTok / (fma * 1e9)
		tgRoof = tg * float64(wbytes) / (triad * 1e9)
	}
	row(fmt.Sprintf("pp%d", *nPrompt), pp, base[0], ppRoof)
	row(fmt.Sprintf("tg%d", *nGen), tg, base[1], tgRoof)
	return tw.Flush()
}

// weightBytes is the size of all 2-D tensors (read once per decoded token)
// and the dtype most of them use.
func weightBytes(src weights.Source) (int64, string) {
	var total int64
	count := map[string]int64{}
	for _, info := range src.Tensors() {
		if len(info.Shape) < 2 || !info.DType.Valid() {
			continue
		}
		_, data, err := src.Tensor(info.Name)
		if err != nil {
			continue
		}
		total += int64(len(data))
		count[info.Type] += int64(len(data))
	}
	best := ""
	for k, v := range count {
		if best == "" || v > count[best] {
			best = k
		}
	}
	return total, best
}

// matrixParams counts the multiply-accumulates per token of the layer stack.
func matrixParams(c *model.Config) int64 {
	qd, kvd := int64(c.Heads*c.HeadDim), int64(c.KVHeads*c.HeadDim)
	h, f := int64(c.Hidden), int64(c.FFN)
	return int64(c.Layers) * (h*qd + 2*h*kvd + qd*h + 3*h*f)
}
