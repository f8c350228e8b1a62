package engine

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
)

// TestStopStringAcrossTokens: a stop string assembled from several tokens
// ends generation, is reported as matched and trimmed from the text.
func TestStopStringAcrossTokens(t *testing.T) {
	h := start(t, Config{}, 64, true)
	// find a seeded sample whose text has two consecutive ASCII tokens, and
	// use the end of one and the start of the next as the stop string
	p := prompts(5)[4]
	var free result
	var stop string
	base := sample.Defaults()
	n := 24
	base.MaxNewTokens, base.IgnoreEOS = &n, true
	for seed := int64(1); seed < 200 && stop == ""; seed++ {
		base.SamplingSeed = &seed
		free = h.run(t, p, base)
		for i := 0; i+1 < len(free.tokens) && stop == ""; i++ {
			a := h.tok.Decode(free.tokens[i:i+1], tokenizer.DecodeOptions{SkipSpecial: true})
			b := h.tok.Decode(free.tokens[i+1:i+2], tokenizer.DecodeOptions{SkipSpecial: true})
			if a != "" && b != "" && isASCII(a+b) {
				stop = a[len(a)-1:] + b[:1]
			}
		}
	}
	if stop == "" {
		t.Fatal("no seeded sample with two consecutive ASCII tokens")
	}
	full := free.full
	params := base
	params.Stop = []string{stop}
	r := h.run(t, p, params)
	idx := strings.Index(full, stop)
	if r.finish == nil || r.finish.Type != sample.FinishStop || r.finish.Text != stop || !r.finish.ByText {
		t.Fatalf("finish %+v (stop %q)", r.finish, stop)
	}
	if r.full != full[:idx] || r.text != r.full {
		t.Fatalf("text %q (streamed %q), want %q", r.full, r.text, full[:idx])
	}
	params.NoStopTrim = true
	r2 := h.run(t, p, params)
	if !strings.HasPrefix(r2.full, full[:idx]+stop) {
		t.Fatalf("no_stop_trim text %q", r2.full)
	}
	h.checkPages(t)
}

// TestStopTokenAndMinNew: stop_token_ids ends generation at that token
// (inclusive) but not before min_new_tokens.
func TestStopTokenAndMinNew(t *testing.T) {
	h := start(t, Config{}, 64, true)
	p := prompts(6)[5]
	free := h.run(t, p, greedy(12))
	stopTok := free.tokens[3]
	first := slices.Index(free.tokens, stopTok)
	params := greedy(12)
	params.StopTokenIDs = []int32{stopTok}
	r := h.run(t, p, params)
	if len(r.tokens) != first+1 || r.finish.Type != sample.FinishStop || r.finish.ByText || r.finish.Token != stopTok {
		t.Fatalf("tokens %v finish %+v (stop %d at %d)", r.tokens, r.finish, stopTok, first)
	}
	params.MinNewTokens = first + 2
	r = h.run(t, p, params)
	if len(r.tokens) < first+2 {
		t.Fatalf("min_new_tokens ignored: %v", r.tokens)
	}
	h.checkPages(t)
}

// TestLogprobShapes: output and prompt logprobs have the documented lengths,
// greedy tokens are the top-1, and rescoring prompt+output reproduces them.
func TestLogprobShapes(t *testing.T) {
	h := start(t, Config{}, 64, true)
	p := prompts(4)[3]
	params := greedy(5)
	req := &Request{Prompt: &input.Prompt{Tokens: p}, Params: params,
		Logprobs: LogprobOptions{Return: true, StartLen: 0, TopN: 3, TokenIDs: []int32{1, 2}}}
	ch, err := h.e.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r := collect(ch)
	if len(r.lps) != 5 || len(r.inLPs) != len(p) {
		t.Fatalf("%d output, %d input logprobs for %d prompt tokens", len(r.lps), len(r.inLPs), len(p))
	}
	if !math.IsNaN(float64(r.inLPs[0].Logprob)) || math.IsNaN(float64(r.inLPs[1].Logprob)) {
		t.Fatalf("input logprob 0 must be null, 1 a number: %+v", r.inLPs[:2])
	}
	for i, lp := range r.lps {
		if len(lp.Top) != 3 || lp.Top[0].ID != lp.ID || lp.Top[0].Logprob != lp.Logprob || len(lp.IDs) != 2 || lp.Logprob > 0 {
			t.Fatalf("output %d: %+v", i, lp)
		}
	}
	// rescoring: prompt + output with max_new_tokens 0
	all := append(slices.Clone(p), r.tokens...)
	zero := greedy(0)
	ch, err = h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{Tokens: all}, Params: zero,
		Logprobs: LogprobOptions{Return: true, StartLen: 0}})
	if err != nil {
		t.Fatal(err)
	}
	rs := collect(ch)
	if len(rs.tokens) != 0 || rs.finish.Type != sample.FinishLength || len(rs.inLPs) != len(all) {
		t.Fatalf("rescore: %d tokens, finish %+v, %d input logprobs", len(rs.tokens), rs.finish, len(rs.inLPs))
	}
	for i, lp := range r.lps {
		got := rs.inLPs[len(p)+i]
		if got.ID != lp.ID || math.Abs(float64(got.Logprob-lp.Logprob)) > 1e-5 {
			t.Fatalf("rescored %d: %+v vs %+v", i, got, lp)
		}
	}
	// logprob_start_len in the middle
	ch, _ = h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{Tokens: p}, Params: greedy(1),
		Logprobs: LogprobOptions{Return: true, StartLen: 3}})
	rm := collect(ch)
	if len(rm.inLPs) != len(p)-3 || rm.inLPs[0].ID != p[3] || rm.inLPs[0].Logprob != r.inLPs[3].Logprob {
		t.Fatalf("start 3: %+v", rm.inLPs)
	}
	h.checkPages(t)
}

