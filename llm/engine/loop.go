package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/sched"
)

// admit takes a submitted sequence into the loop: followers of a leader whose
// prompt is not cached yet wait; others match the prefix cache and queue.
func (e *Engine) admit(s *seq) {
	e.nextID++
	s.id = e.nextID
	e.stats.Submitted.Add(-1)
	s.tokens = slices.Clone(s.req.Prompt.Tokens)
	s.keys = s.req.Prompt.Keys()
	if err := e.initSampling(s); err != nil {
		s.fail(err)
		return
	}
	if l := e.leaderOf(s); l != nil {
		l.followers = append(l.followers, s)
		e.held = append(e.held, s)
		e.gauges()
		return
	}
	e.enqueue(s)
}

// leaderOf returns the running leader s must wait for, if any.
func (e *Engine) leaderOf(s *seq) *seq {
	if s.req.Leader == nil {
		return nil
	}
	for _, q := range e.seqs {
		if q.req == s.req.Leader && !q.finished && !q.s.Prefilled {
			return q
		}
	}
	return nil
}

// enqueue matches the prefix cache and hands s to the scheduler.
func (e *Engine) enqueue(s *seq) {
	limit := s.nPrompt - 1
	if lp := s.req.Logprobs; lp.Return && lp.StartLen >= 0 {
		limit = min(limit, max(0, lp.StartLen-1)) // prompt logprob rows must be computed
	}
	if s.req.PromptLogits {
		limit = 0
	}
	h := e.pc.Match(s.keys, limit)
	if h.Len() > 0 {
		pages := slices.Clone(h.Pages())
		if err := e.pc.Lock(h); err == nil {
			if err := e.kv.Retain(pages); err != nil {
				_ = e.pc.Unlock(h)
			} else {
				s.lock, s.pages, s.cached = h, pages, h.Len()
			}
		}
	}
	s.s = &sched.Seq{ID: s.id, Arrival: e.nextArrival(), Len: len(s.tokens), Cached: s.cached, Pages: len(s.pages)}
	e.seqs[s.id] = s
	e.sched.Add(s.s)
	s.admitted = true
	e.stats.Requests.Add(1)
	e.stats.PromptTokens.Add(int64(s.nPrompt))
	e.stats.CachedTokens.Add(int64(s.cached))
	e.gauges()
	e.needEncoding(s) // last: it may fail s (no encoder), which must be admitted by then
}

func (e *Engine) nextArrival() int64 { e.arrival++; return e.arrival }

// reap finishes sequences whose client went away or that were aborted.
func (e *Engine) reap() {
	for _, s := range e.allSeqs() {
		if s.finished {
			continue
		}
		if s.abortMsg == "" && s.ctx.Err() == nil {
			continue
		}
		msg := s.abortMsg
		if msg == "" {
			msg = "Client disconnected."
		}
		r := sample.Abort(msg)
		e.finish(s, &r)
	}
}

// failAll ends every sequence with an internal error (a failed forward).
func (e *Engine) failAll(err error) {
	e.cfg.Logger.Error("engine step failed", "err", err)
	for _, s := range e.allSeqs() {
		if !s.finished {
			s.pending.Err = fmt.Errorf("engine: %w", err)
			r := sample.Failure("Internal server error.")
			e.finish(s, &r)
		}
	}
}

// finish ends s: its cached pages go to the prefix cache, its own are released,
// and the final event is queued.
func (e *Engine) finish(s *seq, fr *sample.FinishReason) {
	if s.finished {
		return
	}
	s.finished = true
	if s.cancelEncode != nil {
		s.cancelEncode()
	}
	if s.admitted {
		e.cacheSeq(s)
		e.sched.Remove(s.id)
		delete(e.seqs, s.id)
		if err := e.kv.Release(s.pages); err != nil {
			e.cfg.Logger.Error("engine: page accounting", "err", err)
		}
		if err := e.pc.Unlock(s.lock); err != nil {
			e.cfg.Logger.Error("engine: prefix lock", "err", err)
		}
		s.pages, s.lock = nil, prefixZero
		e.releaseFollowers(s)
	} else {
		e.held = slices.DeleteFunc(e.held, func(q *seq) bool { return q == s })
	}
	e.gauges()
	if s.text != nil {
		s.pending.FullText = s.finalText(fr)
		if s.sent < len(s.pending.FullText) {
			s.pending.Text += s.pending.FullText[s.sent:]
			s.sent = len(s.pending.FullText)
		}
	}
	if s.inputLPPending() && s.inputLP != nil {
		s.pending.InputLogprobs = s.inputLP
	}
	s.pending.PromptLogits = s.promptLogits
	s.pending.Finish = fr
	s.pending.Usage = s.usage()
	s.pending.Usage.Latency = timeSince(s.start)
	s.hasPending = true
	e.drain = append(e.drain, s)
}

