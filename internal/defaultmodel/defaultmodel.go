// Package defaultmodel embeds the model `sightline serve` runs when no
// --model-path is given: Karpathy's stories260K (llama2.c tinyllamas, MIT),
// a 260K-parameter Llama trained on TinyStories, as GGUF (1.2 MB).
package defaultmodel

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed stories260K.gguf
var gguf []byte

// Name is the served model name of the default model.
const Name = "stories260K"

// Write stores the model in dir (created if needed) and returns its path.
func Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("defaultmodel: %w", err)
	}
	p := filepath.Join(dir, "stories260K.gguf")
	if err := os.WriteFile(p, gguf, 0o644); err != nil {
		return "", fmt.Errorf("defaultmodel: %w", err)
	}
	return p, nil
}
