package whisper

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// Registered names: the GGUF projector type and the HF architecture.
const (
	ProjectorType = "qwen2a"
	HFArch        = "Qwen2AudioForConditionalGeneration"
)

func init() {
	f := func(s processors.Spec) (processors.Processor, error) { return FromSpec(s) }
	processors.Register(ProjectorType, f)
	processors.Register(HFArch, f)
}

// Special-token pieces of Qwen2-Audio.
const (
	AudioPiece = "<|AUDIO|>"
	BOSPiece   = "<|audio_bos|>"
	EOSPiece   = "<|audio_eos|>"
)

// Config configures a Processor.
type Config struct {
	Params Params
	// Hidden is the text model's hidden size: the width precomputed
	// embeddings must have (0 skips the check).
	Hidden int
	// Audio is the <|AUDIO|> id, or −1 when the vocabulary has none (the
	// llama.cpp layout of GGUF models). A run of Audio ids is one placeholder.
	Audio int32
	// Before and After surround the run that replaces an input.MediaMarker:
	// "<|audio_bos|>" and "<|audio_eos|>" each tokenized on its own, as
	// llama.cpp's mtmd does (single special tokens in Qwen2-Audio's vocabulary,
	// plain text in others).
	Before, After []int32
	// Fill is the token id of placeholder rows when Audio is −1 (any valid
	// id: the rows are overwritten by the embeddings and the prefix cache
	// keys them by Span.Key).
	Fill int32
	// MaxChunks bounds the 30 s chunks per item (0: 20, i.e. 10 minutes).
	MaxChunks int
}

// Processor is the Qwen2-Audio processor. Safe for concurrent use.
type Processor struct {
	cfg Config
	ext *Extractor
}

var _ processors.Processor = (*Processor)(nil)

// New builds a processor.
func New(c Config) (*Processor, error) {
	ext, err := NewExtractor(c.Params)
	if err != nil {
		return nil, err
	}
	if c.MaxChunks <= 0 {
		c.MaxChunks = 20
	}
	if c.Audio < -1 || (c.Audio < 0 && c.Fill < 0) {
		return nil, fmt.Errorf("%w: placeholder ids %d / %d", processors.ErrConfig, c.Audio, c.Fill)
	}
	return &Processor{cfg: c, ext: ext}, nil
}

// FromSpec builds the processor of a GGUF qwen2a mmproj (s.MMProj) or of a
// Hugging Face Qwen2-Audio directory (s.Dir).
func FromSpec(s processors.Spec) (*Processor, error) {
	c := Config{Audio: -1}
	var err error
	switch {
	case s.MMProj != nil:
		if c.Params, err = ParamsFromGGUF(s.MMProj); err != nil {
			return nil, err
		}
		if h, ok := s.MMProj.Uint("clip.audio.projection_dim"); ok && h <= 1<<20 {
			c.Hidden = int(h)
		}
		if s.Vocab != nil {
			if id, ok := s.Vocab.TokenID(AudioPiece); ok {
				c.Audio = id
			}
		}
	case s.Dir != "":
		if c.Params, err = ReadPreprocessorConfig(s.Dir); err != nil {
			return nil, err
		}
		if c.Hidden, err = readHidden(s.Dir); err != nil {
			return nil, err
		}
		if s.Vocab == nil {
			return nil, fmt.Errorf("%w: %s: a vocabulary is needed for %s", processors.ErrConfig, s.Dir, AudioPiece)
		}
		var ok bool
		if c.Audio, ok = s.Vocab.TokenID(AudioPiece); !ok {
			return nil, fmt.Errorf("%w: %s: the tokenizer has no %s token", processors.ErrConfig, s.Dir, AudioPiece)
		}
	default:
		return nil, fmt.Errorf("%w: spec has neither an mmproj nor a model directory", processors.ErrConfig)
	}
	if s.Vocab != nil {
		c.Before, c.After = wrapTokens(s.Vocab, BOSPiece), wrapTokens(s.Vocab, EOSPiece)
	}
	return New(c)
}

// TextEncoder tokenizes text, recognising special tokens (*tokenizer.Tokenizer
// satisfies it). A processors.Vocab that also implements it lets the
// processor tokenize "<|audio_bos|>"/"<|audio_eos|>" where they are not
// single tokens.
type TextEncoder interface {
	Encode(text string, addSpecial bool) []int32
}

// wrapTokens tokenizes piece on its own: one id when the vocabulary has it,
// else its text tokens when v can encode text, else nothing.
func wrapTokens(v processors.Vocab, piece string) []int32 {
	if id, ok := v.TokenID(piece); ok {
		return []int32{id}
	}
	if te, ok := v.(TextEncoder); ok {
		return te.Encode(piece, false)
	}
	return nil
}

