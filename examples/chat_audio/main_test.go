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
	if err := tiny.WriteQwen2Audio(dir, tiny.Shapes["tiny-qwen2"], tiny.AudioShapes["tiny-qwen2a"]); err != nil {
		t.Fatal(err)
	}
	url := testserver.Start(t, testserver.Options{Model: filepath.Join(dir, "hf"), Multimodal: true})
	var out bytes.Buffer
	wav := filepath.Join("..", "..", "testdata", "oracle", "media", "tones_1s.wav")
	if err := run(context.Background(), url, wav, "What is this sound?", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[25 audio tokens]") {
		t.Fatalf("%q", out.String())
	}
}
