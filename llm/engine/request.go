package engine

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/sched"
)

// Request is one sequence to generate.
type Request struct {
	RID      string
	Prompt   *input.Prompt
	Params   sample.Params // validated by the caller
	Logprobs LogprobOptions
	// LogitProcessor is an optional custom logit processor with its parameters.
	LogitProcessor sample.LogitProcessor
	// Leader, when set, is another request with the same prompt (sample 0 of
	// n): this one is admitted once the leader's prompt is in the prefix
	// cache, so the samples share its pages.
	Leader *Request
	// Grammar constrains the output (nil: none).
	Grammar Grammar
	// PromptLogits asks for the raw logits of every prompt position (no
	// prefix-cache reuse), in the final Event's PromptLogits.
	PromptLogits bool
}

// Grammar is a per-sequence constraint (llm/grammar's Matcher): FillMask
// sets the allowed tokens (never EOS; the engine allows EOS when Done).
type Grammar interface {
	FillMask(dst []uint64) error
	Accept(tok int32) error
	Done() bool
	Terminated() bool // done and no further token possible
}

// LogprobOptions select what logprobs a request returns (docs/api.md §3.7).
type LogprobOptions struct {
	Return   bool
	StartLen int     // first prompt position reported; −1: none
	TopN     int     // alternatives per position
	TokenIDs []int32 // ids whose logprob is reported at every position
	Text     bool    // fill the text of each tuple
}

// TokenLogprob is one position's logprob data. Logprob is NaN where no
// prediction exists (prompt position 0).
type TokenLogprob struct {
	ID      int32
	Logprob float32
	Text    string
	Top     []Alt // best first (TopN)
	IDs     []Alt // one per LogprobOptions.TokenIDs, in that order
}

// Alt is one alternative token's logprob.
type Alt struct {
	ID      int32
	Logprob float32
	Text    string
}

// Event is what a request's channel delivers: new output since the previous
// event, and once, the finish. Events of one request are merged when the
// consumer falls behind.
type Event struct {
	Tokens        []int32
	Text          string
	Logprobs      []TokenLogprob // one per token in Tokens, when requested
	InputLogprobs []TokenLogprob // prompt positions, with the first event
	Finish        *sample.FinishReason
	FullText      string // final event: the whole output text (stop-trimmed), authoritative
	Usage         Usage
	Err           error // the request failed inside the engine
	// PromptLogits is [n_prompt, vocab] row-major, on the final event of a
	// request that asked for it.
	PromptLogits []float32
}

// Usage counts tokens of one request.
type Usage struct {
	PromptTokens, CompletionTokens, CachedTokens int
	Latency                                      time.Duration // set on the final event
}

// seq is the loop's state of one request.
type seq struct {
	id       uint64
	req      *Request
	ctx      context.Context
	out      chan Event
	start    time.Time
	s        *sched.Seq
	tokens   []int32  // prompt then output
	keys     []uint32 // prefix-cache keys of the prompt
	nPrompt  int
	pages    []int32
	lock     prefix.Handle // locked path in the prefix cache
	cached   int           // prompt tokens served by the prefix cache
	admitted bool

	inputLP      []TokenLogprob // prompt positions [k, P)
	promptLogits []float32      // [nPrompt, vocab] when the request asks for it
	inputLPSent  bool
	sent         int // bytes of output text already queued

	sampler *sample.Sampler
	stop    *sample.StopChecker
	text    TextStream
	eos     map[int32]bool
	maxNew  int // output tokens allowed (after the context clamp)
	mask    []uint64

	pending    Event // undelivered output
	hasPending bool
	finished   bool
	abortMsg   string
	followers  []*seq // n>1 siblings waiting for this prompt to be cached

	encodeQueued bool   // in the encoder's queue
	cancelEncode func() // cancels the encode job in flight for this sequence
}

// Submit queues r and returns its event channel; cancelling ctx aborts it.
func (e *Engine) Submit(ctx context.Context, r *Request) (<-chan Event, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	P := len(r.Prompt.Tokens)
	if P == 0 {
		return nil, fmt.Errorf("%w: empty prompt", ErrInvalid)
	}
	vocab := e.m.Config().Vocab
	for i, t := range r.Prompt.Tokens {
		if t < 0 || int(t) >= vocab {
			return nil, fmt.Errorf("%w: prompt token %d at %d outside the vocabulary (%d)", ErrInvalid, t, i, vocab)
		}
	}
	C := e.cfg.ContextLen
	if P >= C {
		return nil, fmt.Errorf("%w: The input (%d tokens) is longer than the model's context length (%d tokens).", ErrTooLong, P, C)
	}
	maxNew := C - P
	if mn := r.Params.MaxNewTokens; mn != nil {
		if P+*mn > C {
			return nil, fmt.Errorf("%w: Requested token count exceeds the model's maximum context length of %d tokens. You requested a total of %d tokens: %d tokens from the input messages and %d tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.",
				ErrTooLong, C, P+*mn, P, *mn)
		}
		maxNew = *mn
	}
	if e.cfg.MaxQueued > 0 && int(e.stats.Waiting.Load()+e.stats.Submitted.Load()) >= e.cfg.MaxQueued {
		return nil, ErrQueueFull
	}
	s := &seq{req: r, ctx: ctx, out: make(chan Event, 8), start: time.Now(), maxNew: maxNew, nPrompt: P}
	e.stats.Submitted.Add(1)
	select {
	case e.submit <- s:
		return s.out, nil
	case <-e.done:
		e.stats.Submitted.Add(-1)
		return nil, ErrClosed
	case <-ctx.Done():
		e.stats.Submitted.Add(-1)
		return nil, ctx.Err()
	}
}

// fail ends a request that never started.
func (s *seq) fail(err error) {
	s.out <- Event{Err: err}
	close(s.out)
}

func nanLogprob() float32 { return float32(math.NaN()) }

// inputLPPending reports whether prompt logprobs are still to be computed or sent.
func (s *seq) inputLPPending() bool {
	return s.req.Logprobs.Return && s.req.Logprobs.StartLen >= 0 && !s.inputLPSent
}
