package vit

import (
	"fmt"

	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/processors/llavanext"
)

// Metadata is the GGUF key/value access the loaders need (*weights.GGUF).
type Metadata interface {
	String(key string) (string, bool)
	Uint(key string) (uint64, bool)
	Float(key string) (float64, bool)
	Bool(key string) (bool, bool)
	Int32s(key string) ([]int32, bool)
}

// ggufKinds maps clip.projector_type to the encoder flavour.
var ggufKinds = map[string]Kind{"mlp": CLIP, "qwen2vl_merger": Qwen2VL, "idefics3": SigLIP, "qwen2.5vl_merger": Qwen25VL}

// llamaWindow is the Qwen2.5-VL attention window (pixels) of llama.cpp's
// clip.cpp, which reads no window size from a qwen2.5vl_merger mmproj (the
// converter writes none): Hugging Face's default and every released
// Qwen2.5-VL's window_size.
const llamaWindow = 112

// GGUFKind returns the flavour of an mmproj file, or 0 when it is not one
// this package implements.
func GGUFKind(md Metadata) Kind {
	if v, ok := md.Bool("clip.has_vision_encoder"); ok && !v {
		return 0
	}
	pt, _ := md.String("clip.projector_type")
	k := ggufKinds[pt]
	if _, ok := md.Int32s("clip.vision.image_grid_pinpoints"); ok && k == CLIP {
		return AnyRes // LLaVA-NeXT / OneVision: an mlp projector over anyres views
	}
	return k
}

// ggufConfig reads the encoder architecture from mmproj metadata, with
// llama.cpp's conventions (quick-GELU unless clip.use_gelu, every stored
// layer runs, class token only for CLIP).
func ggufConfig(md Metadata, src weights.Source) (Config, error) {
	kind := GGUFKind(md)
	if kind == 0 {
		pt, _ := md.String("clip.projector_type")
		return Config{}, fmt.Errorf("%w: mmproj projector type %q has no image encoder here (have mlp, with or without grid pinpoints, qwen2vl_merger, qwen2.5vl_merger, idefics3)", ErrConfig, pt)
	}
	u := func(k string, def int) (int, error) {
		v, ok := md.Uint("clip.vision." + k)
		if !ok {
			if def >= 0 {
				return def, nil
			}
			return 0, fmt.Errorf("%w: mmproj has no clip.vision.%s", ErrConfig, k)
		}
		if v > 1<<20 {
			return 0, fmt.Errorf("%w: clip.vision.%s = %d", ErrConfig, k, v)
		}
		return int(v), nil
	}
	c := Config{Kind: kind, Temporal: 1, ProjAct: tensor.GELU, Act: tensor.QuickGELU}
	var err error
	for _, f := range []struct {
		dst *int
		key string
		def int
	}{{&c.Hidden, "embedding_length", -1}, {&c.FFN, "feed_forward_length", -1}, {&c.Layers, "block_count", -1},
		{&c.Heads, "attention.head_count", -1}, {&c.Patch, "patch_size", -1}, {&c.Out, "projection_dim", 0}} {
		if *f.dst, err = u(f.key, f.def); err != nil {
			return c, err
		}
	}
	size, err := u("image_size", -1)
	if err != nil {
		return c, err
	}
	eps, ok := md.Float("clip.vision.attention.layer_norm_epsilon")
	if !ok {
		eps = 1e-6
	}
	c.Eps = float32(eps)
	if g, _ := md.Bool("clip.use_gelu"); g {
		c.Act = tensor.GELUTanh
	}
	if s, _ := md.Bool("clip.use_silu"); s {
		c.Act = tensor.SiLU
	}
	if fl, ok := md.Int32s("clip.vision.feature_layer"); ok && len(fl) > 1 {
		return c, fmt.Errorf("%w: multi-layer vision features %v are not supported", ErrConfig, fl)
	}
	if kind == AnyRes {
		return c, anyresGGUF(&c, md, src, size)
	}
	if c.Patch > 0 && size%c.Patch != 0 {
		return c, fmt.Errorf("%w: image size %d is not a multiple of patch %d", ErrConfig, size, c.Patch)
	}
	g := 0
	if c.Patch > 0 {
		g = size / c.Patch
	}
	switch kind {
	case CLIP:
		c.Positions = g*g + 1
	case SigLIP:
		c.Positions = g * g
		if c.Scale, err = u("projector.scale_factor", 2); err != nil {
			return c, err
		}
	case Qwen2VL, Qwen25VL:
		c.Temporal, c.RopeTheta = 2, 10000
		if c.Merge, err = u("spatial_merge_size", 2); err != nil {
			return c, err
		}
	}
	if kind == Qwen25VL {
		// clip.cpp: layer il attends over the whole image when
		// (il+1) % n_wa_pattern == 0 (the converter's pattern of HF
		// fullatt_block_indexes); 0 turns window attention off.
		pat, err := u("n_wa_pattern", -1)
		if err != nil {
			return c, err
		}
		c.Window = llamaWindow
		for i := 0; i < min(c.Layers, 1<<10); i++ { // Validate rejects more than 256
			if pat == 0 || (i+1)%pat == 0 {
				c.FullAtt = append(c.FullAtt, i)
			}
		}
	}
	if c.Out == 0 { // older files: the projector's last layer says it
		name := map[Kind]string{CLIP: "mm.2.weight", Qwen2VL: "mm.2.weight", Qwen25VL: "mm.2.weight", SigLIP: "mm.model.fc.weight"}[kind]
		info, _, err := src.Tensor(name)
		if err != nil || len(info.Shape) != 2 {
			return c, fmt.Errorf("%w: cannot tell the projection width (%s): %v", ErrConfig, name, err)
		}
		c.Out = info.Shape[0]
	}
	return c, c.Validate()
}