// TestParallelSamplesShareThePrompt: followers of a leader are admitted once
// its prompt is cached, so they report cached tokens; seeded samples are reproducible.
func TestParallelSamplesShareThePrompt(t *testing.T) {
	h := start(t, Config{}, 64, true)
	p := prompts(4)[3]
	params := sample.Defaults()
	n := 8
	params.MaxNewTokens = &n
	params.Temperature = 0.9
	seed := int64(11)
	params.SamplingSeed = &seed
	lead := &Request{Prompt: &input.Prompt{Tokens: p}, Params: params}
	var chans []<-chan Event
	for i := 0; i < 3; i++ {
		r := lead
		if i > 0 {
			r = &Request{Prompt: &input.Prompt{Tokens: p}, Params: params, Leader: lead}
		}
		ch, err := h.e.Submit(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	var rs []result
	for _, ch := range chans {
		rs = append(rs, collect(ch))
	}
	if rs[0].usage.CachedTokens != 0 || rs[1].usage.CachedTokens == 0 || rs[2].usage.CachedTokens == 0 {
		t.Fatalf("cached tokens %d %d %d", rs[0].usage.CachedTokens, rs[1].usage.CachedTokens, rs[2].usage.CachedTokens)
	}
	again := h.run(t, p, params)
	if !slices.Equal(again.tokens, rs[0].tokens) {
		t.Fatalf("same sampling_seed, different tokens: %v vs %v", again.tokens, rs[0].tokens)
	}
	h.checkPages(t)
}

func TestSubmitErrors(t *testing.T) {
	h := start(t, Config{ContextLen: 32}, 64, true)
	long := make([]int32, 32)
	if _, err := h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{Tokens: long}, Params: greedy(1)}); !errors.Is(err, ErrTooLong) ||
		!strings.Contains(err.Error(), "The input (32 tokens) is longer than the model's context length (32 tokens).") {
		t.Fatalf("long prompt: %v", err)
	}
	if _, err := h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{Tokens: long[:20]}, Params: greedy(20)}); !errors.Is(err, ErrTooLong) ||
		!strings.Contains(err.Error(), "You requested a total of 40 tokens: 20 tokens from the input messages and 20 tokens for the completion.") {
		t.Fatalf("long completion: %v", err)
	}
	if _, err := h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{Tokens: []int32{1, 999999}}, Params: greedy(1)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := h.e.Submit(context.Background(), &Request{Prompt: &input.Prompt{}, Params: greedy(1)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty prompt: %v", err)
	}
	// unlimited max_new_tokens runs to the context window
	params := greedy(1)
	params.MaxNewTokens = nil
	r := h.run(t, long[:20], params)
	if len(r.tokens) != 12 || r.finish.Type != sample.FinishLength {
		t.Fatalf("null max_new_tokens: %d tokens, %+v", len(r.tokens), r.finish)
	}
	h.checkPages(t)
}

// TestAbortByRID aborts a running request through Engine.Abort.
func TestAbortByRID(t *testing.T) {
	h := start(t, Config{}, 300, true)
	ch, err := h.e.Submit(context.Background(), &Request{RID: "job_0", Prompt: &input.Prompt{Tokens: prompts(3)[2]}, Params: greedy(1000)})
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	if err := h.e.Abort(context.Background(), "job", false); err != nil {
		t.Fatal(err)
	}
	r := collect(ch)
	if r.finish == nil || r.finish.Type != sample.FinishAbort || len(r.tokens) >= 999 {
		t.Fatalf("finish %+v after %d tokens", r.finish, len(r.tokens))
	}
	h.checkPages(t)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
