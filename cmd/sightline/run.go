package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// runFlags are `sightline run`'s flags. The sampling flags mean what the
// same sampling_params keys mean on /generate, and --seed is sampling_seed:
// run is a client of the same engine, so it gives the same tokens.
type runFlags struct {
	compute   computeFlags
	model     string
	prompt    string
	promptIDs string
	json      bool
	logitsOut string
	mmproj    string
	images    multiFlag
	audios    multiFlag
	stops     stopFlag

	maxNew, minNew, topK                  int
	temperature, topP, minP               float64
	repetition, frequency, presence       float64
	seed                                  int64
	seedSet, ignoreEOS, keepSpecialTokens bool
}

func parseRunFlags(args []string, stderr io.Writer) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.compute.register(fs)
	fs.StringVar(&f.model, "model", "", "model: a Hugging Face directory or a .gguf file (required)")
	fs.StringVar(&f.model, "model-path", "", "same as --model")
	fs.StringVar(&f.prompt, "p", "", "prompt text (tokenized with the model's tokenizer: BOS as the model asks, special tokens parsed)")
	fs.StringVar(&f.promptIDs, "prompt-ids", "", "prompt as comma-separated token ids (instead of -p)")
	fs.IntVar(&f.maxNew, "max-new-tokens", 32, "tokens to generate")
	fs.IntVar(&f.minNew, "min-new-tokens", 0, "tokens to generate before stop conditions apply")
	fs.Float64Var(&f.temperature, "temperature", 0, "sampling temperature; 0 = greedy (argmax, first index wins ties)")
	fs.Float64Var(&f.topP, "top-p", 1, "nucleus sampling mass")
	fs.IntVar(&f.topK, "top-k", -1, "sample among the k most likely tokens (-1: all)")
	fs.Float64Var(&f.minP, "min-p", 0, "drop tokens below min-p × the top probability")
	fs.Float64Var(&f.repetition, "repetition-penalty", 1, "penalty for tokens already in the prompt or output (1: none)")
	fs.Float64Var(&f.frequency, "frequency-penalty", 0, "penalty per previous occurrence in the output")
	fs.Float64Var(&f.presence, "presence-penalty", 0, "penalty for any previous occurrence in the output")
	fs.Var(&f.stops, "stop", "stop string (repeatable)")
	fs.Func("seed", "sampling_seed: the same prompt, parameters and seed give the same tokens as /generate (default: random)", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		f.seed, f.seedSet = n, true
		return err
	})
	fs.BoolVar(&f.ignoreEOS, "ignore-eos", false, "keep generating past end-of-generation tokens")
	fs.BoolVar(&f.keepSpecialTokens, "keep-special-tokens", false, "print special tokens in the output text")
	fs.BoolVar(&f.json, "json", false, `print {"prompt_ids":[...],"output_ids":[...],"text":"..."}`)
	fs.StringVar(&f.logitsOut, "logits-out", "", "write float32 little-endian logits [n_prompt_tokens, n_vocab] here")
	fs.StringVar(&f.mmproj, "mmproj", "", "GGUF multimodal projector for a .gguf model")
	fs.Var(&f.images, "image", "image file for a <__media__> marker or the model's image placeholder (repeatable)")
	fs.Var(&f.audios, "audio", "audio file for a <__media__> marker or the model's audio placeholder (repeatable)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return nil, usagef("unexpected arguments %q", fs.Args())
	case f.model == "":
		return nil, usagef("--model is required")
	case (f.prompt == "") == (f.promptIDs == ""):
		return nil, usagef("give exactly one of -p and --prompt-ids")
	case f.maxNew < 0:
		return nil, usagef("--max-new-tokens must be ≥ 0, got %d", f.maxNew)
	case f.temperature < 0 || math.IsNaN(f.temperature) || math.IsInf(f.temperature, 0):
		return nil, usagef("--temperature must be ≥ 0, got %v", f.temperature)
	}
	return f, nil
}

// stopFlag collects --stop values verbatim: each is one stop string, spaces
// and commas included, as in sampling_params.stop.
type stopFlag []string

func (s *stopFlag) String() string     { return strings.Join(*s, ",") }
func (s *stopFlag) Set(v string) error { *s = append(*s, v); return nil }

// params turns the sampling flags into sampling_params, validated as
// /generate validates them.
func (f *runFlags) params(vocab int) (sample.Params, error) {
	p := sample.Defaults()
	p.MaxNewTokens = &f.maxNew
	p.MinNewTokens = f.minNew
	p.Temperature, p.TopP, p.TopK, p.MinP = f.temperature, f.topP, f.topK, f.minP
	p.RepetitionPenalty, p.FrequencyPenalty, p.PresencePenalty = f.repetition, f.frequency, f.presence
	p.Stop = f.stops
	p.IgnoreEOS = f.ignoreEOS
	p.SkipSpecialTokens = !f.keepSpecialTokens
	if f.seedSet {
		p.SamplingSeed = &f.seed
	}
	if err := p.Validate(vocab); err != nil {
		return p, usageError{err}
	}
	return p, nil
}

