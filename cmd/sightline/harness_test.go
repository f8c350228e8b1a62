package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// serveDefaults starts `sightline serve` with its default flags plus args.
func serveDefaults(t testing.TB, args ...string) (*httptest.Server, *app) {
	t.Helper()
	f, err := parseServeFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(context.Background(), f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.srv.SetReady()
	hs := httptest.NewServer(a.srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		a.close()
	})
	return hs, a
}

// postRaw posts JSON and returns a 200 reply's body.
func postRaw(t testing.TB, url string, body []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	return raw
}
