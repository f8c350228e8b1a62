package vit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/processors/llavanext"
)

// HFKinds maps Hugging Face architectures to the encoder flavour.
var HFKinds = map[string]Kind{
	"LlavaForConditionalGeneration":    CLIP,
	"Qwen2VLForConditionalGeneration":  Qwen2VL,
	"Idefics3ForConditionalGeneration": SigLIP,
	// Qwen2.5-VL's vision_config names the tower's width hidden_size and the
	// text model's out_hidden_size (Qwen2-VL: embed_dim and hidden_size).
	"Qwen2_5_VLForConditionalGeneration": Qwen25VL,
	// LLaVA-NeXT (a CLIP tower as released) and OneVision (SigLIP): the
	// tower follows vision_config.model_type.
	"LlavaNextForConditionalGeneration":      AnyRes,
	"LlavaOnevisionForConditionalGeneration": AnyRes,
}

// hfVision is the union of the vision_config fields of the families.
type hfVision struct {
	ModelType    string   `json:"model_type"`
	HiddenSize   *int     `json:"hidden_size"`
	Intermediate *int     `json:"intermediate_size"`
	Layers       *int     `json:"num_hidden_layers"`
	Heads        *int     `json:"num_attention_heads"`
	ImageSize    *int     `json:"image_size"`
	PatchSize    *int     `json:"patch_size"`
	Eps          *float64 `json:"layer_norm_eps"`
	Act          *string  `json:"hidden_act"`
	// Qwen2-VL
	Depth    *int     `json:"depth"`
	EmbedDim *int     `json:"embed_dim"`
	NumHeads *int     `json:"num_heads"`
	MLPRatio *float64 `json:"mlp_ratio"`
	Merge    *int     `json:"spatial_merge_size"`
	Temporal *int     `json:"temporal_patch_size"`
	InChans  *int     `json:"in_chans"`
	Channels *int     `json:"num_channels"`
	// Qwen2.5-VL
	Window     *int   `json:"window_size"`
	FullAtt    *[]int `json:"fullatt_block_indexes"`
	InChannels *int   `json:"in_channels"`
}

type hfTop struct {
	Architectures []string        `json:"architectures"`
	Vision        hfVision        `json:"vision_config"`
	FeatureLayer  json.RawMessage `json:"vision_feature_layer"`
	Strategy      string          `json:"vision_feature_select_strategy"`
	ProjectorAct  string          `json:"projector_hidden_act"`
	ScaleFactor   int             `json:"scale_factor"`
	Pinpoints     json.RawMessage `json:"image_grid_pinpoints"`
	Aspect        *string         `json:"vision_aspect_ratio"`
}

func actFromHF(s string) (tensor.Activation, error) {
	switch s {
	case "quick_gelu":
		return tensor.QuickGELU, nil
	case "gelu":
		return tensor.GELU, nil
	case "gelu_pytorch_tanh", "gelu_new", "gelu_fast":
		return tensor.GELUTanh, nil
	case "silu":
		return tensor.SiLU, nil
	}
	return 0, fmt.Errorf("%w: activation %q", ErrConfig, s)
}

func pick(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

// towerDims sets c's CLIP/SigLIP tower sizes from v over transformers'
// defaults (CLIPVisionConfig's, or SiglipVisionConfig's patch, eps and
// activation) and returns the image size and the activation's HF name.
func towerDims(c *Config, v hfVision, siglip bool) (size int, act string) {
	size, act = 224, "quick_gelu"
	c.Hidden, c.FFN, c.Layers, c.Heads, c.Patch, c.Eps = 768, 3072, 12, 12, 32, 1e-5
	if siglip {
		c.Patch, c.Eps, act = 16, 1e-6, "gelu_pytorch_tanh"
	}
	v.override(c, &size, &act)
	return size, act
}

// override replaces c's tower sizes, *size and *act by the ones v sets.
func (v hfVision) override(c *Config, size *int, act *string) {
	pick(&c.Hidden, v.HiddenSize)
	pick(&c.FFN, v.Intermediate)
	pick(&c.Layers, v.Layers)
	pick(&c.Heads, v.Heads)
	pick(&c.Patch, v.PatchSize)
	pick(size, v.ImageSize)
	if v.Eps != nil {
		c.Eps = float32(*v.Eps)
	}
	if v.Act != nil {
		*act = *v.Act
	}
}

// featureLayer is vision_feature_layer (def when absent) as a count of tower
// layers: hidden_states[k] is the output after k layers, and a negative k
// counts from the end.
func featureLayer(raw json.RawMessage, def, layers int) (int, error) {
	layer := def
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &layer); err != nil {
			return 0, fmt.Errorf("%w: vision_feature_layer %s (only one layer is supported)", ErrConfig, raw)
		}
	}
	if layer < 0 {
		layer += layers + 1
	}
	return layer, nil
}

