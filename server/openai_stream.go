package server

import (
	"net/http"
	"time"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/server/api"
)

// streamChat sends chat.completion.chunk events (docs/api.md §7.7): each
// choice's text goes through its chatOutput, so reasoning_content, content
// and tool_calls deltas come as the parsers release them.
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, jobs []*job, outs []*chatOutput, prompt *input.Prompt, id, model string, req *api.ChatRequest) {
	includeUsage := s.cfg.IncludeUsageByDefault || (req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
	continuous := req.StreamOptions != nil && req.StreamOptions.ContinuousUsageStats
	created := time.Now().Unix()
	outOf := map[*job]*chatOutput{}
	for i, j := range jobs {
		outOf[j] = outs[i]
	}
	chunk := func(choice map[string]any, usage any) map[string]any {
		var choices []any
		if choice != nil {
			choices = []any{choice}
		} else {
			choices = []any{}
		}
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices, "usage": usage}
	}
	s.streamOpenAI(w, r, jobs, func(j *job, first bool, text string, lpFrom int, final bool) []map[string]any {
		var out []map[string]any
		if first {
			out = append(out, chunk(map[string]any{"index": j.item.Index, "delta": map[string]any{"role": "assistant", "content": ""},
				"logprobs": nil, "finish_reason": nil, "matched_stop": nil}, nil))
		}
		o := outOf[j]
		deltas := o.feed(text)
		if final {
			deltas = append(deltas, o.flush()...)
		}
		lps := req.Logprobs && lpFrom < len(j.out.lps)
		if len(deltas) == 0 && lps {
			deltas = []map[string]any{{"content": ""}}
		}
		for k, d := range deltas {
			c := map[string]any{"index": j.item.Index, "delta": d, "logprobs": nil, "finish_reason": nil, "matched_stop": nil}
			if lps && k == 0 { // the tokens this event added ride on its first chunk
				c["logprobs"] = map[string]any{"content": s.chatLogprobs(j.out.lps[lpFrom:])}
			}
			var u any
			if continuous {
				u = s.usage([]*job{j}, []*input.Prompt{prompt})
			}
			out = append(out, chunk(c, u))
		}
		if final {
			out = append(out, chunk(map[string]any{"index": j.item.Index, "delta": map[string]any{}, "logprobs": nil,
				"finish_reason": o.finish(j.out.finish), "matched_stop": matchedStop(j.out.finish)}, nil))
		}
		return out
	}, func() map[string]any {
		if !includeUsage {
			return nil
		}
		return chunk(nil, s.chatUsage(jobs, outs, prompt))
	})
}

// streamOpenAI drives an OpenAI-style stream: per job, frame(...) renders the
// chunks for new text (first marks the job's first chunk, final its finish);
// tail renders the optional usage chunk. Text is sent as it becomes stable;
// the final chunk carries whatever the authoritative final text adds.
func (s *Server) streamOpenAI(w http.ResponseWriter, r *http.Request, jobs []*job,
	frame func(j *job, first bool, delta string, lpFrom int, final bool) []map[string]any, tail func() map[string]any) {
	out := newSSE(w)
	started := map[*job]bool{}
	sentText := map[*job]int{}
	sentLP := map[*job]int{}
	var failed bool
	for t := range fanIn(jobs) {
		j := t.j
		if t.end {
			j.trk.done()
			continue
		}
		j.trk.tokens(len(t.ev.Tokens))
		s.lastOut.Store(time.Now().UnixNano())
		j.out.add(t.ev)
		if failed || r.Context().Err() != nil {
			continue
		}
		if err := abortError(j.out.finish, j.out.err); err != nil {
			code := statusOf(err)
			if out.send(map[string]any{"error": errOpenAI(code, message(err), openAIType(code))}) != nil {
				failed = true
			}
			continue
		}
		text := j.out.text // grows by stable pieces; the final text may be shorter only after a regex stop
		delta := ""
		if len(text) > sentText[j] {
			delta = text[sentText[j]:]
		}
		for _, c := range frame(j, !started[j], delta, sentLP[j], j.out.done) {
			if out.send(c) != nil {
				failed = true
				break
			}
		}
		started[j] = true
		sentText[j] = max(sentText[j], len(text))
		sentLP[j] = len(j.out.lps)
	}
	if failed || r.Context().Err() != nil {
		return
	}
	if u := tail(); u != nil {
		_ = out.send(u)
	}
	_ = out.done()
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	var req api.CompletionRequest
	if err := readOpenAI(r, &req); err != nil {
		s.failOpenAI(w, err)
		return
	}
	jobs, prompts, texts, err := s.prepareCompletions(r.Context(), &req)
	if err != nil {
		s.failOpenAI(w, err)
		return
	}
	if err := s.submit(r.Context(), jobs); err != nil {
		s.failOpenAI(w, err)
		return
	}
	id := "cmpl-" + newID()
	model := req.Model
	if model == "" {
		model = "default"
	}
	created := time.Now().Unix()
	if req.Stream {
		includeUsage := s.cfg.IncludeUsageByDefault || (req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		s.streamOpenAI(w, r, jobs, func(j *job, first bool, delta string, lpFrom int, final bool) []map[string]any {
			if first && req.Echo {
				delta = texts[j.item.Prompt] + delta
			}
			if delta == "" && !final {
				return nil
			}
			c := map[string]any{"index": j.item.Index, "text": delta, "logprobs": nil, "finish_reason": nil, "matched_stop": nil}
			if req.Logprobs != nil {
				c["logprobs"] = s.legacyLogprobs(j, lpFrom, false)
			}
			if final {
				c["finish_reason"], c["matched_stop"] = finishName(j.out.finish), matchedStop(j.out.finish)
			}
			return []map[string]any{{"id": id, "object": "text_completion", "created": created, "model": model, "choices": []any{c}, "usage": nil}}
		}, func() map[string]any {
			if !includeUsage {
				return nil
			}
			return map[string]any{"id": id, "object": "text_completion", "created": created, "model": model, "choices": []any{}, "usage": s.usage(jobs, prompts)}
		})
		return
	}
	if err := s.wait(r.Context(), jobs); err != nil {
		s.failOpenAI(w, err)
		return
	}
	var choices []any
	for _, j := range jobs {
		if err := abortError(j.out.finish, j.out.err); err != nil {
			s.failOpenAI(w, err)
			return
		}
		text := j.out.text
		if req.Echo {
			text = texts[j.item.Prompt] + text
		}
		c := map[string]any{"index": j.item.Index, "text": text, "logprobs": nil,
			"finish_reason": finishName(j.out.finish), "matched_stop": matchedStop(j.out.finish)}
		if req.Logprobs != nil {
			c["logprobs"] = s.legacyLogprobs(j, 0, req.Echo)
		}
		choices = append(choices, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "text_completion", "created": created, "model": model,
		"choices": choices, "usage": s.usage(jobs, prompts)})
}
