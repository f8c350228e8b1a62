package llama_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/oracle"
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
func TestOracleText(t *testing.T) {
	ctx := context.Background()
	for _, c := range oracle.Cases(t) {
		if c.Mode != "text" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			path := oracle.MustPath(t, c.Model)
			want := oracle.Floats(t, "golden/"+c.LogitsFile)
			for _, newBE := range backendsUnderTest {
				be, err := newBE()
				if err != nil {
					t.Fatal(err)
				}
				m, err := model.Load(path, be)
				if err != nil {
					t.Fatal(err)
				}
				cfg := m.Config()
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
				if worst, at := oracle.Within(got, want); worst > 1 {
					t.Fatalf("%s: logits off by %.2fx the tolerance at row %d col %d: %v vs %v",
						be.Name(), worst, at/cfg.Vocab, at%cfg.Vocab, got[at], want[at])
				}
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
					t.Fatalf("%s: greedy %v, want %v", be.Name(), toks, c.GreedyTokens)
				}
				if err := r.Release(); err != nil || kv.Used() != 0 {
					t.Fatalf("pages leaked: %d used (%v)", kv.Used(), err)
				}
				m.Close()
				be.Close()
			}
		})
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

var _ = strings.Contains
