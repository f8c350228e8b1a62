package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/testserver"
	"github.com/sightline/sightline/internal/tiny"
)

// captionInputs makes a folder of test images (copies of the oracle media)
// plus one file that is not an image.
func captionInputs(t *testing.T) (dir string, n int) {
	t.Helper()
	dir = t.TempDir()
	src := filepath.Join("..", "..", "testdata", "oracle", "media")
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".png") {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
			n++
		}
	}
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("not a png"), 0o644)
	return dir, n + 1
}

func tinyVLM(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := tiny.WriteVLM(d, tiny.VLMShapes["tiny-qwen2vl"], true, false); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "hf")
}

type rec struct {
	Input            string `json:"input"`
	Caption          string `json:"caption"`
	CompletionTokens int    `json:"completion_tokens"`
	Error            string `json:"error"`
}

func readJSONL(t *testing.T, path string) map[string]rec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rec{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if _, dup := out[r.Input]; dup {
			t.Fatalf("%s recorded twice", r.Input)
		}
		out[r.Input] = r
	}
	return out
}

func checkRecords(t *testing.T, recs map[string]rec, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for k, r := range recs {
		bad := strings.HasSuffix(k, "broken.png")
		if bad != (r.Error != "") || (!bad && r.CompletionTokens == 0) {
			t.Fatalf("record %+v", r)
		}
	}
}

// TestCaptionInProcess captions a folder with the in-process engine, then a
// second run over the same output resumes (nothing is redone).
func TestCaptionInProcess(t *testing.T) {
	model := tinyVLM(t)
	dir, n := captionInputs(t)
	out := filepath.Join(t.TempDir(), "captions.jsonl")
	args := []string{"caption", "--model-path", model, "--output", out, "--concurrency", "3", "--max-new-tokens", "6", dir}
	code, _, stderr := sightline(t, args...)
	if code != 1 || !strings.Contains(stderr, "some inputs failed") || !strings.Contains(stderr, "images/s") {
		t.Fatalf("exit %d (want 1: one input is broken): %s", code, stderr)
	}
	checkRecords(t, readJSONL(t, out), n)
	code, _, stderr = sightline(t, args...)
	if !strings.Contains(stderr, "already done") || !strings.Contains(stderr, "0 captioned") {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	checkRecords(t, readJSONL(t, out), n)
}

// TestCaptionAgainstServer uses both server APIs and CSV output.
func TestCaptionAgainstServer(t *testing.T) {
	model := tinyVLM(t)
	url := testserver.Start(t, testserver.Options{Model: model, Multimodal: true})
	dir, n := captionInputs(t)
	for _, api := range []string{"native", "openai"} {
		out := filepath.Join(t.TempDir(), "c.jsonl")
		code, _, stderr := sightline(t, "caption", "--server", url, "--api", api, "--output", out, "--max-new-tokens", "5", dir)
		if code != 1 {
			t.Fatalf("%s: exit %d: %s", api, code, stderr)
		}
		checkRecords(t, readJSONL(t, out), n)
	}
	out := filepath.Join(t.TempDir(), "c.csv")
	code, _, stderr := sightline(t, "caption", "--server", url, "--format", "csv", "--output", out, "--max-new-tokens", "5",
		filepath.Join(dir, "img56_*.png"))
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(out)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][1] != "caption" {
		t.Fatalf("csv: %v %q", err, b)
	}
	// --fail-fast stops at the broken input
	code, _, _ = sightline(t, "caption", "--server", url, "--fail-fast", "--concurrency", "1", "--max-new-tokens", "2",
		filepath.Join(dir, "broken.png"), filepath.Join(dir, "img56_checker.png"))
	if code != 1 {
		t.Fatalf("fail-fast exit %d", code)
	}
}

func TestCaptionUsage(t *testing.T) {
	for _, c := range [][]string{{"caption"}, {"caption", "x.png"}, {"caption", "--server", "http://x", "--format", "xml", "x.png"},
		{"caption", "--server", "http://x", "--api", "grpc", "x.png"}} {
		if code, _, _ := sightline(t, c...); code != 2 {
			t.Errorf("%v: exit %d, want 2", c, code)
		}
	}
}
