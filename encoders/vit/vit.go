// Package vit is the vision encoder of the image families: a pre-norm ViT
// with its projector into the text model's width, in three flavours that
// share the transformer blocks (Hugging Face semantics throughout):
//
//	CLIP (LLaVA)      patch matmul, class token first, learned positions, pre-LN,
//	                  quick-GELU MLP, no post-LN; drop CLS; mm.0 → GELU(erf) → mm.2
//	Qwen2-VL          patch matmul over 2 frames, 2-D RoPE (rows, cols), full
//	                  attention per frame; ln_q, 2×2 merge (4 rows → 1), mm.0 → GELU(erf) → mm.2
//	SigLIP (Idefics3) patch matmul + bias, learned positions, tanh-GELU MLP,
//	                  post-LN; pixel shuffle (scale s: s×s rows → 1), fc without bias
//	Qwen2.5-VL        as Qwen2-VL with RMSNorm, a gated SiLU MLP and window
//	                  attention: 2×2 units regrouped into windows, attention
//	                  within each window except in the full-attention layers;
//	                  ln_q (RMS), merge, mm.0 → GELU(erf) → mm.2, original order
//	AnyRes (LLaVA-NeXT, CLIP tower per view, class token dropped; OneVision,
//	                  SigLIP tower per view, no post-LN) mm.0 → GELU(erf) → mm.2,
//	                  then the views are packed: base view, tile grid cut to
//	                  the image's aspect (OneVision: bilinearly shrunk past
//	                  anyres_max), an image_newline after each row; video
//	                  frames pooled 2×2 with one newline
//
// Input is input.Features: patch rows [N, 3·T·P·P] in the processor's order
// (raster for CLIP/SigLIP/AnyRes, 2×2-merge blocks for Qwen2(.5)-VL). Spans of one
// Encode call are batched: every matmul runs over all their rows, attention
// per image.
//
// Each flavour has its own forward (clip.go, qwen2vl.go, siglip.go,
// qwen25vl.go, anyres.go), chosen once by Load; block.go holds what they share.
package vit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/processors/llavanext"
)

// Kind is the ViT flavour.
type Kind uint8

const (
	CLIP Kind = iota + 1
	Qwen2VL
	SigLIP
	Qwen25VL
	AnyRes
)

func (k Kind) String() string {
	switch k {
	case CLIP:
		return "clip"
	case Qwen2VL:
		return "qwen2vl"
	case SigLIP:
		return "siglip"
	case Qwen25VL:
		return "qwen25vl"
	case AnyRes:
		return "anyres"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Config is the architecture of one encoder.
type Config struct {
	Kind                       Kind
	Hidden, Heads, FFN, Layers int
	Patch, Temporal            int // patch side, frames per patch (Qwen2-VL 2)
	Positions                  int // learned position rows (CLIP: 1+N, SigLIP: N); 0 for RoPE
	Eps                        float32
	Act                        tensor.Activation // ViT MLP activation
	ProjAct                    tensor.Activation // between mm.0 and mm.2 (CLIP, Qwen2-VL)
	RopeTheta                  float32           // Qwen2-VL
	Merge                      int               // Qwen2-VL spatial merge
	Scale                      int               // SigLIP pixel shuffle
	KeepCLS                    bool              // CLIP: keep the class token's row
	Out                        int               // text model width
	// Qwen2.5-VL: Window is the attention window's side in pixels (HF
	// window_size: Window/Merge/Patch merged units), FullAtt the layers that
	// attend over the whole image instead (HF fullatt_block_indexes; indexes
	// past the last layer are ignored).
	Window  int
	FullAtt []int
	// AnyRes: the views' geometry (view side, patch, grid pinpoints,
	// anyres_max) and the tower: ClassToken for CLIP (class token first,
	// pre-LN, dropped after the blocks), SigLIP (patch bias) otherwise.
	Geometry   llavanext.Geometry
	ClassToken bool
}

// ErrConfig reports an unusable encoder configuration or weight set.
var ErrConfig = errors.New("vit: bad encoder configuration")

// ErrInput reports features the encoder cannot take.
var ErrInput = errors.New("vit: bad encoder input")

// Validate checks the configuration.
func (c *Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrConfig}, a...)...) }
	switch {
	case c.Kind < CLIP || c.Kind > AnyRes:
		return bad("kind %v", c.Kind)
	case c.Hidden <= 0 || c.Heads <= 0 || c.Hidden%c.Heads != 0 || c.FFN <= 0 || c.Layers < 0 || c.Out <= 0:
		return bad("hidden %d heads %d ffn %d layers %d out %d", c.Hidden, c.Heads, c.FFN, c.Layers, c.Out)
	case c.Hidden > 1<<15 || c.FFN > 1<<17 || c.Layers > 256 || c.Out > 1<<17:
		return bad("implausible sizes (hidden %d, ffn %d, layers %d, out %d)", c.Hidden, c.FFN, c.Layers, c.Out)
	case c.Patch <= 0 || c.Patch > 64 || c.Temporal <= 0 || c.Temporal > 16:
		return bad("patch %d temporal %d", c.Patch, c.Temporal)
	case !(c.Eps > 0):
		return bad("layer norm eps %v", c.Eps)
	}
	switch c.Kind {
	case CLIP, SigLIP:
		if c.Positions <= 0 {
			return bad("%v needs learned positions", c.Kind)
		}
	case AnyRes:
		g := c.Geometry
		if err := g.Validate(); err != nil {
			return bad("%v", err)
		}
		want := g.Grid() * g.Grid()
		if c.ClassToken {
			want++
		}
		if g.Patch != c.Patch || c.Temporal != 1 || c.Positions != want || c.KeepCLS {
			return bad("anyres patch %d/%d, temporal %d, %d positions (want %d), keep CLS %v", g.Patch, c.Patch, c.Temporal, c.Positions, want, c.KeepCLS)
		}
	case Qwen2VL, Qwen25VL:
		hd := c.Hidden / c.Heads
		if c.Merge <= 0 || c.Merge > 64 || hd%4 != 0 || !(c.RopeTheta > 0) {
			return bad("%v merge %d head dim %d rope θ %v", c.Kind, c.Merge, hd, c.RopeTheta)
		}
	}
	if c.Kind == Qwen25VL {
		if c.Window < c.Patch*c.Merge || c.Window > 1<<16 {
			return bad("qwen2.5-vl window %d px (patch %d, merge %d)", c.Window, c.Patch, c.Merge)
		}
		if len(c.FullAtt) > 4096 {
			return bad("%d full-attention layer indexes", len(c.FullAtt))
		}
		for _, i := range c.FullAtt {
			if i < 0 {
				return bad("full-attention layer index %d", i)
			}
		}
	}
	if c.Kind == SigLIP && (c.Scale <= 0 || c.Scale > 64) {
		return bad("pixel shuffle scale %d", c.Scale)
	}
	return nil
}

