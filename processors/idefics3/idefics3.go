// Package idefics3 is the Idefics3 / SmolVLM image processor (SigLIP input):
// the image is resized by its longest edge, cut into square tiles of the
// encoder's size, and followed by a global view; each view becomes a run of
// image tokens in the layout
//
//	<fake_token_around_image><row_1_col_1><image>×L … (tiles, "\n" after each row but the last)
//	"\n\n"<fake_token_around_image><global-img><image>×L<fake_token_around_image>
//
// (an image that needs no tiling is only the global view in Hugging Face's
// processor; llama.cpp always emits at least one tile). L = (S/P)²/scale².
// Every view is its own Span, so an item yields rows·cols + 1 spans.
package idefics3

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
)

func init() { processors.Register("idefics3", FromSpec) }

// Config is everything the processor needs.
type Config struct {
	ImageSize, Patch, Scale int // tile side, patch side, pixel-shuffle factor
	LongestEdge             int // resize target of the longer side
	Split                   bool
	Mean, Std               [3]float32
	Hidden                  int // text model width (precomputed embeddings)
	// Llama selects llama.cpp's preprocessing (GGUF): tiles from a bicubic
	// resize padded with black, a bilinear global view, always ≥ 1 tile.
	// Otherwise Hugging Face's, with Pillow Filter (lanczos).
	Llama  bool
	Filter imageproc.Filter

	Image, Fake, Global, NL, NLNL int32
	Rows                          [][]int32 // Rows[r][c]: <row_{r+1}_col_{c+1}> (up to 6×6 in SmolVLM vocabularies)
}

// Processor implements processors.Processor for Idefics3.
type Processor struct{ cfg Config }

var _ processors.Processor = (*Processor)(nil)

// New validates cfg.
func New(cfg Config) (*Processor, error) {
	if cfg.Patch <= 0 || cfg.Scale <= 0 || cfg.ImageSize <= 0 || cfg.ImageSize%(cfg.Patch*cfg.Scale) != 0 || cfg.ImageSize > 1<<13 {
		return nil, fmt.Errorf("%w: idefics3 image size %d patch %d scale %d", processors.ErrConfig, cfg.ImageSize, cfg.Patch, cfg.Scale)
	}
	if cfg.LongestEdge <= 0 || cfg.LongestEdge > 1<<14 {
		return nil, fmt.Errorf("%w: idefics3 longest edge %d", processors.ErrConfig, cfg.LongestEdge)
	}
	if !cfg.Llama && !cfg.Filter.Valid() {
		return nil, fmt.Errorf("%w: idefics3 resample filter %v", processors.ErrConfig, cfg.Filter)
	}
	if err := processors.CheckStd("idefics3", cfg.Std); err != nil {
		return nil, err
	}
	return &Processor{cfg: cfg}, nil
}

// Config returns the processor's configuration.
func (p *Processor) Config() Config { return p.cfg }

