// Package oracle loads the llama.cpp reference cases (testdata/oracle, with
// ../shared/fixtures as the source of files too large for the repository)
// for tests across the module.
package oracle

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
)

// Case is one golden case of golden/index.json plus its <case>.json.
type Case struct {
	Name         string  `json:"case"`
	Mode         string  `json:"mode"` // "text" or "mm"
	Model        string  `json:"model"`
	MMProj       string  `json:"mmproj"`
	Media        string  `json:"media"`
	Prompt       string  `json:"prompt"`
	JSON         string  `json:"json"`
	PromptTokens []int32 `json:"prompt_tokens"`
	GreedyTokens []int32 `json:"greedy_tokens"`
	GreedyText   string  `json:"greedy_text"`
	LogitsFile   string  `json:"logits_file"`
	LogitsShape  []int   `json:"logits_shape"`
	LastLogits   string  `json:"last_logits_file"`
	NVocab       int     `json:"n_vocab"`
	MediaIsAudio bool    `json:"media_is_audio"`
	UseMRoPE     bool    `json:"use_mrope"`
	Chunks       []Chunk `json:"chunks"`
	NPastAfter   int     `json:"n_past_after_prompt"`
	MinTop2Gap   float64 `json:"greedy_min_top2_logit_gap"`
	EmbdSource   string  `json:"media_embd_source"`
}

// Chunk is a text or media chunk of an mm case.
type Chunk struct {
	Type      string  `json:"type"`
	Pos0      int     `json:"pos0"`
	Tokens    []int32 `json:"tokens"`
	NTokens   int     `json:"n_tokens"`
	NPos      int     `json:"n_pos"`
	PosT      []int32 `json:"decoder_pos_t"`
	PosX      []int32 `json:"decoder_pos_x"`
	PosY      []int32 `json:"decoder_pos_y"`
	EmbdFile  string  `json:"embd_file"`
	EmbdShape []int   `json:"embd_shape"`
}

// dirs lists where oracle files are looked up, in order: the repository's
// testdata/oracle, then ../shared/fixtures/oracle (internal/fixtures' order).
func dirs() []string {
	root := fixtures.Root()
	return []string{filepath.Join(root, "testdata", "oracle"), filepath.Join(root, "..", "shared", "fixtures", "oracle")}
}

// embedded are oracle files kept elsewhere in the repository: the default
// model is embedded in the binary from internal/defaultmodel.
var embedded = map[string]string{"stories260K.gguf": filepath.Join("internal", "defaultmodel", "stories260K.gguf")}

// Path finds rel (relative to the oracle folder, e.g. "models/x.gguf") in
// testdata or the shared fixtures; ok is false when neither has it.
func Path(rel string) (string, bool) {
	for _, d := range dirs() {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	// index.json names models relative to shared/fixtures ("oracle/models/…", "models/stories260K/…").
	base := filepath.Base(rel)
	if p, ok := embedded[base]; ok {
		return filepath.Join(fixtures.Root(), p), true
	}
	for _, d := range dirs() {
		p := filepath.Join(d, "models", base)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// MustPath is Path that skips the test when the file is absent.
func MustPath(t testing.TB, rel string) string {
	t.Helper()
	p, ok := Path(rel)
	if !ok {
		t.Skipf("oracle file %s is not in testdata and ../shared/fixtures is absent", rel)
	}
	return p
}

// Cases returns every case of the index, each merged with its <case>.json.
func Cases(t testing.TB) []Case {
	t.Helper()
	var idx struct {
		Cases []Case `json:"cases"`
	}
	readJSON(t, MustPath(t, "golden/index.json"), &idx)
	for i, c := range idx.Cases {
		full := c
		readJSON(t, MustPath(t, "golden/"+c.JSON), &full)
		full.Model, full.MMProj, full.Media = c.Model, c.MMProj, c.Media
		idx.Cases[i] = full
	}
	return idx.Cases
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Floats reads a raw little-endian float32 golden file (skipping when absent).
func Floats(t testing.TB, rel string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(MustPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// Within reports the worst ratio of |got−want| to the oracle tolerance
// 1e-4 + 1e-4·|want| (≤ 1 passes) and where it occurs.
func Within(got, want []float32) (worst float64, at int) {
	for i := range want {
		if i >= len(got) {
			return math.Inf(1), i
		}
		r := math.Abs(float64(got[i])-float64(want[i])) / (1e-4 + 1e-4*math.Abs(float64(want[i])))
		if r > worst || math.IsNaN(r) {
			worst, at = r, i
			if math.IsNaN(r) {
				return math.Inf(1), i
			}
		}
	}
	return worst, at
}
