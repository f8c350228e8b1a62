// Package llava is the LLaVA-1.5 image processor (CLIP ViT input): one
// square image per item, one run of (S/P)² placeholder tokens (plus one when
// the class token's features are kept).
//
// GGUF models get llama.cpp's preprocessing (bicubic resize keeping the
// aspect ratio, centred on the mean colour); HF models get the
// CLIPImageProcessor / LlavaImageProcessor steps (optional pad to square with
// the mean colour, Pillow resize of the shortest edge, centre crop).
package llava

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
)

func init() { processors.Register("llava", FromSpec) }

// Config is everything the processor needs.
type Config struct {
	ImageSize, Patch int // encoder input side and patch side
	Mean, Std        [3]float32
	KeepCLS          bool // vision_feature_select_strategy "full"
	Hidden           int  // text model width (precomputed embeddings)

	// Llama selects llama.cpp's fixed-size preprocessing (GGUF).
	Llama bool
	// HF preprocessing (CLIPImageProcessor): pad to square with the mean
	// colour first (LlavaImageProcessor do_pad), resize so the shortest edge
	// is Shortest (or to exactly ResizeW×ResizeH when Shortest is 0), then
	// centre-crop to CropW×CropH.
	Pad              bool
	Shortest         int
	ResizeW, ResizeH int
	CropW, CropH     int
	Filter           imageproc.Filter

	Image int32 // placeholder token id
}

// Processor implements processors.Processor for LLaVA-1.5.
type Processor struct{ cfg Config }

var _ processors.Processor = (*Processor)(nil)

// New validates cfg.
func New(cfg Config) (*Processor, error) {
	if cfg.Patch <= 0 || cfg.ImageSize <= 0 || cfg.ImageSize%cfg.Patch != 0 || cfg.ImageSize > 1<<13 {
		return nil, fmt.Errorf("%w: llava image size %d patch %d", processors.ErrConfig, cfg.ImageSize, cfg.Patch)
	}
	if !cfg.Llama && (cfg.CropW != cfg.ImageSize || cfg.CropH != cfg.ImageSize) {
		return nil, fmt.Errorf("%w: llava crop %dx%d differs from the encoder's %d", processors.ErrConfig, cfg.CropW, cfg.CropH, cfg.ImageSize)
	}
	if !cfg.Llama && (!cfg.Filter.Valid() || (cfg.Shortest <= 0 && (cfg.ResizeW <= 0 || cfg.ResizeH <= 0))) {
		return nil, fmt.Errorf("%w: llava resize (filter %v, shortest %d, %dx%d)", processors.ErrConfig, cfg.Filter, cfg.Shortest, cfg.ResizeW, cfg.ResizeH)
	}
	if err := processors.CheckStd("llava", cfg.Std); err != nil {
		return nil, err
	}
	return &Processor{cfg: cfg}, nil
}

// Config returns the processor's configuration.
func (p *Processor) Config() Config { return p.cfg }

// Tokens is the placeholder count of one image.
func (p *Processor) Tokens() int {
	n := (p.cfg.ImageSize / p.cfg.Patch) * (p.cfg.ImageSize / p.cfg.Patch)
	if p.cfg.KeepCLS {
		n++
	}
	return n
}

