package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/processors"
)

type runFlags struct {
	compute     computeFlags
	model       string
	prompt      string
	promptIDs   string
	maxNew      int
	temperature float64
	seed        uint64
	ignoreEOS   bool
	json        bool
	logitsOut   string
	mmproj      string
	images      multiFlag
	audios      multiFlag
}

func parseRunFlags(args []string, stderr io.Writer) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.compute.register(fs)
	fs.StringVar(&f.model, "model", "", "model: a Hugging Face directory or a .gguf file (required)")
	fs.StringVar(&f.prompt, "p", "", "prompt text (tokenized with the model's tokenizer: BOS as the model asks, special tokens parsed)")
	fs.StringVar(&f.promptIDs, "prompt-ids", "", "prompt as comma-separated token ids (instead of -p)")
	fs.IntVar(&f.maxNew, "max-new-tokens", 32, "tokens to generate")
	fs.Float64Var(&f.temperature, "temperature", 0, "sampling temperature; 0 = greedy (argmax, first index wins ties)")
	fs.Uint64Var(&f.seed, "seed", 0, "sampling seed")
	fs.BoolVar(&f.ignoreEOS, "ignore-eos", false, "keep generating past end-of-generation tokens")
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

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	be, err := f.compute.open()
	if err != nil {
		return err
	}
	defer be.Close()
	m, err := model.Load(f.model, be)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg := m.Config()
	var tok *tokenizer.Tokenizer
	if f.prompt != "" || !f.json {
		if tok, err = loadTokenizer(m); err != nil {
			return err
		}
	}
	var ids []int32
	hasMedia := len(f.images)+len(f.audios) > 0
	switch {
	case f.promptIDs != "":
		if ids, err = parseIDs(f.promptIDs, cfg.Vocab); err != nil {
			return err
		}
	case hasMedia:
		ids = processors.Tokenize(tok, f.prompt, true)
	default:
		ids = tok.EncodeOpts(f.prompt, tokenizer.EncodeOptions{AddSpecial: true, ParseSpecial: true})
	}
	if len(ids) == 0 {
		return usagef("the prompt tokenizes to nothing")
	}
	prompt := &input.Prompt{Tokens: ids}
	if hasMedia || f.mmproj != "" {
		if prompt, err = mediaPrompt(ctx, f, m.Path, be, tok, ids); err != nil {
			return err
		}
		ids = prompt.Tokens
	}
	for _, id := range ids {
		if int(id) >= cfg.Vocab {
			return fmt.Errorf("prompt token %d is outside the model's vocabulary of %d", id, cfg.Vocab)
		}
	}
	const pageSize = 16
	kv, err := kvcache.New(be, cfg.KVSpec(pageSize, (len(ids)+f.maxNew)/pageSize+1))
	if err != nil {
		return err
	}
	r := &model.Runner{M: m, KV: kv}
	defer r.Release()
	logits, err := r.Prefill(ctx, prompt, f.logitsOut != "")
	if err != nil {
		return err
	}
	row := make([]float32, logits.Len())
	if err := be.ToF32(logits, row); err != nil {
		return err
	}
	if f.logitsOut != "" {
		if err := writeF32(f.logitsOut, row); err != nil {
			return err
		}
		row = row[len(row)-cfg.Vocab:]
	}
	rng := rand.New(rand.NewPCG(f.seed, 0x51647))
	var out []int32
	var text strings.Builder
	var sd *tokenizer.StreamDecoder
	if tok != nil {
		sd = tok.NewStreamDecoder(tokenizer.DecodeOptions{SkipSpecial: true})
		sd.Prime(ids[max(0, len(ids)-primeTokens):])
	}
	eos := cfg.EOS
	if tok != nil {
		eos = append(slices.Clone(eos), tok.EOS()...)
	}
	for len(out) < f.maxNew {
		next := pick(row, f.temperature, rng)
		out = append(out, next)
		if sd != nil {
			piece := sd.Add(next)
			text.WriteString(piece)
			if !f.json {
				fmt.Fprint(stdout, piece)
			}
		}
		if !f.ignoreEOS && slices.Contains(eos, next) || len(out) == f.maxNew {
			break
		}
		lg, err := r.Step(ctx, next)
		if err != nil {
			return err
		}
		if err := be.ToF32(lg, row); err != nil {
			return err
		}
	}
	if sd != nil {
		tail := sd.Flush()
		text.WriteString(tail)
		if !f.json {
			fmt.Fprintln(stdout, tail)
		}
	}
	if f.json {
		if ids == nil {
			ids = []int32{}
		}
		if out == nil {
			out = []int32{}
		}
		b, err := json.Marshal(struct {
			PromptIDs []int32 `json:"prompt_ids"`
			OutputIDs []int32 `json:"output_ids"`
			Text      string  `json:"text"`
		}{ids, out, text.String()})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	}
	return nil
}

// primeTokens is how many prompt tokens prime the output detokenizer (as
// SGLang's incremental detokenization offset), so the first output token
// decodes with its context.
const primeTokens = 5

// pick chooses the next token: argmax at temperature 0 (first index wins
// ties), else a draw from softmax(logits/T).
func pick(logits []float32, temp float64, rng *rand.Rand) int32 {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if temp == 0 {
		return int32(best)
	}
	var sum float64
	p := make([]float64, len(logits))
	for i, v := range logits {
		p[i] = math.Exp((float64(v) - float64(logits[best])) / temp)
		sum += p[i]
	}
	u := rng.Float64() * sum
	for i, w := range p {
		if u -= w; u < 0 {
			return int32(i)
		}
	}
	return int32(best)
}

func writeF32(path string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, buf, 0o644)
}
