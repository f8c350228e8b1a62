package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
)

// parseLevels reads --concurrency.
func parseLevels(concList string) ([]int, error) {
	var levels []int
	for _, s := range strings.Split(concList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, usagef("--concurrency: %q is not a positive count", s)
		}
		levels = append(levels, n)
	}
	return levels, nil
}

// serveBenchSize is the engine the serving benchmark needs: as many running
// sequences as the largest client count, and KV for all of them.
func serveBenchSize(concList string, gen, cachedLen int) (maxRunning, kvTokens int, err error) {
	levels, err := parseLevels(concList)
	if err != nil {
		return 0, 0, err
	}
	maxConc := slices.Max(levels)
	const page = 16
	pages := max(maxConc*((16+gen)/page+2), (cachedLen+gen)/page*2+4)
	return maxConc, pages * page, nil
}

// serveBench measures the engine as a server would run it: aggregate decode
// tokens/s with N concurrent greedy requests (prompts of 7–11 tokens,
// ignore_eos), and time to first token of a long prompt cold vs cached.
func serveBench(ctx context.Context, out io.Writer, rt *launch.Runtime, concList string, gen, cachedLen int) error {
	levels, err := parseLevels(concList)
	if err != nil {
		return err
	}
	cfg, eng := rt.Model.Config(), rt.Engine
	rng := rand.New(rand.NewPCG(7, 7))
	prompt := func(n int) []int32 {
		p := make([]int32, n)
		for i := range p {
			p[i] = int32(rng.IntN(cfg.Vocab))
		}
		return p
	}
	params := sample.Defaults()
	params.Temperature, params.IgnoreEOS, params.MaxNewTokens = 0, true, &gen
	run := func(p []int32) (ttft time.Duration, n int, err error) {
		start := time.Now()
		ch, err := eng.Submit(ctx, &engine.Request{Prompt: &input.Prompt{Tokens: p}, Params: params, Logprobs: engine.LogprobOptions{StartLen: -1}})
		if err != nil {
			return 0, 0, err
		}
		for ev := range ch {
			if n == 0 && len(ev.Tokens) > 0 {
				ttft = time.Since(start)
			}
			n += len(ev.Tokens)
			if ev.Err != nil {
				err = ev.Err
			}
		}
		return ttft, n, err
	}
	if _, _, err := run(prompt(8)); err != nil { // warm-up
		return err
	}
	fmt.Fprintf(out, "serving: %s, %d new tokens per request, greedy, prompts of 7–11 tokens\n", rt.Path, gen)
	fmt.Fprintf(out, "%12s %12s %14s %10s\n", "concurrency", "wall (s)", "tokens", "tok/s")
	for _, c := range levels {
		ps := make([][]int32, c)
		for i := range ps {
			ps[i] = prompt(7 + i%5)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		var firstErr error
		start := time.Now()
		for _, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, n, err := run(p)
				mu.Lock()
				total += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		el := time.Since(start).Seconds()
		fmt.Fprintf(out, "%12d %12.2f %14d %10.2f\n", c, el, total, float64(total)/el)
	}
	if cachedLen > 0 {
		p := prompt(cachedLen)
		one := 1
		params.MaxNewTokens = &one
		cold, _, err := run(p)
		if err != nil {
			return err
		}
		warm, _, err := run(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "prefix cache: %d-token prompt, TTFT cold %.1f ms, cached %.1f ms (%.1f%% of cold)\n",
			cachedLen, cold.Seconds()*1e3, warm.Seconds()*1e3, 100*warm.Seconds()/cold.Seconds())
	}
	return nil
}
