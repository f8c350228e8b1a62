package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/testserver"
	"github.com/sightline/sightline/internal/tiny"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		t.Fatal(err)
	}
	url := testserver.Start(t, testserver.Options{Model: filepath.Join(dir, "hf")})
	var out bytes.Buffer
	if err := run(context.Background(), url, "hello", "", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[finish: ") {
		t.Fatalf("%q", out.String())
	}
	// an image to a text-only model is a clear error, not silence
	img := filepath.Join("..", "..", "testdata", "oracle", "media", "img56_gradient.png")
	if err := run(context.Background(), url, "what is it", img, &out); err == nil || !strings.Contains(err.Error(), "does not accept image input") {
		t.Fatalf("image to a text model: %v", err)
	}
}
