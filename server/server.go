// Package server is Sightline's HTTP surface: SGLang's native /generate and
// the OpenAI routes (docs/api.md), on gorilla/mux. It turns requests into
// engine.Requests — tokenizing, loading media, preparing multimodal prompts,
// validating sampling parameters — and engine events back into SGLang and
// OpenAI response shapes, plain or as server-sent events.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/server/chat"
	"github.com/sightline/sightline/server/reasoning"
	"github.com/sightline/sightline/server/toolcall"
)

// Engine is what the server needs of the serving core (*engine.Engine).
type Engine interface {
	Submit(ctx context.Context, r *engine.Request) (<-chan engine.Event, error)
	Abort(ctx context.Context, rid string, all bool) error
	Flush(ctx context.Context) error
	Stats() *engine.Stats
	ContextLen() int
	Capacity() int
	Idle() bool
}

// GrammarCompiler builds a per-request constraint (llm/grammar); kind is
// "json_schema", "regex", "ebnf" or "structural_tag".
type GrammarCompiler interface {
	Compile(kind, source string) (engine.Grammar, error)
}

// Config is the server's launch configuration.
type Config struct {
	ModelPath       string
	ServedModelName string
	Version         string
	APIKey          string

	EnableMetrics              bool
	EnableCustomLogitProcessor bool
	DisableRadixCache          bool
	SkipTokenizerInit          bool
	SamplingDefaults           string                     // "model" (default) or "openai"
	Generation                 map[string]json.RawMessage // the model's generation_config.json
	PreferredSamplingParams    json.RawMessage
	StreamInterval             int
	IncrementalStreaming       bool
	IncludeUsageByDefault      bool
	EnableCacheReport          bool
	AllowAutoTruncate          bool
	// MediaLimits is --limit-mm-data-per-request: items per request by
	// modality ("image", "audio", "video"); absent keys are unlimited.
	MediaLimits map[string]int

	// ToolCallParser and ReasoningParser name the --tool-call-parser and
	// --reasoning-parser ("" = none; see server/toolcall, server/reasoning).
	ToolCallParser, ReasoningParser string

	// GrammarBackend is --grammar-backend: "none" refuses constrained
	// decoding; anything else uses the built-in engine (FromRuntime).
	GrammarBackend string

	MaxBodyBytes  int64         // request body limit (default 64 MiB)
	MaxBatch      int           // prompts × n per request (default 256)
	HealthTimeout time.Duration // /health probe budget (default 20 s)
	DrainTimeout  time.Duration // graceful shutdown budget (default 30 s)

	Vocab, Hidden int // model vocabulary and hidden size
	Think         *sample.ThinkTokens
	LaunchArgs    map[string]any // reported by /get_server_info (no secrets)
	Logger        *slog.Logger
}

// Server serves one model.
type Server struct {
	cfg  Config
	eng  Engine
	tok  *tokenizer.Tokenizer
	tmpl *chat.Template // nil: the model has no chat template
	// tmplStructured: the template renders content parts itself (docs/api.md §7.4)
	tmplStructured bool
	loader         *media.Loader
	mediaProc      processors.Processor // nil: text-only model
	canImage       bool
	canAudio       bool
	embCache       *encoders.Cache
	logitProcs     *sample.LogitProcessors
	grammar        GrammarCompiler
	metrics        *metrics
	started        time.Time
	ready          atomic.Bool
	draining       atomic.Bool
	inflight       atomic.Int64
	lastOut        atomic.Int64 // unix nanos of the last token any request produced
}

// Deps are the server's collaborators; Tok and Engine are required.
type Deps struct {
	Engine    Engine
	Tokenizer *tokenizer.Tokenizer
	Template  *chat.Template
	// TemplateSource is the template's text (to tell whether it renders content parts).
	TemplateSource string
	Media          *media.Loader
	MediaProcessor processors.Processor
	Images         bool // the processor accepts images
	Audio          bool // the processor accepts audio
	EmbCache       *encoders.Cache
	Grammar        GrammarCompiler
}

// New builds a server.
func New(cfg Config, d Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 20 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.StreamInterval <= 0 {
		cfg.StreamInterval = 1
	}
	if cfg.ServedModelName == "" {
		cfg.ServedModelName = cfg.ModelPath
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, eng: d.Engine, tok: d.Tokenizer, tmpl: d.Template, loader: d.Media, mediaProc: d.MediaProcessor,
		canImage: d.Images, canAudio: d.Audio, embCache: d.EmbCache, grammar: d.Grammar, logitProcs: sample.NewLogitProcessors(),
		started: time.Now()}
	s.tmplStructured = structuredRE.MatchString(d.TemplateSource)
	s.metrics = newMetrics(cfg.ServedModelName, d.Engine, d.EmbCache)
	return s
}