// readHidden reads text_config.hidden_size from dir/config.json.
func readHidden(dir string) (int, error) {
	var c struct {
		Text struct {
			Hidden int `json:"hidden_size"`
		} `json:"text_config"`
	}
	if _, err := processors.ReadJSON(dir, "config.json", &c); err != nil {
		return 0, err
	}
	if c.Text.Hidden < 0 || c.Text.Hidden > 1<<20 {
		return 0, fmt.Errorf("%w: %s/config.json: text_config.hidden_size %d", processors.ErrConfig, dir, c.Text.Hidden)
	}
	return c.Text.Hidden, nil
}

// Config returns the processor's configuration.
func (p *Processor) Config() Config { return p.cfg }

// Extractor returns the feature extractor.
func (p *Processor) Extractor() *Extractor { return p.ext }

// piece is one span's worth of an item: features or embeddings.
type piece struct {
	n      int // tokens
	feat   *input.Features
	embeds *tensor.Tensor
	key    uint64
}

// Prepare expands every audio placeholder (an input.MediaMarker, or a run of
// <|AUDIO|> ids: one id, or already expanded to the item's token count) into
// the item's tokens, one Span per 30 s chunk (or per precomputed item).
func (p *Processor) Prepare(ctx context.Context, tokens []int32, items []media.Item) (*input.Prompt, error) {
	var audio []*media.Item
	for i := range items {
		switch items[i].Modality {
		case media.Audio:
			audio = append(audio, &items[i])
		default:
			return nil, fmt.Errorf("%w: this model takes audio only, got a %v item at index %d", processors.ErrMediaCount, items[i].Modality, i)
		}
	}
	ph := processors.FindSites(tokens, p.cfg.Audio)
	if len(ph) != len(audio) {
		return nil, processors.CountError(len(ph), len(audio), "audio")
	}
	out := &input.Prompt{Tokens: make([]int32, 0, len(tokens))}
	prev := 0
	for k, h := range ph {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pieces, err := p.pieces(ctx, audio[k], k)
		if err != nil {
			return nil, err
		}
		total := 0
		for _, pc := range pieces {
			total += pc.n
		}
		if h.Run > 1 && h.Run != total {
			return nil, fmt.Errorf("%w: audio %d: expanded placeholder run of %d tokens, the audio gives %d", processors.ErrMediaCount, k, h.Run, total)
		}
		if len(out.Tokens)+total+len(p.cfg.Before)+len(p.cfg.After)+len(tokens)-h.At > processors.MaxTokens {
			return nil, fmt.Errorf("%w: prompt longer than %d tokens", processors.ErrBadMedia, processors.MaxTokens)
		}
		out.Tokens = append(out.Tokens, tokens[prev:h.At]...)
		marker := h.Run == 0
		if marker {
			out.Tokens = append(out.Tokens, p.cfg.Before...)
		}
		fill := p.cfg.Audio
		if fill < 0 {
			fill = p.cfg.Fill
		}
		for _, pc := range pieces {
			out.Spans = append(out.Spans, input.Span{Start: len(out.Tokens), Len: pc.n, NPos: pc.n, Modality: input.Audio,
				Key: pc.key, Features: pc.feat, Embeds: pc.embeds})
			for range pc.n {
				out.Tokens = append(out.Tokens, fill)
			}
		}
		if marker {
			out.Tokens = append(out.Tokens, p.cfg.After...)
		}
		prev = h.End()
	}
	out.Tokens = append(out.Tokens, tokens[prev:]...)
	return out, nil
}

// pieces turns item k into spans' contents.
func (p *Processor) pieces(ctx context.Context, it *media.Item, k int) ([]piece, error) {
	switch it.Format {
	case media.Raw:
		return p.rawPieces(ctx, it, k)
	case media.Precomputed:
		return p.precomputed(it, k)
	case media.ProcessorOutput:
		return p.processorOutput(it, k)
	}
	return nil, fmt.Errorf("%w: audio %d: format %v", processors.ErrBadMedia, k, it.Format)
}

