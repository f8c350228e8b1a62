// Package llavanext is the LLaVA-NeXT and LLaVA-OneVision image processor
// (Hugging Face LlavaNextImageProcessor / LlavaOnevisionImageProcessor with
// Pillow resampling, and the token counts of their processors).
//
// An image alone in its prompt is processed "anyres": the grid pinpoint
// that keeps most of it is selected, the image is resized into it (aspect
// kept, bicubic) and padded with black to it, cut into S×S tiles, and
// preceded by a base view (the whole image resized to S×S). Its placeholder
// run is
//
//	g² base tokens, then OutH rows of (OutW grid tokens + 1 newline)
//
// where the tiles' g×g feature grids, assembled, are cut back to the
// image's aspect ratio ("unpadded") and, for OneVision (anyres_max_N),
// bilinearly shrunk when they exceed N views' worth (see Layout).
// OneVision also takes several images per prompt (each: one padded-square
// base view, g² + 1 tokens) and videos as processor output under <video>
// (T frames pooled 2×2: T·⌈g/2⌉² + 1 tokens).
//
// Every item is one Span whose Features hold all its views' patches,
// [V·g², 3·P·P] in view-raster order, with Grid = (V, H, W): V views of an
// H×W image (V = 1: a base view only), or (T, 0, 0) for a video of T frames.
// The encoder (encoders/vit, kind AnyRes) packs them with the same Layout.
package llavanext

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
)

func init() { processors.Register("llavanext", FromSpec) }

// Config is everything the processor needs.
type Config struct {
	Geometry
	// OneVision: several images in one prompt become base views (Hugging
	// Face batch_num_images > 1), and <video> takes videos.
	OneVision bool
	Mean, Std [3]float32
	Filter    imageproc.Filter // Pillow resample of the resizes (bicubic)
	Hidden    int              // text model width (precomputed embeddings)
	// Image and Video are the placeholder token ids; −1: the vocabulary has
	// none (media positions are then markers only).
	Image, Video int32
}

// Processor implements processors.Processor for LLaVA-NeXT and OneVision.
type Processor struct{ cfg Config }

var _ processors.Processor = (*Processor)(nil)

// maxFrames bounds a video's frames.
const maxFrames = 1024

// New validates cfg.
func New(cfg Config) (*Processor, error) {
	if err := cfg.Geometry.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrConfig, err)
	}
	if !cfg.Filter.Valid() {
		return nil, fmt.Errorf("%w: llavanext resample filter %v", processors.ErrConfig, cfg.Filter)
	}
	if err := processors.CheckStd("llavanext", cfg.Std); err != nil {
		return nil, err
	}
	return &Processor{cfg: cfg}, nil
}

// Config returns the processor's configuration.
func (p *Processor) Config() Config { return p.cfg }

// FromSpec builds the processor from an HF directory or GGUF mmproj metadata.
func FromSpec(s processors.Spec) (processors.Processor, error) {
	var cfg Config
	var err error
	if s.MMProj != nil {
		err = fromGGUF(&cfg, s.MMProj)
	} else {
		err = fromHF(&cfg, s.Dir)
	}
	if err != nil {
		return nil, err
	}
	cfg.Image, cfg.Video = -1, -1
	if id, ok := s.Vocab.TokenID("<image>"); ok {
		cfg.Image = id
	} else if s.MMProj == nil {
		return nil, fmt.Errorf("%w: the tokenizer has no \"<image>\" token", processors.ErrConfig)
	}
	if id, ok := s.Vocab.TokenID("<video>"); ok && cfg.OneVision {
		cfg.Video = id
	}
	return New(cfg)
}

