package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/server"
)

// benchPrompts are the serving benchmark's prompts (one per client, cycled).
var benchPrompts = []string{"Write a short story about a robot learning to paint.", "Explain how a bicycle works.",
	"List some facts about the moon.", "Describe a busy market in the morning.",
	"What is the best way to learn a new language?", "Tell me about the history of tea.",
	"Tell me about the rules of chess.", "Write a poem about autumn leaves."}

// serveBenchHTTP measures aggregate generation throughput of Sightline's HTTP
// server and of llama.cpp's llama-server with one client: at each level, N
// concurrent greedy /v1/completions requests of gen tokens (ignore_eos, no
// prompt cache), the two servers alternating.
func serveBenchHTTP(ctx context.Context, out io.Writer, rt *launch.Runtime, f *benchFlags, levels []int) error {
	srv, err := server.FromRuntime(server.Config{ServedModelName: "m"}, rt)
	if err != nil {
		return err
	}
	srv.SetReady()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	ours := "http://" + ln.Addr().String()
	theirs, stop, err := startLlamaServer(ctx, f, levels)
	if err != nil {
		return err
	}
	defer stop()
	for _, url := range []string{ours, theirs} {
		if _, err := completions(ctx, url, 1, 4); err != nil { // warm-up
			return err
		}
	}
	fmt.Fprintf(out, "serving over HTTP: %s, %d new tokens per request, greedy, one client for both servers\n", f.model, f.nGen)
	fmt.Fprintf(out, "%12s %16s %16s %8s\n", "concurrency", "sightline tok/s", "llama.cpp tok/s", "ratio")
	for _, n := range levels {
		var best [2]float64
		for r := 0; r < f.reps; r++ {
			for i, url := range []string{ours, theirs} {
				tps, err := completions(ctx, url, n, f.nGen)
				if err != nil {
					return err
				}
				best[i] = max(best[i], tps)
			}
		}
		fmt.Fprintf(out, "%12d %16.2f %16.2f %8.2f\n", n, best[0], best[1], best[0]/best[1])
	}
	return nil
}

// completions sends n concurrent requests and returns aggregate tokens/s.
func completions(ctx context.Context, url string, n, tokens int) (float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	var firstErr error
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"model": "m", "prompt": fmt.Sprintf("%s (%d)", benchPrompts[i%len(benchPrompts)], i),
				"max_tokens": tokens, "temperature": 0, "ignore_eos": true, "cache_prompt": false})
			got, err := completion(ctx, url, body)
			mu.Lock()
			defer mu.Unlock()
			total += got
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds(), firstErr
}

func completion(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("%s: HTTP %d: %.200s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	return r.Usage.CompletionTokens, nil
}

// startLlamaServer runs llama-server on the same GGUF with a slot per client
// and waits until it is healthy.
func startLlamaServer(ctx context.Context, f *benchFlags, levels []int) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	threads := f.compute.threads
	if threads <= 0 {
		threads = launchThreads()
	}
	slots := 1
	for _, n := range levels {
		slots = max(slots, n)
	}
	cmd := exec.CommandContext(ctx, f.llamaServer, "-m", f.model, "-t", strconv.Itoa(threads), "-np", strconv.Itoa(slots),
		"-c", strconv.Itoa(slots*max(512, f.nGen+128)), "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--alias", "m")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("llama-server: %w", err)
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	url = "http://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("llama-server did not become healthy")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
