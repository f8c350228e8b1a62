// Package llama is the Llama-family text decoder — Llama, Mistral, Qwen2,
// the Qwen2-VL text model (M-RoPE) and Qwen3 (dense) — loaded from Hugging
// Face or GGUF names: RMSNorm, GQA attention with optional q/k/v biases,
// SwiGLU MLP, tied or separate output projection. Qwen3 adds an RMSNorm over
// each head of q and k (weights [head_dim], the model's rms eps) between the
// projections and RoPE, and its head_dim need not be hidden/heads.
//
// RoPE layouts: HF checkpoints and GGUF qwen2/qwen2vl/qwen3 rotate half-split
// pairs (NEOX); GGUF llama files were permuted by the converter to adjacent
// pairs (NORM), which give the same result on the permuted weights.
package llama

import (
	"context"
	"fmt"
	"math"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
)

// families are the registry families this package decodes, with what each
// adds to the Llama block.
var families = map[string]struct {
	qkNorm bool // per-head RMSNorm of q and k before RoPE (Qwen3)
}{
	"llama": {}, "qwen2": {}, "qwen2vl": {}, "qwen3": {qkNorm: true},
}

func init() {
	for f := range families {
		model.Register(f, New)
	}
}

type layer struct {
	attnNorm, ffnNorm *tensor.Tensor // [Hidden]
	qNorm, kNorm      *tensor.Tensor // [HeadDim], nil without q/k norm
	q, k, v, o        nn.Linear
	gate, up, down    nn.Linear
}

// Model is a loaded decoder.
type Model struct {
	cfg    *model.Config
	be     tensor.Backend
	embed  *tensor.Tensor // [Vocab, Hidden] weight
	out    *tensor.Tensor // [Vocab, Hidden] weight (embed when tied)
	norm   *tensor.Tensor // [Hidden]
	layers []layer
	rope   tensor.RoPE
	arena  nn.Arena
	pos    []int32
}

var _ model.Model = (*Model)(nil)

// names maps the logical tensor names to a format's names.
type names struct{ embed, norm, out, layer func(i int, n string) string }

var ggufNames = map[string]string{
	"attn_norm": "attn_norm.weight", "ffn_norm": "ffn_norm.weight",
	"q_norm": "attn_q_norm.weight", "k_norm": "attn_k_norm.weight",
	"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
	"gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down",
}

var hfNames = map[string]string{
	"attn_norm": "input_layernorm.weight", "ffn_norm": "post_attention_layernorm.weight",
	"q_norm": "self_attn.q_norm.weight", "k_norm": "self_attn.k_norm.weight",
	"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
	"gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj",
}

// tensorName returns the stored name of a per-layer or global tensor.
func tensorName(c *model.Config, layer int, key string) string {
	if c.Format == model.GGUF {
		switch key {
		case "embed":
			return "token_embd.weight"
		case "norm":
			return "output_norm.weight"
		case "out":
			return "output.weight"
		case "rope_freqs":
			return "rope_freqs.weight"
		}
		return fmt.Sprintf("blk.%d.%s", layer, ggufNames[key])
	}
	switch key {
	case "embed":
		return c.WeightPrefix + "embed_tokens.weight"
	case "norm":
		return c.WeightPrefix + "norm.weight"
	case "out":
		// lm_head sits next to the decoder ("lm_head" or "language_model.lm_head").
		if len(c.WeightPrefix) >= len("model.") && c.WeightPrefix[len(c.WeightPrefix)-len("model."):] == "model." {
			return c.WeightPrefix[:len(c.WeightPrefix)-len("model.")] + "lm_head.weight"
		}
		return "lm_head.weight"
	case "rope_freqs":
		return ""
	}
	return fmt.Sprintf("%slayers.%d.%s", c.WeightPrefix, layer, hfNames[key])
}

