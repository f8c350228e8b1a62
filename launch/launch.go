// Package launch opens a runtime: the one place where a model directory or
// GGUF file, with the serve flags, becomes a compute backend, a decoder, a
// tokenizer and chat template, a media loader, processor and encoders, and a
// running engine. `sightline serve`, `run`, `caption`, `bench` and every test
// harness open their runtime here.
//
// CPU sharing: the engine's forward steps and the media encoders use the same
// backend and all of its threads, taking turns through an arbiter
// (llm/tensor/arbiter): a decode step waits at most for one encoder block
// beyond the encoders' share (half of the backend's time while both want it,
// by default), so one large image does not freeze the token streams of other
// requests.
package launch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sightline/sightline/encoders"
	_ "github.com/sightline/sightline/encoders/vit"     // vision families
	_ "github.com/sightline/sightline/encoders/whisper" // audio families
	"github.com/sightline/sightline/internal/defaultmodel"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama" // decoders
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/arbiter"
	_ "github.com/sightline/sightline/llm/tensor/ref" // the pure-Go backend
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/all" // audio and extra image decoders
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/server/chat"
)

// Config is what a runtime is opened from; zero fields take the defaults
// `sightline serve` documents.
type Config struct {
	ModelPath      string // HF directory or .gguf file; "" = the embedded default model
	MMProj         string // llama.cpp multimodal projector for a GGUF model
	TokenizerPath  string // directory with tokenizer.json; "" = the model's
	ChatTemplate   string // .jinja, or .json with chat_template; "" = the model's
	NoChatTemplate bool   // serve without a chat template even if the model has one

	// Backend is an open backend to run on (the caller closes it); when nil
	// one is opened from BackendName, Threads and CPULevel.
	Backend     tensor.Backend
	BackendName string // "cpu" (default when built with cgo) or "ref"
	Threads     int    // 0: one per CPU
	CPULevel    string // "" = best supported

	ContextLength  int   // 0: the model's
	MaxRunning     int   // default 64
	MaxQueued      int   // 0: unlimited
	MaxTotalTokens int   // KV cache size in tokens; 0: from KVMemory
	KVMemory       int64 // KV cache budget in bytes (default 1 GiB)
	ChunkedPrefill int   // tokens per step (default 512); -1 prefills whole prompts
	PageSize       int   // default 16
	DisableRadix   bool
	Seed           uint64 // seed of requests without sampling_seed; 0 = from the clock
	// SkipTokenizerInit: ids in, ids out; the engine detokenizes nothing.
	SkipTokenizerInit bool

	TextOnly       bool    // do not open vision or audio towers
	EmbeddingCache int64   // bytes of cached media embeddings (default 256 MiB)
	EncoderShare   float64 // backend time share of encoders while decoding (default 0.5)

	AllowedMediaPaths   []string      // directories local media paths may come from
	AllowedMediaDomains []string      // hosts media URLs may come from (exact); none = any public host
	AllowPrivateMedia   bool          // let media URLs reach non-public addresses
	MediaFetchTimeout   time.Duration // default 3 s

	Logger *slog.Logger
}

// Runtime is an opened model with its engine running.
type Runtime struct {
	// Path is the model actually loaded (a temporary file for the embedded
	// model); Name is its default served name.
	Path, Name string
	Backend    tensor.Backend
	Model      *model.Loaded
	Tokenizer  *tokenizer.Tokenizer
	// Template is nil when the model has no chat template; TemplateSource is
	// its text.
	Template       *chat.Template
	TemplateSource string
	// MediaProcessor is nil for text-only models; Images and Audio say what it takes.
	MediaProcessor processors.Processor
	Images, Audio  bool
	// Encoders are the vision and audio towers (on the arbiter's background
	// side of the backend); the engine embeds through them and Embeddings.
	Encoders   []encoders.Encoder
	Embeddings *encoders.Cache
	Arbiter    *arbiter.Arbiter
	Engine     *engine.Engine
	Media      *media.Loader
	KV         *kvcache.Pool
	// ContextLength is the context window requests get (the engine's).
	ContextLength int

	cfg     Config
	stop    context.CancelFunc
	done    chan struct{}
	closers []func()
}

// ErrConfig marks invalid configuration.
var ErrConfig = errors.New("launch: invalid configuration")

