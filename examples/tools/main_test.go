package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/testserver"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/server"
)

// TestRun drives the loop on a random model: tool_choice required makes the
// first turn a call, the tool runs, and the next turn answers.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		t.Fatal(err)
	}
	url := testserver.Start(t, testserver.Options{Model: filepath.Join(dir, "hf"), Config: server.Config{ToolCallParser: "qwen25"}})
	var out bytes.Buffer
	if err := run(context.Background(), url, "Weather in Paris?", "required", &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "call get_weather(") || !strings.Contains(s, `"temp_c"`) || !strings.Contains(s, "[finish: ") {
		t.Fatalf("%q", s)
	}
}