// New loads a decoder.
func New(c *model.Config, p nn.Params) (model.Model, error) {
	if c.Format == model.HF && !p.Has(tensorName(c, 0, "embed")) && p.Has("model.language_model.embed_tokens.weight") {
		c.WeightPrefix = "model.language_model." // transformers ≥ 4.52 multimodal layout
	}
	fam, ok := families[c.Arch]
	if !ok {
		return nil, fmt.Errorf("llama: family %q is not decoded here", c.Arch)
	}
	m := &Model{cfg: c, be: p.Be}
	var err error
	if m.embed, err = p.Matrix(tensorName(c, 0, "embed"), c.Vocab, c.Hidden); err != nil {
		return nil, err
	}
	if m.norm, err = p.Vector(tensorName(c, 0, "norm"), c.Hidden); err != nil {
		return nil, err
	}
	outName := tensorName(c, 0, "out")
	if !c.Tied && !p.Has(outName) && c.Format == model.GGUF {
		c.Tied = true // llama.cpp falls back to the token embedding when output.weight is absent
	}
	if c.Tied {
		m.out = m.embed
	} else if m.out, err = p.Matrix(outName, c.Vocab, c.Hidden); err != nil {
		return nil, err
	}
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	for i := 0; i < c.Layers; i++ {
		var l layer
		n := func(k string) string { return tensorName(c, i, k) }
		w := func(k string) string { return n(k) + ".weight" }
		b := func(k string) string { return n(k) + ".bias" }
		if l.attnNorm, err = p.Vector(n("attn_norm"), c.Hidden); err != nil {
			return nil, err
		}
		if l.ffnNorm, err = p.Vector(n("ffn_norm"), c.Hidden); err != nil {
			return nil, err
		}
		if fam.qkNorm {
			if l.qNorm, err = p.Vector(n("q_norm"), c.HeadDim); err != nil {
				return nil, err
			}
			if l.kNorm, err = p.Vector(n("k_norm"), c.HeadDim); err != nil {
				return nil, err
			}
		}
		for _, x := range []struct {
			dst     *nn.Linear
			key     string
			out, in int
		}{{&l.q, "q", qd, c.Hidden}, {&l.k, "k", kvd, c.Hidden}, {&l.v, "v", kvd, c.Hidden}, {&l.o, "o", c.Hidden, qd},
			{&l.gate, "gate", c.FFN, c.Hidden}, {&l.up, "up", c.FFN, c.Hidden}, {&l.down, "down", c.Hidden, c.FFN}} {
			if *x.dst, err = p.Linear(w(x.key), b(x.key), x.out, x.in, false); err != nil {
				return nil, err
			}
		}
		m.layers = append(m.layers, l)
	}
	m.rope = tensor.RoPE{Mode: tensor.RoPENeox, Dims: c.HeadDim, Base: c.RopeTheta, Freqs: c.InvFreqs()}
	if c.Format == model.GGUF && c.Arch == "llama" {
		m.rope.Mode = tensor.RoPENorm
	}
	if c.RopeSections != nil {
		m.rope.Mode, m.rope.Sections = tensor.RoPEMulti, c.RopeSections
	}
	if name := tensorName(c, 0, "rope_freqs"); name != "" && p.Has(name) {
		factors, err := p.VectorF32(name)
		if err != nil {
			return nil, err
		}
		if len(factors) != c.HeadDim/2 {
			return nil, fmt.Errorf("%s has %d factors, want %d", name, len(factors), c.HeadDim/2)
		}
		m.rope.Freqs = make([]float32, len(factors))
		for i, f := range factors {
			m.rope.Freqs[i] = float32(math.Pow(float64(c.RopeTheta), -2*float64(i)/float64(c.HeadDim)) / float64(f))
		}
	}
	return m, nil
}

func (m *Model) Config() *model.Config { return m.cfg }

// headNorm RMS-normalises each row (one head) of x in place with w; no-op when w is nil.
func headNorm(be tensor.Backend, x, w *tensor.Tensor, eps float32) error {
	if w == nil {
		return nil
	}
	return be.RMSNorm(x, x, w, eps)
}

// positions lays out RoPE positions stream-major for the model's mode.
func (m *Model) positions(b *input.Batch) ([]int32, error) {
	T := b.T()
	if len(b.Pos) != T {
		return nil, fmt.Errorf("llama: %d positions for %d tokens", len(b.Pos), T)
	}
	if m.rope.Mode != tensor.RoPEMulti {
		return b.Pos, nil
	}
	if b.PosM != nil && len(b.PosM) != T {
		return nil, fmt.Errorf("llama: %d M-RoPE positions for %d tokens", len(b.PosM), T)
	}
	S := len(m.rope.Sections)
	m.pos = append(m.pos[:0], make([]int32, S*T)...)
	for t := 0; t < T; t++ {
		p := [3]int32{b.Pos[t], b.Pos[t], b.Pos[t]}
		if b.PosM != nil {
			p = b.PosM[t]
		}
		for s := 0; s < S && s < 3; s++ {
			m.pos[s*T+t] = p[s]
		}
	}
	return m.pos, nil
}