// releaseFollowers lets n>1 siblings in once their leader's prompt is cached
// (or the leader is gone).
func (e *Engine) releaseFollowers(l *seq) {
	for _, f := range l.followers {
		if f.finished {
			continue
		}
		e.held = slices.DeleteFunc(e.held, func(q *seq) bool { return q == f })
		e.enqueue(f)
	}
	l.followers = nil
}

// cacheSeq inserts the sequence's whole computed pages into the prefix cache
// and moves its lock to the inserted path.
func (e *Engine) cacheSeq(s *seq) {
	full := s.s.Cached / e.cfg.PageSize
	if full == 0 || len(s.pages) < full {
		return
	}
	keys := s.keys
	if s.s.Cached > len(keys) { // output tokens are cached too (a follow-up turn reuses them)
		keys = append(slices.Clone(keys), s.req.Prompt.TokenKeys(s.tokens[len(keys):s.s.Cached])...)
	}
	ins, err := e.pc.Insert(keys, s.pages[:full])
	if err != nil {
		e.cfg.Logger.Error("engine: prefix insert", "err", err)
		return
	}
	if err := e.kv.Retain(ins.Taken); err != nil {
		e.cfg.Logger.Error("engine: prefix retain", "err", err)
		return
	}
	// Pages whose keys were already cached (computed meanwhile by another
	// request) are swapped for the cache's copies, so no KV is held twice.
	path := ins.Handle.Pages()
	for i := 0; i < ins.Dup && i < full && i < len(path); i++ {
		if s.pages[i] == path[i] {
			continue
		}
		if err := e.kv.Retain(path[i : i+1]); err != nil {
			e.cfg.Logger.Error("engine: prefix retain", "err", err)
			break
		}
		if err := e.kv.Release(s.pages[i : i+1]); err != nil {
			e.cfg.Logger.Error("engine: page accounting", "err", err)
		}
		s.pages[i] = path[i]
	}
	if ins.Handle.Len() > s.lock.Len() {
		if err := e.pc.Lock(ins.Handle); err == nil {
			if err := e.pc.Unlock(s.lock); err != nil {
				e.cfg.Logger.Error("engine: prefix unlock", "err", err)
			}
			s.lock = ins.Handle
		}
	}
}

// deliverAll pushes pending events without blocking; a finished sequence's
// channel closes once its final event is delivered (or its consumer left).
func (e *Engine) deliverAll() {
	for _, s := range e.seqs {
		s.deliver()
	}
	kept := e.drain[:0]
	for _, s := range e.drain {
		if s.deliver() || s.ctx.Err() != nil {
			close(s.out)
			continue
		}
		kept = append(kept, s)
	}
	e.drain = kept
}

// deliver tries to send the pending event; it reports whether nothing is left.
func (s *seq) deliver() bool {
	if !s.hasPending {
		return true
	}
	select {
	case s.out <- s.pending:
		s.pending, s.hasPending = Event{}, false
		return true
	default:
		return false
	}
}

// queue merges an event into the undelivered one.
func (s *seq) queue(ev Event) {
	if s.inputLP != nil && !s.inputLPSent {
		ev.InputLogprobs, s.inputLPSent = s.inputLP, true
	}
	p := &s.pending
	p.Tokens = append(p.Tokens, ev.Tokens...)
	p.Text += ev.Text
	p.Logprobs = append(p.Logprobs, ev.Logprobs...)
	if ev.InputLogprobs != nil {
		p.InputLogprobs = ev.InputLogprobs
	}
	p.Usage = s.usage()
	s.hasPending = true
}

func (s *seq) usage() Usage {
	return Usage{PromptTokens: s.nPrompt, CompletionTokens: len(s.tokens) - s.nPrompt, CachedTokens: s.cached}
}

var errNoPages = errors.New("engine: KV pool exhausted")
