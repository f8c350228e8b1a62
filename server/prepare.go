package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/server/api"
)

// newID returns a 32-character lowercase hex id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// promptInput is one prompt before processing: text or ids, plus its media.
type promptInput struct {
	salt       uint64 // prefix-cache isolation (cache_salt / extra_key); 0: none
	text       *string
	ids        []int32
	embeds     *api.Embeds
	images     []media.Ref
	audios     []media.Ref
	addSpecial bool // tokenize text with BOS etc. (false for rendered chat templates)
}

// buildPrompt tokenizes, loads media, runs the model's processor and salts
// the prompt's cache keys.
func (s *Server) buildPrompt(ctx context.Context, in promptInput) (*input.Prompt, error) {
	p, err := s.preparePrompt(ctx, in)
	if err != nil {
		return nil, err
	}
	p.Salt = in.salt
	return p, nil
}

// cacheSalt hashes cache_salt and extra_key into a prompt salt (0 when both
// are empty): prompts share prefix-cache pages only when these match.
func cacheSalt(cacheSalt, extraKey string) uint64 {
	if cacheSalt == "" && extraKey == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(cacheSalt))
	h.Write([]byte{0})
	h.Write([]byte(extraKey))
	return h.Sum64() | 1
}

// preparePrompt is buildPrompt before salting.
func (s *Server) preparePrompt(ctx context.Context, in promptInput) (*input.Prompt, error) {
	var tokens []int32
	switch {
	case in.embeds != nil:
		return s.embedsPrompt(in.embeds, len(in.images)+len(in.audios) > 0)
	case in.text != nil:
		if s.cfg.SkipTokenizerInit {
			return nil, badf("The engine initialized with skip_tokenizer_init=True cannot accept text prompts. Please provide input_ids or re-initialize the engine with skip_tokenizer_init=False.")
		}
		if len(in.images)+len(in.audios) > 0 {
			tokens = processors.Tokenize(s.tok, *in.text, in.addSpecial)
		} else {
			tokens = s.tok.EncodeOpts(*in.text, tokenizer.EncodeOptions{AddSpecial: in.addSpecial, ParseSpecial: true})
		}
		if len(tokens) == 0 {
			return nil, badf("The prompt is empty after tokenization.")
		}
	default:
		tokens = in.ids
		for _, id := range tokens {
			if int(id) >= s.cfg.Vocab {
				return nil, badf("The input_ids %v contains values greater than the vocab size (%d).", clip(tokens, 16), s.cfg.Vocab)
			}
		}
	}
	refs := append(append([]media.Ref{}, in.images...), in.audios...)
	if len(refs) == 0 {
		return &input.Prompt{Tokens: tokens}, nil
	}
	if err := s.checkMediaCounts(len(in.images), len(in.audios)); err != nil {
		return nil, err
	}
	if err := s.checkModalities(len(in.images) > 0, len(in.audios) > 0); err != nil {
		return nil, err
	}
	items, err := s.loader.Load(ctx, refs)
	if err != nil {
		return nil, err
	}
	p, err := s.mediaProc.Prepare(ctx, tokens, items)
	if err != nil {
		return nil, err
	}
	if len(p.Tokens) >= s.eng.ContextLen() {
		return nil, badf("Multimodal prompt is too long after expanding multimodal tokens.")
	}
	return p, nil
}

// checkMediaCounts applies --limit-mm-data-per-request (per modality; a
// modality the flag does not name is unlimited, 0 allows none). It runs
// before anything is fetched or decoded.
func (s *Server) checkMediaCounts(images, audios int) error {
	for _, c := range []struct {
		key, name string
		n         int
	}{{"image", "Image", images}, {"audio", "Audio", audios}} {
		if limit, ok := s.cfg.MediaLimits[c.key]; ok && c.n > limit {
			return badf("%s count %d exceeds limit %d per request.", c.name, c.n, limit)
		}
	}
	return nil
}

func (s *Server) checkModalities(images, audios bool) error {
	if s.mediaProc == nil || s.loader == nil || (images && !s.canImage) {
		if images {
			return badf("This model does not accept image input (start the server with a vision model, or --mmproj for GGUF).")
		}
	}
	if audios && (s.mediaProc == nil || s.loader == nil || !s.canAudio) {
		return badf("This model does not accept audio input (start the server with an audio model, or --mmproj for GGUF).")
	}
	return nil
}

func clip(ids []int32, n int) []int32 {
	if len(ids) > n {
		return ids[:n]
	}
	return ids
}

