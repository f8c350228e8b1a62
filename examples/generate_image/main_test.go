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
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, false); err != nil {
		t.Fatal(err)
	}
	url := testserver.Start(t, testserver.Options{Model: filepath.Join(dir, "hf"), Multimodal: true})
	var out bytes.Buffer
	img := filepath.Join("..", "..", "testdata", "oracle", "media", "img112_circle.png")
	if err := run(context.Background(), url, img, "<__media__>\nDescribe this image.", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "of them image tokens]") || strings.Contains(out.String(), ", 0 of them") {
		t.Fatalf("%q", out.String())
	}
}
