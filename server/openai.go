package server

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/server/api"
	"github.com/sightline/sightline/server/chat"
)

// readOpenAI checks the media type and decodes the body into v.
func readOpenAI(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return badf("Unsupported Media Type: Only 'application/json' is allowed")
	}
	return decodeOpenAIBody(r, v)
}

// decodeOpenAIBody decodes the body into v as the OpenAI routes do (any
// media type: the tokenize routes do not check it).
func decodeOpenAIBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return api.DecodeOpenAI(body, v)
}

// checkModel accepts the served name, "default", or "<served>:<adapter>".
func (s *Server) checkModel(name string) error {
	if name == "" || name == "default" || name == s.cfg.ServedModelName {
		return nil
	}
	if strings.HasPrefix(name, s.cfg.ServedModelName+":") {
		return badf("LoRA is not enabled: cannot serve adapter %q.", name)
	}
	return badf("The model `%s` does not exist. The served model name is `%s`.", name, s.cfg.ServedModelName)
}

// chatDefaults are the sampling defaults of chat completions (docs/api.md §6).
func (s *Server) chatDefaults() (sample.Params, error) {
	if s.cfg.SamplingDefaults == "openai" || s.cfg.Generation == nil {
		return sample.GenerationDefaults(nil)
	}
	return sample.GenerationDefaults(s.cfg.Generation)
}

// openAIParams maps the OpenAI sampling fields shared by chat and completions.
type openAIParams struct {
	maxTokens                                *int
	temperature, topP, minP, rep, pres, freq *float64
	topK, n, minTokens                       *int
	stop, stopTokenIDs, stopRegex, logitBias json.RawMessage
	seed                                     *int64
	regex, ebnf                              *string
	noStopTrim, ignoreEOS                    bool
	skipSpecial                              *bool
	responseFormat                           json.RawMessage
	customParams                             json.RawMessage
}

