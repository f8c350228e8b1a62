package processors

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/media"
)

// Limits shared by the families: a prompt may not expand beyond MaxTokens.
const MaxTokens = 1 << 22

// Site is one media position found in a token sequence: a MediaMarker
// (Run == 0) or a run of the family's placeholder token (Run ≥ 1).
type Site struct {
	At  int // index in the token sequence
	Run int // placeholder tokens already there; 0 for a marker
}

// End is the index just past the site.
func (s Site) End() int { return s.At + max(s.Run, 1) }

// FindSites returns the media positions of tokens: every input.MediaMarker,
// and every maximal run of placeholder (placeholder < 0 matches nothing).
func FindSites(tokens []int32, placeholder int32) []Site {
	var out []Site
	for i := 0; i < len(tokens); {
		switch {
		case tokens[i] == input.MediaMarker:
			out = append(out, Site{At: i})
			i++
		case placeholder >= 0 && tokens[i] == placeholder:
			j := i
			for j < len(tokens) && tokens[j] == placeholder {
				j++
			}
			out = append(out, Site{At: i, Run: j - i})
			i = j
		default:
			i++
		}
	}
	return out
}

// CountError is the client error for a placeholder/media count mismatch.
func CountError(sites, items int, noun string) error {
	return fmt.Errorf("%w: prompt has %d %s placeholder(s) but %d %s(s) were provided", ErrMediaCount, sites, noun, items, noun)
}

// Images returns the image items of items, in order.
func Images(items []media.Item) []media.Item {
	var out []media.Item
	for _, it := range items {
		if it.Modality == media.Image {
			out = append(out, it)
		}
	}
	return out
}

// SpanKey derives a span's cache key from its item's content hash, the
// feature shape and a sub-index (views of a tiled image).
func SpanKey(hash uint64, shape []int, sub int) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], hash)
	h.Write(b[:])
	for _, d := range append(append([]int(nil), shape...), -1, sub) {
		binary.LittleEndian.PutUint64(b[:], uint64(d))
		h.Write(b[:])
	}
	return h.Sum64()
}

// Precomputed returns the "feature" array of a precomputed_embedding item as
// an F32 host tensor [rows, hidden]; a leading batch dimension of 1 is
// accepted. hidden ≤ 0 skips the width check.
func Precomputed(it media.Item, hidden int) (*tensor.Tensor, error) {
	a, ok := it.Arrays["feature"]
	if !ok {
		return nil, fmt.Errorf("%w: precomputed_embedding has no \"feature\" array", ErrBadFeatures)
	}
	shape := a.Shape
	if len(shape) == 3 && shape[0] == 1 {
		shape = shape[1:]
	}
	if len(shape) != 2 || shape[0] <= 0 || shape[1] <= 0 || shape[0]*shape[1] != len(a.Data) {
		return nil, fmt.Errorf("%w: precomputed_embedding feature has shape %v, want [N, hidden]", ErrBadFeatures, a.Shape)
	}
	if hidden > 0 && shape[1] != hidden {
		return nil, fmt.Errorf("%w: precomputed_embedding feature width %d, the model's hidden size is %d", ErrBadFeatures, shape[1], hidden)
	}
	for _, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: precomputed_embedding feature holds NaN or Inf", ErrBadFeatures)
		}
	}
	data := tensor.AlignedF32(len(a.Data))
	copy(data, a.Data)
	return &tensor.Tensor{DType: tensor.F32, Shape: []int{shape[0], shape[1]}, Data: tensor.BytesOfF32(data)}, nil
}

// Builder assembles a Prompt from text tokens and media runs, tracking
// positions: sequential, or M-RoPE (t, h, w) triples when mrope is set.
type Builder struct {
	p     input.Prompt
	mrope bool
	next  int32 // next free position
}

// NewBuilder starts an empty prompt.
func NewBuilder(mrope bool) *Builder {
	b := &Builder{mrope: mrope}
	if mrope {
		b.p.MRoPE = [][3]int32{}
	}
	return b
}

// Len is the number of tokens so far.
func (b *Builder) Len() int { return len(b.p.Tokens) }

// Text appends text tokens, each advancing the position by one.
func (b *Builder) Text(ids ...int32) error {
	if len(b.p.Tokens)+len(ids) > MaxTokens {
		return fmt.Errorf("%w: prompt longer than %d tokens", ErrBadMedia, MaxTokens)
	}
	b.p.Tokens = append(b.p.Tokens, ids...)
	for range ids {
		if b.mrope {
			b.p.MRoPE = append(b.p.MRoPE, [3]int32{b.next, b.next, b.next})
		}
		b.next++
	}
	return nil
}

// Media appends a run of n placeholder tokens id for span s (Start and Len
// are set here). With M-RoPE, pos holds the (t, h, w) offset of every row
// from the run's first position and the run advances positions by npos;
// otherwise each row takes the next position (pos and npos ignored).
func (b *Builder) Media(s input.Span, id int32, n int, pos [][3]int32, npos int) error {
	if n <= 0 || len(b.p.Tokens)+n > MaxTokens {
		return fmt.Errorf("%w: media run of %d tokens", ErrBadMedia, n)
	}
	if b.mrope && len(pos) != n {
		return fmt.Errorf("%w: %d M-RoPE positions for %d tokens", ErrBadMedia, len(pos), n)
	}
	s.Start, s.Len = len(b.p.Tokens), n
	for i := 0; i < n; i++ {
		b.p.Tokens = append(b.p.Tokens, id)
		if b.mrope {
			b.p.MRoPE = append(b.p.MRoPE, [3]int32{b.next + pos[i][0], b.next + pos[i][1], b.next + pos[i][2]})
		}
	}
	if !b.mrope {
		npos = n
	}
	s.NPos = npos
	b.next += int32(npos)
	b.p.Spans = append(b.p.Spans, s)
	return nil
}

// Prompt returns the assembled prompt (PosDelta set for M-RoPE).
func (b *Builder) Prompt() *input.Prompt {
	p := b.p
	if b.mrope {
		p.PosDelta = b.next - int32(len(p.Tokens))
	}
	return &p
}
