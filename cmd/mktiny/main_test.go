package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args  []string
		files []string
	}{
		{[]string{"--shape", "tiny-qwen2vl", "--format", "gguf"}, []string{"model.gguf", "mmproj.gguf"}},
		{[]string{"--shape", "tiny-qwen2a", "--format", "hf"}, []string{"hf/config.json", "hf/model.safetensors"}},
		{[]string{"--shape", "tiny-qwen3"}, []string{"model.gguf", "hf/config.json", "hf/model.safetensors", "hf/tokenizer.json"}},
		{[]string{"--shape", "tiny-qwen2", "--dtype", "Q5_0"}, []string{"model.gguf", "hf/model.safetensors"}},
		{[]string{"--shape", "llava-1.5-clip-l336", "--text-layers", "1", "--media-layers", "1"}, []string{"model.gguf", "mmproj.gguf"}},
		{[]string{"--shape", "tiny-llavaov"}, []string{"model.gguf", "mmproj.gguf", "hf/config.json", "hf/preprocessor_config.json"}},
		{[]string{"--shape", "llava-v1.6-clip-l336", "--text-layers", "1", "--media-layers", "1", "--format", "gguf"}, []string{"model.gguf", "mmproj.gguf"}},
	} {
		out := filepath.Join(dir, strings.Join(c.args, "_"))
		if err := run(append([]string{"--out", out}, c.args...)); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		for _, f := range c.files {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%v: %v", c.args, err)
			}
		}
	}
	for _, args := range [][]string{
		{"--shape", "llava-1.5-clip-l336", "--format", "hf"},
		{"--shape", "nope"},
		{"--shape", "tiny-qwen2", "--media-layers", "2"},
		{"--shape", "tiny-qwen2", "--dtype", "f8"},
		{"--shape", "tiny-qwen2", "--dtype", "q4_k"}, // rows of 64 are not whole 256-element blocks
	} {
		if err := run(append([]string{"--out", filepath.Join(dir, "bad")}, args...)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
