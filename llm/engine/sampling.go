package engine

import (
	"math"

	"github.com/sightline/sightline/llm/sample"
)

// primeTokens of the prompt prime each output detokenizer, as SGLang's
// incremental detokenization offset, so the first output token decodes with
// its context (SentencePiece keeps its leading space).
const primeTokens = 5

// initSampling builds the sampler, stop checker and detokenizer of s.
func (e *Engine) initSampling(s *seq) error {
	p := &s.req.Params
	s.eos = map[int32]bool{}
	for _, id := range e.cfg.EOS {
		s.eos[id] = true
	}
	var suppress []int32
	if !p.IgnoreEOS {
		suppress = append(suppress, e.cfg.EOS...)
	}
	suppress = append(suppress, p.StopTokenIDs...)
	opts := sample.Options{Vocab: e.m.Config().Vocab, Seed: e.cfg.Seed ^ s.id*0x9e3779b97f4a7c15, Suppress: suppress, Scratch: &e.scratch}
	if s.req.LogitProcessor != nil {
		opts.LogitProcessors = []sample.LogitProcessor{s.req.LogitProcessor}
	}
	var err error
	if s.sampler, err = sample.NewSampler(p, opts); err != nil {
		return err
	}
	if s.stop, err = sample.NewStopChecker(p.Stop, p.StopRegex, p.NoStopTrim); err != nil {
		return err
	}
	if e.tok != nil {
		s.text = e.tok.NewStream(p.SkipSpecialTokens, p.SpacesBetweenSpecialTokens)
		s.text.Prime(s.tokens[max(0, len(s.tokens)-primeTokens):])
	}
	if s.req.Grammar != nil {
		s.mask = make([]uint64, (opts.Vocab+63)/64)
	}
	return nil
}

// draw samples a token and, when requested, its logprob data.
func (s *seq) draw(row []float32, mask []uint64) (int32, *TokenLogprob, error) {
	tok, err := s.sampler.Sample(row, mask)
	if err != nil {
		return 0, nil, err
	}
	var lp *TokenLogprob
	if o := s.req.Logprobs; o.Return {
		d := s.sampler.Dist()
		lp = s.logprobOf(&d, tok)
	}
	s.sampler.Accept(tok)
	return tok, lp, nil
}

// logprobOf fills one position's logprob data from a distribution.
func (s *seq) logprobOf(d *sample.Dist, tok int32) *TokenLogprob {
	o := s.req.Logprobs
	lp := &TokenLogprob{ID: tok, Logprob: d.Logprob(tok)}
	if o.TopN > 0 {
		for _, t := range d.Top(o.TopN, nil) {
			lp.Top = append(lp.Top, Alt{ID: t.ID, Logprob: t.Logprob})
		}
	}
	if len(o.TokenIDs) > 0 {
		vals := d.Logprobs(o.TokenIDs, nil)
		for i, id := range o.TokenIDs {
			lp.IDs = append(lp.IDs, Alt{ID: id, Logprob: vals[i]})
		}
	}
	return lp
}

// promptLogprob records the logprob of prompt token pos+1 from row pos (the
// logits after token pos), and the null entry of position 0.
func (e *Engine) promptLogprob(s *seq, pos int, row []float32) {
	o := s.req.Logprobs
	k := min(o.StartLen, s.nPrompt-1)
	if s.inputLP == nil {
		s.inputLP = make([]TokenLogprob, s.nPrompt-k)
		if k == 0 {
			s.inputLP[0] = TokenLogprob{ID: s.tokens[0], Logprob: float32(math.NaN())}
		}
	}
	j := pos + 1
	if j < k || j >= s.nPrompt {
		return
	}
	d := sample.NewDist(row, s.req.Params.LogprobTemperature())
	s.inputLP[j-k] = *s.logprobOf(&d, s.tokens[j])
}

// addText feeds tok to the detokenizer and the stop checker; it returns the
// newly stable text.
func (s *seq) addText(tok int32) (string, *sample.FinishReason) {
	if s.text == nil {
		return "", nil
	}
	piece := s.text.Add(tok)
	n := len(s.tokens) - s.nPrompt
	m, hit := s.stop.Feed(piece, n >= s.req.Params.MinNewTokens)
	var fr *sample.FinishReason
	if hit {
		r := m.Reason()
		fr = &r
	}
	return s.stable(), fr
}

// stable returns the text that can no longer change, not sent before.
func (s *seq) stable() string {
	t := s.stop.Text()
	n := min(s.stop.Stable(), len(t))
	if n <= s.sent {
		return ""
	}
	out := t[s.sent:n]
	s.sent = n
	return out
}

// finalText flushes the detokenizer and returns the complete output text.
func (s *seq) finalText(fr *sample.FinishReason) string {
	if s.text == nil {
		return ""
	}
	if !(fr.Type == sample.FinishStop && fr.ByText) {
		if tail := s.text.Flush(); tail != "" {
			s.stop.Feed(tail, false)
		}
	}
	return s.stop.Text()
}

// grammarMask computes the allowed tokens of s; EOS is allowed once the
// grammar is complete.
func (e *Engine) grammarMask(s *seq) ([]uint64, error) {
	g := s.req.Grammar
	if err := g.FillMask(s.mask); err != nil && !g.Done() {
		return nil, err
	}
	if g.Done() {
		for id := range s.eos {
			if int(id)/64 < len(s.mask) {
				s.mask[id/64] |= 1 << (uint(id) % 64)
			}
		}
	}
	return s.mask, nil
}
