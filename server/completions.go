package server

import (
	"context"
	"encoding/json"
	"math"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/server/api"
)

// prepareCompletions builds len(prompts)·n jobs grouped by prompt.
func (s *Server) prepareCompletions(ctx context.Context, req *api.CompletionRequest) ([]*job, []*input.Prompt, []string, error) {
	if err := s.checkModel(req.Model); err != nil {
		return nil, nil, nil, err
	}
	maxTok := 16
	if req.MaxTokens != nil {
		maxTok = *req.MaxTokens
	}
	if maxTok <= 0 {
		return nil, nil, nil, badf("max_tokens must be positive")
	}
	strs, idLists, err := completionPrompts(req.Prompt)
	if err != nil {
		return nil, nil, nil, err
	}
	var inputs []promptInput
	var texts []string
	for i := range strs {
		inputs = append(inputs, promptInput{text: &strs[i], addSpecial: true})
		texts = append(texts, strs[i])
	}
	for _, l := range idLists {
		inputs = append(inputs, promptInput{ids: l})
		texts = append(texts, s.tok.Decode(l, tokenizer.DecodeOptions{}))
	}
	params, err := openAIParams{maxTokens: &maxTok, temperature: req.Temperature, topP: req.TopP, minP: req.MinP,
		rep: req.RepetitionPenalty, pres: req.PresencePenalty, freq: req.FrequencyPenalty, topK: req.TopK, n: req.N,
		minTokens: req.MinTokens, stop: req.Stop, stopTokenIDs: req.StopTokenIDs, stopRegex: req.StopRegex,
		logitBias: req.LogitBias, seed: req.Seed, regex: req.Regex, ebnf: req.EBNF, noStopTrim: req.NoStopTrim,
		ignoreEOS: req.IgnoreEOS, skipSpecial: req.SkipSpecialTokens, responseFormat: req.ResponseFormat,
		customParams: req.CustomParams}.apply(sample.Defaults())
	if err != nil {
		return nil, nil, nil, err
	}
	lp := engine.LogprobOptions{StartLen: -1, Text: true}
	if req.Logprobs != nil {
		lp.Return, lp.TopN = true, max(0, *req.Logprobs)
		if req.Echo {
			lp.StartLen = 0
		}
	}
	var jobs []*job
	var prompts []*input.Prompt
	for i, in := range inputs {
		in.salt = cacheSalt(req.CacheSalt, req.ExtraKey)
		p, err := s.buildPrompt(ctx, in)
		if err != nil {
			return nil, nil, nil, err
		}
		prompts = append(prompts, p)
		js, _, err := s.fanOut(p, params, lp, nil, req.CustomLogitProc, req.LoraPath, false)
		if err != nil {
			return nil, nil, nil, err
		}
		for k, j := range js {
			j.item.Prompt, j.item.Index = i, i*len(js)+k
		}
		jobs = append(jobs, js...)
		if len(jobs) > s.cfg.MaxBatch {
			return nil, nil, nil, badf("The request asks for %d completions; this server accepts at most %d.", len(jobs), s.cfg.MaxBatch)
		}
	}
	return jobs, prompts, texts, nil
}

// completionPrompts decodes prompt: a string, strings, token ids, or lists of ids.
func completionPrompts(raw json.RawMessage) ([]string, [][]int32, error) {
	empty := badf("Prompt cannot be empty")
	if !rawSet(raw) {
		return nil, nil, empty
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil, empty
		}
		return []string{one}, nil, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		if len(many) == 0 {
			return nil, nil, empty
		}
		for _, s := range many {
			if s == "" {
				return nil, nil, empty
			}
		}
		return many, nil, nil
	}
	var ids []int32
	if json.Unmarshal(raw, &ids) == nil {
		if len(ids) == 0 {
			return nil, nil, empty
		}
		return nil, [][]int32{ids}, validIDs(ids)
	}
	var lists [][]int32
	if json.Unmarshal(raw, &lists) == nil && len(lists) > 0 {
		for _, l := range lists {
			if len(l) == 0 {
				return nil, nil, empty
			}
			if err := validIDs(l); err != nil {
				return nil, nil, err
			}
		}
		return nil, lists, nil
	}
	return nil, nil, badf("prompt must be a string, a list of strings, a list of token ids or a list of such lists")
}

func validIDs(ids []int32) error {
	for _, id := range ids {
		if id < 0 {
			return badf("prompt token ids must be non-negative")
		}
	}
	return nil
}

// legacyLogprobs renders the /v1/completions logprobs object.
func (s *Server) legacyLogprobs(j *job, from int, echo bool) map[string]any {
	var tokens []string
	var lps []any
	var tops []any
	var offs []int
	add := func(t engine.TokenLogprob, first bool) {
		tokens = append(tokens, s.tokenText(t.ID))
		if first || math.IsNaN(float64(t.Logprob)) {
			lps = append(lps, nil)
			tops = append(tops, nil)
		} else {
			lps = append(lps, float64(t.Logprob))
			m := map[string]float64{}
			for _, a := range t.Top {
				k := s.tokenText(a.ID)
				if _, ok := m[k]; !ok {
					m[k] = float64(a.Logprob)
				}
			}
			tops = append(tops, m)
		}
		offs = append(offs, -1)
	}
	if echo && from == 0 {
		for i, t := range j.out.inLPs {
			add(t, i == 0)
		}
	}
	for _, t := range j.out.lps[min(from, len(j.out.lps)):] {
		add(t, false)
	}
	return map[string]any{"tokens": nonNilS(tokens), "token_logprobs": nonNilA(lps), "top_logprobs": nonNilA(tops), "text_offset": offs}
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilA(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}