func parseIDs(s string, vocab int) ([]int32, error) {
	var ids []int32
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil {
			return nil, usagef("--prompt-ids: %q is not a token id", p)
		}
		if v < 0 || int(v) >= vocab {
			return nil, usagef("--prompt-ids: id %d outside the vocabulary [0, %d)", v, vocab)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

// mediaRefs turns --image and --audio into refs and the directories they may be read from.
func (f *runFlags) mediaRefs() (refs []media.Ref, dirs []string, err error) {
	for _, group := range []struct {
		files []string
		m     media.Modality
	}{{f.images, media.Image}, {f.audios, media.Audio}} {
		for _, p := range group.files {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, nil, err
			}
			if _, err := os.Stat(abs); err != nil {
				return nil, nil, usagef("%v", err)
			}
			refs = append(refs, media.Ref{Modality: group.m, Src: abs})
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	return refs, dirs, nil
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	refs, dirs, err := f.mediaRefs()
	if err != nil {
		return err
	}
	if _, err := os.Stat(f.model); err != nil {
		return err
	}
	rt, err := launch.Open(ctx, launch.Config{ModelPath: f.model, MMProj: f.mmproj, BackendName: f.compute.backend,
		Threads: f.compute.threads, CPULevel: f.compute.level, MaxRunning: 1, TextOnly: len(refs) == 0 && f.mmproj == "",
		AllowedMediaPaths: dirs, NoChatTemplate: true,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer rt.Close()
	vocab := rt.Model.Config().Vocab
	params, err := f.params(vocab)
	if err != nil {
		return err
	}
	prompt, err := f.buildPrompt(ctx, rt, refs, vocab)
	if err != nil {
		return err
	}
	req := &engine.Request{RID: "run", Prompt: prompt, Params: params, Logprobs: engine.LogprobOptions{StartLen: -1},
		PromptLogits: f.logitsOut != ""}
	events, err := rt.Engine.Submit(ctx, req)
	if err != nil {
		return err
	}
	var out []int32
	var text strings.Builder
	var last engine.Event
	for ev := range events {
		if ev.Err != nil {
			return ev.Err
		}
		out = append(out, ev.Tokens...)
		text.WriteString(ev.Text)
		if !f.json {
			fmt.Fprint(stdout, ev.Text)
		}
		last = ev
	}
	if fr := last.Finish; fr == nil || fr.Type == sample.FinishAbort {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errors.New("generation aborted")
	}
	if f.logitsOut != "" {
		if err := writeF32(f.logitsOut, last.PromptLogits); err != nil {
			return err
		}
	}
	if !f.json {
		fmt.Fprintln(stdout)
		return nil
	}
	if out == nil {
		out = []int32{}
	}
	b, err := json.Marshal(struct {
		PromptIDs []int32 `json:"prompt_ids"`
		OutputIDs []int32 `json:"output_ids"`
		Text      string  `json:"text"`
	}{prompt.Tokens, out, last.FullText})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(b))
	return nil
}

// buildPrompt tokenizes -p (or reads --prompt-ids) and runs the model's
// processor over the media, as /generate does.
func (f *runFlags) buildPrompt(ctx context.Context, rt *launch.Runtime, refs []media.Ref, vocab int) (*input.Prompt, error) {
	var ids []int32
	var err error
	switch {
	case f.promptIDs != "":
		if ids, err = parseIDs(f.promptIDs, vocab); err != nil {
			return nil, err
		}
	case len(refs) > 0:
		ids = processors.Tokenize(rt.Tokenizer, f.prompt, true)
	default:
		ids = rt.Tokenizer.EncodeOpts(f.prompt, tokenizer.EncodeOptions{AddSpecial: true, ParseSpecial: true})
	}
	if len(ids) == 0 {
		return nil, usagef("the prompt tokenizes to nothing")
	}
	if len(refs) == 0 {
		return &input.Prompt{Tokens: ids}, nil
	}
	if rt.MediaProcessor == nil {
		return nil, usagef("%s has no vision or audio tower (a GGUF model needs --mmproj)", f.model)
	}
	items, err := rt.Media.Load(ctx, refs)
	if err != nil {
		return nil, err
	}
	return rt.MediaProcessor.Prepare(ctx, ids, items)
}

func writeF32(path string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, buf, 0o644)
}
