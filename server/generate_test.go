package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type genResult struct {
	Text      string          `json:"text"`
	OutputIDs []int32         `json:"output_ids"`
	Meta      map[string]any  `json:"meta_info"`
	Index     *int            `json:"index"`
	PromptIDs []int32         `json:"prompt_token_ids"`
	Raw       json.RawMessage `json:"-"`
}

// TestSeedExamples runs the seed document's /generate examples verbatim
// against the embedded default model, plain and streaming.
func TestSeedExamples(t *testing.T) {
	ts := start(t, opts{path: storiesGGUF})
	body := `{"text": "The capital of France is", "sampling_params": {"temperature": 0, "max_new_tokens": 32}}`
	code, b := ts.post(t, "/generate", body)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	r := decode[genResult](t, b)
	if len(r.OutputIDs) != 32 || r.Text == "" || r.Meta["finish_reason"].(map[string]any)["type"] != "length" {
		t.Fatalf("%s", b)
	}
	for _, k := range []string{"id", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "weight_version", "e2e_latency"} {
		if _, ok := r.Meta[k]; !ok {
			t.Fatalf("meta_info lacks %s: %s", k, b)
		}
	}
	// streaming, consumed as the seed's client does (cumulative text)
	code, sb := ts.post(t, "/generate", strings.Replace(body, `}}`, `}, "stream": true}`, 1))
	if code != 200 {
		t.Fatalf("%d %s", code, sb)
	}
	frames := sseData(t, sb)
	prev, out := 0, ""
	for _, f := range frames[:len(frames)-1] {
		d := decode[genResult](t, []byte(f))
		out += d.Text[prev:]
		prev = len(d.Text)
	}
	if out != r.Text {
		t.Fatalf("streamed %q, non-streamed %q", out, r.Text)
	}
	last := decode[genResult](t, []byte(frames[len(frames)-2]))
	if last.Meta["finish_reason"] == nil || last.Meta["e2e_latency"] == nil {
		t.Fatalf("last frame lacks finish_reason/e2e_latency: %s", frames[len(frames)-2])
	}
	for _, f := range frames[:len(frames)-2] {
		if d := decode[genResult](t, []byte(f)); d.Meta["finish_reason"] != nil {
			t.Fatalf("intermediate frame has a finish_reason: %s", f)
		}
	}
	// the stories260K greedy continuation of "Once upon a time" (llama.cpp's)
	_, b = ts.post(t, "/generate", `{"text": "Once upon a time", "sampling_params": {"temperature": 0, "max_new_tokens": 12}}`)
	if r := decode[genResult](t, b); !strings.HasPrefix(r.Text, ", there was a little girl named Lily") {
		t.Fatalf("text %q", r.Text)
	}
	ts.idle(t)
}

func TestBatchAndN(t *testing.T) {
	ts := start(t, opts{})
	code, b := ts.post(t, "/generate", `{"text": ["hello there", "the cat"], "rid": "job", "sampling_params": {"temperature": 0, "max_new_tokens": 4}}`)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	rs := decode[[]genResult](t, b)
	if len(rs) != 2 || rs[0].Meta["id"] != "job_0" || rs[1].Meta["id"] != "job_1" {
		t.Fatalf("%s", b)
	}
	// n=2 on one prompt: an array of 2 with server ids; seeded sampling is reproducible
	body := `{"text": "hello there", "sampling_params": {"n": 2, "temperature": 0.8, "max_new_tokens": 6, "sampling_seed": 5}}`
	code, b = ts.post(t, "/generate", body)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	rs = decode[[]genResult](t, b)
	if len(rs) != 2 || rs[0].Meta["id"] == rs[1].Meta["id"] {
		t.Fatalf("n=2: %s", b)
	}
	_, b2 := ts.post(t, "/generate", body)
	rs2 := decode[[]genResult](t, b2)
	if fmt.Sprint(rs[0].OutputIDs) != fmt.Sprint(rs2[0].OutputIDs) {
		t.Fatalf("seeded sampling differs: %v vs %v", rs[0].OutputIDs, rs2[0].OutputIDs)
	}
	// batch × n streaming carries index and ends after all items
	code, sb := ts.post(t, "/generate", `{"text": ["a b", "c d"], "sampling_params": {"n": 2, "temperature": 0, "max_new_tokens": 3}, "stream": true}`)
	if code != 200 {
		t.Fatalf("%d %s", code, sb)
	}
	seen := map[int]bool{}
	for _, f := range sseData(t, sb) {
		if f == "[DONE]" {
			continue
		}
		d := decode[genResult](t, []byte(f))
		if d.Index == nil {
			t.Fatalf("batch frame without index: %s", f)
		}
		if d.Meta["finish_reason"] != nil {
			seen[*d.Index] = true
		}
	}
	if len(seen) != 4 {
		t.Fatalf("finished items %v", seen)
	}
	ts.idle(t)
}

