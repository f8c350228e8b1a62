package server

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/server/api"
)

// job is one submitted item of a request.
type job struct {
	item   api.Item
	prompt *input.Prompt
	req    *engine.Request
	ch     <-chan engine.Event
	out    output
	trk    *tracker
	batch  bool // frames carry "index"
	// incremental streaming: what earlier frames already carried
	sentText, sentTokens, sentLPs int
}

// output accumulates a job's events.
type output struct {
	tokens   []int32
	text     string
	lps      []engine.TokenLogprob
	inLPs    []engine.TokenLogprob
	finish   *sample.FinishReason
	usage    engine.Usage
	err      error
	done     bool
	finished time.Time
}

func (o *output) add(ev engine.Event) {
	o.tokens = append(o.tokens, ev.Tokens...)
	o.text += ev.Text
	o.lps = append(o.lps, ev.Logprobs...)
	if ev.InputLogprobs != nil {
		o.inLPs = ev.InputLogprobs
	}
	o.usage = ev.Usage
	if ev.Err != nil {
		o.err = ev.Err
	}
	if ev.Finish != nil {
		o.finish = ev.Finish
		o.text = ev.FullText
		o.done = true
	}
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.failNative(w, err)
		return
	}
	req, err := api.DecodeGenerate(body)
	if err != nil {
		s.failNative(w, err)
		return
	}
	norm, err := req.Normalize(newID)
	if err != nil {
		s.failNative(w, err)
		return
	}
	if len(norm.Items) > s.cfg.MaxBatch {
		s.failNative(w, badf("The batch has %d generations; this server accepts at most %d per request.", len(norm.Items), s.cfg.MaxBatch))
		return
	}
	jobs, err := s.prepareGenerate(r.Context(), req, norm)
	if err != nil {
		s.failNative(w, err)
		return
	}
	if err := s.submit(r.Context(), jobs); err != nil {
		s.failNative(w, err)
		return
	}
	if req.Stream {
		s.streamGenerate(w, r, jobs, norm.Batch, req.ReturnTextInLogprobs, req.ReturnPromptTokenIDs)
		return
	}
	if err := s.wait(r.Context(), jobs); err != nil {
		s.failNative(w, err)
		return
	}
	for _, j := range jobs {
		if err := abortError(j.out.finish, j.out.err); err != nil {
			s.failNative(w, err)
			return
		}
	}
	var out []map[string]any
	for _, j := range jobs {
		out = append(out, s.generateItem(j, false, req.ReturnTextInLogprobs, req.ReturnPromptTokenIDs, false))
	}
	if norm.Batch {
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

// prepareGenerate builds every item's prompt and engine request. Prompts are
// built once per prompt and shared by its n samples.
func (s *Server) prepareGenerate(ctx context.Context, req *api.GenerateRequest, norm *api.Normalized) ([]*job, error) {
	images, err := mediaRefs(req.ImageData, media.Image, norm)
	if err != nil {
		return nil, err
	}
	audios, err := mediaRefs(req.AudioData, media.Audio, norm)
	if err != nil {
		return nil, err
	}
	if rawSet(req.VideoData) {
		return nil, badf("video_data is not supported by this server.")
	}
	preferred := sample.Defaults()
	if rawSet(s.cfg.PreferredSamplingParams) {
		if preferred, err = sample.ParseParams(s.cfg.PreferredSamplingParams, preferred); err != nil {
			return nil, err
		}
	}
	for i := 0; i < norm.Prompts; i++ { // every prompt's counts before any media is fetched
		var ni, na int
		if images != nil {
			ni = len(images[i])
		}
		if audios != nil {
			na = len(audios[i])
		}
		if err := s.checkMediaCounts(ni, na); err != nil {
			return nil, err
		}
	}
	salts, err := promptSalts(req, norm.Prompts)
	if err != nil {
		return nil, err
	}
	prompts := make([]*input.Prompt, norm.Prompts)
	var jobs []*job
	for _, it := range norm.Items {
		if prompts[it.Prompt] == nil {
			in := promptInput{text: it.Text, ids: it.InputIDs, embeds: it.Embeds, addSpecial: true, salt: salts[it.Prompt]}
			if images != nil {
				in.images = images[it.Prompt]
			}
			if audios != nil {
				in.audios = audios[it.Prompt]
			}
			if prompts[it.Prompt], err = s.buildPrompt(ctx, in); err != nil {
				return nil, err
			}
		}
		params, err := sample.ParseGenerateParams(it.SamplingParams, preferred)
		if err != nil {
			return nil, err
		}
		o := itemOptions{rid: it.RID, params: params, hidden: it.ReturnHiddenStates, customProcessor: it.CustomLogitProcessor, lora: it.LoraPath,
			logprobs: engine.LogprobOptions{Return: it.ReturnLogprob, StartLen: it.LogprobStartLen, TopN: it.TopLogprobsNum,
				TokenIDs: it.TokenIDsLogprob, Text: req.ReturnTextInLogprobs}}
		er, err := s.buildRequest(prompts[it.Prompt], o)
		if err != nil {
			return nil, err
		}
		if it.Sample > 0 {
			er.Leader = jobs[len(jobs)-it.Sample].req
		}
		jobs = append(jobs, &job{item: it, prompt: prompts[it.Prompt], req: er})
	}
	return jobs, nil
}

// promptSalts reads cache_salt and extra_key (a string, or a list with one
// entry per prompt) into each prompt's cache salt.
func promptSalts(req *api.GenerateRequest, prompts int) ([]uint64, error) {
	per := func(raw json.RawMessage, name string) ([]string, error) {
		out := make([]string, prompts)
		if !rawSet(raw) {
			return out, nil
		}
		var one string
		if json.Unmarshal(raw, &one) == nil {
			for i := range out {
				out[i] = one
			}
			return out, nil
		}
		var list []string
		if json.Unmarshal(raw, &list) != nil || len(list) != prompts {
			return nil, badf("%s must be a string or a list of %d strings (one per prompt).", name, prompts)
		}
		return list, nil
	}
	salt, err := per(req.CacheSalt, "cache_salt")
	if err != nil {
		return nil, err
	}
	extra, err := per(req.ExtraKey, "extra_key")
	if err != nil {
		return nil, err
	}
	out := make([]uint64, prompts)
	for i := range out {
		out[i] = cacheSalt(salt[i], extra[i])
	}
	return out, nil
}

// mediaRefs resolves image_data/audio_data into one ref list per prompt.
func mediaRefs(raw json.RawMessage, m media.Modality, norm *api.Normalized) ([][]media.Ref, error) {
	if !rawSet(raw) {
		return nil, nil
	}
	if !norm.Batch || norm.Prompts == 1 && norm.N > 1 && !isJSONList(raw, 2) {
		refs, err := media.ParseSingle(raw, m)
		if err != nil {
			return nil, err
		}
		out := make([][]media.Ref, norm.Prompts)
		for i := range out {
			out[i] = refs
		}
		return out, nil
	}
	return media.ParseBatch(raw, m, norm.Prompts)
}

// isJSONList reports whether raw is a list nested depth deep at its first element.
func isJSONList(raw json.RawMessage, depth int) bool {
	for d := 0; d < depth; d++ {
		var l []json.RawMessage
		if json.Unmarshal(raw, &l) != nil {
			return false
		}
		if d == depth-1 {
			return true
		}
		if len(l) == 0 {
			return false
		}
		raw = l[0]
	}
	return false
}

// submit hands every job to the engine; on failure the submitted ones are aborted.
func (s *Server) submit(ctx context.Context, jobs []*job) error {
	for i, j := range jobs {
		ch, err := s.eng.Submit(ctx, j.req)
		if err != nil {
			for _, prev := range jobs[:i] {
				_ = s.eng.Abort(context.Background(), prev.req.RID, false)
			}
			return err
		}
		j.ch = ch
		j.trk = s.metrics.track()
	}
	return nil
}

// wait collects every job's events until all finished.
func (s *Server) wait(ctx context.Context, jobs []*job) error {
	for _, j := range jobs {
		for ev := range j.ch {
			j.trk.tokens(len(ev.Tokens))
			j.out.add(ev)
			s.lastOut.Store(time.Now().UnixNano())
		}
		j.trk.done()
		if !j.out.done && j.out.err == nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// abortError turns an engine failure into an error (500).
func abortError(fr *sample.FinishReason, err error) error {
	if err != nil {
		return err
	}
	if fr != nil && fr.Failed {
		return &statusErr{code: http.StatusInternalServerError, msg: fr.Message}
	}
	return nil
}

// finishWire is the HTTP form of a finish reason: an engine failure is an
// abort with status 500.
func finishWire(fr *sample.FinishReason) *api.FinishReason {
	if fr == nil {
		return nil
	}
	w := &api.FinishReason{Type: string(fr.Type), MatchedToken: fr.Token, MatchedText: fr.Text, ByText: fr.ByText,
		Length: fr.Length, Message: fr.Message}
	if fr.Failed {
		w.StatusCode, w.ErrType = http.StatusInternalServerError, "InternalServerError"
	}
	return w
}

// statusErr carries an explicit HTTP status.
type statusErr struct {
	code int
	msg  string
}

func (e *statusErr) Error() string { return e.msg }

// generateItem renders one /generate result object. A stream frame is
// partial until the job is done (finish_reason null, no e2e_latency); an
// incremental frame holds only what earlier frames did not.
func (s *Server) generateItem(j *job, stream, lpText, promptIDs, incremental bool) map[string]any {
	o := &j.out
	text, ids, fromLP := o.text, o.tokens, 0
	if incremental {
		text, ids, fromLP = o.text[min(len(o.text), j.sentText):], o.tokens[min(len(o.tokens), j.sentTokens):], j.sentLPs
	}
	meta := map[string]any{
		"id": j.item.RID, "finish_reason": nil, "prompt_tokens": o.usage.PromptTokens,
		"completion_tokens": len(o.tokens), "cached_tokens": o.usage.CachedTokens, "reasoning_tokens": 0,
		"weight_version": "default",
	}
	if o.usage.PromptTokens == 0 {
		meta["prompt_tokens"] = len(j.prompt.Tokens)
	}
	if o.done {
		meta["finish_reason"] = finishWire(o.finish)
		meta["e2e_latency"] = o.usage.Latency.Seconds()
	}
	if im, au := mediaCounts(j.prompt); im > 0 || au > 0 {
		if im > 0 {
			meta["image_tokens"] = im
		}
		if au > 0 {
			meta["audio_tokens"] = au
		}
	}
	lp := j.req.Logprobs
	if lp.Return {
		s.addLogprobs(meta, o, lp, lpText, fromLP)
	}
	res := map[string]any{"text": text, "output_ids": nonNil(ids), "meta_info": meta}
	if s.cfg.SkipTokenizerInit {
		delete(res, "text") // ids in, ids out: nothing is detokenized
	}
	if promptIDs {
		res["prompt_token_ids"] = j.prompt.Tokens
	}
	if stream && j.batch {
		res["index"] = j.item.Index
	}
	return res
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// addLogprobs fills the logprob keys of meta_info (docs/api.md §3.7).
func (s *Server) addLogprobs(meta map[string]any, o *output, lp engine.LogprobOptions, text bool, from int) {
	tuple := func(logprob float32, id int32) []any {
		var t any
		if text {
			t = s.tokenText(id)
		}
		var v any = float64(logprob)
		if math.IsNaN(float64(logprob)) {
			v = nil
		} else if math.IsInf(float64(logprob), -1) {
			v = float64(sample.LogprobFloor)
		}
		return []any{v, id, t}
	}
	alts := func(a []engine.Alt) []any {
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = tuple(x.Logprob, x.ID)
		}
		return out
	}
	in := []any{}
	inTop := []any{}
	inIDs := []any{}
	for i, t := range o.inLPs {
		in = append(in, tuple(t.Logprob, t.ID))
		first := i == 0 && math.IsNaN(float64(t.Logprob))
		if lp.TopN > 0 {
			if first {
				inTop = append(inTop, nil)
			} else {
				inTop = append(inTop, alts(t.Top))
			}
		}
		if len(lp.TokenIDs) > 0 {
			if first {
				inIDs = append(inIDs, nil)
			} else {
				inIDs = append(inIDs, alts(t.IDs))
			}
		}
	}
	out := []any{}
	outTop := []any{}
	outIDs := []any{}
	for _, t := range o.lps[min(from, len(o.lps)):] {
		out = append(out, tuple(t.Logprob, t.ID))
		outTop = append(outTop, alts(t.Top))
		outIDs = append(outIDs, alts(t.IDs))
	}
	meta["input_token_logprobs"] = in
	meta["output_token_logprobs"] = out
	meta["output_token_logprobs_length"] = len(out)
	if lp.TopN > 0 {
		meta["input_top_logprobs"] = inTop
		meta["output_top_logprobs"] = outTop
	}
	if len(lp.TokenIDs) > 0 {
		meta["input_token_ids_logprobs"] = inIDs
		meta["output_token_ids_logprobs"] = outIDs
	}
}