func (o openAIParams) apply(p sample.Params) (sample.Params, error) {
	p.MaxNewTokens = o.maxTokens
	for _, f := range []struct {
		src *float64
		dst *float64
	}{{o.temperature, &p.Temperature}, {o.topP, &p.TopP}, {o.minP, &p.MinP}, {o.rep, &p.RepetitionPenalty},
		{o.pres, &p.PresencePenalty}, {o.freq, &p.FrequencyPenalty}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if o.topK != nil {
		p.TopK = *o.topK
	}
	if o.n != nil {
		p.N = *o.n
	}
	if o.minTokens != nil {
		p.MinNewTokens = *o.minTokens
	}
	raw := map[string]json.RawMessage{}
	for k, v := range map[string]json.RawMessage{"stop": o.stop, "stop_token_ids": o.stopTokenIDs, "stop_regex": o.stopRegex, "logit_bias": o.logitBias} {
		if rawSet(v) {
			raw[k] = v
		}
	}
	if len(raw) > 0 {
		b, _ := json.Marshal(raw)
		var err error
		if p, err = sample.ParseParams(b, p); err != nil {
			return p, err
		}
	}
	p.SamplingSeed = o.seed
	p.Regex, p.EBNF = o.regex, o.ebnf
	p.NoStopTrim, p.IgnoreEOS = o.noStopTrim, o.ignoreEOS
	if o.skipSpecial != nil {
		p.SkipSpecialTokens = *o.skipSpecial
	}
	p.CustomParams = o.customParams
	if rawSet(o.responseFormat) {
		var rf struct {
			Type       string          `json:"type"`
			JSONSchema json.RawMessage `json:"json_schema"`
			Schema     json.RawMessage `json:"schema"`
		}
		if err := json.Unmarshal(o.responseFormat, &rf); err != nil {
			return p, badf("response_format must be an object with a type.")
		}
		switch rf.Type {
		case "text", "":
		case "json_object":
			schema := `{"type":"object"}`
			p.JSONSchema = &schema
		case "json_schema":
			var js struct {
				Schema json.RawMessage `json:"schema"`
			}
			_ = json.Unmarshal(rf.JSONSchema, &js)
			sch := js.Schema
			if !rawSet(sch) {
				sch = rf.Schema
			}
			if !rawSet(sch) {
				return p, badf("schema_ is required for json_schema response format request.")
			}
			str := string(sch)
			p.JSONSchema = &str
		case "structural_tag":
			str := string(o.responseFormat)
			p.StructuralTag = &str
		default:
			return p, badf("response_format type %q is not supported.", rf.Type)
		}
	}
	return p, nil
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var req api.ChatRequest
	if err := readOpenAI(r, &req); err != nil {
		s.failOpenAI(w, err)
		return
	}
	jobs, prompt, ct, err := s.prepareChat(r.Context(), &req)
	if err != nil {
		s.failOpenAI(w, err)
		return
	}
	outs := make([]*chatOutput, len(jobs))
	for i := range jobs {
		if outs[i], err = s.newChatOutput(ct, thinkingOn(&req), req.SeparateReasoning == nil || *req.SeparateReasoning); err != nil {
			s.failOpenAI(w, err)
			return
		}
	}
	if err := s.submit(r.Context(), jobs); err != nil {
		s.failOpenAI(w, err)
		return
	}
	id := "chatcmpl-" + newID()
	if req.RID != nil && *req.RID != "" {
		id = *req.RID
	}
	model := req.Model
	if model == "" {
		model = "default"
	}
	if req.Stream {
		s.streamChat(w, r, jobs, outs, prompt, id, model, &req)
		return
	}
	if err := s.wait(r.Context(), jobs); err != nil {
		s.failOpenAI(w, err)
		return
	}
	var choices []map[string]any
	for i, j := range jobs {
		if err := abortError(j.out.finish, j.out.err); err != nil {
			s.failOpenAI(w, err)
			return
		}
		content, reasoningContent, calls := outs[i].message(j.out.text)
		var toolCalls any
		if len(calls) > 0 {
			toolCalls = calls
		}
		c := map[string]any{"index": j.item.Index,
			"message":  map[string]any{"role": "assistant", "content": content, "reasoning_content": reasoningContent, "tool_calls": toolCalls},
			"logprobs": nil, "finish_reason": outs[i].finish(j.out.finish), "matched_stop": matchedStop(j.out.finish)}
		if req.Logprobs {
			c["logprobs"] = map[string]any{"content": s.chatLogprobs(j.out.lps)}
		}
		if req.ReturnPromptIDs {
			c["prompt_token_ids"] = prompt.Tokens
		}
		choices = append(choices, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "chat.completion", "created": time.Now().Unix(),
		"model": model, "choices": choices, "usage": s.chatUsage(jobs, outs, prompt),
		"metadata": map[string]any{"weight_version": "default"}})
}

// prepareChat renders the conversation and builds the n jobs.
func (s *Server) prepareChat(ctx context.Context, req *api.ChatRequest) ([]*job, *input.Prompt, *chatTools, error) {
	fail := func(err error) ([]*job, *input.Prompt, *chatTools, error) { return nil, nil, nil, err }
	if err := s.checkModel(req.Model); err != nil {
		return fail(err)
	}
	if req.Stream && (req.ReturnPromptIDs || req.ReturnMetaInfo || req.ReturnCachedDetails) {
		return fail(badf("return_prompt_token_ids, return_meta_info and return_cached_tokens_details are not supported with streaming."))
	}
	ct, err := parseTools(req)
	if err != nil {
		return fail(err)
	}
	maxTok := req.MaxCompletionTokens
	if maxTok == nil || *maxTok == 0 {
		maxTok = req.MaxTokens
	}
	if maxTok != nil && *maxTok == 0 {
		maxTok = nil
	}
	if maxTok != nil && *maxTok > s.eng.ContextLen() {
		return fail(badf("max_completion_tokens is too large: %d.This model supports at most %d completion tokens.", *maxTok, s.eng.ContextLen()))
	}
	var prompt *input.Prompt
	if len(req.InputIDs) > 0 {
		prompt, err = s.buildPrompt(ctx, promptInput{ids: req.InputIDs, salt: cacheSalt(req.CacheSalt, req.ExtraKey)})
	} else {
		prompt, err = s.renderChat(ctx, req, ct)
	}
	if err != nil {
		return fail(err)
	}
	base, err := s.chatDefaults()
	if err != nil {
		return fail(err)
	}
	params, err := openAIParams{maxTokens: maxTok, temperature: req.Temperature, topP: req.TopP, minP: req.MinP,
		rep: req.RepetitionPenalty, pres: req.PresencePenalty, freq: req.FrequencyPenalty, topK: req.TopK, n: req.N,
		minTokens: req.MinTokens, stop: req.Stop, stopTokenIDs: req.StopTokenIDs, stopRegex: req.StopRegex,
		logitBias: req.LogitBias, seed: req.Seed, regex: req.Regex, ebnf: req.EBNF, noStopTrim: req.NoStopTrim,
		ignoreEOS: req.IgnoreEOS, skipSpecial: req.SkipSpecialTokens, responseFormat: req.ResponseFormat,
		customParams: req.CustomParams}.apply(base)
	if err != nil {
		return fail(err)
	}
	// tool_choice required/named: constrain the turn to the tools' schemas,
	// unless the request brings its own grammar (which wins, as in SGLang).
	if sch := ct.schema(); sch != "" && params.JSONSchema == nil && params.Regex == nil && params.EBNF == nil && params.StructuralTag == nil {
		params.JSONSchema = &sch
	}
	top := 0
	if req.TopLogprobs != nil {
		top = *req.TopLogprobs
	}
	jobs, prompt, err := s.fanOut(prompt, params, engine.LogprobOptions{Return: req.Logprobs, StartLen: -1, TopN: top, Text: true},
		req.RID, req.CustomLogitProc, req.LoraPath, req.ReturnHiddenStates)
	return jobs, prompt, ct, err
}

// thinkingOn reports whether the request leaves the model's thinking on
// (chat_template_kwargs enable_thinking / thinking false, or reasoning_effort
// "none", turn it off: the template gets the same, see templateKwargs).
func thinkingOn(req *api.ChatRequest) bool {
	var effort string
	if json.Unmarshal(req.ReasoningEffort, &effort) == nil && effort == "none" {
		return false
	}
	var kw map[string]json.RawMessage
	if json.Unmarshal(req.ChatTemplateKwargs, &kw) != nil {
		return true
	}
	for _, k := range []string{"enable_thinking", "thinking"} {
		var on bool
		if json.Unmarshal(kw[k], &on) == nil && !on {
			return false
		}
	}
	return true
}

// fanOut builds the n jobs of one prompt.
func (s *Server) fanOut(prompt *input.Prompt, params sample.Params, lp engine.LogprobOptions, rid, proc, lora *string, hidden bool) ([]*job, *input.Prompt, error) {
	n := max(params.N, 1)
	if n > s.cfg.MaxBatch {
		return nil, nil, badf("n = %d exceeds the server's limit of %d.", n, s.cfg.MaxBatch)
	}
	var jobs []*job
	for k := 0; k < n; k++ {
		id := newID()
		if rid != nil && *rid != "" && n == 1 {
			id = *rid
		}
		er, err := s.buildRequest(prompt, itemOptions{rid: id, params: params, logprobs: lp, hidden: hidden, customProcessor: proc, lora: lora})
		if err != nil {
			return nil, nil, err
		}
		if k > 0 {
			er.Leader = jobs[0].req
		}
		jobs = append(jobs, &job{item: api.Item{Index: k, Sample: k, RID: id}, prompt: prompt, req: er})
	}
	return jobs, prompt, nil
}

// renderChat applies the chat template and tokenizes the result.
func (s *Server) renderChat(ctx context.Context, req *api.ChatRequest, ct *chatTools) (*input.Prompt, error) {
	if s.tmpl == nil {
		return nil, badf("This model has no chat template; start the server with --chat-template FILE or use /v1/completions.")
	}
	cp, err := prepareMessages(req.Messages, s.tmplStructured, req.ContinueFinal)
	if err != nil {
		return nil, err
	}
	rc := chat.RenderContext{Messages: cp.messages, AddGenerationPrompt: true, Special: s.tok.SpecialTokens()}
	if ct.mode != toolsNone {
		rc.Tools = req.Tools // tool_choice "none" renders as if no tools were given
	}
	extra, err := s.templateKwargs(req)
	if err != nil {
		return nil, err
	}
	rc.Extra = extra
	text, err := s.tmpl.Render(ctx, rc)
	if err != nil {
		return nil, err
	}
	text += cp.suffix
	return s.buildPrompt(ctx, promptInput{text: &text, images: cp.images, audios: cp.audios, addSpecial: false,
		salt: cacheSalt(req.CacheSalt, req.ExtraKey)})
}

// templateKwargs merges chat_template_kwargs and reasoning_effort.
func (s *Server) templateKwargs(req *api.ChatRequest) (json.RawMessage, error) {
	kw := map[string]json.RawMessage{}
	if rawSet(req.ChatTemplateKwargs) {
		if err := json.Unmarshal(req.ChatTemplateKwargs, &kw); err != nil {
			return nil, badf("chat_template_kwargs must be an object.")
		}
	}
	var effort string
	if json.Unmarshal(req.ReasoningEffort, &effort) == nil && effort != "" {
		kw["reasoning_effort"] = mustJSON(effort)
		if effort == "none" {
			kw["thinking"], kw["enable_thinking"] = mustJSON(false), mustJSON(false)
		}
	}
	if len(kw) == 0 {
		return nil, nil
	}
	return json.Marshal(kw)
}

func finishName(fr *sample.FinishReason) any {
	if fr == nil {
		return nil
	}
	return string(fr.Type)
}

func matchedStop(fr *sample.FinishReason) any {
	if fr == nil || fr.Type != sample.FinishStop {
		return nil
	}
	if fr.ByText {
		return fr.Text
	}
	return fr.Token
}

// chatLogprobs renders OpenAI chat logprobs content entries.
func (s *Server) chatLogprobs(lps []engine.TokenLogprob) []any {
	out := []any{}
	entry := func(id int32, lp float32) map[string]any {
		t := s.tokenText(id)
		b := []int{}
		for _, c := range []byte(t) {
			b = append(b, int(c))
		}
		v := float64(lp)
		if math.IsInf(v, -1) || math.IsNaN(v) {
			v = float64(sample.LogprobFloor)
		}
		return map[string]any{"token": t, "bytes": b, "logprob": v}
	}
	for _, l := range lps {
		e := entry(l.ID, l.Logprob)
		top := []any{}
		seen := map[string]bool{}
		for _, a := range l.Top {
			te := entry(a.ID, a.Logprob)
			if seen[te["token"].(string)] {
				continue
			}
			seen[te["token"].(string)] = true
			top = append(top, te)
		}
		e["top_logprobs"] = top
		out = append(out, e)
	}
	return out
}

// chatUsage is usage with the reasoning tokens of the choices.
func (s *Server) chatUsage(jobs []*job, outs []*chatOutput, prompt *input.Prompt) map[string]any {
	u := s.usage(jobs, []*input.Prompt{prompt})
	n := 0
	for _, o := range outs {
		n += o.reasoningTokens(s.tok)
	}
	u["reasoning_tokens"] = n
	return u
}

// usage aggregates token counts (prompts once each, completions summed).
func (s *Server) usage(jobs []*job, prompts []*input.Prompt) map[string]any {
	pt, ct, cached := 0, 0, 0
	for _, p := range prompts {
		pt += len(p.Tokens)
	}
	for _, j := range jobs {
		ct += len(j.out.tokens)
		if j.item.Sample == 0 {
			cached += j.out.usage.CachedTokens
		}
	}
	u := map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct, "reasoning_tokens": 0, "prompt_tokens_details": nil}
	details := map[string]any{}
	if s.cfg.EnableCacheReport && cached > 0 {
		details["cached_tokens"] = cached
	}
	for _, p := range prompts {
		im, au := mediaCounts(p)
		if im > 0 {
			details["image_tokens"] = im
		}
		if au > 0 {
			details["audio_tokens"] = au
		}
	}
	if len(details) > 0 {
		u["prompt_tokens_details"] = details
	}
	return u
}
