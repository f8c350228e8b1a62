package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadWithDisconnects: 500 streaming requests at concurrency 32, a fifth
// of whose clients hang up mid-stream, leave no KV pages in use and the
// goroutine count back at its baseline.
func TestLoadWithDisconnects(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	ts := start(t, opts{pages: 512})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	base := runtime.NumGoroutine()
	const total, conc = 500, 32
	var next, ok, cut atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				disconnect := i%5 == 0
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				body := fmt.Sprintf(`{"text": "request %d says hello", "sampling_params": {"max_new_tokens": 24, "temperature": 0.7, "ignore_eos": true}, "stream": true}`, i)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/generate", strings.NewReader(body))
				resp, err := client.Do(req)
				if err != nil {
					cancel()
					errs <- err
					continue
				}
				sc := bufio.NewScanner(resp.Body)
				frames := 0
				done := false
				for sc.Scan() {
					line := sc.Text()
					if line == "data: [DONE]" {
						done = true
						break
					}
					if strings.HasPrefix(line, "data: ") {
						frames++
						if disconnect && frames == 3 {
							break
						}
					}
				}
				cancel()
				resp.Body.Close()
				switch {
				case disconnect:
					cut.Add(1)
				case done && resp.StatusCode == 200:
					ok.Add(1)
				default:
					errs <- fmt.Errorf("request %d: status %d, %d frames, no [DONE]", i, resp.StatusCode, frames)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() != 400 || cut.Load() != 100 {
		t.Fatalf("%d completed, %d disconnected", ok.Load(), cut.Load())
	}
	ts.idle(t)
	if err := ts.eng.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if used, _, _ := ts.eng.UsedPages(context.Background()); used != 0 {
		t.Fatalf("%d KV pages in use after the load", used)
	}
	client.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > base+2 {
		buf := make([]byte, 1<<16)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines %d, baseline %d:\n%s", g, base, buf[:n])
	}
}

// TestDrain: Drain waits for an in-flight request and new ones get 503.
func TestDrain(t *testing.T) {
	ts := start(t, opts{})
	done := make(chan int)
	go func() {
		code, _ := ts.post(t, "/generate", `{"text": "hi", "sampling_params": {"max_new_tokens": 200, "ignore_eos": true}}`)
		done <- code
	}()
	for ts.srv.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	drained := make(chan struct{})
	go func() { ts.srv.Drain(ctx); close(drained) }()
	time.Sleep(5 * time.Millisecond)
	if code, _ := ts.post(t, "/generate", `{"text": "late"}`); code != 503 {
		t.Fatalf("request during drain: %d", code)
	}
	if code, _ := ts.get(t, "/health"); code != 503 {
		t.Fatalf("health during drain: %d", code)
	}
	if code := <-done; code != 200 {
		t.Fatalf("in-flight request: %d", code)
	}
	<-drained
}

// FuzzGenerate posts arbitrary bodies to /generate: never a 5xx, never a crash.
func FuzzGenerate(f *testing.F) {
	ts := start(f, opts{})
	for _, c := range malformed() {
		if c.path == "/generate" {
			f.Add(c.body)
		}
	}
	f.Add(`{"text": "hi", "sampling_params": {"max_new_tokens": 2}}`)
	h := ts.srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/generate", strings.NewReader(body))
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { h.ServeHTTP(rec, req); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("request hung: %q", body)
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
