package whisper

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	pw "github.com/sightline/sightline/processors/whisper"
)

// Format selects the tensor names of the weight source.
type Format uint8

const (
	GGUF Format = iota // llama.cpp qwen2a mmproj: a.*, mm.a.fc
	HF                 // Qwen2AudioForConditionalGeneration: audio_tower.*, multi_modal_projector.*
)

// name returns the stored name of a global (layer < 0) or per-layer tensor.
func (f Format) name(prefix string, layer int, key string) string {
	if f == GGUF {
		g := map[string]string{
			"conv1.w": "a.conv1d.1.weight", "conv1.b": "a.conv1d.1.bias", "conv2.w": "a.conv1d.2.weight", "conv2.b": "a.conv1d.2.bias",
			"pos": "a.position_embd.weight", "post.w": "a.post_ln.weight", "post.b": "a.post_ln.bias",
			"proj.w": "mm.a.fc.weight", "proj.b": "mm.a.fc.bias",
		}
		if layer < 0 {
			return g[key]
		}
		l := map[string]string{
			"ln1.w": "ln1.weight", "ln1.b": "ln1.bias", "ln2.w": "ln2.weight", "ln2.b": "ln2.bias",
			"q.w": "attn_q.weight", "q.b": "attn_q.bias", "k.w": "attn_k.weight", "k.b": "attn_k.bias",
			"v.w": "attn_v.weight", "v.b": "attn_v.bias", "o.w": "attn_out.weight", "o.b": "attn_out.bias",
			"up.w": "ffn_up.weight", "up.b": "ffn_up.bias", "down.w": "ffn_down.weight", "down.b": "ffn_down.bias",
		}
		return fmt.Sprintf("a.blk.%d.%s", layer, l[key])
	}
	h := map[string]string{
		"conv1.w": "audio_tower.conv1.weight", "conv1.b": "audio_tower.conv1.bias", "conv2.w": "audio_tower.conv2.weight",
		"conv2.b": "audio_tower.conv2.bias", "pos": "audio_tower.embed_positions.weight",
		"post.w": "audio_tower.layer_norm.weight", "post.b": "audio_tower.layer_norm.bias",
		"proj.w": "multi_modal_projector.linear.weight", "proj.b": "multi_modal_projector.linear.bias",
	}
	if layer < 0 {
		return prefix + h[key]
	}
	l := map[string]string{
		"ln1.w": "self_attn_layer_norm.weight", "ln1.b": "self_attn_layer_norm.bias",
		"ln2.w": "final_layer_norm.weight", "ln2.b": "final_layer_norm.bias",
		"q.w": "self_attn.q_proj.weight", "q.b": "self_attn.q_proj.bias", "k.w": "self_attn.k_proj.weight", "k.b": "self_attn.k_proj.bias",
		"v.w": "self_attn.v_proj.weight", "v.b": "self_attn.v_proj.bias", "o.w": "self_attn.out_proj.weight", "o.b": "self_attn.out_proj.bias",
		"up.w": "fc1.weight", "up.b": "fc1.bias", "down.w": "fc2.weight", "down.b": "fc2.bias",
	}
	return fmt.Sprintf("%saudio_tower.layers.%d.%s", prefix, layer, l[key])
}

type block struct {
	ln1w, ln1b, ln2w, ln2b *tensor.Tensor // [D]
	q, k, v, o, up, down   nn.Linear
}

// Encoder is the Whisper encoder + Qwen2-Audio projector. Encode calls are
// serialized (one activation arena).
type Encoder struct {
	cfg            Config
	be             tensor.Backend
	conv1w, conv2w *tensor.Tensor // [D, NMel, 3], [D, D, 3] weights
	conv1b, conv2b *tensor.Tensor // [D]
	pos            *tensor.Tensor // [MaxPos, D]
	layers         []block
	postw, postb   *tensor.Tensor // [D]
	proj           nn.Linear      // [ProjDim, D]

	// fullWindow runs the blocks over every position of the padded window
	// with the padded keys masked (Hugging Face's computation) instead of
	// over the real positions only; the kept rows are the same.
	fullWindow bool

	mu    sync.Mutex
	arena nn.Arena
}

