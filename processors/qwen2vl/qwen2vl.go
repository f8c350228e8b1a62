// Package qwen2vl is the Qwen2-VL image processor: smart_resize to multiples
// of patch×merge, patches in Hugging Face's pixel_values layout (temporal
// patch 2), the <|vision_start|><|image_pad|>×N<|vision_end|> expansion and
// the decoder's M-RoPE positions.
//
//	image H'×W' → grid (t, h, w) = (1, H'/14, W'/14) patches
//	patch rows:   t, h/2, w/2, 2, 2 (2×2 merge blocks kept together)
//	tokens:       N = t·(h/2)·(w/2), token (t', r, c) at M-RoPE (p+t', p+r, p+c)
//	positions:    the image advances the next position by max(t, h/2, w/2)
package qwen2vl

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
)

func init() { processors.Register("qwen2vl", FromSpec) }

// Config is everything the processor needs.
type Config struct {
	Patch, Merge, Temporal int
	MinPixels, MaxPixels   int
	Mean, Std              [3]float32
	// Llama selects llama.cpp's preprocessing (GGUF models): float32
	// smart_resize, bilinear resize with black padding. Otherwise Hugging
	// Face's: float64 smart_resize, Pillow resize with Filter, stretched.
	Llama  bool
	Filter imageproc.Filter
	Hidden int // text model width (precomputed embeddings)

	VisionStart, VisionEnd, ImagePad int32
}

// Processor implements processors.Processor for Qwen2-VL.
type Processor struct{ cfg Config }

var _ processors.Processor = (*Processor)(nil)

// New validates cfg.
func New(cfg Config) (*Processor, error) {
	if cfg.Patch <= 0 || cfg.Merge <= 0 || cfg.Temporal <= 0 || cfg.Patch*cfg.Merge > 1024 || cfg.Temporal > 16 {
		return nil, fmt.Errorf("%w: qwen2vl patch %d merge %d temporal %d", processors.ErrConfig, cfg.Patch, cfg.Merge, cfg.Temporal)
	}
	f := cfg.Patch * cfg.Merge
	if cfg.MinPixels < 0 || cfg.MaxPixels < f*f || cfg.MinPixels > cfg.MaxPixels {
		return nil, fmt.Errorf("%w: qwen2vl pixels %d..%d", processors.ErrConfig, cfg.MinPixels, cfg.MaxPixels)
	}
	if !cfg.Llama && !cfg.Filter.Valid() {
		return nil, fmt.Errorf("%w: qwen2vl resample filter %v", processors.ErrConfig, cfg.Filter)
	}
	if err := processors.CheckStd("qwen2vl", cfg.Std); err != nil {
		return nil, err
	}
	return &Processor{cfg: cfg}, nil
}

// Config returns the processor's configuration.
func (p *Processor) Config() Config { return p.cfg }

