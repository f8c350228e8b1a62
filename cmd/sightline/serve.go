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
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/server"
	"github.com/sightline/sightline/server/reasoning"
	"github.com/sightline/sightline/server/toolcall"
)

// serveFlags are `sightline serve`'s flags; names follow SGLang's launch_server.
type serveFlags struct {
	compute                                                computeFlags
	modelPath, mmproj, tokenizerPath, host                 string
	port                                                   int
	servedName, apiKey, chatTemplate, samplingDefaults     string
	preferred, logLevel, kvMemory, limitMM, grammarBackend string
	toolParser, reasoningParser                            string
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
	str(&f.toolParser, "", "parse tool calls in chat output: qwen25, llama3, mistral, pythonic", "tool-call-parser")
	str(&f.reasoningParser, "", "split <think> reasoning into reasoning_content: qwen3, deepseek-r1", "reasoning-parser")
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
	if f.toolParser != "" {
		if _, err := toolcall.New(f.toolParser); err != nil {
			return usagef("--tool-call-parser: %v", err)
		}
	}
	if f.reasoningParser != "" {
		if _, err := reasoning.New(f.reasoningParser, true); err != nil {
			return usagef("--reasoning-parser: %v", err)
		}
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

// app is a wired server: an opened runtime and its HTTP handler.
type app struct {
	name string
	log  *slog.Logger
	rt   *launch.Runtime
	srv  *server.Server
}

func (a *app) close() { a.rt.Close() }

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

// launchConfig turns the serve flags into a runtime configuration.
func (f *serveFlags) launchConfig(log *slog.Logger) launch.Config {
	kv, _ := parseBytes(f.kvMemory)
	return launch.Config{ModelPath: f.modelPath, MMProj: f.mmproj, TokenizerPath: f.tokenizerPath, ChatTemplate: f.chatTemplate,
		BackendName: f.compute.backend, Threads: f.compute.threads, CPULevel: f.compute.level,
		ContextLength: f.contextLen, MaxRunning: f.maxRunning, MaxQueued: f.maxQueued, MaxTotalTokens: f.maxTotalTokens,
		KVMemory: kv, ChunkedPrefill: f.chunkedPrefill, PageSize: f.pageSize, DisableRadix: f.disableRadix,
		Seed: uint64(f.randomSeed), SkipTokenizerInit: f.skipTokenizerInit, AllowedMediaPaths: f.allowedMedia, AllowedMediaDomains: f.allowedDomains,
		AllowPrivateMedia: f.allowPrivateMedia, MediaFetchTimeout: f.mediaTimeout, Logger: log}
}

// buildApp opens the runtime and its server.
func buildApp(ctx context.Context, f *serveFlags, log *slog.Logger) (*app, error) {
	rt, err := launch.Open(ctx, f.launchConfig(log))
	if err != nil {
		return nil, err
	}
	mediaLimits, _ := parseLimits(f.limitMM)
	cfg := rt.Model.Config()
	scfg := server.Config{ServedModelName: f.servedName, Version: version, APIKey: f.apiKey,
		EnableMetrics: f.enableMetrics, EnableCustomLogitProcessor: f.customLogitProc, DisableRadixCache: f.disableRadix,
		SkipTokenizerInit: f.skipTokenizerInit, SamplingDefaults: f.samplingDefaults,
		PreferredSamplingParams: json.RawMessage(f.preferred), StreamInterval: f.streamInterval,
		IncrementalStreaming: f.incremental, IncludeUsageByDefault: f.includeUsage, EnableCacheReport: f.cacheReport,
		AllowAutoTruncate: f.autoTruncate, MediaLimits: mediaLimits, GrammarBackend: f.grammarBackend, Logger: log,
		ToolCallParser: f.toolParser, ReasoningParser: f.reasoningParser,
		LaunchArgs: map[string]any{"model_path": rt.Path, "mmproj": f.mmproj, "host": f.host, "port": f.port,
			"context_length": rt.ContextLength, "max_running_requests": f.maxRunning, "chunked_prefill_size": f.chunkedPrefill,
			"page_size": f.pageSize, "max_total_num_tokens": rt.KV.Pages * rt.KV.PageSize, "disable_radix_cache": f.disableRadix,
			"tp_size": 1, "dp_size": 1, "backend": rt.Backend.Name(), "devices": detectDevices(rt.Backend), "sampling_defaults": f.samplingDefaults,
			"stream_interval": f.streamInterval, "grammar_backend": f.grammarBackend,
			"tool_call_parser": f.toolParser, "reasoning_parser": f.reasoningParser, "limit_mm_data_per_request": mediaLimits,
			"allowed_media_domains": []string(f.allowedDomains), "allow_private_media_urls": f.allowPrivateMedia}}
	srv, err := server.FromRuntime(scfg, rt)
	if err != nil {
		rt.Close()
		return nil, err
	}
	name := f.servedName
	if name == "" {
		name = rt.Name
	}
	log.Info("model loaded", "path", rt.Path, "arch", cfg.Arch, "layers", cfg.Layers, "vocab", cfg.Vocab,
		"kv_tokens", rt.KV.Pages*rt.KV.PageSize, "context", rt.ContextLength, "backend", rt.Backend.Name(),
		"images", rt.Images, "audio", rt.Audio, "chat_template", rt.Template != nil)
	return &app{name: name, log: log, rt: rt, srv: srv}, nil
}

const version = "0.1.0"
