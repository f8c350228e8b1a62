package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/tiny"
)

// TestSoak is the bounded loopback load test: three rounds of 1000 mixed
// requests (text, image, streaming, chat with n = 2, constrained) at
// concurrency 64 with a quarter of the clients going away at random points,
// against the real binary. After each round nothing runs, no KV page is
// held and goroutines are back to the baseline; the server's RSS grows less
// than 10% from the second round to the third. About 10 s on the tiny model;
// skipped under -short.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test; skipped under -short")
	}
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, false); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "--model-path", filepath.Join(dir, "hf"), "--enable-metrics", "--threads", "2")
	png, err := os.ReadFile(filepath.Join("..", "..", "testdata", "oracle", "media", "img56_gradient.png"))
	if err != nil {
		t.Fatal(err)
	}
	img := base64.StdEncoding.EncodeToString(png)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	kinds := []struct {
		path string
		body func(i int) string
	}{
		{"/generate", func(i int) string {
			return fmt.Sprintf(`{"text": "story %d", "sampling_params": {"max_new_tokens": 12}}`, i)
		}},
		{"/generate", func(i int) string {
			return fmt.Sprintf(`{"text": "<|vision_start|><|image_pad|><|vision_end|>what %d", "image_data": %q, "sampling_params": {"max_new_tokens": 8}}`, i%7, img)
		}},
		{"/generate", func(i int) string {
			return fmt.Sprintf(`{"text": "tale %d", "stream": true, "sampling_params": {"max_new_tokens": 16}}`, i)
		}},
		{"/v1/chat/completions", func(i int) string {
			return fmt.Sprintf(`{"messages": [{"role": "user", "content": "hello %d"}], "n": 2, "max_tokens": 8}`, i)
		}},
		{"/generate", func(i int) string {
			return fmt.Sprintf(`{"text": "pick %d", "sampling_params": {"max_new_tokens": 16, "regex": "(yes|no) [a-c]{1,4}"}}`, i)
		}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	randN := func(n int) int { mu.Lock(); defer mu.Unlock(); return r.IntN(n) }

	round := func(n int) (ok, aborted, failed int64) {
		var okN, abN, failN atomic.Int64
		sem := make(chan struct{}, 64)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				k := kinds[randN(len(kinds))]
				ctx := context.Background()
				abort := randN(4) == 0
				if abort {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Duration(randN(40))*time.Millisecond)
					defer cancel()
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url+k.path, strings.NewReader(k.body(i)))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				switch {
				case abort && err != nil:
					abN.Add(1)
				case err != nil || resp.StatusCode != 200:
					failN.Add(1)
					if err == nil {
						t.Errorf("%s: status %d", k.path, resp.StatusCode)
					} else {
						t.Errorf("%s: %v", k.path, err)
					}
				default:
					okN.Add(1)
				}
			}()
		}
		wg.Wait()
		return okN.Load(), abN.Load(), failN.Load()
	}

	settle := func() (goroutines float64) {
		tr.CloseIdleConnections()
		deadline := time.Now().Add(20 * time.Second)
		for {
			info := serverInfo(t, p.url)
			goroutines = metricOf(t, p.url, "go_goroutines")
			if info.Running == 0 && info.Queued == 0 && info.Used == 0 {
				return goroutines
			}
			if time.Now().After(deadline) {
				t.Fatalf("not settled: %+v", info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	round(64) // warm-up
	base := settle()
	var rss []int64
	start := time.Now()
	for k := 0; k < 3; k++ {
		ok, ab, failed := round(1000)
		g := settle()
		time.Sleep(200 * time.Millisecond) // let idle connections' goroutines end
		g = metricOf(t, p.url, "go_goroutines")
		rss = append(rss, rssOf(t, p.cmd.Process.Pid))
		t.Logf("round %d: %d ok, %d aborted by the client, %d failed; goroutines %v (baseline %v); RSS %d MiB",
			k+1, ok, ab, failed, g, base, rss[k]>>20)
		if g > base+8 {
			t.Errorf("round %d: %v goroutines, baseline %v", k+1, g, base)
		}
	}
	if growth := float64(rss[2]-rss[1]) / float64(rss[1]); growth > 0.10 {
		t.Fatalf("RSS grew %.1f%% from round 2 to 3 (%v)", 100*growth, rss)
	}
	t.Logf("3000 requests in %v", time.Since(start).Round(time.Second))
}

type infoState struct{ Running, Queued, Used int64 }

func serverInfo(t *testing.T, url string) infoState {
	t.Helper()
	resp, err := http.Get(url + "/get_server_info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		States []struct {
			Running int64 `json:"num_running_reqs"`
			Queued  int64 `json:"num_queue_reqs"`
			Memory  struct {
				Used int64 `json:"used_tokens"`
			} `json:"memory_usage"`
		} `json:"internal_states"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || len(info.States) != 1 {
		t.Fatalf("server info: %v", err)
	}
	s := info.States[0]
	return infoState{s.Running, s.Queued, s.Memory.Used}
}

func metricOf(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// rssOf reads a process's resident set size from /proc.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