// ParseAspect reads OneVision's vision_aspect_ratio ("anyres_max_9"): the
// view limit N, 0 for plain "anyres" or "".
func ParseAspect(s string) (int, error) {
	switch {
	case s == "" || s == "anyres":
		return 0, nil
	case strings.HasPrefix(s, "anyres_max_"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "anyres_max_"))
		if err != nil || n <= 0 || n > 1<<10 {
			return 0, fmt.Errorf("%w: vision aspect ratio %q", processors.ErrConfig, s)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: vision aspect ratio %q is not anyres or anyres_max_N", processors.ErrConfig, s)
}

// PinpointsGGUF reads clip.vision.image_grid_pinpoints: flattened pairs that
// llama.cpp's clip.cpp reads as (width, height).
func PinpointsGGUF(md interface{ Int32s(string) ([]int32, bool) }) ([]Res, bool, error) {
	v, ok := md.Int32s("clip.vision.image_grid_pinpoints")
	if !ok {
		return nil, false, nil
	}
	if len(v) == 0 || len(v)%2 != 0 || len(v) > 2048 {
		return nil, true, fmt.Errorf("%w: clip.vision.image_grid_pinpoints has %d values, want (width, height) pairs", processors.ErrConfig, len(v))
	}
	out := make([]Res, 0, len(v)/2)
	for i := 0; i < len(v); i += 2 {
		out = append(out, Res{H: int(v[i+1]), W: int(v[i])})
	}
	return out, true, nil
}

// PinpointsJSON reads Hugging Face image_grid_pinpoints: [[height, width], …].
func PinpointsJSON(raw json.RawMessage) ([]Res, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pairs [][]int
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("%w: image_grid_pinpoints: %v", processors.ErrConfig, err)
	}
	out := make([]Res, 0, len(pairs))
	for _, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("%w: image_grid_pinpoints entry %v is not [height, width]", processors.ErrConfig, p)
		}
		out = append(out, Res{H: p[0], W: p[1]})
	}
	return out, nil
}

func fromGGUF(cfg *Config, md processors.Metadata) error {
	var err error
	if cfg.Size, err = processors.MMProjInt(md, "clip.vision.image_size", 0); err != nil {
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
	pins, ok, err := PinpointsGGUF(md)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: the mmproj has no clip.vision.image_grid_pinpoints", processors.ErrConfig)
	}
	cfg.Pinpoints = pins
	ar, _ := md.String("clip.vision.image_aspect_ratio")
	if cfg.MaxPatches, err = ParseAspect(ar); err != nil {
		return err
	}
	cfg.OneVision = cfg.MaxPatches > 0
	if h, err := processors.MMProjInt(md, "clip.vision.projection_dim", -1); err == nil {
		cfg.Hidden = h
	}
	cfg.Filter = imageproc.Bicubic
	return nil
}

type hfConfig struct {
	Architectures []string        `json:"architectures"`
	Pinpoints     json.RawMessage `json:"image_grid_pinpoints"`
	Aspect        *string         `json:"vision_aspect_ratio"`
	HiddenSize    int             `json:"hidden_size"`
	TextConfig    *struct {
		HiddenSize int `json:"hidden_size"`
	} `json:"text_config"`
	VisionConfig *struct {
		ImageSize int `json:"image_size"`
		PatchSize int `json:"patch_size"`
	} `json:"vision_config"`
}

type hfPre struct {
	processors.ImageNorm
	Pinpoints json.RawMessage `json:"image_grid_pinpoints"`
	Size      json.RawMessage `json:"size"`
	DoResize  *bool           `json:"do_resize"`
}

// OneVisionArch is the Hugging Face architecture of LLaVA-OneVision.
const OneVisionArch = "LlavaOnevisionForConditionalGeneration"

// NeXTPinpoints are LlavaNextConfig's default pinpoints (LLaVA-1.6's).
func NeXTPinpoints() []Res {
	return []Res{{H: 336, W: 672}, {H: 672, W: 336}, {H: 672, W: 672}, {H: 1008, W: 336}, {H: 336, W: 1008}}
}

// OneVisionPinpoints are LlavaOnevisionConfig's default pinpoints: every
// (i·384, j·384), i, j ∈ 1…6.
func OneVisionPinpoints(size int) []Res {
	var out []Res
	for i := 1; i <= 6; i++ {
		for j := 1; j <= 6; j++ {
			out = append(out, Res{H: i * size, W: j * size})
		}
	}
	return out
}

