package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/defaultmodel"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/kvcache"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
)

var (
	tinyDir     string // tiny-qwen2 HF directory (ChatML template, byte-level BPE)
	storiesGGUF string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "server-test")
	if err != nil {
		panic(err)
	}
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		panic(err)
	}
	tinyDir = filepath.Join(dir, "hf")
	if storiesGGUF, err = defaultmodel.Write(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newBackend is the backend server tests run on (cpu with cgo).
var newBackend = func() tensor.Backend { return ref.New() }

type testServer struct {
	*httptest.Server
	srv *Server
	eng *engine.Engine
	kv  *kvcache.Pool
	tok *tokenizer.Tokenizer
}

type opts struct {
	path       string
	cfg        Config
	pages      int
	noTmpl     bool
	template   string // a chat template replacing the model's
	maxRunning int
	pageSize   int // default 4
}

func start(t testing.TB, o opts) *testServer {
	t.Helper()
	if o.path == "" {
		o.path = tinyDir
	}
	if o.pages == 0 {
		o.pages = 256
	}
	if o.pageSize == 0 {
		o.pageSize = 4
	}
	be := newBackend()
	tmplFile := ""
	if o.template != "" {
		tmplFile = filepath.Join(t.TempDir(), "template.jinja")
		if err := os.WriteFile(tmplFile, []byte(o.template), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rt, err := launch.Open(context.Background(), launch.Config{ModelPath: o.path, Backend: be, TextOnly: true, ChatTemplate: tmplFile,
		PageSize: o.pageSize, ChunkedPrefill: 64, ContextLength: 512, MaxTotalTokens: o.pageSize * o.pages, Seed: 1, MaxRunning: o.maxRunning,
		DisableRadix: o.cfg.DisableRadixCache, SkipTokenizerInit: o.cfg.SkipTokenizerInit, NoChatTemplate: o.noTmpl,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.cfg
	if cfg.ServedModelName == "" {
		cfg.ServedModelName = "tiny"
	}
	srv, err := FromRuntime(cfg, rt)
	if err != nil {
		rt.Close()
		t.Fatal(err)
	}
	srv.SetReady()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		rt.Close()
	})
	return &testServer{Server: hs, srv: srv, eng: rt.Engine, kv: rt.KV, tok: rt.Tokenizer}
}

// post sends a JSON body and returns status and body.
func (ts *testServer) post(t testing.TB, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (ts *testServer) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// sseData splits an SSE body into its data payloads.
func sseData(t testing.TB, body []byte) []string {
	t.Helper()
	var out []string
	for _, ev := range bytes.Split(body, []byte("\n\n")) {
		ev = bytes.TrimSpace(ev)
		if len(ev) == 0 {
			continue
		}
		if !bytes.HasPrefix(ev, []byte("data: ")) {
			t.Fatalf("SSE event %q lacks the data: prefix", ev)
		}
		out = append(out, string(ev[len("data: "):]))
	}
	if len(out) == 0 || out[len(out)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", body)
	}
	return out
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// idle waits until no request runs and only the prefix cache holds pages.
func (ts *testServer) idle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		used, cached, err := ts.eng.UsedPages(context.Background())
		if err == nil && used == cached && ts.eng.Idle() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not idle: %d pages used, %d cached", used, cached)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }
