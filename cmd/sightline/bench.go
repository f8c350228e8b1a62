package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/weights"
)

// prober is implemented by backends that can measure the machine's limits.
type prober interface {
	ProbeTriad(mb, reps int) float64
	ProbeFMA() float64
}

// benchFlags are `sightline bench`'s flags.
type benchFlags struct {
	compute                             computeFlags
	model, conc, cpuProfile, llamaBench string
	llamaServer                         string
	mmproj, image, audio, llamaMTMD     string
	nPrompt, nGen, reps, cachedPrompt   int
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &benchFlags{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.compute.register(fs)
	fs.StringVar(&f.model, "model", "", "model: HF directory or .gguf file (required; e.g. from mktiny --shape qwen2-0.5b)")
	fs.IntVar(&f.nPrompt, "prompt-tokens", 512, "prompt length of the prefill test")
	fs.IntVar(&f.nGen, "gen-tokens", 128, "tokens of the decode test")
	fs.IntVar(&f.reps, "reps", 3, "repetitions (the best of each engine is reported)")
	fs.StringVar(&f.llamaBench, "llama-bench", "", "llama.cpp's llama-bench: run it on the same GGUF, interleaved with Sightline's runs, and print both with their ratio")
	fs.StringVar(&f.llamaServer, "llama-server", "", "serving benchmark over HTTP beside llama.cpp's llama-server on the same GGUF (one client for both)")
	fs.StringVar(&f.conc, "concurrency", "", "serving benchmark instead: comma-separated client counts (e.g. 1,4,8,16), each request --gen-tokens long")
	fs.IntVar(&f.cachedPrompt, "cached-prompt", 1000, "serving benchmark: prompt length of the prefix-cache TTFT test (0 skips it)")
	fs.StringVar(&f.mmproj, "mmproj", "", "encoder benchmark: the GGUF model's multimodal projector")
	fs.StringVar(&f.image, "image", "", "encoder benchmark: time one encode of this image")
	fs.StringVar(&f.audio, "audio", "", "encoder benchmark: time one encode of this audio file")
	fs.StringVar(&f.llamaMTMD, "llama-mtmd", "", "encoder benchmark: llama.cpp's llama-mtmd-cli, run on the same files, interleaved")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file (C kernels show as cgo calls)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if f.model == "" || f.nPrompt <= 0 || f.nGen <= 0 || f.reps <= 0 {
		return usagef("need --model and positive --prompt-tokens, --gen-tokens, --reps")
	}
	if f.llamaServer != "" && f.conc == "" {
		return usagef("--llama-server goes with --concurrency")
	}
	if (f.image != "") == (f.audio != "") && (f.image != "" || f.mmproj != "" || f.llamaMTMD != "") {
		return usagef("the encoder benchmark takes exactly one of --image and --audio")
	}
	if f.cpuProfile != "" {
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if f.image != "" || f.audio != "" {
		return encodeBench(ctx, stdout, stderr, f)
	}
	lc := launch.Config{ModelPath: f.model, BackendName: f.compute.backend, Threads: f.compute.threads, CPULevel: f.compute.level,
		TextOnly: true, MaxRunning: 1, MaxTotalTokens: 16, Seed: 1, Logger: quietLog(stderr)}
	if f.conc != "" {
		var err error
		if lc.MaxRunning, lc.MaxTotalTokens, err = serveBenchSize(f.conc, f.nGen, f.cachedPrompt); err != nil {
			return err
		}
	}
	rt, err := launch.Open(ctx, lc)
	if err != nil {
		return err
	}
	defer rt.Close()
	if f.conc != "" && f.llamaServer != "" {
		levels, err := parseLevels(f.conc)
		if err != nil {
			return err
		}
		return serveBenchHTTP(ctx, stdout, rt, f, levels)
	}
	if f.conc != "" {
		return serveBench(ctx, stdout, rt, f.conc, f.nGen, f.cachedPrompt)
	}
	return modelBench(ctx, stdout, rt, f)
}

// quietLog logs errors only: the benchmarks' small engines need no warnings.
func quietLog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelError}))
}

