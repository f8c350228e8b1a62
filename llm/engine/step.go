package engine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/sched"
	"github.com/sightline/sightline/llm/tensor"
)

var prefixZero prefix.Handle

func timeSince(t time.Time) time.Duration { return time.Since(t) }

// rowUse says what a logits row is for.
type rowUse struct {
	s      *seq
	pos    int  // token position the row computed
	sample bool // the row predicts the next output token
}

// step plans, runs and finishes one forward pass.
func (e *Engine) step(ctx context.Context) error {
	plan := e.sched.Next(memory{e})
	for _, q := range plan.Retract {
		e.needEncoding(e.seqs[q.ID]) // spans a dropped prefix hit covered need embeddings now
	}
	if need, free := plan.NewPages(), e.kv.Free(); need > free {
		if err := e.kv.Release(e.pc.Evict((need - free) * e.cfg.PageSize)); err != nil {
			return err
		}
	}
	for id, n := range plan.Pages {
		if n == 0 {
			continue
		}
		pages, err := e.kv.Alloc(n)
		if err != nil {
			return fmt.Errorf("%w: %v", errNoPages, err)
		}
		e.seqs[id].pages = append(e.seqs[id].pages, pages...)
	}
	e.gauges()
	if plan.Tokens() == 0 {
		if e.sched.Runnable() {
			ev, lk := e.pc.Size()
			held := ""
			for _, s := range e.allSeqs() {
				held += fmt.Sprintf(" %d:%d/%v", s.id, len(s.pages), s.lock.Len())
			}
			return fmt.Errorf("%w: %s; pages: %d available, %d free, %d used; prefix cache: %d evictable, %d locked tokens; held:%s", errStalled, e.sched, memory{e}.Available(), e.kv.Free(), e.kv.Used(), ev, lk, held)
		}
		return nil
	}
	b, uses, err := e.build(plan.Decode, plan.Prefill)
	if err != nil {
		return err
	}
	start := time.Now()
	logits, err := e.forward(ctx, b)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shutting down; Run aborts everyone
		}
		return err
	}
	e.sched.Commit(plan)
	e.stats.Steps.Add(1)
	vocab := logits.Cols()
	rows := logits.F32()
	generated := 0
	for i, u := range uses {
		row := rows[i*vocab : (i+1)*vocab]
		s := u.s
		if s.finished {
			continue
		}
		if s.req.PromptLogits && u.pos < s.nPrompt {
			if s.promptLogits == nil {
				s.promptLogits = make([]float32, s.nPrompt*vocab)
			}
			copy(s.promptLogits[u.pos*vocab:], row)
		}
		if !u.sample {
			if s.req.Logprobs.Return {
				e.promptLogprob(s, u.pos, row)
			}
			continue
		}
		e.sampleRow(s, row)
		generated++
	}
	for _, c := range plan.Prefill {
		s := e.seqs[c.Seq.ID]
		if s == nil || s.finished {
			continue
		}
		if c.To >= s.nPrompt {
			e.cacheSeq(s)
			e.releaseFollowers(s)
		}
	}
	if el := time.Since(start).Seconds(); el > 0 && generated > 0 {
		e.stats.LastGenThroughput.Store(f64bits(float64(generated) / el))
	}
	e.stats.GenTokens.Add(int64(generated))
	return nil
}

// memory is the scheduler's view of the KV pool and the prefix cache.
type memory struct{ e *Engine }

// Available counts free pages and pages only the prefix cache holds.
func (m memory) Available() int {
	ev, _ := m.e.pc.Size()
	return m.e.kv.Free() + ev/m.e.cfg.PageSize
}

// Release frees a retracted sequence's pages and prefix-cache lock.
func (m memory) Release(q *sched.Seq) {
	e := m.e
	s := e.seqs[q.ID]
	if err := e.kv.Release(s.pages); err != nil {
		e.cfg.Logger.Error("engine: page accounting", "err", err)
	}
	if err := e.pc.Unlock(s.lock); err != nil {
		e.cfg.Logger.Error("engine: prefix lock", "err", err)
	}
	s.pages, s.lock = nil, prefixZero
	e.stats.Retractions.Add(1)
}

// forward runs the model in a foreground turn.
func (e *Engine) forward(ctx context.Context, b *input.Batch) (*tensor.Tensor, error) {
	if e.cfg.Turns != nil {
		defer e.cfg.Turns.Foreground()()
	}
	return e.m.Forward(ctx, b, e.kv)
}