func TestLogprobFields(t *testing.T) {
	ts := start(t, opts{})
	code, b := ts.post(t, "/generate", `{"text": "hello there friend", "sampling_params": {"temperature": 0, "max_new_tokens": 3},
		"return_logprob": true, "logprob_start_len": 0, "top_logprobs_num": 2, "token_ids_logprob": [1, 2], "return_text_in_logprobs": true}`)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	r := decode[genResult](t, b)
	P := int(r.Meta["prompt_tokens"].(float64))
	in := r.Meta["input_token_logprobs"].([]any)
	out := r.Meta["output_token_logprobs"].([]any)
	inTop := r.Meta["input_top_logprobs"].([]any)
	outTop := r.Meta["output_top_logprobs"].([]any)
	inIDs := r.Meta["input_token_ids_logprobs"].([]any)
	outIDs := r.Meta["output_token_ids_logprobs"].([]any)
	if len(in) != P || len(out) != 3 || len(inTop) != P || len(outTop) != 3 || len(inIDs) != P || len(outIDs) != 3 {
		t.Fatalf("lengths: in %d out %d inTop %d outTop %d inIDs %d outIDs %d (P %d)", len(in), len(out), len(inTop), len(outTop), len(inIDs), len(outIDs), P)
	}
	first := in[0].([]any)
	if first[0] != nil || inTop[0] != nil || inIDs[0] != nil {
		t.Fatalf("position 0 must have null logprob and null top/ids rows: %v %v %v", first, inTop[0], inIDs[0])
	}
	for i, o := range out {
		tup := o.([]any)
		if len(tup) != 3 || tup[0] == nil || tup[2] == nil {
			t.Fatalf("output tuple %d: %v", i, tup)
		}
		top := outTop[i].([]any)
		if len(top) != 2 || top[0].([]any)[1] != tup[1] || top[0].([]any)[0] != tup[0] {
			t.Fatalf("greedy token must be the top-1: %v vs %v", tup, top)
		}
		if len(outIDs[i].([]any)) != 2 {
			t.Fatalf("token_ids_logprob row %d: %v", i, outIDs[i])
		}
	}
	if r.Meta["output_token_logprobs_length"].(float64) != 3 {
		t.Fatalf("output_token_logprobs_length %v", r.Meta["output_token_logprobs_length"])
	}
	// without return_logprob the keys are absent
	_, b = ts.post(t, "/generate", `{"text": "hello", "sampling_params": {"max_new_tokens": 1}}`)
	if strings.Contains(string(b), "logprobs") {
		t.Fatalf("logprob keys without return_logprob: %s", b)
	}
	ts.idle(t)
}

func TestStopMatched(t *testing.T) {
	ts := start(t, opts{})
	_, b := ts.post(t, "/generate", `{"text": "hello there", "sampling_params": {"temperature": 0, "max_new_tokens": 8, "ignore_eos": true}}`)
	free := decode[genResult](t, b)
	stopID := free.OutputIDs[2]
	_, b = ts.post(t, "/generate", fmt.Sprintf(`{"text": "hello there", "sampling_params": {"temperature": 0, "max_new_tokens": 8, "ignore_eos": true, "stop_token_ids": [%d]}}`, stopID))
	r := decode[genResult](t, b)
	fr := r.Meta["finish_reason"].(map[string]any)
	if fr["type"] != "stop" || int32(fr["matched"].(float64)) != stopID || r.OutputIDs[len(r.OutputIDs)-1] != stopID {
		t.Fatalf("stop token: %s", b)
	}
	ts.idle(t)
}

// TestCacheSaltIsolates: prompts share prefix-cache pages only under the
// same cache_salt / extra_key, on /generate and on chat.
func TestCacheSaltIsolates(t *testing.T) {
	ts := start(t, opts{})
	text := "the quick brown fox jumps over the lazy dog and runs far away into the woods"
	cached := func(body string) float64 {
		t.Helper()
		code, b := ts.post(t, "/generate", body)
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		m := decode[map[string]any](t, b)
		return m["meta_info"].(map[string]any)["cached_tokens"].(float64)
	}
	req := func(extra string) string {
		return `{"text": "` + text + `", "sampling_params": {"max_new_tokens": 1}` + extra + `}`
	}
	if c := cached(req(`, "cache_salt": "tenant-a"`)); c != 0 {
		t.Fatalf("first request cached %v", c)
	}
	if c := cached(req(`, "cache_salt": "tenant-a"`)); c == 0 {
		t.Fatal("same salt: no prefix-cache hit")
	}
	if c := cached(req(`, "cache_salt": "tenant-b"`)); c != 0 {
		t.Fatalf("another salt shared %v cached tokens", c)
	}
	if c := cached(req(``)); c != 0 {
		t.Fatalf("no salt shared %v cached tokens with salted prompts", c)
	}
	if c := cached(req(`, "extra_key": "k"`)); c != 0 {
		t.Fatalf("extra_key shared %v cached tokens", c)
	}
	if code, b := ts.post(t, "/generate", `{"text": ["a", "b"], "cache_salt": ["x"]}`); code != 400 || !strings.Contains(string(b), "cache_salt") {
		t.Fatalf("salt list of the wrong length: %d %s", code, b)
	}
}