func (m *Model) Forward(ctx context.Context, b *input.Batch, kv *kvcache.Pool) (*tensor.Tensor, error) {
	c, be := m.cfg, m.be
	T := b.T()
	if T == 0 || len(b.Slots) != T {
		return nil, fmt.Errorf("llama: batch of %d tokens with %d KV slots", T, len(b.Slots))
	}
	if kv.Layers != c.Layers || kv.KVHeads != c.KVHeads || kv.HeadDim != c.HeadDim {
		return nil, fmt.Errorf("llama: KV pool %+v does not fit the model", kv.Spec)
	}
	pos, err := m.positions(b)
	if err != nil {
		return nil, err
	}
	m.arena.Reset()
	a := &m.arena
	x := a.F32(T, c.Hidden)
	if err := be.Gather(x, m.embed, b.Tokens); err != nil {
		return nil, fmt.Errorf("llama: embedding: %w", err)
	}
	for _, s := range b.Splice {
		if s.Len == 0 {
			continue
		}
		src, err := s.Embeds.Slice(s.From, s.From+s.Len)
		if err != nil {
			return nil, fmt.Errorf("llama: splice: %w", err)
		}
		rows := make([]int32, s.Len)
		for i := range rows {
			rows[i] = int32(s.Row + i)
		}
		if err := be.SetRows(x, rows, src); err != nil {
			return nil, fmt.Errorf("llama: splice: %w", err)
		}
	}
	seqs := make([]tensor.AttnSeq, len(b.Seqs))
	for i, s := range b.Seqs {
		seqs[i] = tensor.AttnSeq{QStart: s.QStart, QLen: s.QLen, KVLen: s.KVLen, Pages: s.Pages}
	}
	attn := tensor.PagedAttn{Scale: float32(1 / math.Sqrt(float64(c.HeadDim))), PageSize: kv.PageSize, Seqs: seqs}
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	h := a.F32(T, c.Hidden)
	q, k, v := a.F32(T, c.Heads, c.HeadDim), a.F32(T, c.KVHeads, c.HeadDim), a.F32(T, c.KVHeads, c.HeadDim)
	att := a.F32(T, c.Heads, c.HeadDim)
	g, u := a.F32(T, c.FFN), a.F32(T, c.FFN)
	q2, _ := q.View(T, qd)
	k2, _ := k.View(T, kvd)
	v2, _ := v.View(T, kvd)
	att2, _ := att.View(T, qd)
	qh, _ := q.View(T*c.Heads, c.HeadDim) // one row per head, for the q/k norms
	kh, _ := k.View(T*c.KVHeads, c.HeadDim)
	for li, l := range m.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kc, vc := kv.Layer(li)
		kc2, _ := kc.View(kc.Shape[0], kvd)
		vc2, _ := vc.View(vc.Shape[0], kvd)
		steps := []func() error{
			func() error { return be.RMSNorm(h, x, l.attnNorm, c.RMSEps) },
			func() error { return l.q.Forward(be, q2, h) },
			func() error { return l.k.Forward(be, k2, h) },
			func() error { return l.v.Forward(be, v2, h) },
			func() error { return headNorm(be, qh, l.qNorm, c.RMSEps) },
			func() error { return headNorm(be, kh, l.kNorm, c.RMSEps) },
			func() error { return be.RoPE(q, q, pos, m.rope) },
			func() error { return be.RoPE(k, k, pos, m.rope) },
			func() error { return be.SetRows(kc2, b.Slots, k2) },
			func() error { return be.SetRows(vc2, b.Slots, v2) },
			func() error { return be.PagedAttention(att, q, kc, vc, attn) },
			func() error { return l.o.Forward(be, h, att2) },
			func() error { return be.Add(x, x, h) },
			func() error { return be.RMSNorm(h, x, l.ffnNorm, c.RMSEps) },
			func() error { return l.gate.Forward(be, g, h) },
			func() error { return l.up.Forward(be, u, h) },
			func() error { return be.SwiGLU(g, g, u) },
			func() error { return l.down.Forward(be, h, g) },
			func() error { return be.Add(x, x, h) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, fmt.Errorf("llama: layer %d: %w", li, err)
			}
		}
	}
	n := len(b.Logits)
	rows := make([]int32, n)
	for i, r := range b.Logits {
		if r < 0 || r >= T {
			return nil, fmt.Errorf("llama: logits row %d outside %d rows", r, T)
		}
		rows[i] = int32(r)
	}
	sel := a.F32(n, c.Hidden)
	if err := be.Gather(sel, x, rows); err != nil {
		return nil, err
	}
	if err := be.RMSNorm(sel, sel, m.norm, c.RMSEps); err != nil {
		return nil, err
	}
	logits := a.F32(n, c.Vocab)
	if err := be.MatMul(logits, sel, m.out); err != nil {
		return nil, err
	}
	return logits, nil
}
