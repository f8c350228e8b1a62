package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// launchThreads is the thread count a backend opened with --threads 0 uses.
func launchThreads() int { return runtime.NumCPU() }

// encodeBench times one encode of --image or --audio through the model's
// processor and towers (no embedding cache), and, with --llama-mtmd,
// llama.cpp's mtmd on the same files in between.
func encodeBench(ctx context.Context, stdout, stderr io.Writer, f *benchFlags) error {
	file, mod := f.image, media.Image
	if f.audio != "" {
		file, mod = f.audio, media.Audio
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	rt, err := launch.Open(ctx, launch.Config{ModelPath: f.model, MMProj: f.mmproj, BackendName: f.compute.backend,
		Threads: f.compute.threads, CPULevel: f.compute.level, MaxRunning: 1, MaxTotalTokens: 16, Seed: 1,
		AllowedMediaPaths: []string{filepath.Dir(abs)}, Logger: quietLog(stderr)})
	if err != nil {
		return err
	}
	defer rt.Close()
	if rt.MediaProcessor == nil {
		return usagef("%s has no vision or audio tower (a GGUF model needs --mmproj)", f.model)
	}
	items, err := rt.Media.Load(ctx, []media.Ref{{Modality: mod, Src: abs}})
	if err != nil {
		return err
	}
	prompt, err := rt.MediaProcessor.Prepare(ctx, processors.Tokenize(rt.Tokenizer, processors.Marker, true), items)
	if err != nil {
		return err
	}
	set := encoders.NewSet(nil, rt.Encoders...)
	rows := 0
	for _, sp := range prompt.Spans {
		rows += sp.Len
	}
	var best, llama time.Duration
	for r := 0; r < f.reps; r++ {
		spans := make([]*input.Span, len(prompt.Spans))
		for i := range prompt.Spans {
			c := prompt.Spans[i]
			c.Embeds = nil
			spans[i] = &c
		}
		start := time.Now()
		if err := set.Embed(ctx, spans); err != nil {
			return err
		}
		if el := time.Since(start); best == 0 || el < best {
			best = el
		}
		if f.llamaMTMD != "" {
			el, err := runMTMD(ctx, f, abs)
			if err != nil {
				return err
			}
			if llama == 0 || el < llama {
				llama = el
			}
		}
	}
	fmt.Fprintf(stdout, "encode %s: %d embedding rows in %d spans; backend %s, best of %d\n", filepath.Base(abs), rows, len(prompt.Spans), rt.Backend.Name(), f.reps)
	fmt.Fprintf(stdout, "sightline: %.0f ms\n", best.Seconds()*1e3)
	if llama > 0 {
		fmt.Fprintf(stdout, "llama.cpp: %.0f ms (mtmd's own log)\nratio (llama.cpp time / sightline time): %.2f\n", llama.Seconds()*1e3, llama.Seconds()/best.Seconds())
	}
	return nil
}

// mtmdTime is what llama-mtmd-cli logs for its encode.
var mtmdTime = regexp.MustCompile(`(?:batch encoding done|slice encoded) in (\d+) ms`)

// runMTMD runs llama-mtmd-cli once on the same model, projector and media
// and reads its encode time from its log.
func runMTMD(ctx context.Context, f *benchFlags, media string) (time.Duration, error) {
	threads := f.compute.threads
	if threads <= 0 {
		threads = launchThreads()
	}
	flag := "--image"
	if f.audio != "" {
		flag = "--audio"
	}
	out, err := exec.CommandContext(ctx, f.llamaMTMD, "-m", f.model, "--mmproj", f.mmproj, flag, media,
		"-p", "Describe.", "-n", "1", "-t", strconv.Itoa(threads)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("llama-mtmd-cli: %w: %.300s", err, out)
	}
	var total time.Duration
	for _, m := range mtmdTime.FindAllSubmatch(out, -1) {
		ms, _ := strconv.Atoi(string(m[1]))
		total += time.Duration(ms) * time.Millisecond
	}
	if total == 0 {
		return 0, fmt.Errorf("llama-mtmd-cli printed no encode time")
	}
	return total, nil
}