// modelBench measures prefill (pp) and decode (tg) tokens/s as llama-bench
// does, and, with --llama-bench, llama.cpp on the same file in between.
func modelBench(ctx context.Context, stdout io.Writer, rt *launch.Runtime, f *benchFlags) error {
	be, m := rt.Backend, rt.Model
	cfg := m.Config()
	kv, err := kvcache.New(be, cfg.KVSpec(16, (f.nPrompt+f.nGen)/16+2))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int32, f.nPrompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(cfg.Vocab))
	}
	var pp, tg, lpp, ltg float64
	for r := 0; r < f.reps; r++ {
		p, t, err := runModel(ctx, m, kv, prompt, f.nGen)
		if err != nil {
			return err
		}
		pp, tg = max(pp, p), max(tg, t)
		if f.llamaBench != "" {
			p, t, err := runLlamaBench(ctx, f)
			if err != nil {
				return err
			}
			lpp, ltg = max(lpp, p), max(ltg, t)
		}
	}
	wbytes, dtype := weightBytes(m.Source)
	flopsPerTok := 2 * float64(matrixParams(cfg)) // prefill: every matrix but the output projection
	fmt.Fprintf(stdout, "model %s: %s, %d layers, hidden %d, vocab %d, %s weights %.0f MB; backend %s, best of %d\n",
		f.model, cfg.Arch, cfg.Layers, cfg.Hidden, cfg.Vocab, dtype, float64(wbytes)/1e6, be.Name(), f.reps)
	var triad, fma float64
	if p, ok := be.(prober); ok {
		triad, fma = p.ProbeTriad(256, 2), p.ProbeFMA()
		fmt.Fprintf(stdout, "machine: triad %.1f GB/s, FMA peak %.1f GFLOP/s\n", triad, fma)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "test\tsightline t/s\tllama.cpp t/s\tratio\troofline\t")
	row := func(name string, v, base, roof float64) {
		bs, ratio, rf := "-", "-", "-"
		if base > 0 {
			bs, ratio = fmt.Sprintf("%.2f", base), fmt.Sprintf("%.2f", v/base)
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
	row(fmt.Sprintf("pp%d", f.nPrompt), pp, lpp, ppRoof)
	row(fmt.Sprintf("tg%d", f.nGen), tg, ltg, tgRoof)
	return tw.Flush()
}

// runModel is one llama-bench-style repetition: a prompt of random tokens,
// then nGen single-token steps after a one-token prompt.
func runModel(ctx context.Context, m *model.Loaded, kv *kvcache.Pool, prompt []int32, nGen int) (pp, tg float64, err error) {
	run := &model.Runner{M: m, KV: kv}
	start := time.Now()
	if _, err := run.Prefill(ctx, &input.Prompt{Tokens: prompt}, false); err != nil {
		return 0, 0, err
	}
	pp = float64(len(prompt)) / time.Since(start).Seconds()
	if err := run.Release(); err != nil {
		return 0, 0, err
	}
	if _, err := run.Prefill(ctx, &input.Prompt{Tokens: prompt[:1]}, false); err != nil {
		return 0, 0, err
	}
	start = time.Now()
	for i := 0; i < nGen; i++ {
		if _, err := run.Step(ctx, prompt[(i+1)%len(prompt)]); err != nil {
			return 0, 0, err
		}
	}
	tg = float64(nGen) / time.Since(start).Seconds()
	return pp, tg, run.Release()
}

// runLlamaBench runs one repetition of llama-bench on the same file and
// sizes, at the same thread count, and reads its JSON report.
func runLlamaBench(ctx context.Context, f *benchFlags) (pp, tg float64, err error) {
	threads := f.compute.threads
	if threads <= 0 {
		threads = launchThreads()
	}
	cmd := exec.CommandContext(ctx, f.llamaBench, "-m", f.model, "-p", strconv.Itoa(f.nPrompt), "-n", strconv.Itoa(f.nGen),
		"-t", strconv.Itoa(threads), "-r", "1", "-o", "json")
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("llama-bench: %w", err)
	}
	var res []struct {
		NPrompt int     `json:"n_prompt"`
		NGen    int     `json:"n_gen"`
		AvgTS   float64 `json:"avg_ts"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, 0, fmt.Errorf("llama-bench: unreadable JSON report: %w", err)
	}
	for _, r := range res {
		switch {
		case r.NPrompt > 0 && r.NGen == 0:
			pp = r.AvgTS
		case r.NGen > 0 && r.NPrompt == 0:
			tg = r.AvgTS
		}
	}
	return pp, tg, nil
}

// weightBytes is the size of all 2-D tensors (read once per decoded token)
// and their dtypes: "F16", or a mixture by share of bytes, as a
// llama-quantize Q4_K_M file has ("Q5_0 44% + Q8_0 37% + …").
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
	types := make([]string, 0, len(count))
	for k := range count {
		types = append(types, k)
	}
	sort.Slice(types, func(i, j int) bool {
		if count[types[i]] != count[types[j]] {
			return count[types[i]] > count[types[j]]
		}
		return types[i] < types[j]
	})
	if len(types) == 1 {
		return total, types[0]
	}
	parts := make([]string, len(types))
	for i, k := range types {
		parts[i] = fmt.Sprintf("%s %.0f%%", k, 100*float64(count[k])/float64(total))
	}
	return total, strings.Join(parts, " + ")
}

// matrixParams counts the multiply-accumulates per token of the layer stack.
func matrixParams(c *model.Config) int64 {
	qd, kvd := int64(c.Heads*c.HeadDim), int64(c.KVHeads*c.HeadDim)
	h, f := int64(c.Hidden), int64(c.FFN)
	return int64(c.Layers) * (h*qd + 2*h*kvd + qd*h + 3*h*f)
}