// build lays out the batch rows: decode rows first, then prefill chunks.
func (e *Engine) build(decode []*sched.Seq, prefill []sched.Chunk) (*input.Batch, []rowUse, error) {
	b := &input.Batch{}
	var uses []rowUse
	mrope := false
	type part struct {
		s        *seq
		from, to int
	}
	var parts []part
	for _, q := range decode {
		parts = append(parts, part{e.seqs[q.ID], q.Cached, q.Cached + 1})
	}
	for _, c := range prefill {
		parts = append(parts, part{e.seqs[c.Seq.ID], c.From, c.To})
	}
	for _, p := range parts {
		if p.s.req.Prompt.MRoPE != nil {
			mrope = true
		}
	}
	for _, p := range parts {
		s := p.s
		qstart := len(b.Tokens)
		lp := s.req.Logprobs
		for i := p.from; i < p.to; i++ {
			b.Tokens = append(b.Tokens, s.tokens[i])
			pos, pm := s.position(i)
			b.Pos = append(b.Pos, pos)
			b.PosM = append(b.PosM, pm)
			b.Slots = append(b.Slots, e.kv.Slot(s.pages, i))
			last := i == len(s.tokens)-1
			wantPrompt := lp.Return && lp.StartLen >= 0 && s.inputLPPending() && i < s.nPrompt-1 && i >= max(0, min(lp.StartLen, s.nPrompt-1)-1)
			if last || wantPrompt || (s.req.PromptLogits && i < s.nPrompt) {
				b.Logits = append(b.Logits, len(b.Tokens)-1)
				uses = append(uses, rowUse{s: s, pos: i, sample: last})
			}
		}
		for _, sp := range s.req.Prompt.Spans {
			if sp.Start < p.to && sp.Start+sp.Len > p.from {
				lo, hi := max(sp.Start, p.from), min(sp.Start+sp.Len, p.to)
				b.Splice = append(b.Splice, input.Splice{Row: qstart + lo - p.from, Len: hi - lo, Embeds: sp.Embeds, From: lo - sp.Start})
			}
		}
		b.Seqs = append(b.Seqs, input.SeqView{QStart: qstart, QLen: p.to - p.from, KVLen: p.to, Pages: s.pages})
	}
	if !mrope {
		b.PosM = nil
	}
	if err := checkSplice(b); err != nil {
		return nil, nil, err
	}
	return b, uses, nil
}

// position is token i's RoPE position (1-D and M-RoPE forms).
func (s *seq) position(i int) (int32, [3]int32) {
	pr := s.req.Prompt
	if pr.MRoPE != nil && i < s.nPrompt {
		m := pr.MRoPE[i]
		return m[0], m
	}
	p := int32(i)
	if i >= s.nPrompt {
		p += pr.PosDelta
	}
	return p, [3]int32{p, p, p}
}

// sampleRow draws the next token of s from its logits row and applies every
// stop rule.
func (e *Engine) sampleRow(s *seq, row []float32) {
	if s.maxNew == 0 { // prefill only (prompt logprobs)
		r := sample.LengthLimit(0)
		e.finish(s, &r)
		return
	}
	var mask []uint64
	if g := s.req.Grammar; g != nil {
		var err error
		if mask, err = e.grammarMask(s); err != nil {
			s.pending.Err = err
			r := sample.Failure("grammar: " + err.Error())
			e.finish(s, &r)
			return
		}
	}
	tok, lp, err := s.draw(row, mask)
	if err != nil {
		s.pending.Err = err
		r := sample.Failure(err.Error())
		e.finish(s, &r)
		return
	}
	if g := s.req.Grammar; g != nil && !s.eos[tok] {
		if err := g.Accept(tok); err != nil {
			s.pending.Err = fmt.Errorf("engine: grammar rejected a masked token: %w", err)
			r := sample.Failure("grammar error")
			e.finish(s, &r)
			return
		}
	}
	s.tokens = append(s.tokens, tok)
	s.s.Len++
	n := len(s.tokens) - s.nPrompt
	ev := Event{Tokens: []int32{tok}}
	if lp != nil {
		ev.Logprobs = []TokenLogprob{*lp}
	}
	p := &s.req.Params
	canStop := n >= p.MinNewTokens
	var fr *sample.FinishReason
	switch {
	case canStop && !p.IgnoreEOS && s.eos[tok], canStop && slices.Contains(p.StopTokenIDs, tok):
		r := sample.StopToken(tok)
		fr = &r
		if p.NoStopTrim {
			ev.Text, _ = s.addText(tok)
		}
	default:
		ev.Text, fr = s.addText(tok)
		if fr == nil && n >= s.maxNew {
			r := sample.LengthLimit(s.maxNew)
			fr = &r
		} else if g := s.req.Grammar; fr == nil && g != nil && g.Terminated() {
			r := sample.StopToken(tok)
			fr = &r
		}
	}
	s.queue(ev)
	if fr != nil {
		e.finish(s, fr)
	}
}

// f64bits stores a float in an atomic word.
func f64bits(f float64) uint64 { return math.Float64bits(f) }
