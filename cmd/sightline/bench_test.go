package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/tiny"
)

// fakeTool writes an executable script standing in for a llama.cpp tool.
func fakeTool(t *testing.T, name, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBenchAgainstLlamaBench: --llama-bench runs the tool on the same file
// and sizes and prints its numbers beside Sightline's, with the ratio.
func TestBenchAgainstLlamaBench(t *testing.T) {
	model := filepath.Join("..", "..", "internal", "defaultmodel", "stories260K.gguf")
	args := filepath.Join(t.TempDir(), "args")
	lb := fakeTool(t, "llama-bench", `echo "$@" > `+args+`
echo '[{"n_prompt": 64, "n_gen": 0, "avg_ts": 1000.0}, {"n_prompt": 0, "n_gen": 16, "avg_ts": 500.0}]'`)
	code, out, stderr := sightline(t, "bench", "--model", model, "--prompt-tokens", "64", "--gen-tokens", "16", "--reps", "1",
		"--threads", "1", "--llama-bench", lb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(args)
	if want := "-m " + model + " -p 64 -n 16 -t 1 -r 1 -o json"; strings.TrimSpace(string(got)) != want {
		t.Fatalf("llama-bench ran with %q, want %q", got, want)
	}
	if !regexp.MustCompile(`pp64\s+[0-9.]+\s+1000\.00\s+[0-9.]+`).MatchString(out) || !regexp.MustCompile(`tg16\s+[0-9.]+\s+500\.00\s+[0-9.]+`).MatchString(out) {
		t.Fatalf("report:\n%s", out)
	}
	if strings.Contains(out, "355.29") {
		t.Fatal("a baseline from another machine is printed")
	}
}

// TestBenchEncode: the encoder mode times one image encode, beside mtmd's.
func TestBenchEncode(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], false, true); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join("..", "..", "testdata", "oracle", "media", "img56_gradient.png")
	mtmd := fakeTool(t, "llama-mtmd-cli", `echo "image slice encoded in 40 ms" >&2`)
	code, out, stderr := sightline(t, "bench", "--model", filepath.Join(dir, "model.gguf"), "--mmproj", filepath.Join(dir, "mmproj.gguf"),
		"--image", img, "--reps", "1", "--llama-mtmd", mtmd)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "sightline: ") || !strings.Contains(out, "llama.cpp: 40 ms") || !strings.Contains(out, "embedding rows") {
		t.Fatalf("report:\n%s", out)
	}
	if code, _, stderr := sightline(t, "bench", "--model", filepath.Join(dir, "model.gguf"), "--image", img, "--audio", img); code != 2 {
		t.Fatalf("both --image and --audio: exit %d %s", code, stderr)
	}
}

// fakeLlamaServer answers /health and /v1/completions (completion_tokens =
// max_tokens) on the --port it is given, as a stand-in for llama-server.
func fakeLlamaServer(args []string) {
	port := ""
	for i, a := range args {
		if a == "--port" && i+1 < len(args) {
			port = args[i+1]
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MaxTokens int `json:"max_tokens"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		time.Sleep(20 * time.Millisecond)
		fmt.Fprintf(w, `{"usage": {"completion_tokens": %d}}`, req.MaxTokens)
	})
	http.ListenAndServe("127.0.0.1:"+port, mux)
}

// TestBenchAgainstLlamaServer: --llama-server serves the same client to both
// servers at each concurrency level and prints both rates with the ratio.
func TestBenchAgainstLlamaServer(t *testing.T) {
	model := filepath.Join("..", "..", "internal", "defaultmodel", "stories260K.gguf")
	ls := fakeTool(t, "llama-server", "SIGHTLINE_FAKE_LLAMA_SERVER=1 exec "+os.Args[0]+` "$@"`)
	code, out, stderr := sightline(t, "bench", "--model", model, "--gen-tokens", "8", "--reps", "1", "--concurrency", "1,4",
		"--llama-server", ls)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^\s+4\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+$`).MatchString(out) {
		t.Fatalf("report:\n%s", out)
	}
}