func (p *Processor) rawPieces(ctx context.Context, it *media.Item, k int) ([]piece, error) {
	pcm := it.PCM
	if pcm == nil || len(pcm.Samples) == 0 {
		return nil, fmt.Errorf("%w: audio %d has no samples", processors.ErrBadMedia, k)
	}
	sp := p.ext.Params()
	if chunks := (int64(len(pcm.Samples))*int64(sp.SampleRate)/int64(max(pcm.Rate, 1)) + int64(sp.Samples) - 1) / int64(sp.Samples); chunks > int64(p.cfg.MaxChunks) {
		return nil, fmt.Errorf("%w: audio %d: %v is longer than %d chunks of %d s", processors.ErrBadMedia, k,
			pcm.Duration(), p.cfg.MaxChunks, sp.Samples/sp.SampleRate)
	}
	if pcm.Rate != sp.SampleRate {
		var err error
		if pcm, err = media.Resample(pcm, sp.SampleRate); err != nil {
			return nil, fmt.Errorf("%w: audio %d: %w", processors.ErrBadMedia, k, err)
		}
	}
	var out []piece
	for c, off := 0, 0; off < len(pcm.Samples); c, off = c+1, off+sp.Samples {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ch := p.ext.Extract(pcm.Samples[off:min(len(pcm.Samples), off+sp.Samples)])
		n := Tokens(ch.Frames)
		if n == 0 {
			continue // a tail shorter than 3 mel frames gives no token
		}
		f := &input.Features{Data: ch.Mel, Shape: []int{sp.NMel, sp.Frames()}, Grid: [3]int{ch.Frames}}
		out = append(out, piece{n: n, feat: f, key: processors.SpanKey(it.Hash, []int{sp.NMel, sp.Frames(), ch.Frames}, c)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: audio %d: %d samples is too short for one audio token", processors.ErrBadMedia, k, len(pcm.Samples))
	}
	return out, nil
}

// precomputed takes "feature" [N, Hidden] (or [1, N, Hidden]) as the embeddings.
func (p *Processor) precomputed(it *media.Item, k int) ([]piece, error) {
	t, err := processors.Precomputed(*it, p.cfg.Hidden)
	if err != nil {
		return nil, fmt.Errorf("audio %d: %w", k, err)
	}
	return []piece{{n: t.Rows(), embeds: t, key: processors.SpanKey(it.Hash, t.Shape, -1)}}, nil
}

// processorOutput takes HF processor tensors: "input_features" [B, NMel,
// Frames] (or [NMel, Frames]) and optionally "feature_attention_mask" [B,
// Frames] (real frames = its sum; all frames without it). Each of the B rows
// is one chunk.
func (p *Processor) processorOutput(it *media.Item, k int) ([]piece, error) {
	sp := p.ext.Params()
	nm, fr := sp.NMel, sp.Frames()
	f, ok := it.Arrays["input_features"]
	if !ok {
		return nil, fmt.Errorf("%w: audio %d: processor_output without \"input_features\"", processors.ErrBadFeatures, k)
	}
	shape := f.Shape
	if len(shape) == 2 {
		shape = []int{1, shape[0], shape[1]}
	}
	if len(shape) != 3 || shape[0] < 1 || shape[1] != nm || shape[2] != fr || shape[0]*nm*fr != len(f.Data) {
		return nil, fmt.Errorf("%w: audio %d: input_features of shape %v, want [B, %d, %d]", processors.ErrBadFeatures, k, f.Shape, nm, fr)
	}
	b := shape[0]
	if b > p.cfg.MaxChunks {
		return nil, fmt.Errorf("%w: audio %d: %d chunks exceed %d", processors.ErrBadFeatures, k, b, p.cfg.MaxChunks)
	}
	lens := make([]int, b)
	for i := range lens {
		lens[i] = fr
	}
	if m, ok := it.Arrays["feature_attention_mask"]; ok {
		if m.Len() != len(m.Data) || len(m.Data) != b*fr {
			return nil, fmt.Errorf("%w: audio %d: feature_attention_mask of shape %v, want [%d, %d]", processors.ErrBadFeatures, k, m.Shape, b, fr)
		}
		for i := range lens {
			lens[i] = 0
			for _, v := range m.Data[i*fr : (i+1)*fr] {
				if v != 0 {
					lens[i]++
				}
			}
		}
	}
	var out []piece
	for i := 0; i < b; i++ {
		n := Tokens(lens[i])
		if n == 0 {
			return nil, fmt.Errorf("%w: audio %d: chunk %d has %d real frames, too few for one token", processors.ErrBadFeatures, k, i, lens[i])
		}
		data := make([]float32, nm*fr)
		copy(data, f.Data[i*nm*fr:])
		feat := &input.Features{Data: data, Shape: []int{nm, fr}, Grid: [3]int{lens[i]}}
		out = append(out, piece{n: n, feat: feat, key: processors.SpanKey(it.Hash, []int{nm, fr, lens[i]}, i)})
	}
	return out, nil
}