// FromSpec builds the processor from an HF directory or GGUF mmproj metadata.
func FromSpec(s processors.Spec) (processors.Processor, error) {
	ids, err := processors.TokenIDs(s.Vocab, "<|vision_start|>", "<|vision_end|>", "<|image_pad|>")
	if err != nil {
		return nil, err
	}
	cfg := Config{VisionStart: ids[0], VisionEnd: ids[1], ImagePad: ids[2]}
	if s.MMProj != nil {
		err = fromGGUF(&cfg, s.MMProj)
	} else {
		err = fromHF(&cfg, s.Dir)
	}
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

// fromGGUF follows llama.cpp: patch and merge from the mmproj, temporal 2,
// 8 to 4096 tokens per image.
func fromGGUF(cfg *Config, md processors.Metadata) error {
	var err error
	if cfg.Patch, err = processors.MMProjInt(md, "clip.vision.patch_size", 0); err != nil {
		return err
	}
	if cfg.Merge, err = processors.MMProjInt(md, "clip.vision.spatial_merge_size", 2); err != nil {
		return err
	}
	if cfg.Hidden, err = processors.MMProjInt(md, "clip.vision.projection_dim", -1); err != nil {
		cfg.Hidden = 0
	}
	if cfg.Mean, err = processors.MMProjTriple(md, "clip.vision.image_mean"); err != nil {
		return err
	}
	if cfg.Std, err = processors.MMProjTriple(md, "clip.vision.image_std"); err != nil {
		return err
	}
	area := cfg.Patch * cfg.Patch * cfg.Merge * cfg.Merge
	cfg.Temporal, cfg.MinPixels, cfg.MaxPixels, cfg.Llama = 2, 8*area, 4096*area, true
	return nil
}

type hfPre struct {
	processors.ImageNorm
	MinPixels *int `json:"min_pixels"`
	MaxPixels *int `json:"max_pixels"`
	Size      *struct {
		ShortestEdge *int `json:"shortest_edge"`
		LongestEdge  *int `json:"longest_edge"`
	} `json:"size"`
	PatchSize    *int     `json:"patch_size"`
	Temporal     *int     `json:"temporal_patch_size"`
	MergeSize    *int     `json:"merge_size"`
	RescaleScale *float64 `json:"rescale_factor"`
}

type hfConfig struct {
	HiddenSize int `json:"hidden_size"`
	TextConfig *struct {
		HiddenSize int `json:"hidden_size"`
	} `json:"text_config"`
	VisionConfig *struct {
		PatchSize *int `json:"patch_size"`
		Merge     *int `json:"spatial_merge_size"`
		Temporal  *int `json:"temporal_patch_size"`
	} `json:"vision_config"`
}

// fromHF reads preprocessor_config.json and config.json with Hugging Face's
// defaults (Qwen2VLImageProcessor).
func fromHF(cfg *Config, dir string) error {
	*cfg = Config{VisionStart: cfg.VisionStart, VisionEnd: cfg.VisionEnd, ImagePad: cfg.ImagePad,
		Patch: 14, Merge: 2, Temporal: 2, MinPixels: 56 * 56, MaxPixels: 28 * 28 * 1280,
		Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711},
		Filter: imageproc.Bicubic}
	var mc hfConfig
	if _, err := processors.ReadJSON(dir, "config.json", &mc); err != nil {
		return err
	}
	cfg.Hidden = mc.HiddenSize
	if mc.TextConfig != nil && mc.TextConfig.HiddenSize > 0 {
		cfg.Hidden = mc.TextConfig.HiddenSize
	}
	if v := mc.VisionConfig; v != nil {
		setInt(&cfg.Patch, v.PatchSize)
		setInt(&cfg.Merge, v.Merge)
		setInt(&cfg.Temporal, v.Temporal)
	}
	var pc hfPre
	ok, err := processors.ReadJSON(dir, "preprocessor_config.json", &pc)
	if err != nil || !ok {
		return err
	}
	if pc.Size != nil {
		setInt(&cfg.MinPixels, pc.Size.ShortestEdge)
		setInt(&cfg.MaxPixels, pc.Size.LongestEdge)
	}
	setInt(&cfg.MinPixels, pc.MinPixels)
	setInt(&cfg.MaxPixels, pc.MaxPixels)
	setInt(&cfg.Patch, pc.PatchSize)
	setInt(&cfg.Temporal, pc.Temporal)
	setInt(&cfg.Merge, pc.MergeSize)
	if err := pc.Apply(&cfg.Mean, &cfg.Std, &cfg.Filter); err != nil {
		return err
	}
	if pc.RescaleScale != nil && *pc.RescaleScale != 1.0/255 {
		return fmt.Errorf("%w: rescale_factor %v is not 1/255", processors.ErrConfig, *pc.RescaleScale)
	}
	return nil
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

// image is one item ready for the prompt: its encoder input or embeddings
// and its merged grid.
type image struct {
	span    input.Span
	t, h, w int // merged token grid
}

// Prepare implements processors.Processor.
func (p *Processor) Prepare(ctx context.Context, tokens []int32, items []media.Item) (*input.Prompt, error) {
	imgs := processors.Images(items)
	if len(imgs) != len(items) {
		return nil, fmt.Errorf("%w: Qwen2-VL takes images only, got %d non-image item(s)", processors.ErrBadMedia, len(items)-len(imgs))
	}
	sites := processors.FindSites(tokens, p.cfg.ImagePad)
	if len(sites) != len(imgs) {
		return nil, processors.CountError(len(sites), len(imgs), "image")
	}
	b := processors.NewBuilder(true)
	last := 0
	for i, s := range sites {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		im, err := p.item(imgs[i])
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		n := im.t * im.h * im.w
		if s.Run > 1 && s.Run != n {
			return nil, fmt.Errorf("%w: image %d: the prompt has a run of %d image tokens but the image needs %d", processors.ErrBadFeatures, i, s.Run, n)
		}
		wrap := s.Run == 0 && !(s.At > 0 && tokens[s.At-1] == p.cfg.VisionStart && s.At+1 < len(tokens) && tokens[s.At+1] == p.cfg.VisionEnd)
		if err := b.Text(tokens[last:s.At]...); err != nil {
			return nil, err
		}
		if wrap {
			if err := b.Text(p.cfg.VisionStart); err != nil {
				return nil, err
			}
		}
		pos := make([][3]int32, 0, n)
		for t := 0; t < im.t; t++ {
			for r := 0; r < im.h; r++ {
				for c := 0; c < im.w; c++ {
					pos = append(pos, [3]int32{int32(t), int32(r), int32(c)})
				}
			}
		}
		if err := b.Media(im.span, p.cfg.ImagePad, n, pos, max(im.t, im.h, im.w)); err != nil {
			return nil, err
		}
		if wrap {
			if err := b.Text(p.cfg.VisionEnd); err != nil {
				return nil, err
			}
		}
		last = s.End()
	}
	if err := b.Text(tokens[last:]...); err != nil {
		return nil, err
	}
	return b.Prompt(), nil
}

func (p *Processor) item(it media.Item) (image, error) {
	switch it.Format {
	case media.Raw:
		if it.RGB == nil {
			return image{}, fmt.Errorf("%w: image item without pixels", processors.ErrBadMedia)
		}
		f, err := p.Features(it.RGB, it.Hints)
		if err != nil {
			return image{}, err
		}
		return p.fromFeatures(it, f)
	case media.ProcessorOutput:
		f, err := p.featuresFromArrays(it.Arrays)
		if err != nil {
			return image{}, err
		}
		return p.fromFeatures(it, f)
	case media.Precomputed:
		e, err := processors.Precomputed(it, p.cfg.Hidden)
		if err != nil {
			return image{}, err
		}
		g, ok := it.Arrays["image_grid_thw"]
		if !ok {
			return image{}, fmt.Errorf("%w: a Qwen2-VL precomputed_embedding needs image_grid_thw for its M-RoPE positions", processors.ErrBadFeatures)
		}
		grid, err := p.grid(g)
		if err != nil {
			return image{}, err
		}
		t, h, w := grid[0], grid[1]/p.cfg.Merge, grid[2]/p.cfg.Merge
		if e.Shape[0] != t*h*w {
			return image{}, fmt.Errorf("%w: precomputed_embedding has %d rows, grid %v needs %d", processors.ErrBadFeatures, e.Shape[0], grid, t*h*w)
		}
		sp := input.Span{Modality: input.Image, Key: processors.SpanKey(it.Hash, e.Shape, 0), Embeds: e}
		return image{span: sp, t: t, h: h, w: w}, nil
	}
	return image{}, fmt.Errorf("%w: image format %v", processors.ErrBadMedia, it.Format)
}

func (p *Processor) fromFeatures(it media.Item, f *input.Features) (image, error) {
	m := p.cfg.Merge
	sp := input.Span{Modality: input.Image, Key: processors.SpanKey(it.Hash, f.Shape, 0), Features: f}
	return image{span: sp, t: f.Grid[0], h: f.Grid[1] / m, w: f.Grid[2] / m}, nil
}

// Size returns the (width, height) an image of w×h is resized to, with the
// item's min/max pixel hints narrowing the configured bounds.
func (p *Processor) Size(w, h int, hints media.Hints) (int, int, error) {
	lo, hi := p.cfg.MinPixels, p.cfg.MaxPixels
	if hints.MinPixels > 0 && hints.MinPixels <= int64(hi) {
		lo = max(lo, int(hints.MinPixels))
	}
	if hints.MaxPixels > 0 && hints.MaxPixels < int64(hi) {
		f := p.cfg.Patch * p.cfg.Merge
		hi = max(int(hints.MaxPixels), f*f, lo)
	}
	f := p.cfg.Patch * p.cfg.Merge
	var err error
	if p.cfg.Llama {
		w, h, err = imageproc.SmartResizeLlama(w, h, f, lo, hi)
	} else {
		w, h, err = imageproc.SmartResize(w, h, f, lo, hi)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	return w, h, nil
}

// Features resizes, normalises and patchifies one image.
func (p *Processor) Features(img *media.RGB, hints media.Hints) (*input.Features, error) {
	w, h, err := p.Size(img.W, img.H, hints)
	if err != nil {
		return nil, err
	}
	var r *media.RGB
	if p.cfg.Llama {
		r, err = imageproc.ResizeLlamaPad(img, w, h, imageproc.LlamaBilinear, [3]uint8{})
	} else if w == img.W && h == img.H {
		r = img
	} else {
		r, err = imageproc.Resize(img, w, h, p.cfg.Filter)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	chw, err := imageproc.Normalize(r, p.cfg.Mean, p.cfg.Std)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	rows, grid, err := imageproc.Patchify([][]float32{chw}, w, h, imageproc.PatchLayout{Patch: p.cfg.Patch, Temporal: p.cfg.Temporal, Merge: p.cfg.Merge})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	return &input.Features{Data: rows, Shape: []int{grid[0] * grid[1] * grid[2], p.cols()}, Grid: grid}, nil
}

func (p *Processor) cols() int { return 3 * p.cfg.Temporal * p.cfg.Patch * p.cfg.Patch }

// grid validates an image_grid_thw array ([3] or [1, 3]).
func (p *Processor) grid(a media.Array) ([3]int, error) {
	if len(a.Data) != 3 || (len(a.Shape) != 1 && !(len(a.Shape) == 2 && a.Shape[0] == 1)) {
		return [3]int{}, fmt.Errorf("%w: image_grid_thw has shape %v, want [1, 3]", processors.ErrBadFeatures, a.Shape)
	}
	var g [3]int
	for i, v := range a.Data {
		if v != float32(int(v)) || v < 1 || v > 1<<14 {
			return [3]int{}, fmt.Errorf("%w: image_grid_thw %v", processors.ErrBadFeatures, a.Data)
		}
		g[i] = int(v)
	}
	if g[1]%p.cfg.Merge != 0 || g[2]%p.cfg.Merge != 0 {
		return [3]int{}, fmt.Errorf("%w: image_grid_thw %v is not a multiple of the merge size %d", processors.ErrBadFeatures, g, p.cfg.Merge)
	}
	if g[0]*g[1]*g[2] > processors.MaxTokens {
		return [3]int{}, fmt.Errorf("%w: image_grid_thw %v is too large", processors.ErrBadFeatures, g)
	}
	return g, nil
}

// featuresFromArrays accepts Hugging Face's processor output: pixel_values
// [t·h·w, 3·T·P·P] and image_grid_thw [1, 3].
func (p *Processor) featuresFromArrays(arrs map[string]media.Array) (*input.Features, error) {
	pv, ok := arrs["pixel_values"]
	if !ok {
		return nil, fmt.Errorf("%w: processor_output has no pixel_values", processors.ErrBadFeatures)
	}
	g, ok := arrs["image_grid_thw"]
	if !ok {
		return nil, fmt.Errorf("%w: processor_output has no image_grid_thw", processors.ErrBadFeatures)
	}
	grid, err := p.grid(g)
	if err != nil {
		return nil, err
	}
	n := grid[0] * grid[1] * grid[2]
	if len(pv.Shape) != 2 || pv.Shape[0] != n || pv.Shape[1] != p.cols() || len(pv.Data) != n*p.cols() {
		return nil, fmt.Errorf("%w: pixel_values has shape %v, grid %v needs [%d, %d]", processors.ErrBadFeatures, pv.Shape, grid, n, p.cols())
	}
	return &input.Features{Data: pv.Data, Shape: []int{n, p.cols()}, Grid: grid}, nil
}