// FromRuntime builds the server of an opened runtime: the model's
// vocabulary, hidden size, generation defaults and name fill cfg's model
// fields, and the runtime's engine, tokenizer, template, media loader,
// processor and embedding cache become the server's collaborators.
func FromRuntime(cfg Config, rt *launch.Runtime) (*Server, error) {
	if cfg.ToolCallParser != "" {
		if _, err := toolcall.New(cfg.ToolCallParser); err != nil {
			return nil, err
		}
	}
	if cfg.ReasoningParser != "" {
		if _, err := reasoning.New(cfg.ReasoningParser, true); err != nil {
			return nil, err
		}
	}
	mc := rt.Model.Config()
	cfg.ModelPath, cfg.Vocab, cfg.Hidden, cfg.Generation = rt.Path, mc.Vocab, mc.Hidden, mc.Generation
	if cfg.ServedModelName == "" {
		cfg.ServedModelName = rt.Name
	}
	d := Deps{Engine: rt.Engine, Tokenizer: rt.Tokenizer, Template: rt.Template, TemplateSource: rt.TemplateSource,
		Media: rt.Media, MediaProcessor: rt.MediaProcessor, Images: rt.Images, Audio: rt.Audio, EmbCache: rt.Embeddings}
	if cfg.GrammarBackend != "none" {
		g, err := NewGrammars(rt.Tokenizer, mc.Vocab)
		if err != nil {
			return nil, err
		}
		d.Grammar = g
	}
	return New(cfg, d), nil
}

// SetReady marks warm-up done: /health answers 200 from now on.
func (s *Server) SetReady() { s.ready.Store(true) }

// Drain marks the server as shutting down (/health answers 503, new
// generation requests get 503) and waits until in-flight requests finish
// or ctx ends.
func (s *Server) Drain(ctx context.Context) {
	s.draining.Store(true)
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	gen := func(h http.HandlerFunc) http.HandlerFunc { return s.track(h) }
	r.HandleFunc("/generate", gen(s.handleGenerate)).Methods(http.MethodPost, http.MethodPut)
	r.HandleFunc("/v1/chat/completions", gen(s.handleChat)).Methods(http.MethodPost)
	r.HandleFunc("/invocations", gen(s.handleChat)).Methods(http.MethodPost)
	r.HandleFunc("/v1/completions", gen(s.handleCompletions)).Methods(http.MethodPost)
	r.HandleFunc("/v1/models", s.handleModels).Methods(http.MethodGet)
	r.PathPrefix("/v1/models/").HandlerFunc(s.handleModel).Methods(http.MethodGet)
	r.HandleFunc("/health", s.handleHealth).Methods(http.MethodGet)
	r.HandleFunc("/health_generate", s.handleHealth).Methods(http.MethodGet)
	r.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }).Methods(http.MethodGet)
	for _, p := range []string{"/get_model_info", "/model_info"} {
		r.HandleFunc(p, s.handleModelInfo).Methods(http.MethodGet)
	}
	for _, p := range []string{"/get_server_info", "/server_info"} {
		r.HandleFunc(p, s.handleServerInfo).Methods(http.MethodGet)
	}
	r.HandleFunc("/flush_cache", s.handleFlush).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/abort_request", s.handleAbort).Methods(http.MethodPost)
	for _, p := range []string{"/v1/tokenize", "/tokenize"} {
		r.HandleFunc(p, s.capBody(s.handleTokenize)).Methods(http.MethodPost)
	}
	for _, p := range []string{"/v1/detokenize", "/detokenize"} {
		r.HandleFunc(p, s.capBody(s.handleDetokenize)).Methods(http.MethodPost)
	}
	if s.cfg.EnableMetrics {
		r.Handle("/metrics", s.metrics.handler()).Methods(http.MethodGet)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusNotFound, errNative(http.StatusNotFound, "Not Found: "+req.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, errNative(http.StatusMethodNotAllowed, "Method Not Allowed"))
	})
	return s.recoverer(s.cors(s.auth(r)))
}

// track counts in-flight generation requests and refuses new ones while draining.
func (s *Server) track(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Retry-After", "1") // another replica, or this one once restarted
			writeJSON(w, http.StatusServiceUnavailable, errOpenAI(http.StatusServiceUnavailable, "The server is shutting down.", "503"))
			return
		}
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		s.capBody(h)(w, r)
	}
}

// capBody caps the request body at MaxBodyBytes (413 beyond it).
func (s *Server) capBody(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h(w, r)
	}
}

// auth enforces --api-key as a Bearer token (constant-time compare);
// OPTIONS, /health* and /metrics stay open.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.APIKey == "" {
		return next
	}
	want := []byte("Bearer " + s.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || strings.HasPrefix(r.URL.Path, "/health") || r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "*")
			if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
				h.Set("Access-Control-Allow-Headers", rh)
			} else {
				h.Set("Access-Control-Allow-Headers", "*")
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a handler panic into a 500 instead of a crash.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Logger.Error("handler panic", "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, errOpenAI(http.StatusInternalServerError, "Internal server error.", "InternalServerError"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
