// Package processors turns a tokenized prompt plus decoded media into what a
// model consumes (an input.Prompt): each media marker becomes the family's
// run of placeholder tokens with one Span per item, carrying encoder input
// (Features) or precomputed embeddings, and M-RoPE positions where the model
// uses them. Processing is CPU-only and deterministic: the prefix cache
// relies on identical output for identical input.
//
// Families live in subpackages (processors/qwen2vl, processors/llava, ...)
// and register a Factory by name.
package processors

import (
	"context"
	"errors"
	"fmt"

	"github.com/sightline/sightline/internal/registry"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
)

// Processor prepares prompts for one model.
type Processor interface {
	// Prepare expands every media position of tokens, in order, into the
	// family's placeholder run and returns the prompt with one Span per item
	// (tiling families such as Idefics3: one Span per view, in order).
	// A media position is either input.MediaMarker (where the prompt text held
	// the generic marker "<__media__>") or the family's own placeholder token
	// (e.g. <|image_pad|>, <image>, <|AUDIO|>), possibly already expanded to a
	// run of the right length. The count of positions must equal len(items)
	// for each modality (ErrMediaCount otherwise).
	Prepare(ctx context.Context, tokens []int32, items []media.Item) (*input.Prompt, error)
}

// Vocab resolves special-token strings to ids (*tokenizer.Tokenizer satisfies it).
type Vocab interface {
	TokenID(piece string) (int32, bool)
}

// Errors for client mistakes (HTTP 400).
var (
	ErrMediaCount  = errors.New("processors: media count does not match the prompt's placeholders")
	ErrBadMedia    = errors.New("processors: media cannot be processed")
	ErrBadFeatures = errors.New("processors: pre-processed input does not match the model")
)

// Marker is the generic media marker in prompt text (llama.cpp's mtmd marker).
const Marker = "<__media__>"

// Factory builds a family's processor; Spec describes the model.
type Factory func(s Spec) (Processor, error)

// Spec is what a family needs to know to build its processor.
type Spec struct {
	Dir    string   // HF model directory ("" for GGUF)
	MMProj Metadata // GGUF mmproj metadata (nil for HF)
	Vocab  Vocab
}

// Metadata is GGUF key/value access (*weights.GGUF satisfies it).
type Metadata interface {
	String(key string) (string, bool)
	Uint(key string) (uint64, bool)
	Float(key string) (float64, bool)
	Bool(key string) (bool, bool)
	Float32s(key string) ([]float32, bool)
	Int32s(key string) ([]int32, bool)
}

// families are the registered processor factories, by family name.
var families = registry.New[Factory]("media processor family")

// Register adds a family's processor factory (from the family package's init).
func Register(name string, f Factory) { families.Register(name, f) }

// New builds the named family's processor.
func New(name string, s Spec) (Processor, error) {
	f, err := families.Get(name)
	if err != nil {
		return nil, fmt.Errorf("processors: %w", err)
	}
	return f(s)
}

// CheckStd refuses an image_std with a component that is not positive
// (normalising divides by it).
func CheckStd(family string, std [3]float32) error {
	for _, s := range std {
		if !(s > 0) {
			return fmt.Errorf("%w: %s image_std %v", ErrConfig, family, std)
		}
	}
	return nil
}