func (c *Config) defaults() error {
	if c.MaxRunning == 0 {
		c.MaxRunning = 64
	}
	if c.PageSize == 0 {
		c.PageSize = 16
	}
	if c.ChunkedPrefill == 0 {
		c.ChunkedPrefill = 512
	}
	if c.KVMemory == 0 {
		c.KVMemory = 1 << 30
	}
	if c.EmbeddingCache == 0 {
		c.EmbeddingCache = 256 << 20
	}
	if c.MediaFetchTimeout == 0 {
		c.MediaFetchTimeout = 3 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.MaxRunning < 0 || c.PageSize < 0 || c.MaxQueued < 0 || c.MaxTotalTokens < 0 || c.ContextLength < 0 || c.Threads < 0:
		return fmt.Errorf("%w: sizes and counts must not be negative", ErrConfig)
	case c.ChunkedPrefill < -1:
		return fmt.Errorf("%w: chunked prefill size %d (positive, or -1)", ErrConfig, c.ChunkedPrefill)
	case c.KVMemory < 0 || c.EmbeddingCache < 0 || c.MediaFetchTimeout < 0:
		return fmt.Errorf("%w: memory budgets and timeouts must be positive", ErrConfig)
	case c.EncoderShare < 0 || c.EncoderShare >= 1:
		return fmt.Errorf("%w: encoder share %v outside [0, 1)", ErrConfig, c.EncoderShare)
	}
	return nil
}

// Open loads everything and starts the engine. Close releases it all.
func Open(ctx context.Context, cfg Config) (rt *Runtime, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &Runtime{cfg: cfg, Path: cfg.ModelPath, Name: cfg.ModelPath}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.Path == "" {
		dir, err := os.MkdirTemp("", "sightline-default-model")
		if err != nil {
			return nil, err
		}
		r.closers = append(r.closers, func() { os.RemoveAll(dir) })
		if r.Path, err = defaultmodel.Write(dir); err != nil {
			return nil, err
		}
		r.Name = defaultmodel.Name
	}
	if r.Backend = cfg.Backend; r.Backend == nil {
		if r.Backend, err = OpenBackend(cfg.BackendName, cfg.Threads, cfg.CPULevel); err != nil {
			return nil, err
		}
		be := r.Backend
		r.closers = append(r.closers, func() { be.Close() })
	}
	if r.Model, err = model.Load(r.Path, r.Backend); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { r.Model.Close() })
	if err := r.loadText(); err != nil {
		return nil, err
	}
	r.Arbiter = arbiter.New(arbiter.Config{Share: cfg.EncoderShare})
	r.Embeddings = encoders.NewCache(int(cfg.EmbeddingCache))
	var embedder engine.Embedder
	if !cfg.TextOnly {
		if embedder, err = r.openTowers(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.startEngine(embedder); err != nil {
		return nil, err
	}
	fetcher := media.NewHTTPFetcher(media.HTTPOptions{Timeout: cfg.MediaFetchTimeout, AllowPrivate: cfg.AllowPrivateMedia,
		AllowedDomains: cfg.AllowedMediaDomains})
	if r.Media, err = media.New(media.Config{Fetcher: fetcher, AllowedDirs: cfg.AllowedMediaPaths, Limits: media.DefaultLimits(),
		TargetRate: 16000}); err != nil {
		return nil, err
	}
	return r, nil
}

// OpenBackend opens a registered compute backend ("" = cpu when built with
// cgo, else ref).
func OpenBackend(name string, threads int, level string) (tensor.Backend, error) {
	if name == "" {
		name = DefaultBackend()
	}
	if threads < 0 {
		return nil, fmt.Errorf("%w: threads %d", ErrConfig, threads)
	}
	return tensor.Open(name, tensor.Options{Threads: threads, Level: level})
}

// DefaultBackend is "cpu" when the C kernels are built in, else "ref".
func DefaultBackend() string {
	if slices.Contains(tensor.Names(), "cpu") {
		return "cpu"
	}
	return "ref"
}

// loadText reads the tokenizer and the chat template.
func (r *Runtime) loadText() error {
	var err error
	if r.cfg.TokenizerPath != "" {
		r.Tokenizer, err = tokenizer.Load(r.cfg.TokenizerPath)
	} else {
		r.Tokenizer, err = ModelTokenizer(r.Model)
	}
	if err != nil {
		return err
	}
	if r.cfg.NoChatTemplate {
		return nil
	}
	r.TemplateSource, r.Template, err = loadTemplate(r.cfg.ChatTemplate, r.Path, r.Tokenizer.ChatTemplate())
	return err
}

// ModelTokenizer reads the tokenizer that belongs to a loaded model: the
// directory's tokenizer.json, or the GGUF vocabulary.
func ModelTokenizer(m *model.Loaded) (*tokenizer.Tokenizer, error) {
	if m.GGUF != nil {
		v, err := tokenizer.VocabFromGGUF(m.GGUF)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Path, err)
		}
		return tokenizer.FromGGUF(v)
	}
	if _, err := os.Stat(filepath.Join(m.Path, "tokenizer.json")); err != nil {
		return nil, fmt.Errorf("%s has no tokenizer.json", m.Path)
	}
	return tokenizer.Load(m.Path)
}

