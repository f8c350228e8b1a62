package input

import (
	"fmt"

	"github.com/sightline/sightline/llm/tensor"
)

// Modality is what kind of media a span holds; encoders are picked by it.
type Modality uint8

const (
	Image Modality = iota + 1
	Audio
)

func (m Modality) String() string {
	switch m {
	case Image:
		return "image"
	case Audio:
		return "audio"
	}
	return fmt.Sprintf("Modality(%d)", uint8(m))
}

// Features is encoder input: e.g. image patches [N, C·T·P·P] with grid (t, h, w).
type Features struct {
	Data  []float32
	Shape []int
	Grid  [3]int
}

// Span is one media occurrence in Prompt.Tokens.
type Span struct {
	Start, Len int // placeholder rows [Start, Start+Len)
	NPos       int // positions the span advances (≠ Len under M-RoPE)
	Modality   Modality
	Key        uint64         // content identity (hash of source bytes and feature shape)
	Features   *Features      // encoder input; nil when Embeds was given
	Embeds     *tensor.Tensor // [Len, Hidden], set by an encoder or by the request
}

// MediaMarker stands in a token sequence for one media item whose placeholder
// the processor inserts (see processors.Processor).
const MediaMarker int32 = -1

// Prompt is a tokenized request with media placeholders already expanded.
type Prompt struct {
	Tokens   []int32
	Spans    []Span     // sorted by Start, non-overlapping
	MRoPE    [][3]int32 // (t, h, w) per token relative to the prompt start; nil without M-RoPE
	PosDelta int32      // position advance beyond len(Tokens) (M-RoPE: negative)
	// Salt isolates the prompt's prefix-cache entries (cache_salt,
	// extra_key): prompts share cached pages only when their salts match.
	// 0 is no salt.
	Salt uint64
}

// Splices turns spans with embeddings into batch splices for rows [0, len(Tokens)).
func (p *Prompt) Splices() []Splice {
	var out []Splice
	for _, s := range p.Spans {
		if s.Embeds != nil {
			out = append(out, Splice{Row: s.Start, Len: s.Len, Embeds: s.Embeds})
		}
	}
	return out
}

// Keys returns the prompt as prefix-cache keys: token ids, with each media
// span's rows replaced by a value mixed from its full 64-bit content key and
// the row index (high bit set, so it never equals a token id): prompts with
// different media never share those pages. A salted prompt's keys are all
// mixed with its salt.
func (p *Prompt) Keys() []uint32 {
	keys := make([]uint32, len(p.Tokens))
	for i, t := range p.Tokens {
		keys[i] = uint32(t)
	}
	for _, s := range p.Spans {
		for i := s.Start; i < s.Start+s.Len && i < len(keys); i++ {
			keys[i] = uint32(mix64(s.Key^mix64(uint64(i-s.Start))))&0x7fffffff | 1<<31
		}
	}
	p.salt(keys)
	return keys
}

// TokenKeys are the prefix-cache keys of tokens that follow the prompt
// (generated text a later turn may resend).
func (p *Prompt) TokenKeys(ids []int32) []uint32 {
	keys := make([]uint32, len(ids))
	for i, t := range ids {
		keys[i] = uint32(t)
	}
	p.salt(keys)
	return keys
}

func (p *Prompt) salt(keys []uint32) {
	if p.Salt == 0 {
		return
	}
	for i, k := range keys {
		keys[i] = uint32(mix64(p.Salt ^ mix64(uint64(k))))
	}
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
