// Package encoders turns media features into embeddings in the text model's
// hidden size: vision towers with their projectors, audio encoders. The
// engine calls a Set (its Embedder) for the spans of a step that are not yet
// embedded; a byte-budgeted LRU Cache keyed by the span's content key skips
// repeated media.
//
// Families live in subpackages (encoders/vit, encoders/whisper, ...).
package encoders

import (
	"context"
	"errors"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
)

// Encoder computes embeddings for spans of one modality.
type Encoder interface {
	Modality() input.Modality
	// Encode returns one [span.Len, Hidden] tensor per span, in order, from
	// each span's Features. Spans of one call may come from several requests;
	// an encoder may batch them.
	Encode(ctx context.Context, spans []*input.Span) ([]*tensor.Tensor, error)
}

// ErrNoEncoder means a span's modality has no encoder in the set.
var ErrNoEncoder = errors.New("encoders: no encoder for this modality")

// Set routes spans to the encoder of their modality, through the cache.
type Set struct {
	encs  map[input.Modality]Encoder
	cache *Cache
}

// NewSet builds a set; c may be nil (no caching).
func NewSet(c *Cache, encs ...Encoder) *Set {
	s := &Set{encs: map[input.Modality]Encoder{}, cache: c}
	for _, e := range encs {
		s.encs[e.Modality()] = e
	}
	return s
}

// Has reports whether the set can encode modality m.
func (s *Set) Has(m input.Modality) bool { return s.encs[m] != nil }

// Embed fills Span.Embeds of every span that lacks it, from the cache or the
// encoders. It is the engine's Embedder.
func (s *Set) Embed(ctx context.Context, spans []*input.Span) error {
	byMod := map[input.Modality][]*input.Span{}
	for _, sp := range spans {
		if sp.Embeds != nil {
			continue
		}
		if e, ok := s.cache.Get(sp.Key, sp.Len); ok {
			sp.Embeds = e
			continue
		}
		byMod[sp.Modality] = append(byMod[sp.Modality], sp)
	}
	for m, group := range byMod {
		enc := s.encs[m]
		if enc == nil {
			return fmt.Errorf("%w: %v", ErrNoEncoder, m)
		}
		out, err := enc.Encode(ctx, group)
		if err != nil {
			return err
		}
		if len(out) != len(group) {
			return fmt.Errorf("encoders: %v encoder returned %d results for %d spans", m, len(out), len(group))
		}
		for i, sp := range group {
			if out[i].Rows() != sp.Len {
				return fmt.Errorf("encoders: %v encoder produced %d rows for a span of %d placeholders", m, out[i].Rows(), sp.Len)
			}
			sp.Embeds = out[i]
			s.cache.Put(sp.Key, out[i])
		}
	}
	return nil
}
