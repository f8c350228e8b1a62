package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/encoders"
	_ "github.com/sightline/sightline/encoders/vit"
	_ "github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/defaultmodel"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/tensor/arbiter"
	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/all"
	"github.com/sightline/sightline/server"
	"github.com/sightline/sightline/server/chat"
)

// serveFlags are `sightline serve`'s flags; names follow SGLang's launch_server.
type serveFlags struct {
	compute                                                computeFlags
	modelPath, mmproj, tokenizerPath, host                 string
	port                                                   int
	servedName, apiKey, chatTemplate, samplingDefaults     string
	preferred, logLevel, kvMemory, limitMM, grammarBackend string
	contextLen, maxRunning, maxQueued, maxTotalTokens      int
	chunkedPrefill, pageSize, streamInterval, tp, dp       int
	randomSeed                                             int64
	enableMetrics, customLogitProc, disableRadix           bool
	incremental, includeUsage, cacheReport, autoTruncate   bool
	skipWarmup, trustRemoteCode, skipTokenizerInit         bool
	hiddenStates                                           bool
	allowedMedia, allowedDomains                           multiFlag
	allowPrivateMedia                                      bool
	mediaTimeout, drainTimeout                             time.Duration
}

// multiFlag collects a repeatable, comma-separable flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q", fs.Args())
	}
	return f, f.validate()
}

// register adds the serve flags to fs (caption's in-process engine takes them too).
func (f *serveFlags) register(fs *flag.FlagSet) {
	f.compute.register(fs)
	str := func(p *string, def, usage string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, usage)
		}
	}
	num := func(p *int, def int, usage string, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, def, usage)
		}
	}
	str(&f.modelPath, "", "model: Hugging Face directory or .gguf file (default: the embedded stories260K)", "model-path", "model")
	str(&f.mmproj, "", "GGUF multimodal projector (llama.cpp mmproj) for a .gguf model", "mmproj")
	str(&f.tokenizerPath, "", "tokenizer directory (default: the model's)", "tokenizer-path")
	str(&f.host, "127.0.0.1", "listen address", "host")
	num(&f.port, 30000, "listen port", "port")
	str(&f.servedName, "", "model name in the API (default: the model path)", "served-model-name")
	str(&f.apiKey, "", "require Authorization: Bearer KEY on every route but /health* and /metrics", "api-key")
	str(&f.chatTemplate, "", "chat template file (.jinja, or .json with chat_template) replacing the model's", "chat-template")
	str(&f.samplingDefaults, "model", "chat sampling defaults: model (generation_config.json) or openai", "sampling-defaults")
	str(&f.preferred, "", "JSON sampling_params filling keys /generate requests leave out", "preferred-sampling-params")
	str(&f.logLevel, "info", "log level: debug, info, warning, error", "log-level")
	str(&f.kvMemory, "1GiB", "KV cache memory budget (e.g. 512MiB, 2GiB); --max-total-tokens wins", "kv-cache-memory")
	str(&f.limitMM, "", `media items per request, e.g. '{"image": 4, "audio": 1}'`, "limit-mm-data-per-request")
	str(&f.grammarBackend, "xgrammar", "constrained decoding: xgrammar (the built-in engine) or none", "grammar-backend")
	num(&f.contextLen, 0, "context length (default: the model's)", "context-length")
	num(&f.maxRunning, 64, "sequences decoding at once", "max-running-requests")
	num(&f.maxQueued, 0, "queued requests beyond which new ones get 503 (0: unlimited)", "max-queued-requests")
	num(&f.maxTotalTokens, 0, "KV cache size in tokens (0: from --kv-cache-memory)", "max-total-tokens")
	num(&f.chunkedPrefill, 512, "prefill tokens per step; -1 prefills whole prompts", "chunked-prefill-size")
	num(&f.pageSize, 16, "KV page size in tokens", "page-size")
	num(&f.streamInterval, 1, "stream a frame every N tokens", "stream-interval")
	num(&f.tp, 1, "tensor parallelism (only 1)", "tp-size", "tp", "tensor-parallel-size")
	num(&f.dp, 1, "data parallelism (only 1)", "dp-size", "dp", "data-parallel-size")
	fs.Int64Var(&f.randomSeed, "random-seed", 0, "seed of requests without sampling_seed (0: random)")
	fs.BoolVar(&f.enableMetrics, "enable-metrics", false, "serve Prometheus metrics on /metrics")
	fs.BoolVar(&f.customLogitProc, "enable-custom-logit-processor", false, "accept custom_logit_processor (built-in native processors)")
	fs.BoolVar(&f.disableRadix, "disable-radix-cache", false, "disable prefix caching (required for input_embeds)")
	fs.BoolVar(&f.incremental, "incremental-streaming-output", false, "/generate streams only new text per frame")
	fs.BoolVar(&f.includeUsage, "stream-response-default-include-usage", false, "OpenAI streams end with a usage chunk")
	fs.BoolVar(&f.cacheReport, "enable-cache-report", false, "report cached_tokens in OpenAI usage")
	fs.BoolVar(&f.autoTruncate, "allow-auto-truncate", false, "clamp max_new_tokens to the context instead of failing")
	fs.BoolVar(&f.skipWarmup, "skip-server-warmup", false, "do not run a warm-up request before /health turns 200")
	fs.BoolVar(&f.trustRemoteCode, "trust-remote-code", false, "accepted for compatibility; Sightline runs no model code")
	fs.BoolVar(&f.skipTokenizerInit, "skip-tokenizer-init", false, "ids in, ids out")
	fs.BoolVar(&f.hiddenStates, "enable-return-hidden-states", false, "not supported yet (refused)")
	fs.Var(&f.allowedMedia, "allowed-local-media-path", "directory local media paths may come from (repeatable; none by default)")
	fs.Var(&f.allowedDomains, "allowed-media-domains", "host names media URLs may come from (repeatable, exact match; default: any public host)")
	fs.BoolVar(&f.allowPrivateMedia, "allow-private-media-urls", false, "let media URLs reach loopback, private, link-local and metadata addresses")
	fs.DurationVar(&f.mediaTimeout, "media-fetch-timeout", 3*time.Second, "time limit of one media URL fetch, body included")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight requests may finish")
}

