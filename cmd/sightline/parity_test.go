package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/tiny"
)

// TestRunMatchesGenerate: `sightline run` is a client of the same engine as
// /generate, so the same prompt, sampling parameters and seed give the same
// tokens through both.
func TestRunMatchesGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "hf")
	hs, _ := serveDefaults(t, "--model-path", model)
	const prompt = "the cat sat on the"
	configs := []struct {
		flags  []string
		params map[string]any
	}{
		{[]string{"--temperature", "0.8", "--top-p", "0.9", "--seed", "7"},
			map[string]any{"temperature": 0.8, "top_p": 0.9, "sampling_seed": 7}},
		{[]string{"--temperature", "1", "--top-k", "20", "--min-p", "0.05", "--seed", "11"},
			map[string]any{"temperature": 1, "top_k": 20, "min_p": 0.05, "sampling_seed": 11}},
		{[]string{"--temperature", "0.7", "--repetition-penalty", "1.3", "--frequency-penalty", "0.5", "--presence-penalty", "0.3", "--seed", "3"},
			map[string]any{"temperature": 0.7, "repetition_penalty": 1.3, "frequency_penalty": 0.5, "presence_penalty": 0.3, "sampling_seed": 3}},
		{[]string{"--temperature", "1.2", "--top-p", "0.95", "--top-k", "50", "--min-new-tokens", "5", "--seed", "99"},
			map[string]any{"temperature": 1.2, "top_p": 0.95, "top_k": 50, "min_new_tokens": 5, "sampling_seed": 99}},
	}
	for i, c := range configs {
		args := append([]string{"run", "--model", model, "-p", prompt, "--max-new-tokens", "24", "--ignore-eos", "--json"}, c.flags...)
		code, stdout, stderr := sightline(t, args...)
		if code != 0 {
			t.Fatalf("config %d: exit %d: %s", i, code, stderr)
		}
		var ran runOutput
		if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &ran); err != nil {
			t.Fatal(err)
		}
		params := c.params
		params["max_new_tokens"], params["ignore_eos"] = 24, true
		body := map[string]any{"text": prompt, "sampling_params": params}
		b, _ := json.Marshal(body)
		var got struct {
			OutputIDs []int32 `json:"output_ids"`
			Text      string  `json:"text"`
		}
		raw := postRaw(t, hs.URL+"/generate", b)
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		if len(ran.OutputIDs) != 24 || !slices.Equal(ran.OutputIDs, got.OutputIDs) || ran.Text != got.Text {
			t.Fatalf("config %d: run gave %v %q, /generate %v %q", i, ran.OutputIDs, ran.Text, got.OutputIDs, got.Text)
		}
	}
}