// embedsPrompt makes a prompt whose every row comes from input_embeds.
func (s *Server) embedsPrompt(e *api.Embeds, hasMedia bool) (*input.Prompt, error) {
	if !s.cfg.DisableRadixCache {
		return nil, badf("input_embeds is provided while disable_radix_cache is False. Please add --disable-radix-cache when you launch the server if you want to use input_embeds as inputs.")
	}
	if hasMedia {
		return nil, badf("input_embeds cannot be combined with image_data or audio_data.")
	}
	if e.Hidden != s.cfg.Hidden {
		return nil, badf("input_embeds rows have %d values, the model's hidden size is %d.", e.Hidden, s.cfg.Hidden)
	}
	for _, v := range e.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, badf("input_embeds must be finite numbers.")
		}
	}
	t := &tensor.Tensor{DType: tensor.F32, Shape: []int{e.Rows, e.Hidden}, Data: tensor.BytesOfF32(e.Data)}
	h := fnv.New64a()
	_, _ = h.Write(t.Data)
	return &input.Prompt{Tokens: make([]int32, e.Rows), Spans: []input.Span{{Start: 0, Len: e.Rows, NPos: e.Rows, Key: h.Sum64(), Embeds: t}}}, nil
}

// itemOptions are the per-item request fields besides the prompt.
type itemOptions struct {
	rid             string
	params          sample.Params
	logprobs        engine.LogprobOptions
	hidden          bool
	customProcessor *string
	lora            *string
}

// buildRequest validates the sampling side of an item and makes the engine request.
func (s *Server) buildRequest(p *input.Prompt, o itemOptions) (*engine.Request, error) {
	if o.lora != nil && *o.lora != "" {
		return nil, badf("LoRA is not enabled: lora_path %q cannot be served.", *o.lora)
	}
	if o.hidden {
		return nil, badf("The server is not configured to return hidden states. Please set `--enable-return-hidden-states` to enable this feature.")
	}
	if err := o.params.Validate(s.cfg.Vocab); err != nil {
		return nil, err
	}
	if s.cfg.SkipTokenizerInit {
		if err := o.params.ValidateNoTokenizer(); err != nil {
			return nil, err
		}
	}
	if o.params.BeamWidth != nil && *o.params.BeamWidth > 1 {
		return nil, badf("beam search (beam_width > 1) is not supported.")
	}
	lp := o.logprobs
	P := len(p.Tokens)
	if lp.Return {
		if lp.StartLen >= P {
			lp.StartLen = P - 1
		}
		for _, id := range lp.TokenIDs {
			if id < 0 || int(id) >= s.cfg.Vocab {
				return nil, badf("token_ids_logprob contains out-of-vocabulary token id %d; valid range is [0, %d).", id, s.cfg.Vocab)
			}
		}
	} else {
		lp = engine.LogprobOptions{StartLen: -1}
	}
	r := &engine.Request{RID: o.rid, Prompt: p, Params: o.params, Logprobs: lp}
	if o.customProcessor != nil && *o.customProcessor != "" {
		if !s.cfg.EnableCustomLogitProcessor {
			return nil, badf("The server is not configured to enable custom logit processor. Please set --enable-custom-logit-processor to enable this feature.")
		}
		lp, err := s.logitProcs.New(*o.customProcessor, o.params.CustomParams, sample.LogitProcessorEnv{Vocab: s.cfg.Vocab, Think: s.cfg.Think})
		if err != nil {
			return nil, err
		}
		r.LogitProcessor = lp
	}
	g, err := s.compileGrammar(&o.params)
	if err != nil {
		return nil, err
	}
	r.Grammar = g
	if mn := o.params.MaxNewTokens; mn != nil && s.cfg.AllowAutoTruncate && P+*mn > s.eng.ContextLen() {
		clamped := max(0, s.eng.ContextLen()-P)
		r.Params.MaxNewTokens = &clamped
	}
	return r, nil
}

// compileGrammar builds the request's constraint, if any.
func (s *Server) compileGrammar(p *sample.Params) (engine.Grammar, error) {
	kind, src := "", ""
	switch {
	case p.JSONSchema != nil:
		kind, src = "json_schema", *p.JSONSchema
	case p.Regex != nil:
		kind, src = "regex", *p.Regex
	case p.EBNF != nil:
		kind, src = "ebnf", *p.EBNF
	case p.StructuralTag != nil:
		kind, src = "structural_tag", *p.StructuralTag
	default:
		return nil, nil
	}
	if s.grammar == nil {
		return nil, badf("Constrained decoding (%s) is not available on this server.", kind)
	}
	g, err := s.grammar.Compile(kind, src)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGrammar, err)
	}
	return g, nil
}

// tokenText decodes one token for logprob tuples.
func (s *Server) tokenText(id int32) string {
	return s.tok.Decode([]int32{id}, tokenizer.DecodeOptions{})
}

// mediaCounts returns the placeholder rows per modality of a prompt.
func mediaCounts(p *input.Prompt) (image, audio int) {
	for _, sp := range p.Spans {
		switch sp.Modality {
		case input.Image:
			image += sp.Len
		case input.Audio:
			audio += sp.Len
		}
	}
	return
}

// rawSet reports whether a JSON field holds a non-null value.
func rawSet(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t != "" && t != "null"
}
