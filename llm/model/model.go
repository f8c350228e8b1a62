package model

import (
	"context"
	"fmt"
	"os"

	"github.com/sightline/sightline/internal/registry"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// Model is a text decoder the engine drives one batch at a time.
type Model interface {
	Config() *Config
	// Forward runs batch b, writing each row's K/V to kv at b.Slots, and
	// returns logits [len(b.Logits), Vocab], valid until the next Forward.
	// Not safe for concurrent use.
	Forward(ctx context.Context, b *input.Batch, kv *kvcache.Pool) (*tensor.Tensor, error)
}

// Builder constructs a family's decoder from its config and weights.
type Builder func(cfg *Config, p nn.Params) (Model, error)

// decoders are the registered model families (each registers in init).
var decoders = registry.New[Builder]("model family")

// Register adds a model family (called from the family package's init).
func Register(family string, b Builder) { decoders.Register(family, b) }

// Families lists the registered families, sorted.
func Families() []string { return decoders.Names() }

// Loaded is a model with the files it came from.
type Loaded struct {
	Model
	Path   string
	Source weights.Source
	GGUF   *weights.GGUF // the GGUF file, nil for HF directories
}

// Close releases the weight files (after which the model must not be used).
func (l *Loaded) Close() error { return l.Source.Close() }

// Load opens an HF directory or a GGUF file and builds its decoder on be.
func Load(path string, be tensor.Backend) (*Loaded, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var cfg *Config
	var src weights.Source
	var g *weights.GGUF
	if st.IsDir() {
		if cfg, err = ReadHFConfig(path); err != nil {
			return nil, err
		}
		if src, err = weights.OpenDir(path); err != nil {
			return nil, err
		}
	} else {
		if g, err = weights.OpenGGUF(path); err != nil {
			return nil, err
		}
		src = g
		if cfg, err = ParseGGUFConfig(g); err != nil {
			g.Close()
			return nil, fmt.Errorf("model: %s: %w", path, err)
		}
	}
	build, err := decoders.Get(cfg.Arch)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	m, err := build(cfg, nn.Params{Src: src, Be: be})
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	return &Loaded{Model: m, Path: path, Source: src, GGUF: g}, nil
}

// KVSpec is the per-token KV geometry of cfg, for sizing a kvcache.Pool.
func (c *Config) KVSpec(pageSize, pages int) kvcache.Spec {
	return kvcache.Spec{Layers: c.Layers, KVHeads: c.KVHeads, HeadDim: c.HeadDim, PageSize: pageSize, Pages: pages, DType: tensor.F32}
}
