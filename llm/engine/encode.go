package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
)

// Media encoding runs off the step loop, on one background worker:
//
//	admit ─▶ needs embeddings? ─yes─▶ Blocked in the scheduler, queued here
//	                                   │ one job at a time (FIFO)
//	                                   ▼
//	                           worker: Embedder.Embed(copies of the spans)
//	                                   │ encodeDone
//	                                   ▼
//	loop: embeddings written into the prompt's spans, sequence unblocked
//
// Only spans the sequence still has to compute (from its prefix-cache hit
// on) are encoded. The worker encodes copies and the loop writes the results
// back, so spans shared by n > 1 siblings are only ever written on the loop
// goroutine. A retracted sequence that now needs spans it skipped thanks to
// a prefix hit is blocked and queued again.

// encodeJob is one sequence's spans to embed.
type encodeJob struct {
	ctx    context.Context
	s      *seq
	spans  []*input.Span // copies; the worker fills their Embeds
	cancel context.CancelFunc
}

type encodeDone struct {
	job encodeJob
	err error
}

// encoder is the loop's view of the worker.
type encoder struct {
	queue    []*seq // blocked sequences waiting for the worker, FIFO
	inFlight *seq
	jobs     chan encodeJob // capacity 1: the loop sends only when the worker is idle
	done     chan encodeDone
	quit     chan struct{}
	exited   chan struct{}
}

func newEncoder() encoder {
	return encoder{jobs: make(chan encodeJob, 1), done: make(chan encodeDone, 1), quit: make(chan struct{}), exited: make(chan struct{})}
}

// work is the worker goroutine; it exits when quit closes.
func (e *Engine) work() {
	defer close(e.enc.exited)
	for {
		select {
		case <-e.enc.quit:
			return
		case j := <-e.enc.jobs:
			err := e.emb.Embed(j.ctx, j.spans)
			j.cancel()
			select {
			case e.enc.done <- encodeDone{job: j, err: err}:
			case <-e.enc.quit:
				return
			}
		}
	}
}

// stopEncoder cancels the job in flight and waits for the worker to exit.
func (e *Engine) stopEncoder() {
	close(e.enc.quit)
	<-e.enc.exited
}

// missingEmbeds lists the spans s must still compute that have no embeddings.
func missingEmbeds(s *seq) []*input.Span {
	var out []*input.Span
	for i := range s.req.Prompt.Spans {
		sp := &s.req.Prompt.Spans[i]
		if sp.Embeds == nil && sp.Start+sp.Len > s.s.Cached {
			out = append(out, sp)
		}
	}
	return out
}

// needEncoding blocks s and queues it when it lacks embeddings it must compute.
func (e *Engine) needEncoding(s *seq) {
	if len(missingEmbeds(s)) == 0 {
		return
	}
	s.s.Blocked = true
	if e.enc.inFlight != s && !s.encodeQueued {
		s.encodeQueued = true
		e.enc.queue = append(e.enc.queue, s)
	}
	e.dispatch()
}

// dispatch hands the next queued sequence to an idle worker.
func (e *Engine) dispatch() {
	for e.enc.inFlight == nil && len(e.enc.queue) > 0 {
		s := e.enc.queue[0]
		e.enc.queue = e.enc.queue[1:]
		s.encodeQueued = false
		if s.finished {
			continue
		}
		need := missingEmbeds(s)
		if len(need) == 0 {
			s.s.Blocked = false
			continue
		}
		if e.emb == nil {
			e.failSeq(s, fmt.Errorf("engine: a prompt has media but the model has no encoder"))
			continue
		}
		copies := make([]*input.Span, len(need))
		for i, sp := range need {
			c := *sp
			copies[i] = &c
		}
		ctx, cancel := context.WithCancel(s.ctx)
		stop := context.AfterFunc(e.runCtx, cancel)
		e.enc.inFlight = s
		s.cancelEncode = func() { stop(); cancel() }
		e.enc.jobs <- encodeJob{ctx: ctx, s: s, spans: copies, cancel: s.cancelEncode}
	}
}

// encoded takes a finished job on the loop goroutine.
func (e *Engine) encoded(d encodeDone) {
	s := d.job.s
	e.enc.inFlight, s.cancelEncode = nil, nil
	defer e.dispatch()
	if s.finished {
		return
	}
	if d.err != nil {
		if s.ctx.Err() != nil || e.runCtx.Err() != nil {
			return // reap or shutdown ends it
		}
		e.failSeq(s, fmt.Errorf("engine: encoding media: %w", d.err))
		return
	}
	for _, c := range d.job.spans {
		sp := spanAt(s, c.Start)
		if c.Embeds == nil || sp == nil || c.Embeds.Rows() != sp.Len {
			e.failSeq(s, fmt.Errorf("engine: the encoder returned no embeddings for the span at %d", c.Start))
			return
		}
		if sp.Embeds == nil {
			sp.Embeds = c.Embeds
		}
	}
	s.s.Blocked = false
	e.needEncoding(s) // a retraction meanwhile may need more
}

func spanAt(s *seq, start int) *input.Span {
	for i := range s.req.Prompt.Spans {
		if s.req.Prompt.Spans[i].Start == start {
			return &s.req.Prompt.Spans[i]
		}
	}
	return nil
}

// failSeq ends one sequence with an internal error.
func (e *Engine) failSeq(s *seq, err error) {
	e.cfg.Logger.Error("request failed", "rid", s.req.RID, "err", err)
	s.pending.Err = err
	r := sample.Failure("Internal server error: " + err.Error())
	e.finish(s, &r)
}

// Turns hands out foreground turns on the compute backend
// (arbiter.Arbiter): the engine holds one for each forward step, and media
// encoding, which runs in background turns, yields to it.
type Turns interface {
	Foreground() (release func())
}

var errStalled = errors.New("engine: no progress possible (scheduler invariant broken)")

// checkSplice verifies that every span row the batch computes has embeddings.
func checkSplice(b *input.Batch) error {
	for _, sp := range b.Splice {
		if sp.Embeds == nil {
			return fmt.Errorf("engine: rows %d..%d have no embeddings", sp.Row, sp.Row+sp.Len)
		}
	}
	return nil
}
