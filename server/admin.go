package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/server/api"
)

func (s *Server) modelCard() map[string]any {
	return map[string]any{"id": s.cfg.ServedModelName, "object": "model", "created": s.started.Unix(), "owned_by": "sightline",
		"root": s.cfg.ServedModelName, "parent": nil, "max_model_len": s.eng.ContextLen()}
}

func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{s.modelCard()}})
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	if name != s.cfg.ServedModelName {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"message": "The model '" + name + "' does not exist",
			"type": "invalid_request_error", "param": "model", "code": "model_not_found"}})
		return
	}
	writeJSON(w, http.StatusOK, s.modelCard())
}

// handleHealth answers 200 when the engine produced output recently, or
// when a 1-token probe completes within the health timeout (docs/api.md §8).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() || s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if last := s.lastOut.Load(); last != 0 && time.Since(time.Unix(0, last)) < s.cfg.HealthTimeout {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HealthTimeout)
	defer cancel()
	if err := s.probe(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// probe generates one greedy token from input_ids [0] (not counted in metrics).
func (s *Server) probe(ctx context.Context) error {
	p := sample.Defaults()
	one := 1
	p.MaxNewTokens, p.Temperature = &one, 0
	ch, err := s.eng.Submit(ctx, &engine.Request{RID: "health-" + newID(), Prompt: &input.Prompt{Tokens: []int32{0}}, Params: p,
		Logprobs: engine.LogprobOptions{StartLen: -1}})
	if err != nil {
		return err
	}
	var done bool
	for ev := range ch {
		if ev.Err != nil {
			return ev.Err
		}
		if ev.Finish != nil && ev.Finish.Type != sample.FinishAbort {
			done = true
		}
	}
	if !done {
		return errors.New("health probe did not finish")
	}
	return nil
}

func (s *Server) handleModelInfo(w http.ResponseWriter, _ *http.Request) {
	orNil := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_path": s.cfg.ModelPath, "tokenizer_path": s.cfg.ModelPath,
		"served_model_name": s.cfg.ServedModelName, "is_generation": true, "preferred_sampling_params": nil,
		"weight_version": "default", "load_format": "auto", "reasoning_parser": orNil(s.cfg.ReasoningParser),
		"tool_call_parser":        orNil(s.cfg.ToolCallParser),
		"has_image_understanding": s.canImage, "has_audio_understanding": s.canAudio})
}

func (s *Server) handleServerInfo(w http.ResponseWriter, _ *http.Request) {
	st := s.eng.Stats()
	info := map[string]any{}
	for k, v := range s.cfg.LaunchArgs {
		if k != "api_key" && k != "admin_api_key" {
			info[k] = v
		}
	}
	for k, v := range map[string]any{
		"version": s.cfg.Version, "max_total_num_tokens": s.eng.Capacity(), "model_path": s.cfg.ModelPath,
		"served_model_name": s.cfg.ServedModelName, "tokenizer_path": s.cfg.ModelPath, "max_context_length": s.eng.ContextLen(),
		"internal_states": []any{map[string]any{
			"last_gen_throughput": math.Float64frombits(st.LastGenThroughput.Load()),
			"memory_usage": map[string]any{"token_capacity": s.eng.Capacity(), "used_tokens": st.UsedTokens.Load(),
				"evictable_cached_tokens": st.CachedOnlyTokens.Load()},
			"num_running_reqs": st.Running.Load(), "num_queue_reqs": st.Waiting.Load() + st.Submitted.Load(),
		}},
	} {
		info[k] = v
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) handleFlush(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.eng.Flush(r.Context()); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "Cache flushed failed: "+err.Error()+"\n")
		return
	}
	if s.embCache != nil {
		s.embCache.Flush()
	}
	io.WriteString(w, "Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting requests, the operation will not be performed.)\n")
}