// anyresGGUF completes a LLaVA-NeXT / OneVision mmproj's configuration as
// llama.cpp's legacy converter writes it: the tower is CLIP when the file
// has a class embedding (SigLIP otherwise, whose patch grid is the image
// size over the patch, floored), clip.vision.feature_layer (hidden-state
// index) says how many of the stored layers run, image_grid_pinpoints are
// (width, height) pairs, image_aspect_ratio may be anyres_max_N, and the
// features are unpadded with a newline per row (spatial_unpad).
func anyresGGUF(c *Config, md Metadata, src weights.Source, size int) error {
	_, _, err := src.Tensor("v.class_embd")
	c.ClassToken = err == nil
	pins, _, err := llavanext.PinpointsGGUF(md)
	if err != nil {
		return err
	}
	ar, _ := md.String("clip.vision.image_aspect_ratio")
	maxp, err := llavanext.ParseAspect(ar)
	if err != nil {
		return err
	}
	if mt, ok := md.String("clip.vision.mm_patch_merge_type"); ok && mt != "spatial_unpad" {
		return fmt.Errorf("%w: mm_patch_merge_type %q (only spatial_unpad, Hugging Face's packing, is supported)", ErrConfig, mt)
	}
	c.Geometry = llavanext.Geometry{Size: size, Patch: c.Patch, Pinpoints: pins, MaxPatches: maxp}
	if fl, ok := md.Int32s("clip.vision.feature_layer"); ok && len(fl) == 1 {
		if fl[0] <= 0 || int(fl[0]) > c.Layers {
			return fmt.Errorf("%w: feature layer %d of %d stored layers", ErrConfig, fl[0], c.Layers)
		}
		c.Layers = int(fl[0])
	}
	if c.Patch > 0 {
		g := size / c.Patch
		c.Positions = g * g
		if c.ClassToken {
			c.Positions++
		}
	}
	if c.Out == 0 {
		info, _, err := src.Tensor("mm.2.weight")
		if err != nil || len(info.Shape) != 2 {
			return fmt.Errorf("%w: cannot tell the projection width (mm.2.weight): %v", ErrConfig, err)
		}
		c.Out = info.Shape[0]
	}
	return c.Validate()
}

// ggufNames are clip.cpp's tensor names.
func ggufNames(kind Kind) Names {
	keys := map[string]string{"ln1.weight": "ln1.weight", "ln1.bias": "ln1.bias", "ln2.weight": "ln2.weight", "ln2.bias": "ln2.bias",
		"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_out", "up": "ffn_up", "down": "ffn_down", "gate": "ffn_gate"}
	n := Names{
		Patch: "v.patch_embd.weight", PatchBias: "v.patch_embd.bias", CLS: "v.class_embd", Pos: "v.position_embd.weight",
		PreW: "v.pre_ln.weight", PreB: "v.pre_ln.bias", PostW: "v.post_ln.weight", PostB: "v.post_ln.bias",
		Block: func(i int, k string) string { return fmt.Sprintf("v.blk.%d.%s", i, keys[k]) },
		MM0:   "mm.0", MM2: "mm.2", FC: "mm.model.fc", Newline: "model.image_newline",
		SwapFFN: true, // mlp, qwen2vl_merger, qwen2.5vl_merger and idefics3 are on clip.cpp's list
	}
	if kind == Qwen2VL || kind == Qwen25VL {
		n.PatchFrames = []string{"v.patch_embd.weight", "v.patch_embd.weight.1"}
	}
	return n
}

// FromGGUF loads the image encoder of an mmproj file onto be. The encoder
// does not close src.
func FromGGUF(md Metadata, src weights.Source, be tensor.Backend) (*Encoder, error) {
	cfg, err := ggufConfig(md, src)
	if err != nil {
		return nil, err
	}
	p := nn.Params{Src: src, Be: be}
	names := ggufNames(cfg.Kind)
	if p.Has("v.image_newline") { // gguf-py's name; the legacy converter writes model.image_newline
		names.Newline = "v.image_newline"
	}
	if cfg.Layers > 0 && !p.Has(names.Block(0, "q")+".weight") && p.Has("v.blk.0.attn_qkv.weight") {
		names.QKV = func(i int) string { return fmt.Sprintf("v.blk.%d.attn_qkv", i) }
	}
	return Load(cfg, p, names)
}