// openTowers opens the model's vision and audio encoders, if it has any,
// on the arbiter's background side of the backend, and the processor that
// prepares their prompts.
func (r *Runtime) openTowers(ctx context.Context) (engine.Embedder, error) {
	op, err := encoders.Open(ctx, r.Path, r.cfg.MMProj, r.Arbiter.Background(r.Backend))
	switch {
	case errors.Is(err, encoders.ErrNoTower) && r.cfg.MMProj == "":
		return nil, nil // a text model
	case err != nil:
		return nil, err
	}
	r.closers = append(r.closers, func() { op.Close() })
	r.Encoders = op.Encoders
	if r.MediaProcessor, err = processors.New(op.Family, op.ProcessorSpec(r.Tokenizer)); err != nil {
		return nil, err
	}
	for _, e := range op.Encoders {
		r.Images = r.Images || e.Modality() == input.Image
		r.Audio = r.Audio || e.Modality() == input.Audio
	}
	return encoders.NewSet(r.Embeddings, op.Encoders...), nil
}

// startEngine sizes the KV cache and the prefix cache and runs the engine.
func (r *Runtime) startEngine(emb engine.Embedder) error {
	c, mc := r.cfg, r.Model.Config()
	contextLen := c.ContextLength
	if contextLen == 0 {
		contextLen = mc.MaxPos
	}
	if contextLen <= 0 {
		contextLen = 4096
	}
	spec := mc.KVSpec(c.PageSize, 1)
	tokens := c.MaxTotalTokens
	if tokens == 0 {
		tokens = int(c.KVMemory / int64(spec.PageBytes()) * int64(c.PageSize))
		tokens = min(tokens, c.MaxRunning*contextLen) // no more than every slot at full context
	}
	spec.Pages = max(2, (tokens+c.PageSize-1)/c.PageSize)
	kv, err := kvcache.New(r.Backend, spec)
	if err != nil {
		return err
	}
	r.KV = kv
	var pc prefix.Cache
	if c.DisableRadix {
		pc, err = prefix.NewNone(c.PageSize)
	} else {
		pc, err = prefix.NewRadix(c.PageSize)
	}
	if err != nil {
		return err
	}
	seed := c.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	ecfg := engine.Config{PageSize: c.PageSize, MaxRunning: c.MaxRunning, StepTokens: c.ChunkedPrefill,
		NoChunking: c.ChunkedPrefill < 0, ContextLen: contextLen, MaxQueued: c.MaxQueued, Seed: seed,
		EOS: append(slices.Clone(mc.EOS), r.Tokenizer.EOS()...), Logger: c.Logger, Turns: r.Arbiter}
	if ecfg.NoChunking {
		ecfg.StepTokens = contextLen
	}
	var detok engine.Detokenizer = detokenizer{r.Tokenizer}
	if c.SkipTokenizerInit {
		detok = nil
	}
	eng, err := engine.New(r.Model, kv, pc, detok, emb, ecfg)
	if err != nil {
		return err
	}
	r.Engine, r.ContextLength = eng, eng.ContextLen()
	ctx, stop := context.WithCancel(context.Background())
	r.stop, r.done = stop, make(chan struct{})
	go func() {
		defer close(r.done)
		_ = eng.Run(ctx)
	}()
	return nil
}

// Close stops the engine and releases the model, encoders and backend.
func (r *Runtime) Close() {
	if r.stop != nil {
		r.stop()
		<-r.done
		r.stop = nil
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// loadTemplate picks the template file, else the model directory's
// template, else the GGUF's tokenizer.chat_template; none is fine.
func loadTemplate(file, modelPath, embedded string) (string, *chat.Template, error) {
	if file != "" {
		t, err := chat.LoadFile(file)
		if err != nil {
			return "", nil, err
		}
		src, _ := os.ReadFile(file)
		return string(src), t, nil
	}
	if st, err := os.Stat(modelPath); err == nil && st.IsDir() {
		t, err := chat.Load(modelPath)
		if err == nil {
			return templateSource(modelPath), t, nil
		}
		if !errors.Is(err, chat.ErrNoTemplate) {
			return "", nil, err
		}
	}
	if embedded == "" {
		return "", nil, nil
	}
	t, err := chat.Parse(embedded)
	if err != nil {
		return "", nil, fmt.Errorf("the model's chat template: %w", err)
	}
	return embedded, t, nil
}

// templateSource reads a model directory's template text (to tell whether
// it renders content parts).
func templateSource(dir string) string {
	for _, n := range []string{"chat_template.jinja", "chat_template.json", "tokenizer_config.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			return string(b)
		}
	}
	return ""
}

// detokenizer adapts the tokenizer's stream decoder to the engine.
type detokenizer struct{ t *tokenizer.Tokenizer }

func (d detokenizer) NewStream(skipSpecial, spacesBetweenSpecial bool) engine.TextStream {
	return d.t.NewStreamDecoder(tokenizer.DecodeOptions{SkipSpecial: skipSpecial, SpacesBetweenSpecial: spacesBetweenSpecial})
}
