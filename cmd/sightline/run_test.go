package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/defaultmodel"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/internal/tiny"
)

type runOutput struct {
	PromptIDs []int32 `json:"prompt_ids"`
	OutputIDs []int32 `json:"output_ids"`
	Text      string  `json:"text"`
}

func sightline(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = dispatch(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// TestRunOracleText drives `sightline run` exactly as shared/tools/oracle-check
// does: prompt ids, 32 greedy tokens, the text, and every prompt logit.
func TestRunOracleText(t *testing.T) {
	for _, c := range oracle.Cases(t) {
		if c.Mode != "text" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			model := oracle.MustPath(t, c.Model)
			want := oracle.Floats(t, "golden/"+c.LogitsFile)
			lf := filepath.Join(t.TempDir(), "logits.f32")
			code, stdout, stderr := sightline(t, "run", "--model", model, "-p", c.Prompt, "--max-new-tokens", "32",
				"--temperature", "0", "--ignore-eos", "--json", "--logits-out", lf, "--threads", "2")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var out runOutput
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil {
				t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
			}
			if !slices.Equal(out.PromptIDs, c.PromptTokens) {
				t.Fatalf("prompt ids %v, want %v", out.PromptIDs, c.PromptTokens)
			}
			if !slices.Equal(out.OutputIDs, c.GreedyTokens) {
				t.Fatalf("greedy %v, want %v", out.OutputIDs, c.GreedyTokens)
			}
			if !strings.ContainsRune(c.GreedyText, '\ufffd') && out.Text != c.GreedyText {
				t.Fatalf("text %q, want %q", out.Text, c.GreedyText)
			}
			raw, err := os.ReadFile(lf)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, len(raw)/4)
			for i := range got {
				got[i] = float32frombits(raw[4*i:])
			}
			if len(got) != len(want) {
				t.Fatalf("logits file has %d values, want %d", len(got), len(want))
			}
			if worst, at := oracle.Within(got, want); worst > 1 {
				t.Fatalf("logit %d off by %.2fx the tolerance", at, worst)
			}
		})
	}
}

// TestStoriesGreedyText: stories260K continues "Once upon a time" exactly as
// llama.cpp does (and as Karpathy's llama2.c sample reads).
func TestStoriesGreedyText(t *testing.T) {
	model := oracle.MustPath(t, "models/stories260K.gguf")
	code, stdout, stderr := sightline(t, "run", "--model", model, "-p", "Once upon a time", "--max-new-tokens", "32", "--ignore-eos", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out runOutput
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); err != nil {
		t.Fatal(err)
	}
	var want string
	for _, c := range oracle.Cases(t) {
		if c.Name == "text-stories260K-p1" {
			want = c.GreedyText
		}
	}
	if want == "" || out.Text != want || !strings.HasPrefix(out.Text, ", there was a little girl named Lily") {
		t.Fatalf("text %q, want %q", out.Text, want)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		t.Fatal(err)
	}
	hf := filepath.Join(dir, "hf")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run"}, 2, "--model is required"},
		{[]string{"run", "--model", hf}, 2, "exactly one of -p and --prompt-ids"},
		{[]string{"run", "--model", hf, "-p", "x", "--prompt-ids", "1"}, 2, "exactly one"},
		{[]string{"run", "--model", hf, "--prompt-ids", "1,x"}, 2, "not a token id"},
		{[]string{"run", "--model", hf, "--prompt-ids", "1,99999"}, 2, "outside the vocabulary"},
		{[]string{"run", "--model", hf, "-p", "x", "--temperature", "-1"}, 2, "--temperature"},
		{[]string{"run", "--model", hf, "-p", "x", "--max-new-tokens", "-3"}, 2, "--max-new-tokens"},
		{[]string{"run", "--model", filepath.Join(dir, "missing")}, 2, "exactly one"},
		{[]string{"run", "--model", filepath.Join(dir, "missing"), "-p", "x"}, 1, "no such file"},
		{[]string{"run", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	}
	for _, c := range cases {
		code, _, stderr := sightline(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	// A working run on the HF directory with text output and sampling.
	code, stdout, stderr := sightline(t, "run", "--model", hf, "-p", "the cat", "--max-new-tokens", "5", "--temperature", "0.8", "--seed", "7", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out runOutput
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); err != nil || len(out.PromptIDs) == 0 || len(out.OutputIDs) == 0 {
		t.Fatalf("output %q: %v", stdout, err)
	}
}

// TestRunStopVerbatim: --stop means sampling_params.stop, so each value is
// one stop string, kept byte for byte (leading spaces and commas included).
func TestRunStopVerbatim(t *testing.T) {
	model, err := defaultmodel.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen := func(extra ...string) string {
		t.Helper()
		args := append([]string{"run", "--model", model, "-p", "Once upon a time", "--max-new-tokens", "32", "--ignore-eos", "--json"}, extra...)
		code, stdout, stderr := sightline(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
		var out runOutput
		if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &out); err != nil {
			t.Fatalf("%q: %v", stdout, err)
		}
		return out.Text
	}
	full := gen()
	i := strings.Index(full, " was")
	if i < 0 || !strings.Contains(full, "Lily") {
		t.Fatalf("greedy text %q lacks the words this test stops on", full)
	}
	if got := gen("--stop", " was"); got != full[:i] {
		t.Errorf("--stop ' was': %q, want %q", got, full[:i])
	}
	// a stop string with a comma is one string, not two ("q" and "Lily")
	if got := gen("--stop", "q, Lily"); got != full {
		t.Errorf("--stop 'q, Lily': %q, want the whole text %q", got, full)
	}
}