// FromHF loads the vision tower and projector of a Hugging Face checkpoint
// directory onto be; the encoder keeps the weight files open until Close.
func FromHF(dir string, be tensor.Backend) (*Encoder, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("vit: %w", err)
	}
	var top hfTop
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrConfig, err)
	}
	if len(top.Architectures) == 0 {
		return nil, fmt.Errorf("%w: config.json names no architecture", ErrConfig)
	}
	kind, ok := HFKinds[top.Architectures[0]]
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a vision model this package loads", encoders.ErrNoTower, top.Architectures[0])
	}
	src, err := weights.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	e, err := fromHFSource(kind, &top, src, be)
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	e.closer = src
	return e, nil
}

func fromHFSource(kind Kind, top *hfTop, src weights.Source, be tensor.Backend) (*Encoder, error) {
	p := nn.Params{Src: src, Be: be}
	v := top.Vision
	c := Config{Kind: kind, Temporal: 1, ProjAct: tensor.GELU}
	var n Names
	first := func(names ...string) string {
		for _, s := range names {
			if p.Has(s) {
				return s
			}
		}
		return names[0]
	}
	actName := "quick_gelu"
	switch kind {
	case CLIP:
		var size int
		size, actName = towerDims(&c, v, false)
		if c.Patch <= 0 || size%c.Patch != 0 {
			return nil, fmt.Errorf("%w: image size %d, patch %d", ErrConfig, size, c.Patch)
		}
		g := size / c.Patch
		c.Positions = g*g + 1
		layer, err := featureLayer(top.FeatureLayer, -2, c.Layers)
		if err != nil {
			return nil, err
		}
		if layer < 0 || layer > c.Layers { // 0: the embeddings
			return nil, fmt.Errorf("%w: vision_feature_layer %d of %d layers", ErrConfig, layer, c.Layers)
		}
		c.Layers = layer
		switch top.Strategy {
		case "", "default":
		case "full":
			c.KeepCLS = true
		default:
			return nil, fmt.Errorf("%w: vision_feature_select_strategy %q", ErrConfig, top.Strategy)
		}
		if top.ProjectorAct != "" {
			pa, err := actFromHF(top.ProjectorAct)
			if err != nil {
				return nil, err
			}
			c.ProjAct = pa
		}
		pre := first("vision_tower.vision_model.embeddings.patch_embedding.weight", "model.vision_tower.vision_model.embeddings.patch_embedding.weight")
		vp := pre[:len(pre)-len("embeddings.patch_embedding.weight")]
		mp := "multi_modal_projector."
		if p.Has("model.multi_modal_projector.linear_1.weight") {
			mp = "model." + mp
		}
		n = Names{Patch: pre, PatchBias: vp + "embeddings.patch_embedding.bias", CLS: vp + "embeddings.class_embedding",
			Pos: vp + "embeddings.position_embedding.weight", PreW: vp + "pre_layrnorm.weight", PreB: vp + "pre_layrnorm.bias",
			Block: clipBlock(vp + "encoder.layers."), MM0: mp + "linear_1", MM2: mp + "linear_2"}
	case AnyRes:
		var err error
		if n, actName, err = anyresHF(&c, top, p); err != nil {
			return nil, err
		}
	case SigLIP:
		c.Hidden, c.FFN, c.Layers, c.Heads, c.Patch, c.Eps, c.Scale = 1152, 3072, 12, 16, 32, 1e-6, 2
		size := 224
		actName = "gelu_pytorch_tanh"
		v.override(&c, &size, &actName)
		if top.ScaleFactor > 0 {
			c.Scale = top.ScaleFactor
		}
		if c.Patch <= 0 || size%c.Patch != 0 {
			return nil, fmt.Errorf("%w: image size %d, patch %d", ErrConfig, size, c.Patch)
		}
		g := size / c.Patch
		c.Positions = g * g
		vp := "model.vision_model."
		n = Names{Patch: vp + "embeddings.patch_embedding.weight", PatchBias: vp + "embeddings.patch_embedding.bias",
			Pos: vp + "embeddings.position_embedding.weight", PostW: vp + "post_layernorm.weight", PostB: vp + "post_layernorm.bias",
			Block: clipBlock(vp + "encoder.layers."), FC: "model.connector.modality_projection.proj"}
	case Qwen2VL:
		c.Hidden, c.Layers, c.Heads, c.Patch, c.Temporal, c.Merge, c.Eps, c.RopeTheta = 1280, 32, 16, 14, 2, 2, 1e-6, 10000
		ratio := 4.0
		pick(&c.Hidden, v.EmbedDim)
		pick(&c.Layers, v.Depth)
		pick(&c.Heads, v.NumHeads)
		pick(&c.Patch, v.PatchSize)
		pick(&c.Temporal, v.Temporal)
		pick(&c.Merge, v.Merge)
		if v.MLPRatio != nil {
			ratio = *v.MLPRatio
		}
		c.FFN = int(float64(c.Hidden) * ratio)
		if v.Act != nil {
			actName = *v.Act
		}
		vp := first("visual.patch_embed.proj.weight", "model.visual.patch_embed.proj.weight")
		vp = vp[:len(vp)-len("patch_embed.proj.weight")]
		n = Names{Patch: vp + "patch_embed.proj.weight", PostW: vp + "merger.ln_q.weight", PostB: vp + "merger.ln_q.bias",
			Block: func(i int, k string) string {
				m := map[string]string{"ln1.weight": "norm1.weight", "ln1.bias": "norm1.bias", "ln2.weight": "norm2.weight",
					"ln2.bias": "norm2.bias", "o": "attn.proj", "up": "mlp.fc1", "down": "mlp.fc2"}
				return fmt.Sprintf("%sblocks.%d.%s", vp, i, m[k])
			},
			QKV: func(i int) string { return fmt.Sprintf("%sblocks.%d.attn.qkv", vp, i) },
			MM0: vp + "merger.mlp.0", MM2: vp + "merger.mlp.2"}
	case Qwen25VL:
		// Qwen2_5_VLVisionConfig's defaults; the norms' eps (1e-6) is fixed
		// in the modeling code, not read from the config.
		c.Hidden, c.Layers, c.Heads, c.FFN, c.Patch, c.Temporal, c.Merge, c.Eps, c.RopeTheta = 3584, 32, 16, 3420, 14, 2, 2, 1e-6, 10000
		c.Window, c.FullAtt = 112, []int{7, 15, 23, 31}
		pick(&c.Hidden, v.HiddenSize)
		pick(&c.Layers, v.Depth)
		pick(&c.Heads, v.NumHeads)
		pick(&c.FFN, v.Intermediate)
		pick(&c.Patch, v.PatchSize)
		pick(&c.Temporal, v.Temporal)
		pick(&c.Merge, v.Merge)
		pick(&c.Window, v.Window)
		if v.FullAtt != nil {
			c.FullAtt = *v.FullAtt
		}
		actName = "silu"
		if v.Act != nil {
			actName = *v.Act
		}
		vp := first("visual.patch_embed.proj.weight", "model.visual.patch_embed.proj.weight")
		vp = vp[:len(vp)-len("patch_embed.proj.weight")]
		n = Names{Patch: vp + "patch_embed.proj.weight", PostW: vp + "merger.ln_q.weight",
			Block: func(i int, k string) string {
				m := map[string]string{"ln1.weight": "norm1.weight", "ln2.weight": "norm2.weight", "o": "attn.proj",
					"gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}
				return fmt.Sprintf("%sblocks.%d.%s", vp, i, m[k])
			},
			QKV: func(i int) string { return fmt.Sprintf("%sblocks.%d.attn.qkv", vp, i) },
			MM0: vp + "merger.mlp.0", MM2: vp + "merger.mlp.2"}
	}
	for _, ch := range []*int{v.InChans, v.InChannels} {
		if ch != nil && *ch != 3 {
			return nil, fmt.Errorf("%w: %d input channels", ErrConfig, *ch)
		}
	}
	var err error
	if c.Act, err = actFromHF(actName); err != nil {
		return nil, err
	}
	last := n.MM2
	if kind == SigLIP {
		last = n.FC
	}
	info, _, err := src.Tensor(last + ".weight")
	if err != nil {
		return nil, err
	}
	if len(info.Shape) != 2 {
		return nil, fmt.Errorf("%w: %s is %v", ErrConfig, info.Name, info.Shape)
	}
	c.Out = info.Shape[0]
	return Load(c, p, n)
}

// anyresHF reads a LlavaNextForConditionalGeneration or
// LlavaOnevisionForConditionalGeneration config: the tower from
// vision_config (CLIPVisionConfig or SiglipVisionConfig defaults), the
// feature layer and strategy (NeXT: −2, "default"; OneVision: −1, "full"),
// the pinpoints and anyres_max, and the weight names of either checkpoint
// layout (transformers < 4.52 on disk, or "model."-prefixed).
func anyresHF(c *Config, top *hfTop, p nn.Params) (Names, string, error) {
	v := top.Vision
	ov := top.Architectures[0] == llavanext.OneVisionArch
	siglip := ov
	switch v.ModelType {
	case "clip_vision_model":
		siglip = false
	case "siglip_vision_model":
		siglip = true
	case "":
	default:
		return Names{}, "", fmt.Errorf("%w: vision tower %q (have clip_vision_model, siglip_vision_model)", ErrConfig, v.ModelType)
	}
	size, actName := towerDims(c, v, siglip)
	defLayer, strategy, aspect := -2, "default", ""
	pins := llavanext.NeXTPinpoints()
	if ov {
		defLayer, strategy, aspect, pins = -1, "full", "anyres_max_9", llavanext.OneVisionPinpoints(384)
		if top.Aspect != nil {
			aspect = *top.Aspect
		}
	}
	layer, err := featureLayer(top.FeatureLayer, defLayer, c.Layers)
	if err != nil {
		return Names{}, "", err
	}
	if layer <= 0 || layer > c.Layers {
		return Names{}, "", fmt.Errorf("%w: vision_feature_layer %d of %d layers", ErrConfig, layer, c.Layers)
	}
	c.Layers = layer
	if top.Strategy != "" {
		strategy = top.Strategy
	}
	// The packing reshapes each view's rows into a g×g grid: a CLIP tower
	// must drop its class token ("default"), a SigLIP tower has none ("full").
	if (siglip && strategy != "full") || (!siglip && strategy != "default") {
		return Names{}, "", fmt.Errorf("%w: vision_feature_select_strategy %q with a %s tower", ErrConfig, strategy, map[bool]string{true: "SigLIP", false: "CLIP"}[siglip])
	}
	if c.Geometry.MaxPatches, err = llavanext.ParseAspect(aspect); err != nil {
		return Names{}, "", err
	}
	if got, err := llavanext.PinpointsJSON(top.Pinpoints); err != nil {
		return Names{}, "", err
	} else if got != nil {
		pins = got
	}
	if c.Patch <= 0 || size < c.Patch {
		return Names{}, "", fmt.Errorf("%w: image size %d, patch %d", ErrConfig, size, c.Patch)
	}
	c.Geometry.Size, c.Geometry.Patch, c.Geometry.Pinpoints = size, c.Patch, pins
	g := size / c.Patch
	c.ClassToken, c.Positions = !siglip, g*g
	if !siglip {
		c.Positions++
	}
	if top.ProjectorAct != "" {
		pa, err := actFromHF(top.ProjectorAct)
		if err != nil {
			return Names{}, "", err
		}
		c.ProjAct = pa
	}
	first := func(names ...string) string {
		for _, s := range names {
			if p.Has(s) {
				return s
			}
		}
		return names[0]
	}
	pre := first("vision_tower.vision_model.embeddings.patch_embedding.weight", "model.vision_tower.vision_model.embeddings.patch_embedding.weight")
	vp := pre[:len(pre)-len("embeddings.patch_embedding.weight")]
	mp := "multi_modal_projector."
	if p.Has("model.multi_modal_projector.linear_1.weight") {
		mp = "model." + mp
	}
	n := Names{Patch: pre, PatchBias: vp + "embeddings.patch_embedding.bias", CLS: vp + "embeddings.class_embedding",
		Pos: vp + "embeddings.position_embedding.weight", PreW: vp + "pre_layrnorm.weight", PreB: vp + "pre_layrnorm.bias",
		Block: clipBlock(vp + "encoder.layers."), MM0: mp + "linear_1", MM2: mp + "linear_2",
		Newline: first("image_newline", "model.image_newline")}
	return n, actName, nil
}

// clipBlock names CLIP/SigLIP encoder layers under prefix.
func clipBlock(prefix string) func(int, string) string {
	m := map[string]string{"ln1.weight": "layer_norm1.weight", "ln1.bias": "layer_norm1.bias", "ln2.weight": "layer_norm2.weight",
		"ln2.bias": "layer_norm2.bias", "q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
		"o": "self_attn.out_proj", "up": "mlp.fc1", "down": "mlp.fc2"}
	return func(i int, k string) string { return fmt.Sprintf("%s%d.%s", prefix, i, m[k]) }
}
