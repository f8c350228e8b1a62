package vit

import (
	"fmt"
	"strings"

	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// Names maps the encoder's logical tensors to a file's names.
type Names struct {
	Patch, PatchBias string   // [Hidden, 3, (T,) P, P] kernel, [Hidden] bias
	PatchFrames      []string // Qwen2(.5)-VL GGUF: one [Hidden, 3, P, P] kernel per frame
	CLS, Pos         string
	PreW, PreB       string
	PostW, PostB     string
	Block            func(i int, key string) string // keys: ln1 ln2 (+".weight"/".bias" added), q k v o up down gate
	QKV              func(i int) string             // fused qkv prefix (HF Qwen2-VL), "" if separate
	MM0, MM2, FC     string                         // prefixes: ".weight"/".bias" appended
	Newline          string                         // AnyRes: image_newline [Out]
	// SwapFFN applies clip.cpp's legacy up/down swap when the stored
	// ffn_down's input width equals Hidden.
	SwapFFN bool
}

// Load builds an encoder from weights named by n. closer (may be nil) is
// closed by Encoder.Close.
func Load(cfg Config, p nn.Params, n Names) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Encoder{cfg: cfg, be: p.Be, tower: towerOf(cfg.Kind)}
	c := &e.cfg
	D := c.Hidden
	var err error
	if e.patch, err = patchWeight(c, p, n); err != nil {
		return nil, err
	}
	if n.PatchBias != "" && p.Has(n.PatchBias) {
		if e.patch.B, err = p.Vector(n.PatchBias, D); err != nil {
			return nil, err
		}
	}
	if c.Kind == CLIP || (c.Kind == AnyRes && c.ClassToken) {
		vals, err := p.VectorF32(n.CLS)
		if err != nil {
			return nil, err
		}
		if len(vals) != D {
			return nil, fmt.Errorf("%w: class embedding has %d values, want %d", ErrConfig, len(vals), D)
		}
		if e.cls, err = p.Be.FromF32(vals, 1, D); err != nil {
			return nil, err
		}
		if e.preW, err = p.Vector(n.PreW, D); err != nil {
			return nil, err
		}
		if e.preB, err = p.Vector(n.PreB, D); err != nil {
			return nil, err
		}
	}
	if c.Kind != Qwen2VL && c.Kind != Qwen25VL {
		if e.pos, err = p.Vector(n.Pos, c.Positions, D); err != nil {
			return nil, err
		}
	}
	if c.Kind != CLIP && c.Kind != AnyRes {
		if e.postW, err = p.Vector(n.PostW, D); err != nil {
			return nil, err
		}
		if c.Kind != Qwen25VL { // RMSNorm: no bias
			if e.postB, err = p.Vector(n.PostB, D); err != nil {
				return nil, err
			}
		}
	}
	for i := 0; i < c.Layers; i++ {
		b, err := loadBlock(c, p, n, i)
		if err != nil {
			return nil, fmt.Errorf("vit: layer %d: %w", i, err)
		}
		e.blocks = append(e.blocks, b)
	}
	for _, i := range c.FullAtt {
		if i < len(e.blocks) {
			e.blocks[i].full = true
		}
	}
	switch c.Kind {
	case CLIP, Qwen2VL, Qwen25VL, AnyRes:
		in := D
		if c.Kind == Qwen2VL || c.Kind == Qwen25VL {
			in = D * c.Merge * c.Merge
		}
		info, _, err := p.Src.Tensor(n.MM0 + ".weight")
		if err != nil {
			return nil, err
		}
		if len(info.Shape) != 2 {
			return nil, fmt.Errorf("%w: %s is %v", ErrConfig, info.Name, info.Shape)
		}
		mid := info.Shape[0]
		if e.mm0, err = p.Linear(n.MM0+".weight", n.MM0+".bias", mid, in, false); err != nil {
			return nil, err
		}
		if e.mm2, err = p.Linear(n.MM2+".weight", n.MM2+".bias", c.Out, mid, false); err != nil {
			return nil, err
		}
		if c.Kind == AnyRes {
			if e.newline, err = p.VectorF32(n.Newline); err != nil {
				return nil, err
			}
			if len(e.newline) != c.Out {
				return nil, fmt.Errorf("%w: image_newline has %d values, want %d", ErrConfig, len(e.newline), c.Out)
			}
		}
	case SigLIP:
		if e.fc, err = p.Linear(n.FC+".weight", n.FC+".bias", c.Out, D*c.Scale*c.Scale, false); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func loadBlock(c *Config, p nn.Params, n Names, i int) (block, error) {
	var b block
	var err error
	D := c.Hidden
	rms := c.Kind == Qwen25VL // RMSNorm weights only, gated MLP
	for _, x := range []struct {
		dst **tensor.Tensor
		key string
	}{{&b.ln1w, "ln1.weight"}, {&b.ln1b, "ln1.bias"}, {&b.ln2w, "ln2.weight"}, {&b.ln2b, "ln2.bias"}} {
		if rms && strings.HasSuffix(x.key, ".bias") {
			continue
		}
		if *x.dst, err = p.Vector(n.Block(i, x.key), D); err != nil {
			return b, err
		}
	}
	if n.QKV != nil && n.QKV(i) != "" {
		if b.q, b.k, b.v, err = splitQKV(p, n.QKV(i), D); err != nil {
			return b, err
		}
	} else {
		for _, x := range []struct {
			dst *nn.Linear
			key string
		}{{&b.q, "q"}, {&b.k, "k"}, {&b.v, "v"}} {
			if *x.dst, err = p.Linear(n.Block(i, x.key)+".weight", n.Block(i, x.key)+".bias", D, D, false); err != nil {
				return b, err
			}
		}
	}
	if b.o, err = p.Linear(n.Block(i, "o")+".weight", n.Block(i, "o")+".bias", D, D, false); err != nil {
		return b, err
	}
	upName, downName := n.Block(i, "up"), n.Block(i, "down")
	if n.SwapFFN {
		info, _, err := p.Src.Tensor(downName + ".weight")
		if err != nil {
			return b, err
		}
		if len(info.Shape) == 2 && info.Shape[1] == D && info.Shape[0] != D {
			upName, downName = downName, upName
		}
	}
	if b.up, err = p.Linear(upName+".weight", upName+".bias", c.FFN, D, false); err != nil {
		return b, err
	}
	if b.down, err = p.Linear(downName+".weight", downName+".bias", D, c.FFN, false); err != nil {
		return b, err
	}
	if rms {
		g := n.Block(i, "gate")
		if b.gate, err = p.Linear(g+".weight", g+".bias", c.FFN, D, false); err != nil {
			return b, err
		}
	}
	return b, nil
}

// splitQKV loads a fused [3·D, D] projection as three linears.
func splitQKV(p nn.Params, prefix string, D int) (q, k, v nn.Linear, err error) {
	info, data, err := p.Src.Tensor(prefix + ".weight")
	if err != nil {
		return q, k, v, err
	}
	if len(info.Shape) != 2 || info.Shape[0] != 3*D || info.Shape[1] != D {
		return q, k, v, fmt.Errorf("%w: %s is %v, want [%d %d]", nn.ErrShape, info.Name, info.Shape, 3*D, D)
	}
	rb, err := info.DType.RowBytes(D)
	if err != nil {
		return q, k, v, err
	}
	var bias []float32
	if p.Has(prefix + ".bias") {
		if bias, err = p.VectorF32(prefix + ".bias"); err != nil {
			return q, k, v, err
		}
		if len(bias) != 3*D {
			return q, k, v, fmt.Errorf("%w: %s.bias has %d values, want %d", nn.ErrShape, prefix, len(bias), 3*D)
		}
	}
	out := []*nn.Linear{&q, &k, &v}
	for j, l := range out {
		if l.W, err = p.Be.Weight(info.DType, []int{D, D}, data[j*D*rb:(j+1)*D*rb]); err != nil {
			return q, k, v, err
		}
		if bias != nil {
			if l.B, err = p.Be.FromF32(bias[j*D:(j+1)*D], D); err != nil {
				return q, k, v, err
			}
		}
	}
	return q, k, v, nil
}

// patchWeight loads the patch embedding as a [Hidden, Cols] matmul weight.
// A kernel stored per frame (GGUF Qwen2-VL) is interleaved into HF's
// (channel, frame, y, x) column order.
func patchWeight(c *Config, p nn.Params, n Names) (nn.Linear, error) {
	D, P, T := c.Hidden, c.Patch, c.Temporal
	cols := c.Cols()
	if len(n.PatchFrames) == 0 {
		info, data, err := p.Src.Tensor(n.Patch)
		if err != nil {
			return nn.Linear{}, err
		}
		if info.NumElements() != D*cols || info.Shape[0] != D {
			return nn.Linear{}, fmt.Errorf("%w: %s is %v, want %d×%d", nn.ErrShape, info.Name, info.Shape, D, cols)
		}
		w, err := p.Be.Weight(info.DType, []int{D, cols}, data)
		return nn.Linear{W: w}, err
	}
	if len(n.PatchFrames) != T {
		return nn.Linear{}, fmt.Errorf("%w: %d patch kernels for %d frames", ErrConfig, len(n.PatchFrames), T)
	}
	dt := tensor.F32
	frames := make([][]float32, T)
	for t, name := range n.PatchFrames {
		info, _, err := p.Src.Tensor(name)
		if err != nil {
			return nn.Linear{}, err
		}
		if info.NumElements() != D*3*P*P || info.Shape[0] != D {
			return nn.Linear{}, fmt.Errorf("%w: %s is %v, want [%d 3 %d %d]", nn.ErrShape, name, info.Shape, D, P, P)
		}
		if t == 0 && (info.DType == tensor.F16 || info.DType == tensor.BF16) {
			dt = info.DType
		}
		if frames[t], err = p.VectorF32(name); err != nil {
			return nn.Linear{}, err
		}
	}
	vals := make([]float32, D*cols)
	pp := P * P
	for d := 0; d < D; d++ {
		for ch := 0; ch < 3; ch++ {
			for t := 0; t < T; t++ {
				copy(vals[d*cols+(ch*T+t)*pp:], frames[t][(d*3+ch)*pp:(d*3+ch+1)*pp])
			}
		}
	}
	td, err := weights.EncodeTensor("patch", dt, []int{D, cols}, vals)
	if err != nil {
		return nn.Linear{}, err
	}
	w, err := p.Be.Weight(dt, []int{D, cols}, td.Data)
	return nn.Linear{W: w}, err
}