// Cols is the width of one patch row.
func (c *Config) Cols() int { return 3 * c.Temporal * c.Patch * c.Patch }

// Encoder is a loaded vision encoder; it implements encoders.Encoder.
type Encoder struct {
	cfg          Config
	be           tensor.Backend
	patch        nn.Linear      // [Hidden, Cols]
	cls          *tensor.Tensor // [1, Hidden] (CLIP)
	pos          *tensor.Tensor // [Positions, Hidden]
	preW, preB   *tensor.Tensor // [Hidden] (CLIP)
	postW, postB *tensor.Tensor // [Hidden] (SigLIP post-LN, Qwen2-VL ln_q; Qwen2.5-VL: no bias)
	blocks       []block
	mm0, mm2     nn.Linear // CLIP, AnyRes: [Out', Hidden], [Out, Out']; Qwen2(.5)-VL: [M, 4·Hidden], [Out, M]
	newline      []float32 // AnyRes: image_newline [Out]
	fc           nn.Linear // SigLIP: [Out, Hidden·s²]
	closer       io.Closer
	tower        tower // the flavour's forward, set by Load

	mu    sync.Mutex
	arena nn.Arena
}

var _ encoders.Encoder = (*Encoder)(nil)

// Config returns the encoder's architecture.
func (e *Encoder) Config() Config { return e.cfg }

// Modality implements encoders.Encoder.
func (e *Encoder) Modality() input.Modality { return input.Image }

// Close releases the weight files the encoder was loaded from.
func (e *Encoder) Close() error {
	if e.closer == nil {
		return nil
	}
	return e.closer.Close()
}

// OutRows is the embedding row count for n patch rows (0 for AnyRes,
// whose count depends on the span's grid: llavanext.TokenCount).
func (c *Config) OutRows(n int) int {
	switch c.Kind {
	case CLIP:
		if c.KeepCLS {
			return n + 1
		}
		return n
	case Qwen2VL, Qwen25VL:
		if c.Merge > 0 {
			return n / (c.Merge * c.Merge)
		}
	case SigLIP:
		if c.Scale > 0 {
			return n / (c.Scale * c.Scale)
		}
	}
	return 0
}