// FromSpec builds the processor from an HF directory or GGUF mmproj metadata.
func FromSpec(s processors.Spec) (processors.Processor, error) {
	var cfg Config
	var err error
	if s.MMProj != nil {
		err = fromGGUF(&cfg, s.MMProj)
		cfg.Image = 0
		if id, ok := s.Vocab.TokenID("<image>"); ok {
			cfg.Image = id
		}
	} else {
		err = fromHF(&cfg, s.Dir)
		if err == nil {
			var ids []int32
			if ids, err = processors.TokenIDs(s.Vocab, "<image>"); err == nil {
				cfg.Image = ids[0]
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

func fromGGUF(cfg *Config, md processors.Metadata) error {
	var err error
	if cfg.ImageSize, err = processors.MMProjInt(md, "clip.vision.image_size", 0); err != nil {
		return err
	}
	if cfg.Patch, err = processors.MMProjInt(md, "clip.vision.patch_size", 0); err != nil {
		return err
	}
	if cfg.Mean, err = processors.MMProjTriple(md, "clip.vision.image_mean"); err != nil {
		return err
	}
	if cfg.Std, err = processors.MMProjTriple(md, "clip.vision.image_std"); err != nil {
		return err
	}
	if h, err := processors.MMProjInt(md, "clip.vision.projection_dim", -1); err == nil {
		cfg.Hidden = h
	}
	if _, ok := md.Int32s("clip.vision.image_grid_pinpoints"); ok {
		return fmt.Errorf("%w: an mmproj with image_grid_pinpoints is LLaVA-NeXT / OneVision: the llavanext processor prepares it", processors.ErrConfig)
	}
	cfg.Llama = true
	return nil
}

type hfConfig struct {
	Strategy   string `json:"vision_feature_select_strategy"`
	HiddenSize int    `json:"hidden_size"`
	TextConfig *struct {
		HiddenSize int `json:"hidden_size"`
	} `json:"text_config"`
	VisionConfig *struct {
		ImageSize int `json:"image_size"`
		PatchSize int `json:"patch_size"`
	} `json:"vision_config"`
}

type hfPre struct {
	processors.ImageNorm
	Type     string          `json:"image_processor_type"`
	DoPad    *bool           `json:"do_pad"`
	DoResize *bool           `json:"do_resize"`
	DoCrop   *bool           `json:"do_center_crop"`
	Size     json.RawMessage `json:"size"`
	Crop     json.RawMessage `json:"crop_size"`
}

// hwSize decodes a Hugging Face size entry: a number, or a dict with
// shortest_edge or height/width.
func hwSize(raw json.RawMessage) (shortest, w, h int, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, 0, 0, nil
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return 0, n, n, nil
	}
	var d struct {
		Shortest *int `json:"shortest_edge"`
		Height   *int `json:"height"`
		Width    *int `json:"width"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: size %s: %v", processors.ErrConfig, raw, err)
	}
	if d.Shortest != nil {
		return *d.Shortest, 0, 0, nil
	}
	if d.Height != nil && d.Width != nil {
		return 0, *d.Width, *d.Height, nil
	}
	return 0, 0, 0, fmt.Errorf("%w: size %s", processors.ErrConfig, raw)
}

func fromHF(cfg *Config, dir string) error {
	var mc hfConfig
	if _, err := processors.ReadJSON(dir, "config.json", &mc); err != nil {
		return err
	}
	*cfg = Config{ImageSize: 336, Patch: 14, Filter: imageproc.Bicubic,
		Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711}}
	if v := mc.VisionConfig; v != nil {
		if v.ImageSize > 0 {
			cfg.ImageSize = v.ImageSize
		}
		if v.PatchSize > 0 {
			cfg.Patch = v.PatchSize
		}
	}
	switch mc.Strategy {
	case "", "default":
	case "full":
		cfg.KeepCLS = true
	default:
		return fmt.Errorf("%w: vision_feature_select_strategy %q", processors.ErrConfig, mc.Strategy)
	}
	cfg.Hidden = mc.HiddenSize
	if mc.TextConfig != nil && mc.TextConfig.HiddenSize > 0 {
		cfg.Hidden = mc.TextConfig.HiddenSize
	}
	cfg.Shortest, cfg.CropW, cfg.CropH = cfg.ImageSize, cfg.ImageSize, cfg.ImageSize
	var pc hfPre
	ok, err := processors.ReadJSON(dir, "preprocessor_config.json", &pc)
	if err != nil || !ok {
		return err
	}
	if pc.DoResize == nil || *pc.DoResize {
		s, w, h, err := hwSize(pc.Size)
		if err != nil {
			return err
		}
		if s > 0 || w > 0 {
			cfg.Shortest, cfg.ResizeW, cfg.ResizeH = s, w, h
		}
	} else {
		cfg.Shortest, cfg.ResizeW, cfg.ResizeH = 0, cfg.ImageSize, cfg.ImageSize
	}
	if pc.DoCrop == nil || *pc.DoCrop {
		if _, w, h, err := hwSize(pc.Crop); err != nil {
			return err
		} else if w > 0 {
			cfg.CropW, cfg.CropH = w, h
		}
	}
	cfg.Pad = pc.DoPad != nil && *pc.DoPad
	if err := pc.Apply(&cfg.Mean, &cfg.Std, &cfg.Filter); err != nil {
		return err
	}
	return nil
}

// meanColour is the pad colour Hugging Face and llama.cpp use: the mean
// scaled to 8 bits and truncated ((122, 116, 104) for CLIP's mean).
func (p *Processor) meanColour() [3]uint8 {
	var c [3]uint8
	for i, m := range p.cfg.Mean {
		c[i] = uint8(min(max(m*255, 0), 255))
	}
	return c
}

// Pixels returns the encoder-size image an input image becomes.
func (p *Processor) Pixels(img *media.RGB) (*media.RGB, error) {
	S := p.cfg.ImageSize
	if p.cfg.Llama {
		return imageproc.ResizeLlamaPad(img, S, S, imageproc.LlamaBicubic, p.meanColour())
	}
	var err error
	if p.cfg.Pad {
		if img, err = imageproc.PadSquare(img, p.meanColour()); err != nil {
			return nil, err
		}
	}
	w, h := p.cfg.ResizeW, p.cfg.ResizeH
	if s := p.cfg.Shortest; s > 0 {
		if img.W <= img.H {
			w, h = s, int(float64(s)*float64(img.H)/float64(img.W))
		} else {
			w, h = int(float64(s)*float64(img.W)/float64(img.H)), s
		}
	}
	if w != img.W || h != img.H {
		if img, err = imageproc.Resize(img, w, h, p.cfg.Filter); err != nil {
			return nil, err
		}
	}
	return imageproc.CenterCrop(img, p.cfg.CropW, p.cfg.CropH)
}

// Features turns an image into encoder input: raster-order patches
// [(S/P)², 3·P·P].
func (p *Processor) Features(img *media.RGB) (*input.Features, error) {
	px, err := p.Pixels(img)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	chw, err := imageproc.Normalize(px, p.cfg.Mean, p.cfg.Std)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	return p.patchify(chw)
}

func (p *Processor) patchify(chw []float32) (*input.Features, error) {
	S := p.cfg.ImageSize
	rows, grid, err := imageproc.Patchify([][]float32{chw}, S, S, imageproc.PatchLayout{Patch: p.cfg.Patch, Temporal: 1, Merge: 1})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	return &input.Features{Data: rows, Shape: []int{grid[1] * grid[2], 3 * p.cfg.Patch * p.cfg.Patch}, Grid: grid}, nil
}

// Prepare implements processors.Processor.
func (p *Processor) Prepare(ctx context.Context, tokens []int32, items []media.Item) (*input.Prompt, error) {
	imgs := processors.Images(items)
	if len(imgs) != len(items) {
		return nil, fmt.Errorf("%w: LLaVA takes images only, got %d non-image item(s)", processors.ErrBadMedia, len(items)-len(imgs))
	}
	ph := p.cfg.Image
	if p.cfg.Llama && ph == 0 {
		ph = -1 // GGUF vocabularies without <image>: only markers
	}
	sites := processors.FindSites(tokens, ph)
	if len(sites) != len(imgs) {
		return nil, processors.CountError(len(sites), len(imgs), "image")
	}
	n := p.Tokens()
	b := processors.NewBuilder(false)
	last := 0
	for i, s := range sites {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.Run > 1 && s.Run != n {
			return nil, fmt.Errorf("%w: image %d: the prompt has a run of %d image tokens but an image needs %d", processors.ErrBadFeatures, i, s.Run, n)
		}
		sp, err := p.span(imgs[i], n)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		if err := b.Text(tokens[last:s.At]...); err != nil {
			return nil, err
		}
		if err := b.Media(sp, p.cfg.Image, n, nil, 0); err != nil {
			return nil, err
		}
		last = s.End()
	}
	if err := b.Text(tokens[last:]...); err != nil {
		return nil, err
	}
	return b.Prompt(), nil
}

func (p *Processor) span(it media.Item, n int) (input.Span, error) {
	sp := input.Span{Modality: input.Image}
	var f *input.Features
	var err error
	switch it.Format {
	case media.Raw:
		if it.RGB == nil {
			return sp, fmt.Errorf("%w: image item without pixels", processors.ErrBadMedia)
		}
		f, err = p.Features(it.RGB)
	case media.ProcessorOutput:
		f, err = p.featuresFromArrays(it.Arrays)
	case media.Precomputed:
		e, err := processors.Precomputed(it, p.cfg.Hidden)
		if err != nil {
			return sp, err
		}
		if e.Shape[0] != n {
			return sp, fmt.Errorf("%w: precomputed_embedding has %d rows, an image takes %d", processors.ErrBadFeatures, e.Shape[0], n)
		}
		sp.Embeds, sp.Key = e, processors.SpanKey(it.Hash, e.Shape, 0)
		return sp, nil
	default:
		return sp, fmt.Errorf("%w: image format %v", processors.ErrBadMedia, it.Format)
	}
	if err != nil {
		return sp, err
	}
	sp.Features, sp.Key = f, processors.SpanKey(it.Hash, f.Shape, 0)
	return sp, nil
}

// featuresFromArrays accepts Hugging Face's pixel_values [1, 3, S, S] (or
// [3, S, S]).
func (p *Processor) featuresFromArrays(arrs map[string]media.Array) (*input.Features, error) {
	pv, ok := arrs["pixel_values"]
	if !ok {
		return nil, fmt.Errorf("%w: processor_output has no pixel_values", processors.ErrBadFeatures)
	}
	S := p.cfg.ImageSize
	shape := pv.Shape
	if len(shape) == 4 && shape[0] == 1 {
		shape = shape[1:]
	}
	if len(shape) != 3 || shape[0] != 3 || shape[1] != S || shape[2] != S || len(pv.Data) != 3*S*S {
		return nil, fmt.Errorf("%w: pixel_values has shape %v, want [1, 3, %d, %d]", processors.ErrBadFeatures, pv.Shape, S, S)
	}
	return p.patchify(pv.Data)
}