// SeqLen is the token count of one view.
func (p *Processor) SeqLen() int {
	g := p.cfg.ImageSize / p.cfg.Patch / p.cfg.Scale
	return g * g
}

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
	ids, err := processors.TokenIDs(s.Vocab, "<image>", "<fake_token_around_image>", "<global-img>")
	if err != nil {
		return nil, err
	}
	cfg.Image, cfg.Fake, cfg.Global = ids[0], ids[1], ids[2]
	for _, nl := range []struct {
		dst *int32
		s   string
	}{{&cfg.NL, "\n"}, {&cfg.NLNL, "\n\n"}} {
		id, ok := processors.LookupPiece(s.Vocab, nl.s)
		if !ok {
			return nil, fmt.Errorf("%w: the tokenizer has no token for %q", processors.ErrConfig, nl.s)
		}
		*nl.dst = id
	}
	for r := 1; ; r++ {
		id, ok := s.Vocab.TokenID(fmt.Sprintf("<row_%d_col_1>", r))
		if !ok || r > 64 {
			break
		}
		row := []int32{id}
		for c := 2; c <= 64; c++ {
			id, ok := s.Vocab.TokenID(fmt.Sprintf("<row_%d_col_%d>", r, c))
			if !ok {
				break
			}
			row = append(row, id)
		}
		cfg.Rows = append(cfg.Rows, row)
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
	if cfg.Scale, err = processors.MMProjInt(md, "clip.vision.projector.scale_factor", 2); err != nil {
		return err
	}
	if cfg.LongestEdge, err = processors.MMProjInt(md, "clip.vision.preproc_image_size", cfg.ImageSize); err != nil {
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
	cfg.Llama, cfg.Split = true, true
	return nil
}

type hfConfig struct {
	ScaleFactor int `json:"scale_factor"`
	HiddenSize  int `json:"hidden_size"`
	TextConfig  *struct {
		HiddenSize int `json:"hidden_size"`
	} `json:"text_config"`
	VisionConfig *struct {
		ImageSize int `json:"image_size"`
		PatchSize int `json:"patch_size"`
	} `json:"vision_config"`
}

type hfPre struct {
	processors.ImageNorm
	DoSplit  *bool `json:"do_image_splitting"`
	DoResize *bool `json:"do_resize"`
	Size     *struct {
		LongestEdge int `json:"longest_edge"`
	} `json:"size"`
	MaxImageSize *struct {
		LongestEdge int `json:"longest_edge"`
	} `json:"max_image_size"`
}

func fromHF(cfg *Config, dir string) error {
	*cfg = Config{ImageSize: 364, Patch: 14, Scale: 2, LongestEdge: 4 * 364, Split: true, Filter: imageproc.Lanczos,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}}
	var mc hfConfig
	if _, err := processors.ReadJSON(dir, "config.json", &mc); err != nil {
		return err
	}
	if v := mc.VisionConfig; v != nil {
		if v.ImageSize > 0 {
			cfg.ImageSize = v.ImageSize
		}
		if v.PatchSize > 0 {
			cfg.Patch = v.PatchSize
		}
	}
	if mc.ScaleFactor > 0 {
		cfg.Scale = mc.ScaleFactor
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
	if pc.MaxImageSize != nil && pc.MaxImageSize.LongestEdge != cfg.ImageSize && pc.MaxImageSize.LongestEdge > 0 {
		return fmt.Errorf("%w: max_image_size %d differs from the vision image_size %d", processors.ErrConfig, pc.MaxImageSize.LongestEdge, cfg.ImageSize)
	}
	if pc.Size != nil && pc.Size.LongestEdge > 0 {
		cfg.LongestEdge = pc.Size.LongestEdge
	}
	if pc.DoResize != nil && !*pc.DoResize {
		cfg.LongestEdge = 0 // resolved per image: keep the size
	}
	if pc.DoSplit != nil {
		cfg.Split = *pc.DoSplit
	}
	if err := pc.Apply(&cfg.Mean, &cfg.Std, &cfg.Filter); err != nil {
		return err
	}
	if cfg.LongestEdge == 0 {
		return fmt.Errorf("%w: do_resize false is not supported", processors.ErrConfig)
	}
	return nil
}

// Views cuts an image into encoder-size views: rows×cols tiles in raster
// order, then the global view (rows = cols = 0: the global view only).
func (p *Processor) Views(img *media.RGB) (views []*media.RGB, rows, cols int, err error) {
	S := p.cfg.ImageSize
	if p.cfg.Llama {
		rw, rh, err := imageproc.SizeLlamaLongestEdge(img.W, img.H, S, p.cfg.LongestEdge)
		if err != nil {
			return nil, 0, 0, err
		}
		refined, err := imageproc.ResizeLlamaPad(img, rw, rh, imageproc.LlamaBicubic, [3]uint8{})
		if err != nil {
			return nil, 0, 0, err
		}
		rows, cols = (rh+S-1)/S, (rw+S-1)/S
		for y := 0; y < rh; y += S {
			for x := 0; x < rw; x += S {
				t, err := imageproc.Crop(refined, x, y, min(S, rw-x), min(S, rh-y))
				if err != nil {
					return nil, 0, 0, err
				}
				views = append(views, t)
			}
		}
		g, err := imageproc.ResizeLlama(img, S, S, imageproc.LlamaBilinear)
		if err != nil {
			return nil, 0, 0, err
		}
		return append(views, g), rows, cols, nil
	}
	w, h, err := imageproc.LongestEdge(img.W, img.H, p.cfg.LongestEdge)
	if err != nil {
		return nil, 0, 0, err
	}
	resize := func(im *media.RGB, w, h int) (*media.RGB, error) {
		if im.W == w && im.H == h {
			return im, nil
		}
		return imageproc.Resize(im, w, h, p.cfg.Filter)
	}
	if img, err = resize(img, w, h); err != nil {
		return nil, 0, 0, err
	}
	if !p.cfg.Split {
		g, err := resize(img, S, S)
		return []*media.RGB{g}, 0, 0, err
	}
	if w, h, err = imageproc.CeilToMultiple(img.W, img.H, S); err != nil {
		return nil, 0, 0, err
	}
	if img, err = resize(img, w, h); err != nil {
		return nil, 0, 0, err
	}
	if w > S || h > S {
		rows, cols = (h+S-1)/S, (w+S-1)/S
		th, tw := (h+rows-1)/rows, (w+cols-1)/cols
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				x, y := c*tw, r*th
				t, err := imageproc.Crop(img, x, y, min(tw, w-x), min(th, h-y))
				if err != nil {
					return nil, 0, 0, err
				}
				views = append(views, t)
			}
		}
	}
	g, err := resize(img, S, S)
	if err != nil {
		return nil, 0, 0, err
	}
	return append(views, g), rows, cols, nil
}