// validate checks flag values after parsing.
func (f *serveFlags) validate() error {
	switch {
	case f.tp != 1 || f.dp != 1:
		return usagef("--tp-size and --dp-size must be 1: Sightline serves one model on one device")
	case f.hiddenStates:
		return usagef("--enable-return-hidden-states is not supported yet")
	case f.samplingDefaults != "model" && f.samplingDefaults != "openai":
		return usagef("--sampling-defaults must be model or openai, got %q", f.samplingDefaults)
	case f.grammarBackend != "xgrammar" && f.grammarBackend != "none":
		return usagef("--grammar-backend must be xgrammar or none, got %q", f.grammarBackend)
	case f.port < 0 || f.port > 65535:
		return usagef("--port %d out of range", f.port)
	case f.maxRunning <= 0 || f.pageSize <= 0 || f.streamInterval <= 0 || f.contextLen < 0 || f.maxQueued < 0 || f.maxTotalTokens < 0:
		return usagef("--max-running-requests, --page-size and --stream-interval must be positive; --context-length, --max-queued-requests and --max-total-tokens non-negative")
	case f.chunkedPrefill == 0 || f.chunkedPrefill < -1:
		return usagef("--chunked-prefill-size must be positive or -1")
	case f.mediaTimeout <= 0:
		return usagef("--media-fetch-timeout must be positive")
	}
	if f.preferred != "" && !json.Valid([]byte(f.preferred)) {
		return usagef("--preferred-sampling-params is not valid JSON")
	}
	if _, err := parseBytes(f.kvMemory); err != nil {
		return usagef("--kv-cache-memory: %v", err)
	}
	if _, err := parseLimits(f.limitMM); err != nil {
		return usagef("--limit-mm-data-per-request: %v", err)
	}
	if _, err := slogLevel(f.logLevel); err != nil {
		return usageError{err}
	}
	return nil
}

// parseBytes reads sizes like 512MiB, 2GiB, 1GB or a plain byte count.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mul    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	t := strings.TrimSpace(s)
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mul = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mul
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || v*float64(mul) > 1<<50 {
		return 0, fmt.Errorf("%q is not a size like 512MiB", s)
	}
	return int64(v * float64(mul)), nil
}

func parseLimits(s string) (map[string]int, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]int
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		if (k != "image" && k != "audio" && k != "video") || v < 0 {
			return nil, fmt.Errorf("bad entry %q: %d", k, v)
		}
	}
	return m, nil
}

func slogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warning", "warn":
		return slog.LevelWarn, nil
	case "error", "critical":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level must be debug, info, warning or error, got %q", s)
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	lvl, _ := slogLevel(f.logLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	app, err := buildApp(ctx, f, log)
	if err != nil {
		return err
	}
	defer app.close()
	ln, err := net.Listen("tcp", net.JoinHostPort(f.host, strconv.Itoa(f.port)))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sightline: serving %s on http://%s\n", app.name, ln.Addr())
	return app.serve(ctx, ln, f.skipWarmup, f.drainTimeout)
}

// app is a wired server: backend, model, engine, HTTP handler.
type app struct {
	name    string
	log     *slog.Logger
	srv     *server.Server
	eng     *engine.Engine
	stop    context.CancelFunc
	engDone chan error
	closers []func()
}

func (a *app) close() {
	a.stop()
	<-a.engDone
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// serve runs the HTTP server until ctx ends, then drains in-flight requests.
func (a *app) serve(ctx context.Context, ln net.Listener, skipWarmup bool, drain time.Duration) error {
	hs := &http.Server{Handler: a.srv.Handler(), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if !skipWarmup {
		if err := a.srv.Warmup(ctx); err != nil {
			a.log.Error("warm-up failed", "err", err)
		}
	}
	a.srv.SetReady()
	a.log.Info("ready", "model", a.name, "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: draining in-flight requests", "timeout", drain)
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	a.srv.Drain(dctx)
	if err := hs.Shutdown(dctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// buildApp loads everything the server needs.
func buildApp(ctx context.Context, f *serveFlags, log *slog.Logger) (*app, error) {
	a := &app{log: log}
	fail := func(err error) (*app, error) {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
		return nil, err
	}
	path := f.modelPath
	if path == "" {
		dir, err := os.MkdirTemp("", "sightline-default-model")
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, func() { os.RemoveAll(dir) })
		if path, err = defaultmodel.Write(dir); err != nil {
			return fail(err)
		}
		if f.servedName == "" {
			f.servedName = defaultmodel.Name
		}
	}
	be, err := f.compute.open()
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, func() { be.Close() })
	m, err := model.Load(path, be)
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, func() { m.Close() })
	cfg := m.Config()
	tok, err := loadTokenizer(m)
	if f.tokenizerPath != "" {
		tok, err = tokenizerFrom(f.tokenizerPath)
	}
	if err != nil {
		return fail(err)
	}
	tmplSrc, tmpl, err := loadTemplate(f.chatTemplate, path, tok.ChatTemplate())
	if err != nil {
		return fail(err)
	}
	contextLen := cfg.MaxPos
	if f.contextLen > 0 {
		contextLen = f.contextLen
	}
	if contextLen <= 0 {
		contextLen = 4096
	}
	// multimodal towers
	var proc server.Deps
	embCache := encoders.NewCache(256 << 20)
	var embedder engine.Embedder
	turns := arbiter.New(arbiter.Config{})
	p, encs, err := encoders.Open(ctx, path, f.mmproj, turns.Background(be), tok)
	switch {
	case err == nil:
		for _, e := range encs {
			if c, ok := e.(io.Closer); ok {
				a.closers = append(a.closers, func() { c.Close() })
			}
			proc.Images = proc.Images || e.Modality() == media.Image
			proc.Audio = proc.Audio || e.Modality() == media.Audio
		}
		proc.Processor = p
		embedder = encoders.NewSet(embCache, encs...)
	case errors.Is(err, encoders.ErrNoTower) && f.mmproj == "":
	default:
		return fail(err)
	}
	// KV pool
	spec := cfg.KVSpec(f.pageSize, 1)
	tokens := f.maxTotalTokens
	if tokens == 0 {
		budget, _ := parseBytes(f.kvMemory)
		tokens = int(budget / int64(spec.PageBytes()) * int64(f.pageSize))
		tokens = min(tokens, f.maxRunning*contextLen) // no more than every slot at full context
	}
	spec.Pages = max(2, (tokens+f.pageSize-1)/f.pageSize)
	kv, err := kvcache.New(be, spec)
	if err != nil {
		return fail(err)
	}
	var pc prefix.Cache
	if f.disableRadix {
		pc, err = prefix.NewNone(f.pageSize)
	} else {
		pc, err = prefix.NewRadix(f.pageSize)
	}
	if err != nil {
		return fail(err)
	}
	seed := uint64(f.randomSeed)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	ecfg := engine.Config{PageSize: f.pageSize, MaxRunning: f.maxRunning, StepTokens: f.chunkedPrefill, NoChunking: f.chunkedPrefill < 0,
		ContextLen: contextLen, MaxQueued: f.maxQueued, Seed: seed, EOS: append(append([]int32{}, cfg.EOS...), tok.EOS()...), Logger: log,
		Turns: turns}
	if f.chunkedPrefill < 0 {
		ecfg.StepTokens = contextLen
	}
	eng, err := engine.New(m, kv, pc, engine.TokenizerText(tok), embedder, ecfg)
	if err != nil {
		return fail(err)
	}
	ectx, stop := context.WithCancel(context.Background())
	a.eng, a.stop, a.engDone = eng, stop, make(chan error, 1)
	go func() { a.engDone <- eng.Run(ectx) }()
	mediaLimits, _ := parseLimits(f.limitMM)
	fetcher := media.NewHTTPFetcher(media.HTTPOptions{Timeout: f.mediaTimeout, AllowPrivate: f.allowPrivateMedia, AllowedDomains: f.allowedDomains})
	loader, err := media.New(media.Config{Fetcher: fetcher, AllowedDirs: f.allowedMedia, Limits: media.DefaultLimits(), TargetRate: 16000})
	if err != nil {
		a.close()
		return nil, err
	}
	name := f.servedName
	if name == "" {
		name = f.modelPath
	}
	a.name = name
	scfg := server.Config{ModelPath: path, ServedModelName: name, Version: version, APIKey: f.apiKey,
		EnableMetrics: f.enableMetrics, EnableCustomLogitProcessor: f.customLogitProc, DisableRadixCache: f.disableRadix,
		SkipTokenizerInit: f.skipTokenizerInit, SamplingDefaults: f.samplingDefaults, Generation: cfg.Generation,
		PreferredSamplingParams: json.RawMessage(f.preferred), StreamInterval: f.streamInterval,
		IncrementalStreaming: f.incremental, IncludeUsageByDefault: f.includeUsage, EnableCacheReport: f.cacheReport,
		AllowAutoTruncate: f.autoTruncate, MediaLimits: mediaLimits, Vocab: cfg.Vocab, Hidden: cfg.Hidden, Logger: log,
		LaunchArgs: map[string]any{"model_path": path, "mmproj": f.mmproj, "host": f.host, "port": f.port,
			"context_length": contextLen, "max_running_requests": f.maxRunning, "chunked_prefill_size": f.chunkedPrefill,
			"page_size": f.pageSize, "max_total_num_tokens": kv.Pages * kv.PageSize, "disable_radix_cache": f.disableRadix,
			"tp_size": 1, "dp_size": 1, "backend": be.Name(), "devices": detectDevices(be), "sampling_defaults": f.samplingDefaults,
			"stream_interval": f.streamInterval, "grammar_backend": f.grammarBackend}}
	deps := server.Deps{Engine: eng, Tokenizer: tok, Template: tmpl, TemplateSource: tmplSrc, Media: loader,
		Processor: proc.Processor, Images: proc.Images, Audio: proc.Audio, EmbCache: embCache}
	if f.grammarBackend != "none" {
		g, err := server.NewGrammars(tok, cfg.Vocab)
		if err != nil {
			a.close()
			return nil, err
		}
		deps.Grammar = g
	}
	a.srv = server.New(scfg, deps)
	log.Info("model loaded", "path", path, "arch", cfg.Arch, "layers", cfg.Layers, "vocab", cfg.Vocab,
		"kv_tokens", kv.Pages*kv.PageSize, "backend", be.Name(), "images", proc.Images, "audio", proc.Audio,
		"chat_template", tmpl != nil)
	return a, nil
}

// loadTemplate picks --chat-template, else the model directory's template,
// else the GGUF's tokenizer.chat_template; none is fine (chat then gets 400).
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

// templateSource reads a model directory's template text (for content-part detection).
func templateSource(dir string) string {
	for _, n := range []string{"chat_template.jinja", "chat_template.json", "tokenizer_config.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			return string(b)
		}
	}
	return ""
}

const version = "0.1.0"
