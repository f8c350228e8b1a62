package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/tiny"
)

// process is `sightline` running as its own process: this test binary
// re-executed with SIGHTLINE_AS_MAIN=1 (see TestMain), so signals, exit
// codes and memory are the real command's.
type process struct {
	cmd  *exec.Cmd
	url  string
	out  *bytes.Buffer
	done chan error
}

// startProcess runs `sightline serve args...` on a free loopback port and
// waits until /health answers 200.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &process{url: fmt.Sprintf("http://127.0.0.1:%d", port), out: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], append([]string{"--", "serve", "--port", fmt.Sprint(port)}, args...)...)
	p.cmd.Env = append(os.Environ(), "SIGHTLINE_AS_MAIN=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server output:\n%s", p.out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(p.url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy: %s", p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tinyHF(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "hf")
}

// slowStream opens a streaming /generate and returns its body reader once
// the first frame arrived.
func slowStream(t *testing.T, url string, tokens int) (*bufio.Reader, io.Closer) {
	t.Helper()
	body := fmt.Sprintf(`{"text": "Once upon a time", "stream": true, "sampling_params": {"max_new_tokens": %d, "ignore_eos": true, "temperature": 0}}`, tokens)
	resp, err := http.Post(url+"/generate", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	return r, resp.Body
}

// TestDrainOnSIGTERM: on SIGTERM the real binary finishes in-flight work,
// answers new requests 503 with Retry-After, reports unhealthy at once and
// exits 0 within --drain-timeout.
func TestDrainOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	p := startProcess(t, "--model-path", tinyHF(t), "--threads", "1", "--drain-timeout", "20s")
	stream, closer := slowStream(t, p.url, 3000)
	defer closer.Close()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	resp, err := http.Get(p.url + "/health")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/health while draining: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(p.url+"/generate", "application/json", strings.NewReader(`{"text": "hi"}`))
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("new request while draining: %v %v", resp, err)
	}
	resp.Body.Close()
	// the in-flight stream runs to its end, read slowly
	frames, last := 0, ""
	for {
		line, err := stream.ReadString('\n')
		if strings.HasPrefix(line, "data: ") {
			frames++
			if strings.Contains(line, "[DONE]") {
				break
			}
			last = line
			time.Sleep(time.Millisecond)
		}
		if err != nil {
			t.Fatalf("stream cut after %d frames: %v", frames, err)
		}
	}
	if !strings.Contains(last, `"completion_tokens":3000`) {
		t.Fatalf("the drained stream ended short: %.300s", last)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the process did not exit within --drain-timeout")
	}
	t.Logf("drained %d frames and exited 0 in %v", frames, time.Since(start).Round(time.Millisecond))
}

// TestSecondSignalExitsAtOnce: a second SIGTERM ends the process without
// waiting for the drain.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	p := startProcess(t, "--model-path", tinyHF(t), "--threads", "1", "--drain-timeout", "60s")
	_, closer := slowStream(t, p.url, 3000) // never read: the drain would wait for it
	defer closer.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		t.Logf("second signal: exited in %v (%v)", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(5 * time.Second):
		t.Fatal("a second SIGTERM did not end the process")
	}
}