// check validates one span's features.
func (e *Encoder) check(sp *input.Span) error {
	if sp == nil || sp.Features == nil {
		return fmt.Errorf("%w: span has no features", ErrInput)
	}
	f := sp.Features
	c := &e.cfg
	if len(f.Shape) != 2 || f.Shape[1] != c.Cols() || f.Shape[0] <= 0 || f.Shape[0] > len(f.Data) || len(f.Data) != f.Shape[0]*f.Shape[1] {
		return fmt.Errorf("%w: features %v (%d values), want [N, %d]", ErrInput, f.Shape, len(f.Data), c.Cols())
	}
	n := f.Shape[0]
	g := f.Grid
	// Each side ≤ n keeps the product from overflowing.
	if c.Kind != AnyRes && (g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[0] > n || g[1] > n || g[2] > n || g[0]*g[1]*g[2] != n) {
		return fmt.Errorf("%w: grid %v does not hold %d patches", ErrInput, g, n)
	}
	switch c.Kind {
	case CLIP:
		if n+1 != c.Positions || g[0] != 1 {
			return fmt.Errorf("%w: %d patches, the encoder takes %d", ErrInput, n, c.Positions-1)
		}
	case AnyRes:
		gr := c.Geometry.Grid()
		want, err := llavanext.TokenCount(c.Geometry, g)
		if err != nil || g[0]*gr*gr != n {
			return fmt.Errorf("%w: %d patches with grid %v are not views of %d×%d patches (%v)", ErrInput, n, g, gr, gr, err)
		}
		if sp.Len != want {
			return fmt.Errorf("%w: span of %d placeholders, the image gives %d embeddings", ErrInput, sp.Len, want)
		}
		return nil
	case SigLIP:
		if n != c.Positions || g[0] != 1 || g[1]%c.Scale != 0 || g[2]%c.Scale != 0 {
			return fmt.Errorf("%w: %d patches (grid %v), the encoder takes %d", ErrInput, n, g, c.Positions)
		}
	case Qwen2VL, Qwen25VL:
		if g[1]%c.Merge != 0 || g[2]%c.Merge != 0 {
			return fmt.Errorf("%w: grid %v is not a multiple of the merge size %d", ErrInput, g, c.Merge)
		}
	}
	if want := c.OutRows(n); sp.Len != want {
		return fmt.Errorf("%w: span of %d placeholders, the image gives %d embeddings", ErrInput, sp.Len, want)
	}
	return nil
}

// maxBatchRows bounds the patch rows one forward pass holds.
const maxBatchRows = 1 << 14

// Encode implements encoders.Encoder: one [span.Len, Out] tensor per span.
func (e *Encoder) Encode(ctx context.Context, spans []*input.Span) ([]*tensor.Tensor, error) {
	for i, sp := range spans {
		if err := e.check(sp); err != nil {
			return nil, fmt.Errorf("span %d: %w", i, err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*tensor.Tensor, 0, len(spans))
	for lo := 0; lo < len(spans); {
		hi, rows := lo, 0
		for hi < len(spans) && (hi == lo || rows+spans[hi].Features.Shape[0] <= maxBatchRows) {
			rows += spans[hi].Features.Shape[0]
			hi++
		}
		if err := ctx.Err(); err != nil {
			e.free(out)
			return nil, err
		}
		res, err := e.forward(ctx, spans[lo:hi])
		if err != nil {
			e.free(out)
			return nil, err
		}
		out = append(out, res...)
		lo = hi
	}
	return out, nil
}

// tower is one flavour's forward: a batch's spans → [Σ span.Len, Out] in
// the arena.
type tower func(e *Encoder, ctx context.Context, spans []*input.Span) (*tensor.Tensor, error)

// towerOf picks the forward of kind k (nil for an unknown kind).
func towerOf(k Kind) tower {
	switch k {
	case CLIP:
		return (*Encoder).forwardCLIP
	case Qwen2VL:
		return (*Encoder).forwardQwen2VL
	case SigLIP:
		return (*Encoder).forwardSigLIP
	case Qwen25VL:
		return (*Encoder).forwardQwen25VL
	case AnyRes:
		return (*Encoder).forwardAnyRes
	}
	return nil
}

// forward runs one batch of spans through the flavour's tower and copies
// each span's rows out of the arena.
func (e *Encoder) forward(ctx context.Context, spans []*input.Span) ([]*tensor.Tensor, error) {
	if e.tower == nil {
		return nil, fmt.Errorf("%w: encoder of kind %v was not built by Load", ErrConfig, e.cfg.Kind)
	}
	e.arena.Reset()
	proj, err := e.tower(e, ctx, spans)
	if err != nil {
		return nil, err
	}
	return e.split(proj, spans)
}

// split copies proj [Σ span.Len, Out] into one [span.Len, Out] tensor per span.
func (e *Encoder) split(proj *tensor.Tensor, spans []*input.Span) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, 0, len(spans))
	r := 0
	for i, sp := range spans {
		t, err := e.be.Alloc(tensor.F32, sp.Len, e.cfg.Out)
		if err != nil {
			e.free(out)
			return nil, fmt.Errorf("vit: output %d: %w", i, err)
		}
		out = append(out, t)
		ids := make([]int32, sp.Len)
		for j := range ids {
			ids[j] = int32(r + j)
		}
		if err := e.be.Gather(t, proj, ids); err != nil {
			e.free(out)
			return nil, fmt.Errorf("vit: output %d: %w", i, err)
		}
		r += sp.Len
	}
	return out, nil
}

// free releases output tensors of a failed Encode.
func (e *Encoder) free(ts []*tensor.Tensor) {
	for _, t := range ts {
		e.be.Free(t)
	}
}