func (s *Server) handleAbort(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RID      string `json:"rid"`
		AbortAll bool   `json:"abort_all"`
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		err = json.Unmarshal(b, &body)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errNative(http.StatusBadRequest, "invalid abort_request body: "+err.Error()))
		return
	}
	if body.RID != "" || body.AbortAll {
		if err := s.eng.Abort(r.Context(), body.RID, body.AbortAll); err != nil {
			s.failNative(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model            string          `json:"model"`
		Prompt           json.RawMessage `json:"prompt"`
		Messages         json.RawMessage `json:"messages"`
		Tools            json.RawMessage `json:"tools"`
		ToolChoice       json.RawMessage `json:"tool_choice"`
		Kwargs           json.RawMessage `json:"chat_template_kwargs"`
		AddSpecialTokens *bool           `json:"add_special_tokens"`
	}
	if err := decodeOpenAIBody(r, &req); err != nil {
		s.failOpenAI(w, err)
		return
	}
	if rawSet(req.Prompt) == rawSet(req.Messages) {
		s.failOpenAI(w, badf("Exactly one of prompt and messages must be given."))
		return
	}
	addSpecial := req.AddSpecialTokens == nil || *req.AddSpecialTokens
	enc := func(text string, special bool) []int32 {
		return s.tok.EncodeOpts(text, tokenizer.EncodeOptions{AddSpecial: special, ParseSpecial: true})
	}
	if rawSet(req.Messages) {
		cr := &api.ChatRequest{Messages: req.Messages, Tools: req.Tools, ToolChoice: req.ToolChoice, ChatTemplateKwargs: req.Kwargs}
		ct, err := parseTools(cr)
		if err != nil {
			s.failOpenAI(w, err)
			return
		}
		p, err := s.renderChat(r.Context(), cr, ct)
		if err != nil {
			s.failOpenAI(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"tokens": p.Tokens, "count": len(p.Tokens), "max_model_len": s.eng.ContextLen()})
		return
	}
	var one string
	var many []string
	switch {
	case json.Unmarshal(req.Prompt, &one) == nil:
		ids := enc(one, addSpecial)
		writeJSON(w, http.StatusOK, map[string]any{"tokens": nonNil(ids), "count": len(ids), "max_model_len": s.eng.ContextLen()})
	case json.Unmarshal(req.Prompt, &many) == nil:
		toks, counts := [][]int32{}, []int{}
		for _, p := range many {
			ids := enc(p, addSpecial)
			toks, counts = append(toks, nonNil(ids)), append(counts, len(ids))
		}
		writeJSON(w, http.StatusOK, map[string]any{"tokens": toks, "count": counts, "max_model_len": s.eng.ContextLen()})
	default:
		s.failOpenAI(w, badf("prompt must be a string or a list of strings."))
	}
}

func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tokens            json.RawMessage `json:"tokens"`
		SkipSpecialTokens *bool           `json:"skip_special_tokens"`
	}
	if err := decodeOpenAIBody(r, &req); err != nil {
		s.failOpenAI(w, err)
		return
	}
	opts := tokenizer.DecodeOptions{SkipSpecial: req.SkipSpecialTokens == nil || *req.SkipSpecialTokens}
	check := func(ids []int64) ([]int32, error) {
		out := make([]int32, len(ids))
		for i, id := range ids {
			if id < 0 || id > math.MaxInt32 {
				return nil, badf("token id %d is not a valid token id.", id)
			}
			out[i] = int32(id)
		}
		return out, nil
	}
	var flat []int64
	var nested [][]int64
	switch {
	case json.Unmarshal(req.Tokens, &flat) == nil:
		ids, err := check(flat)
		if err != nil {
			s.failOpenAI(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"text": s.tok.Decode(ids, opts)})
	case json.Unmarshal(req.Tokens, &nested) == nil:
		texts := []string{}
		for _, l := range nested {
			ids, err := check(l)
			if err != nil {
				s.failOpenAI(w, err)
				return
			}
			texts = append(texts, s.tok.Decode(ids, opts))
		}
		writeJSON(w, http.StatusOK, map[string]any{"text": texts})
	default:
		s.failOpenAI(w, badf("tokens must be a list of integers or a list of such lists."))
	}
}

// Warmup sends one short request through the engine before the server reports ready.
func (s *Server) Warmup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := s.probe(ctx); err != nil {
		return err
	}
	s.lastOut.Store(time.Now().UnixNano())
	return nil
}

// HasChatTemplate reports whether chat completions can render prompts.
func (s *Server) HasChatTemplate() bool { return s.tmpl != nil }
