package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	_ "github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
)

// computeFlags are the backend flags every model-running command takes.
type computeFlags struct {
	backend string
	threads int
	level   string
}

func (c *computeFlags) register(fs *flag.FlagSet) {
	def := "cpu"
	if !hasBackend("cpu") {
		def = "ref"
	}
	fs.StringVar(&c.backend, "backend", def, "compute backend: cpu (C kernels, needs cgo) or ref (pure Go)")
	fs.IntVar(&c.threads, "threads", 0, "compute threads (0: one per CPU)")
	fs.StringVar(&c.level, "cpu-level", "", "CPU kernel level: avx512, avx2, scalar (default: best supported)")
}

func hasBackend(name string) bool {
	for _, n := range tensor.Default.Names() {
		if n == name {
			return true
		}
	}
	return false
}

func (c *computeFlags) open() (tensor.Backend, error) {
	if c.threads < 0 {
		return nil, usagef("--threads must be ≥ 0, got %d", c.threads)
	}
	return tensor.Default.Open(c.backend, tensor.Options{Threads: c.threads, Level: c.level})
}

// loadTokenizer reads the tokenizer that belongs to a loaded model: the
// directory's tokenizer.json, or the GGUF vocabulary.
func loadTokenizer(m *model.Loaded) (*tokenizer.Tokenizer, error) {
	if m.GGUF != nil {
		v, err := tokenizer.VocabFromGGUF(m.GGUF)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Path, err)
		}
		return tokenizer.FromGGUF(v)
	}
	if _, err := os.Stat(filepath.Join(m.Path, "tokenizer.json")); err != nil {
		return nil, fmt.Errorf("%s has no tokenizer.json", m.Path)
	}
	return tokenizer.Load(m.Path)
}

// tokenizerFrom loads --tokenizer-path: a directory with tokenizer.json.
func tokenizerFrom(dir string) (*tokenizer.Tokenizer, error) { return tokenizer.Load(dir) }