var _ encoders.Encoder = (*Encoder)(nil)

// Load builds the encoder from src. For GGUF, cfg comes from
// ConfigFromGGUF; for HF from ParseHFConfig (ProjDim 0 is taken from the
// projector weight). The position table's row count sets cfg.MaxPos; an HF
// checkpoint without one gets Whisper's sinusoids.
func Load(src weights.Source, f Format, cfg Config, be tensor.Backend) (*Encoder, error) {
	p := nn.Params{Src: src, Be: be}
	prefix := ""
	if f == HF && !p.Has(f.name("", -1, "conv1.w")) && p.Has("model."+f.name("", -1, "conv1.w")) {
		prefix = "model."
	}
	name := func(layer int, key string) string { return f.name(prefix, layer, key) }
	if cfg.ProjDim == 0 {
		if info, _, err := src.Tensor(name(-1, "proj.w")); err == nil && len(info.Shape) == 2 {
			cfg.ProjDim = info.Shape[0]
		}
	}
	if info, _, err := src.Tensor(name(-1, "pos")); err == nil && len(info.Shape) == 2 {
		cfg.MaxPos = info.Shape[0]
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Encoder{cfg: cfg, be: be}
	D := cfg.D
	var err error
	vec := func(key string, layer, n int) *tensor.Tensor {
		if err != nil {
			return nil
		}
		var vals []float32
		if vals, err = p.VectorF32(name(layer, key)); err != nil {
			return nil
		}
		if len(vals) != n { // GGUF stores conv biases as [D, 1]
			err = fmt.Errorf("%w: %s has %d values, want %d", nn.ErrShape, name(layer, key), len(vals), n)
			return nil
		}
		var t *tensor.Tensor
		t, err = be.FromF32(vals, n)
		return t
	}
	lin := func(key string, layer, out, in int, bias bool) nn.Linear {
		if err != nil {
			return nn.Linear{}
		}
		b := ""
		if bias {
			b = name(layer, key+".b")
		}
		var l nn.Linear
		l, err = p.Linear(name(layer, key+".w"), b, out, in, bias)
		return l
	}
	if e.conv1w, err = p.Matrix(name(-1, "conv1.w"), D, cfg.NMel, 3); err != nil {
		return nil, err
	}
	if e.conv2w, err = p.Matrix(name(-1, "conv2.w"), D, D, 3); err != nil {
		return nil, err
	}
	e.conv1b, e.conv2b = vec("conv1.b", -1, D), vec("conv2.b", -1, D)
	e.postw, e.postb = vec("post.w", -1, D), vec("post.b", -1, D)
	e.proj = lin("proj", -1, cfg.ProjDim, D, true)
	if err != nil {
		return nil, err
	}
	if p.Has(name(-1, "pos")) {
		e.pos, err = p.Vector(name(-1, "pos"), cfg.MaxPos, D)
	} else if f == HF {
		e.pos, err = be.FromF32(sinusoids(cfg.MaxPos, D), cfg.MaxPos, D)
	} else {
		_, _, err = src.Tensor(name(-1, "pos"))
	}
	if err != nil {
		return nil, err
	}
	for i := 0; i < cfg.Layers; i++ {
		b := block{
			ln1w: vec("ln1.w", i, D), ln1b: vec("ln1.b", i, D), ln2w: vec("ln2.w", i, D), ln2b: vec("ln2.b", i, D),
			q: lin("q", i, D, D, true), k: lin("k", i, D, D, false), v: lin("v", i, D, D, true), o: lin("o", i, D, D, true),
			up: lin("up", i, cfg.FFN, D, true), down: lin("down", i, D, cfg.FFN, true),
		}
		if err != nil {
			return nil, fmt.Errorf("whisper: layer %d: %w", i, err)
		}
		e.layers = append(e.layers, b)
	}
	return e, nil
}

// sinusoids is Whisper's fixed position table [n, d]: sin | cos halves.
func sinusoids(n, d int) []float32 {
	half := d / 2
	out := make([]float32, n*d)
	inc := math.Log(10000) / float64(max(half-1, 1))
	for t := 0; t < n; t++ {
		for i := 0; i < half; i++ {
			a := float64(t) * math.Exp(-inc*float64(i))
			out[t*d+i] = float32(math.Sin(a))
			out[t*d+half+i] = float32(math.Cos(a))
		}
	}
	return out
}

// Config returns the encoder's shape.
func (e *Encoder) Config() Config { return e.cfg }

// Modality is input.Audio.
func (e *Encoder) Modality() input.Modality { return input.Audio }

// job is one span's geometry.
type job struct {
	mel       []float32 // [NMel, F]
	frames    int       // F
	real      int       // L_enc: positions that are attended to
	rows      int       // positions computed (L_enc, or the whole window)
	tokens    int       // kept output rows
	off, pOff int       // first row in the stacked activations / pooled rows
}

func (e *Encoder) plan(spans []*input.Span) ([]job, error) {
	jobs := make([]job, len(spans))
	for i, sp := range spans {
		f := sp.Features
		if f == nil || len(f.Shape) != 2 || f.Shape[0] != e.cfg.NMel || f.Shape[1] < 1 || f.Shape[0]*f.Shape[1] != len(f.Data) {
			var shape []int
			if f != nil {
				shape = f.Shape
			}
			return nil, fmt.Errorf("%w: span %d: features of shape %v, want [%d, frames]", ErrFeatures, i, shape, e.cfg.NMel)
		}
		F, L := f.Shape[1], f.Grid[0]
		if L < 1 || L > F {
			return nil, fmt.Errorf("%w: span %d: %d real frames of %d", ErrFeatures, i, L, F)
		}
		j := job{mel: f.Data, frames: F, real: pw.EncoderFrames(L), tokens: pw.Tokens(L)}
		j.rows = j.real
		if e.fullWindow {
			j.rows = pw.EncoderFrames(F)
		}
		if j.rows > e.cfg.MaxPos {
			return nil, fmt.Errorf("%w: span %d: %d encoder positions exceed the %d the model has", ErrFeatures, i, j.rows, e.cfg.MaxPos)
		}
		if j.tokens < 1 {
			return nil, fmt.Errorf("%w: span %d: %d real frames give no token", ErrFeatures, i, L)
		}
		if j.tokens != sp.Len {
			return nil, fmt.Errorf("%w: span %d: %d real frames give %d tokens, the span has %d", ErrFeatures, i, L, j.tokens, sp.Len)
		}
		jobs[i] = j
	}
	return jobs, nil
}

// maxBatchRows bounds the encoder positions of one batch (activations are
// a few times rows × max(D, FFN) floats); a span is never split.
const maxBatchRows = 4096

// Encode returns one [span.Len, ProjDim] tensor per span. Spans are batched
// up to maxBatchRows positions: every matrix product runs over the rows of
// all spans of a batch at once; convolutions and attention run per span.
func (e *Encoder) Encode(ctx context.Context, spans []*input.Span) ([]*tensor.Tensor, error) {
	jobs, err := e.plan(spans)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*tensor.Tensor
	for lo := 0; lo < len(jobs); {
		hi, rows := lo, 0
		for hi < len(jobs) && (hi == lo || rows+jobs[hi].rows <= maxBatchRows) {
			rows += jobs[hi].rows
			hi++
		}
		res, err := e.encodeBatch(ctx, jobs[lo:hi])
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
		lo = hi
	}
	return out, nil
}

// encodeBatch runs jobs stacked in one set of activations.
func (e *Encoder) encodeBatch(ctx context.Context, jobs []job) ([]*tensor.Tensor, error) {
	e.arena.Reset()
	be, a, c := e.be, &e.arena, e.cfg
	R, P := 0, 0
	for i := range jobs {
		jobs[i].off, jobs[i].pOff = R, P
		R += jobs[i].rows
		P += jobs[i].tokens
	}
	D, hd := c.D, c.D/c.Heads
	x := a.F32(R, D)
	for _, j := range jobs {
		if err := e.stem(x, j); err != nil {
			return nil, err
		}
	}
	h, q, k, v, att := a.F32(R, D), a.F32(R, D), a.F32(R, D), a.F32(R, D), a.F32(R, D)
	u := a.F32(R, c.FFN)
	scale := float32(1 / math.Sqrt(float64(hd)))
	for li, l := range e.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		steps := []func() error{
			func() error { return be.LayerNorm(h, x, l.ln1w, l.ln1b, c.Eps) },
			func() error { return l.q.Forward(be, q, h) },
			func() error { return l.k.Forward(be, k, h) },
			func() error { return l.v.Forward(be, v, h) },
			func() error {
				for _, j := range jobs {
					if err := e.attend(att, q, k, v, j, scale); err != nil {
						return err
					}
				}
				return nil
			},
			func() error { return l.o.Forward(be, h, att) },
			func() error { return be.Add(x, x, h) },
			func() error { return be.LayerNorm(h, x, l.ln2w, l.ln2b, c.Eps) },
			func() error { return l.up.Forward(be, u, h) },
			func() error { return be.Act(u, u, tensor.GELU) },
			func() error { return l.down.Forward(be, h, u) },
			func() error { return be.Add(x, x, h) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, fmt.Errorf("whisper: layer %d: %w", li, err)
			}
		}
	}
	pooled := a.F32(P, D)
	for _, j := range jobs {
		src, err := x.Slice(j.off, j.off+2*j.tokens)
		if err != nil {
			return nil, err
		}
		dst, err := pooled.Slice(j.pOff, j.pOff+j.tokens)
		if err != nil {
			return nil, err
		}
		if err := be.AvgPool1D(dst, src, 2, 2); err != nil {
			return nil, fmt.Errorf("whisper: pool: %w", err)
		}
	}
	if err := be.LayerNorm(pooled, pooled, e.postw, e.postb, c.Eps); err != nil {
		return nil, fmt.Errorf("whisper: post norm: %w", err)
	}
	y := a.F32(P, c.ProjDim)
	if err := e.proj.Forward(be, y, pooled); err != nil {
		return nil, fmt.Errorf("whisper: projector: %w", err)
	}
	out := make([]*tensor.Tensor, len(jobs))
	for i, j := range jobs {
		sl, err := y.Slice(j.pOff, j.pOff+j.tokens)
		if err != nil {
			return nil, err
		}
		buf := make([]float32, j.tokens*c.ProjDim)
		if err := be.ToF32(sl, buf); err != nil {
			return nil, err
		}
		if out[i], err = be.FromF32(buf, j.tokens, c.ProjDim); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stem computes rows [j.off, j.off+j.rows) of x: both convolutions with
// GELU, plus the positions.
//
//	conv2 row p reads conv1 rows 2p−1..2p+1, which read mel frames 2p−2..2p+2:
//	rows < n need conv1 rows < 2n and mel frames < 2n+1 (the rest is never read).
func (e *Encoder) stem(x *tensor.Tensor, j job) error {
	be, a, c := e.be, &e.arena, e.cfg
	t1 := min(j.frames, 2*j.rows+1)
	in := a.F32(t1, c.NMel)
	iv := in.F32()
	for m := 0; m < c.NMel; m++ {
		row := j.mel[m*j.frames : m*j.frames+t1]
		for t, v := range row {
			iv[t*c.NMel+m] = v
		}
	}
	c1 := a.F32(t1, c.D)
	if err := be.Conv1D(c1, in, e.conv1w, e.conv1b, 1, 1); err != nil {
		return fmt.Errorf("whisper: conv1: %w", err)
	}
	if err := be.Act(c1, c1, tensor.GELU); err != nil {
		return err
	}
	c1s, err := c1.Slice(0, min(t1, 2*j.rows))
	if err != nil {
		return err
	}
	dst, err := x.Slice(j.off, j.off+j.rows)
	if err != nil {
		return err
	}
	if err := be.Conv1D(dst, c1s, e.conv2w, e.conv2b, 2, 1); err != nil {
		return fmt.Errorf("whisper: conv2: %w", err)
	}
	if err := be.Act(dst, dst, tensor.GELU); err != nil {
		return err
	}
	pos, err := e.pos.Slice(0, j.rows)
	if err != nil {
		return err
	}
	return be.Add(dst, dst, pos)
}