func fromHF(cfg *Config, dir string) error {
	var mc hfConfig
	if _, err := processors.ReadJSON(dir, "config.json", &mc); err != nil {
		return err
	}
	ov := len(mc.Architectures) > 0 && mc.Architectures[0] == OneVisionArch
	// the image processors' defaults: OpenAI CLIP's mean and std, bicubic
	*cfg = Config{OneVision: ov, Filter: imageproc.Bicubic,
		Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711}}
	cfg.Size, cfg.Patch, cfg.Pinpoints = 336, 14, NeXTPinpoints()
	aspect := ""
	if ov {
		cfg.Size, cfg.Pinpoints, aspect = 384, OneVisionPinpoints(384), "anyres_max_9"
		if mc.Aspect != nil {
			aspect = *mc.Aspect
		}
	}
	if v := mc.VisionConfig; v != nil {
		if v.ImageSize > 0 {
			cfg.Size = v.ImageSize
			if ov {
				cfg.Pinpoints = OneVisionPinpoints(v.ImageSize)
			}
		}
		if v.PatchSize > 0 {
			cfg.Patch = v.PatchSize
		}
	}
	var err error
	if cfg.MaxPatches, err = ParseAspect(aspect); err != nil {
		return err
	}
	if pins, err := PinpointsJSON(mc.Pinpoints); err != nil {
		return err
	} else if pins != nil {
		cfg.Pinpoints = pins
	}
	cfg.Hidden = mc.HiddenSize
	if mc.TextConfig != nil && mc.TextConfig.HiddenSize > 0 {
		cfg.Hidden = mc.TextConfig.HiddenSize
	}
	var pc hfPre
	ok, err := processors.ReadJSON(dir, "preprocessor_config.json", &pc)
	if err != nil || !ok {
		return err
	}
	if pins, err := PinpointsJSON(pc.Pinpoints); err != nil {
		return err
	} else if pins != nil {
		cfg.Pinpoints = pins
	}
	if pc.DoResize != nil && !*pc.DoResize {
		return fmt.Errorf("%w: do_resize false is not supported", processors.ErrConfig)
	}
	if s, err := viewSize(pc.Size); err != nil {
		return err
	} else if s > 0 && s != cfg.Size {
		return fmt.Errorf("%w: preprocessor size %d differs from the vision image_size %d", processors.ErrConfig, s, cfg.Size)
	}
	return pc.Apply(&cfg.Mean, &cfg.Std, &cfg.Filter)
}

