package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/sightline/sightline/internal/caption"
)

// captionFlags are `sightline caption`'s own flags; the serve flags (model,
// compute, engine) come along for the in-process engine.
type captionFlags struct {
	serve                           serveFlags
	list, output, format            string
	prompt, promptFile, server, api string
	apiKey, modelName               string
	rawPrompt, failFast             bool
	temperature, topP               float64
	maxNew, concurrency             int
}

func parseCaptionFlags(args []string, stderr io.Writer) (*captionFlags, []string, error) {
	f := &captionFlags{}
	fs := flag.NewFlagSet("caption", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.serve.register(fs)
	fs.StringVar(&f.list, "list", "", "file with one image path or URL per line")
	fs.StringVar(&f.output, "output", "", "append records here (resumes: inputs already recorded are skipped); default stdout")
	fs.StringVar(&f.format, "format", "jsonl", "record format: jsonl or csv")
	fs.StringVar(&f.prompt, "prompt", "Describe this image in one sentence.", "captioning instruction")
	fs.StringVar(&f.promptFile, "prompt-file", "", "read the instruction from a file")
	fs.BoolVar(&f.rawPrompt, "raw-prompt", false, "send the prompt as is to /generate instead of through the chat template")
	fs.StringVar(&f.server, "server", "", "caption through this server (SGLang-native or OpenAI-compatible) instead of in-process")
	fs.StringVar(&f.api, "api", "", "server API: native (/generate) or openai (/v1/chat/completions); default openai, native with --raw-prompt")
	fs.StringVar(&f.modelName, "model-name", "default", "model name sent in OpenAI requests")
	fs.Float64Var(&f.temperature, "temperature", 0, "sampling temperature")
	fs.Float64Var(&f.topP, "top-p", 1, "nucleus sampling")
	fs.IntVar(&f.maxNew, "max-new-tokens", 64, "caption length limit in tokens")
	fs.IntVar(&f.concurrency, "concurrency", 4, "requests in flight at once")
	fs.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failed input")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, nil, err
		}
		return nil, nil, usageError{err}
	}
	if err := f.serve.validate(); err != nil {
		return nil, nil, err
	}
	switch {
	case f.format != "jsonl" && f.format != "csv":
		return nil, nil, usagef("--format must be jsonl or csv, got %q", f.format)
	case f.api != "" && f.api != "native" && f.api != "openai":
		return nil, nil, usagef("--api must be native or openai, got %q", f.api)
	case f.concurrency <= 0 || f.maxNew <= 0:
		return nil, nil, usagef("--concurrency and --max-new-tokens must be positive")
	case fs.NArg() == 0 && f.list == "":
		return nil, nil, usagef("give images, directories, globs, URLs, - (stdin) or --list FILE")
	case f.server == "" && f.serve.modelPath == "":
		return nil, nil, usagef("give --model-path (in-process captioning) or --server URL")
	}
	if f.promptFile != "" {
		b, err := os.ReadFile(f.promptFile)
		if err != nil {
			return nil, nil, usagef("--prompt-file: %v", err)
		}
		f.prompt = strings.TrimSpace(string(b))
	}
	if f.api == "" {
		f.api = "openai"
		if f.rawPrompt {
			f.api = "native"
		}
	}
	return f, fs.Args(), nil
}

// errFailed reports that some inputs failed (exit code 1, after the summary).
var errFailed = errors.New("some inputs failed")

func captionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return captionWith(ctx, args, os.Stdin, stdout, stderr)
}

func captionWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	f, rest, err := parseCaptionFlags(args, stderr)
	if err != nil {
		return err
	}
	inputs, err := caption.Collect(rest, f.list, stdin)
	if err != nil {
		return usageError{err}
	}
	out, done, err := caption.Open(f.output, caption.Format(f.format), stdout)
	if err != nil {
		return err
	}
	defer out.Close()
	client := &caption.Client{BaseURL: f.server, API: f.api, APIKey: f.serve.apiKey, // --api-key: the key sent to --server (and required by the in-process one)
		Model: f.modelName, Prompt: f.prompt,
		Temperature: f.temperature, TopP: f.topP, MaxNewTokens: f.maxNew}
	if f.server == "" {
		lvl, _ := slogLevel(f.serve.logLevel)
		f.serve.skipWarmup = true
		a, err := buildApp(ctx, &f.serve, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: max(lvl, slog.LevelWarn)})))
		if err != nil {
			return err
		}
		defer a.close()
		if client.API == "openai" && !a.srv.HasChatTemplate() {
			client.API = "native" // no chat template: send the prompt as is
		}
		client.BaseURL, client.HTTP = "http://in-process", &http.Client{Transport: handlerTransport{a.srv.Handler()}}
	}
	terminal := false
	if fd, ok := stderr.(interface{ Fd() uintptr }); ok {
		terminal = term.IsTerminal(int(fd.Fd()))
	}
	sum, err := caption.Run(ctx, inputs, done, client, out, caption.Options{Concurrency: f.concurrency, FailFast: f.failFast,
		Progress: stderr, Terminal: terminal})
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w (run again with the same --output to resume)", ctx.Err())
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%w: %d of %d", errFailed, sum.Failed, sum.Total)
	}
	return nil
}

// handlerTransport serves requests with an in-process handler (no network).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}