// features normalises and patchifies one view: raster-order patches
// [(S/P)², 3·P·P].
func (p *Processor) features(v *media.RGB) (*input.Features, error) {
	S := p.cfg.ImageSize
	if v.W != S || v.H != S {
		return nil, fmt.Errorf("%w: a %dx%d view is not the encoder's %dx%d", processors.ErrBadMedia, v.W, v.H, S, S)
	}
	chw, err := imageproc.Normalize(v, p.cfg.Mean, p.cfg.Std)
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

// layout is one item's views as spans (tiles in raster order, then global).
type layout struct {
	spans      []input.Span
	rows, cols int
}

func (p *Processor) item(it media.Item) (layout, error) {
	var l layout
	switch it.Format {
	case media.Raw:
		if it.RGB == nil {
			return l, fmt.Errorf("%w: image item without pixels", processors.ErrBadMedia)
		}
		views, rows, cols, err := p.Views(it.RGB)
		if err != nil {
			return l, fmt.Errorf("%w: %v", processors.ErrBadMedia, err)
		}
		l.rows, l.cols = rows, cols
		for i, v := range views {
			f, err := p.features(v)
			if err != nil {
				return l, err
			}
			l.spans = append(l.spans, input.Span{Modality: input.Image, Features: f, Key: processors.SpanKey(it.Hash, f.Shape, i)})
		}
	case media.ProcessorOutput:
		return p.fromArrays(it)
	case media.Precomputed:
		e, err := processors.Precomputed(it, p.cfg.Hidden)
		if err != nil {
			return l, err
		}
		L := p.SeqLen()
		if e.Shape[0]%L != 0 {
			return l, fmt.Errorf("%w: precomputed_embedding has %d rows, not a multiple of %d per view", processors.ErrBadFeatures, e.Shape[0], L)
		}
		if l.rows, l.cols, err = gridOf(it.Arrays, e.Shape[0]/L); err != nil {
			return l, err
		}
		for i := 0; i < e.Shape[0]/L; i++ {
			v, err := e.Slice(i*L, (i+1)*L)
			if err != nil {
				return l, err
			}
			l.spans = append(l.spans, input.Span{Modality: input.Image, Embeds: v, Key: processors.SpanKey(it.Hash, e.Shape, i)})
		}
	default:
		return l, fmt.Errorf("%w: image format %v", processors.ErrBadMedia, it.Format)
	}
	return l, nil
}

// gridOf reads the tile grid of a pre-processed item of n views: the
// "rows"/"cols" arrays (or image_rows/image_cols), else 0×0 for one view and
// 1×1 for two.
func gridOf(arrs map[string]media.Array, n int) (rows, cols int, err error) {
	scalar := func(names ...string) (int, bool, error) {
		for _, k := range names {
			a, ok := arrs[k]
			if !ok {
				continue
			}
			if len(a.Data) != 1 || a.Data[0] < 0 || a.Data[0] > 64 || a.Data[0] != float32(int(a.Data[0])) {
				return 0, false, fmt.Errorf("%w: %s must be one small integer, got %v", processors.ErrBadFeatures, k, a.Data)
			}
			return int(a.Data[0]), true, nil
		}
		return 0, false, nil
	}
	r, okR, err := scalar("rows", "image_rows")
	if err != nil {
		return 0, 0, err
	}
	c, okC, err := scalar("cols", "image_cols")
	if err != nil {
		return 0, 0, err
	}
	switch {
	case okR && okC:
		rows, cols = r, c
	case n == 1:
		rows, cols = 0, 0
	case n == 2:
		rows, cols = 1, 1
	default:
		return 0, 0, fmt.Errorf("%w: %d views need rows and cols arrays for their tile layout", processors.ErrBadFeatures, n)
	}
	if rows*cols+1 != n {
		return 0, 0, fmt.Errorf("%w: %d×%d tiles plus a global view is not %d views", processors.ErrBadFeatures, rows, cols, n)
	}
	return rows, cols, nil
}

// fromArrays accepts Hugging Face's pixel_values [1, V, 3, S, S] (or
// [V, 3, S, S]) with an all-ones pixel_attention_mask if present.
func (p *Processor) fromArrays(it media.Item) (layout, error) {
	var l layout
	pv, ok := it.Arrays["pixel_values"]
	if !ok {
		return l, fmt.Errorf("%w: processor_output has no pixel_values", processors.ErrBadFeatures)
	}
	S := p.cfg.ImageSize
	shape := pv.Shape
	if len(shape) == 5 && shape[0] == 1 {
		shape = shape[1:]
	}
	if len(shape) != 4 || shape[0] < 1 || shape[1] != 3 || shape[2] != S || shape[3] != S || len(pv.Data) != shape[0]*3*S*S {
		return l, fmt.Errorf("%w: pixel_values has shape %v, want [1, views, 3, %d, %d]", processors.ErrBadFeatures, pv.Shape, S, S)
	}
	if m, ok := it.Arrays["pixel_attention_mask"]; ok {
		for _, v := range m.Data {
			if v != 1 {
				return l, fmt.Errorf("%w: padded views (pixel_attention_mask with zeros) are not supported", processors.ErrBadFeatures)
			}
		}
	}
	n := shape[0]
	var err error
	if l.rows, l.cols, err = gridOf(it.Arrays, n); err != nil {
		return l, err
	}
	for i := 0; i < n; i++ {
		f, err := p.patchify(pv.Data[i*3*S*S : (i+1)*3*S*S])
		if err != nil {
			return l, err
		}
		l.spans = append(l.spans, input.Span{Modality: input.Image, Features: f, Key: processors.SpanKey(it.Hash, []int{n, 3, S, S}, i)})
	}
	return l, nil
}

// emit writes an item's full layout.
func (p *Processor) emit(b *processors.Builder, l layout) error {
	L := p.SeqLen()
	k := 0
	if l.rows > len(p.cfg.Rows) || (l.rows > 0 && l.cols > len(p.cfg.Rows[l.rows-1])) {
		return fmt.Errorf("%w: %d×%d tiles, the vocabulary has <row_r_col_c> tokens for fewer", processors.ErrBadMedia, l.rows, l.cols)
	}
	for r := 0; r < l.rows; r++ {
		for c := 0; c < l.cols; c++ {
			if err := b.Text(p.cfg.Fake, p.cfg.Rows[r][c]); err != nil {
				return err
			}
			if err := b.Media(l.spans[k], p.cfg.Image, L, nil, 0); err != nil {
				return err
			}
			k++
		}
		if r < l.rows-1 {
			if err := b.Text(p.cfg.NL); err != nil {
				return err
			}
		}
	}
	if l.rows > 0 {
		if err := b.Text(p.cfg.NLNL); err != nil {
			return err
		}
	}
	if err := b.Text(p.cfg.Fake, p.cfg.Global); err != nil {
		return err
	}
	if err := b.Media(l.spans[k], p.cfg.Image, L, nil, 0); err != nil {
		return err
	}
	return b.Text(p.cfg.Fake)
}

// group is one logical media position: a marker or single <image> token
// (expanded here), or the view runs of an already expanded image.
type group struct {
	sites    []processors.Site
	expanded bool
}

func (p *Processor) groups(tokens []int32) ([]group, error) {
	L := p.SeqLen()
	var out []group
	var cur []processors.Site
	for _, s := range processors.FindSites(tokens, p.cfg.Image) {
		if s.Run <= 1 && (L > 1 || s.Run == 0) {
			if len(cur) > 0 {
				return nil, fmt.Errorf("%w: an expanded image's views are not closed by a <global-img> view", processors.ErrBadFeatures)
			}
			out = append(out, group{sites: []processors.Site{s}})
			continue
		}
		if s.Run != L {
			return nil, fmt.Errorf("%w: the prompt has a run of %d image tokens, a view takes %d", processors.ErrBadFeatures, s.Run, L)
		}
		cur = append(cur, s)
		if s.At > 0 && tokens[s.At-1] == p.cfg.Global {
			out = append(out, group{sites: cur, expanded: true})
			cur = nil
		}
	}
	if len(cur) > 0 {
		return nil, fmt.Errorf("%w: an expanded image's views are not closed by a <global-img> view", processors.ErrBadFeatures)
	}
	return out, nil
}

// Prepare implements processors.Processor.
func (p *Processor) Prepare(ctx context.Context, tokens []int32, items []media.Item) (*input.Prompt, error) {
	imgs := processors.Images(items)
	if len(imgs) != len(items) {
		return nil, fmt.Errorf("%w: Idefics3 takes images only, got %d non-image item(s)", processors.ErrBadMedia, len(items)-len(imgs))
	}
	groups, err := p.groups(tokens)
	if err != nil {
		return nil, err
	}
	if len(groups) != len(imgs) {
		return nil, processors.CountError(len(groups), len(imgs), "image")
	}
	b := processors.NewBuilder(false)
	last := 0
	for i, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := p.item(imgs[i])
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		if !g.expanded {
			if err := b.Text(tokens[last:g.sites[0].At]...); err != nil {
				return nil, err
			}
			if err := p.emit(b, l); err != nil {
				return nil, err
			}
			last = g.sites[0].End()
			continue
		}
		if len(g.sites) != len(l.spans) {
			return nil, fmt.Errorf("%w: image %d: the prompt has %d expanded views, the image has %d", processors.ErrBadFeatures, i, len(g.sites), len(l.spans))
		}
		for k, s := range g.sites {
			if err := b.Text(tokens[last:s.At]...); err != nil {
				return nil, err
			}
			if err := b.Media(l.spans[k], p.cfg.Image, s.Run, nil, 0); err != nil {
				return nil, err
			}
			last = s.End()
		}
	}
	if err := b.Text(tokens[last:]...); err != nil {
		return nil, err
	}
	return b.Prompt(), nil
}