// viewSize reads the image processor's size: {"shortest_edge": S} or a
// square {"height": S, "width": S}; 0 when absent.
func viewSize(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var d struct {
		Shortest *int `json:"shortest_edge"`
		Height   *int `json:"height"`
		Width    *int `json:"width"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, fmt.Errorf("%w: size %s: %v", processors.ErrConfig, raw, err)
	}
	switch {
	case d.Height != nil && d.Width != nil && *d.Height == *d.Width && *d.Height > 0:
		return *d.Height, nil
	case d.Shortest != nil && *d.Shortest > 0:
		return *d.Shortest, nil
	}
	return 0, fmt.Errorf("%w: size %s is not a square view", processors.ErrConfig, raw)
}

// padColour is the multi-image square padding: int(mean·255) per channel.
func (p *Processor) padColour() [3]uint8 {
	var c [3]uint8
	for i, m := range p.cfg.Mean {
		c[i] = uint8(min(max(float64(m)*255, 0), 255))
	}
	return c
}

func (p *Processor) resize(img *media.RGB, w, h int) (*media.RGB, error) {
	if img.W == w && img.H == h {
		return img, nil
	}
	return imageproc.Resize(img, w, h, p.cfg.Filter)
}

// Views returns the S×S views of an image, base view first: with base
// only (several images in a OneVision prompt) the image padded to a square
// with the mean colour and resized; otherwise the anyres base view and
// tiles of Layout.
func (p *Processor) Views(img *media.RGB, baseOnly bool) ([]*media.RGB, Layout, error) {
	S := p.cfg.Size
	if baseOnly {
		sq, err := imageproc.PadSquare(img, p.padColour())
		if err != nil {
			return nil, Layout{}, err
		}
		v, err := p.resize(sq, S, S)
		return []*media.RGB{v}, Layout{}, err
	}
	l, err := p.cfg.Layout(img.H, img.W)
	if err != nil {
		return nil, Layout{}, err
	}
	nh, nw := FitSize(img.H, img.W, l.Best)
	fit, err := p.resize(img, nw, nh)
	if err != nil {
		return nil, Layout{}, err
	}
	canvas, err := imageproc.New(l.Best.W, l.Best.H, [3]uint8{})
	if err != nil {
		return nil, Layout{}, err
	}
	imageproc.Paste(canvas, fit, (l.Best.W-nw)/2, (l.Best.H-nh)/2)
	base, err := p.resize(img, S, S)
	if err != nil {
		return nil, Layout{}, err
	}
	views := []*media.RGB{base}
	for y := 0; y < l.Best.H; y += S {
		for x := 0; x < l.Best.W; x += S {
			t, err := imageproc.Crop(canvas, x, y, S, S)
			if err != nil {
				return nil, Layout{}, err
			}
			views = append(views, t)
		}
	}
	return views, l, nil
}

// rows turns planar [3, S, S] views into patch rows [V·g², 3·P·P], each
// view cut to its top-left g·P pixels (what the stride-P patch conv sees).
func (p *Processor) rows(views [][]float32) ([]float32, error) {
	S, P := p.cfg.Size, p.cfg.Patch
	g := p.cfg.Grid()
	side := g * P
	cut := make([]float32, 3*side*side)
	var out []float32
	for _, v := range views {
		if len(v) != 3*S*S {
			return nil, fmt.Errorf("%w: a view has %d values, want 3×%d×%d", processors.ErrBadMedia, len(v), S, S)
		}
		src := v
		if side != S {
			for c := 0; c < 3; c++ {
				for y := 0; y < side; y++ {
					copy(cut[(c*side+y)*side:(c*side+y+1)*side], v[(c*S+y)*S:(c*S+y)*S+side])
				}
			}
			src = cut
		}
		r, _, err := imageproc.Patchify([][]float32{src}, side, side, imageproc.PatchLayout{Patch: P, Temporal: 1, Merge: 1})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
		}
		out = append(out, r...)
	}
	return out, nil
}

// features builds a span's encoder input from normalised views.
func (p *Processor) features(views [][]float32, grid [3]int) (*input.Features, error) {
	data, err := p.rows(views)
	if err != nil {
		return nil, err
	}
	g := p.cfg.Grid()
	return &input.Features{Data: data, Shape: []int{len(views) * g * g, 3 * p.cfg.Patch * p.cfg.Patch}, Grid: grid}, nil
}

// Tokens is the placeholder count of a span with Grid grid (see the
// package comment).
func (p *Processor) Tokens(grid [3]int) (int, error) {
	return TokenCount(p.cfg.Geometry, grid)
}

// TokenCount is the embedding count of Features with Grid grid: (V, H, W)
// with V = 1 (base view only) or V = 1 + tiles of H×W's Layout, or (T, 0, 0)
// for a video of T frames.
func TokenCount(geo Geometry, grid [3]int) (int, error) {
	g := geo.Grid()
	switch v, h, w := grid[0], grid[1], grid[2]; {
	case v >= 1 && v <= maxFrames && h == 0 && w == 0:
		ps := PooledSide(g)
		return v*ps*ps + 1, nil
	case v == 1 && h > 0 && w > 0 && h <= maxSide && w <= maxSide:
		return g*g + 1, nil
	case v > 1 && h > 0 && w > 0:
		l, err := geo.Layout(h, w)
		if err != nil {
			return 0, err
		}
		if l.Views() != v {
			return 0, fmt.Errorf("llavanext: a %dx%d image has %d views, not %d", w, h, l.Views(), v)
		}
		return l.Tokens(), nil
	}
	return 0, fmt.Errorf("llavanext: grid %v is not (views, height, width) or (frames, 0, 0)", grid)
}

// site is one media position: a marker (kind 0), an <image> run (1) or a
// <video> run (2).
type site struct{ at, run, kind int }

func (s site) end() int { return s.at + max(s.run, 1) }

func (p *Processor) sites(tokens []int32) []site {
	var out []site
	for i := 0; i < len(tokens); {
		t := tokens[i]
		kind := 0
		switch {
		case t == input.MediaMarker:
			out = append(out, site{at: i})
			i++
			continue
		case p.cfg.Image >= 0 && t == p.cfg.Image:
			kind = 1
		case p.cfg.Video >= 0 && t == p.cfg.Video:
			kind = 2
		default:
			i++
			continue
		}
		j := i
		for j < len(tokens) && tokens[j] == t {
			j++
		}
		out = append(out, site{at: i, run: j - i, kind: kind})
		i = j
	}
	return out
}

// isVideo reports whether it is a video: processor output with
// pixel_values_videos.
func isVideo(it media.Item) bool {
	_, ok := it.Arrays["pixel_values_videos"]
	return it.Format == media.ProcessorOutput && ok
}

// Prepare implements processors.Processor.
func (p *Processor) Prepare(ctx context.Context, tokens []int32, items []media.Item) (*input.Prompt, error) {
	imgs := processors.Images(items)
	if len(imgs) != len(items) {
		return nil, fmt.Errorf("%w: LLaVA-NeXT takes images only, got %d non-image item(s)", processors.ErrBadMedia, len(items)-len(imgs))
	}
	sites := p.sites(tokens)
	if len(sites) != len(imgs) {
		return nil, processors.CountError(len(sites), len(imgs), "image")
	}
	stills := 0
	for i, it := range imgs {
		video := isVideo(it)
		switch {
		case video && !p.cfg.OneVision:
			return nil, fmt.Errorf("%w: item %d: this model takes no video", processors.ErrBadMedia, i)
		case video && sites[i].kind == 1:
			return nil, fmt.Errorf("%w: item %d is a video at an <image> placeholder", processors.ErrBadMedia, i)
		case !video && sites[i].kind == 2 && it.Format != media.Precomputed:
			return nil, fmt.Errorf("%w: item %d is an image at a <video> placeholder", processors.ErrBadMedia, i)
		case !video && sites[i].kind != 2:
			stills++
		}
	}
	baseOnly := p.cfg.OneVision && stills > 1 // Hugging Face batch_num_images > 1
	b := processors.NewBuilder(false)
	last := 0
	for i, s := range sites {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sp, err := p.span(imgs[i], baseOnly)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		n := sp.Len
		if s.run > 1 && s.run != n {
			return nil, fmt.Errorf("%w: image %d: the prompt has a run of %d placeholder tokens but the item needs %d", processors.ErrBadFeatures, i, s.run, n)
		}
		if err := b.Text(tokens[last:s.at]...); err != nil {
			return nil, err
		}
		id := p.cfg.Image
		if isVideo(imgs[i]) || s.kind == 2 {
			id = p.cfg.Video
		}
		if id < 0 {
			id = max(p.cfg.Image, p.cfg.Video, 0)
		}
		if err := b.Media(sp, id, n, nil, 0); err != nil {
			return nil, err
		}
		last = s.end()
	}
	if err := b.Text(tokens[last:]...); err != nil {
		return nil, err
	}
	return b.Prompt(), nil
}

// span prepares one item; Len is set to its placeholder count (the
// builder sets it again).
func (p *Processor) span(it media.Item, baseOnly bool) (input.Span, error) {
	sp := input.Span{Modality: input.Image}
	var f *input.Features
	var err error
	switch it.Format {
	case media.Raw:
		if it.RGB == nil {
			return sp, fmt.Errorf("%w: image item without pixels", processors.ErrBadMedia)
		}
		f, err = p.Features(it.RGB, baseOnly)
	case media.ProcessorOutput:
		f, err = p.featuresFromArrays(it.Arrays, baseOnly)
	case media.Precomputed:
		e, err := processors.Precomputed(it, p.cfg.Hidden)
		if err != nil {
			return sp, err
		}
		sp.Embeds, sp.Key, sp.Len = e, processors.SpanKey(it.Hash, e.Shape, 0), e.Shape[0]
		return sp, nil
	default:
		return sp, fmt.Errorf("%w: image format %v", processors.ErrBadMedia, it.Format)
	}
	if err != nil {
		return sp, err
	}
	if sp.Len, err = p.Tokens(f.Grid); err != nil {
		return sp, fmt.Errorf("%w: %v", processors.ErrBadFeatures, err)
	}
	sp.Features = f
	sp.Key = processors.SpanKey(it.Hash, append(append([]int(nil), f.Shape...), f.Grid[:]...), 0)
	return sp, nil
}

// Features turns an image into encoder input (see the package comment).
func (p *Processor) Features(img *media.RGB, baseOnly bool) (*input.Features, error) {
	views, _, err := p.Views(img, baseOnly)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
	}
	planar := make([][]float32, len(views))
	for i, v := range views {
		if planar[i], err = imageproc.Normalize(v, p.cfg.Mean, p.cfg.Std); err != nil {
			return nil, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
		}
	}
	return p.features(planar, [3]int{len(views), img.H, img.W})
}

// featuresFromArrays accepts Hugging Face's processor output: pixel_values
// [1, V, 3, S, S] (or [V, 3, S, S]) with image_sizes [[H, W]], or
// pixel_values_videos [1, T, 3, S, S] (or [T, 3, S, S]). Views past those
// the image needs (batch padding) are ignored.
func (p *Processor) featuresFromArrays(arrs map[string]media.Array, baseOnly bool) (*input.Features, error) {
	S := p.cfg.Size
	if v, ok := arrs["pixel_values_videos"]; ok {
		views, err := splitViews(v, S, "pixel_values_videos")
		if err != nil {
			return nil, err
		}
		if len(views) > maxFrames {
			return nil, fmt.Errorf("%w: %d video frames (at most %d)", processors.ErrBadFeatures, len(views), maxFrames)
		}
		return p.features(views, [3]int{len(views), 0, 0})
	}
	pv, ok := arrs["pixel_values"]
	if !ok {
		return nil, fmt.Errorf("%w: processor_output has no pixel_values", processors.ErrBadFeatures)
	}
	views, err := splitViews(pv, S, "pixel_values")
	if err != nil {
		return nil, err
	}
	h, w := S, S
	if is, ok := arrs["image_sizes"]; ok {
		if len(is.Data) != 2 || !whole(is.Data[0]) || !whole(is.Data[1]) {
			return nil, fmt.Errorf("%w: image_sizes must hold one (height, width), got %v", processors.ErrBadFeatures, is.Data)
		}
		h, w = int(is.Data[0]), int(is.Data[1])
	} else if !baseOnly {
		return nil, fmt.Errorf("%w: processor_output has no image_sizes", processors.ErrBadFeatures)
	}
	need := 1
	if !baseOnly {
		l, err := p.cfg.Layout(h, w)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", processors.ErrBadFeatures, err)
		}
		need = l.Views()
	}
	if len(views) < need {
		return nil, fmt.Errorf("%w: pixel_values has %d views, a %dx%d image needs %d", processors.ErrBadFeatures, len(views), w, h, need)
	}
	return p.features(views[:need], [3]int{need, h, w})
}

// whole reports whether v is a positive integer within the size bound.
func whole(v float32) bool { return v >= 1 && v <= maxSide && v == float32(int(v)) }

// splitViews checks an array of shape [1, V, 3, S, S] or [V, 3, S, S] and
// returns its V planar views.
func splitViews(a media.Array, S int, name string) ([][]float32, error) {
	shape := a.Shape
	if len(shape) == 5 && shape[0] == 1 {
		shape = shape[1:]
	}
	if len(shape) != 4 || shape[0] <= 0 || shape[0] > 4*maxFrames || shape[1] != 3 || shape[2] != S || shape[3] != S || len(a.Data) != shape[0]*3*S*S {
		return nil, fmt.Errorf("%w: %s has shape %v (%d values), want [1, V, 3, %d, %d]", processors.ErrBadFeatures, name, a.Shape, len(a.Data), S, S)
	}
	out := make([][]float32, shape[0])
	for i := range out {
		out[i] = a.Data[i*3*S*S : (i+1)*3*S*S]
	}
	return out, nil
}
