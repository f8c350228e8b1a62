package llama_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
)

// backendsUnderTest is the reference backend plus, with cgo, the CPU backend.
var backendsUnderTest = []func() (tensor.Backend, error){
	func() (tensor.Backend, error) { return ref.New(), nil },
}

// TestOracleText runs every text case of the llama.cpp oracle from its prompt
// ids: all prompt logits within 1e-4 + 1e-4·|ref| and the 32 greedy tokens.
// Cases whose GGUF is what internal/tiny writes byte for byte run a second
// time on tiny's Hugging Face directory of the same weights (HF names and
// config.json through model.Load), against the same goldens.
func TestOracleText(t *testing.T) {
	for _, c := range oracle.Cases(t) {
		if c.Mode != "text" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			path := oracle.MustPath(t, c.Model)
			want := oracle.Floats(t, "golden/"+c.LogitsFile)
			paths := []string{path}
			if hf := hfForm(t, path); hf != "" {
				paths = append(paths, hf)
			}
			for _, p := range paths {
				for _, newBE := range backendsUnderTest {
					be, err := newBE()
					if err != nil {
						t.Fatal(err)
					}
					checkOracleText(t, be, p, c, want)
					be.Close()
				}
			}
		})
	}
}

// hfMust are the oracle models that must be tiny's shapes byte for byte (so
// their goldens also check the HF loader).
var hfMust = map[string]bool{"tiny-qwen3": true}

// hfForm returns tiny's HF directory of the model at path when tiny writes
// that GGUF byte for byte under the same shape name, else "".
func hfForm(t *testing.T, path string) string {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(path), ".gguf")
	spec, ok := tiny.Shapes[name]
	if !ok {
		return ""
	}
	dir := t.TempDir()
	if err := tiny.Write(dir, spec, true, true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	var a []byte
	if st, err := os.Stat(path); err == nil && st.Size() == int64(len(b)) {
		a, _ = os.ReadFile(path)
	}
	if !bytes.Equal(a, b) {
		if hfMust[name] {
			t.Fatalf("%s is not what tiny writes for shape %s: regenerate it (and its goldens) with mktiny", path, name)
		}
		return ""
	}
	return filepath.Join(dir, "hf")
}

// checkOracleText loads path on be and checks case c against its goldens.
func checkOracleText(t *testing.T, be tensor.Backend, path string, c oracle.Case, want []float32) {
	t.Helper()
	ctx := context.Background()
	m, err := model.Load(path, be)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := m.Config()
	form := cfg.Format.String() + "/" + be.Name()
	kv, err := kvcache.New(be, cfg.KVSpec(16, 8))
	if err != nil {
		t.Fatal(err)
	}
	r := &model.Runner{M: m, KV: kv}
	logits, err := r.Prefill(ctx, &input.Prompt{Tokens: c.PromptTokens}, true)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, logits.Len())
	if err := be.ToF32(logits, got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", form, len(got), len(want))
	}
	worst, at := oracle.Within(got, want)
	if worst > 1 {
		t.Fatalf("%s: logits off by %.2fx the tolerance at row %d col %d: %v vs %v",
			form, worst, at/cfg.Vocab, at%cfg.Vocab, got[at], want[at])
	}
	t.Logf("%s: worst logit error %.3g of the tolerance (|%v − %v|)", form, worst, got[at], want[at])
	var toks []int32
	tok := argmax(got[len(got)-cfg.Vocab:])
	for len(toks) < len(c.GreedyTokens) {
		toks = append(toks, tok)
		out, err := r.Step(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, cfg.Vocab)
		if err := be.ToF32(out, row); err != nil {
			t.Fatal(err)
		}
		tok = argmax(row)
	}
	if !equal(toks, c.GreedyTokens) {
		t.Fatalf("%s: greedy %v, want %v", form, toks, c.GreedyTokens)
	}
	if err := r.Release(); err != nil || kv.Used() != 0 {
		t.Fatalf("%s: pages leaked: %d used (%v)", form, kv.Used(), err)
	}
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
