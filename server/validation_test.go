package server

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/engine"
)

// TestSamplingValidation: every range of docs/api.md §3.3 gives 400 with its message.
func TestSamplingValidation(t *testing.T) {
	ts := start(t, opts{})
	cases := []struct{ params, msg string }{
		{`"max_new_tokens": -1`, "max_new_tokens must be at least 0, got -1."},
		{`"min_new_tokens": 5, "max_new_tokens": 3`, "min_new_tokens must be in [0, max_new_tokens(3)], got 5."},
		{`"temperature": -0.5`, "temperature must be a non-negative finite number, got -0.5."},
		{`"top_p": 0`, "top_p must be in (0, 1], got 0"},
		{`"top_p": 1.5`, "top_p must be in (0, 1], got 1.5."},
		{`"top_k": 0`, "top_k must be -1 (disable) or at least 1, got 0."},
		{`"min_p": 1.5`, "min_p must be in [0, 1], got 1.5."},
		{`"frequency_penalty": 3`, "frequency_penalty must be in [-2, 2], got 3"},
		{`"presence_penalty": -2.5`, "presence_penalty must be in [-2, 2], got -2.5."},
		{`"repetition_penalty": 0`, "repetition_penalty must be in (0, 2] (1.0 = no penalty), got 0"},
		{`"repetition_penalty": 2.5`, "repetition_penalty must be in (0, 2] (1.0 = no penalty), got 2.5."},
		{`"logit_bias": {"99999": 1}`, "logit_bias must has keys in [0, "},
		{`"regex": "a", "ebnf": "root ::= \"a\""`, "Only one of regex, json_schema, or ebnf can be set."},
		{`"bogus": 1`, "unknown field"},
	}
	for _, c := range cases {
		code, b := ts.post(t, "/generate", fmt.Sprintf(`{"text": "hi", "sampling_params": {%s}}`, c.params))
		if code != 400 || !strings.Contains(string(b), c.msg) || !strings.Contains(string(b), `"code":400`) {
			t.Errorf("%s: %d %s; want 400 with %q", c.params, code, b, c.msg)
		}
	}
	ts.idle(t)
}

// malformed are requests every route must answer with a 4xx JSON error.
func malformed() []struct{ path, body string } {
	var out []struct{ path, body string }
	add := func(path string, bodies ...string) {
		for _, b := range bodies {
			out = append(out, struct{ path, body string }{path, b})
		}
	}
	gen := []string{``, `{`, `[]`, `null`, `"text"`, `123`, `{}`, `{"text": null}`, `{"text": 5}`, `{"text": [1, 2]}`,
		`{"text": []}`, `{"input_ids": []}`, `{"input_ids": [[]]}`, `{"input_ids": [-1]}`, `{"input_ids": ["a"]}`,
		`{"input_ids": [1.5]}`, `{"input_ids": [99999999]}`, `{"input_ids": [1], "text": "a"}`, `{"input_embeds": [[1, 2]]}`,
		`{"input_embeds": "x"}`, `{"input_embeds_bytes": "!!", "input_embeds_shape": [1, 1]}`, `{"text": "a", "rid": 5}`,
		`{"text": ["a", "b"], "rid": ["x"]}`, `{"text": ["a", "a"], "rid": ["x", "x"]}`, `{"text": "a", "sampling_params": []}`,
		`{"text": "a", "sampling_params": "x"}`, `{"text": ["a"], "sampling_params": [{}, {}]}`, `{"text": "a", "sampling_params": {"n": 0}}`,
		`{"text": "a", "sampling_params": {"n": "2"}}`, `{"text": ["a","b"], "sampling_params": [{"n": 1}, {"n": 2}]}`,
		`{"text": "a", "return_logprob": "yes"}`, `{"text": "a", "logprob_start_len": "0"}`, `{"text": "a", "top_logprobs_num": []}`,
		`{"text": "a", "token_ids_logprob": [[1]]}`, `{"text": "a", "token_ids_logprob": "x"}`, `{"text": "a", "return_logprob": true, "token_ids_logprob": [999999]}`,
		`{"text": "a", "image_data": 5}`, `{"text": "a", "image_data": "data:image/png;base64,@@"}`, `{"text": "a", "image_data": "/etc/passwd.png"}`,
		`{"text": "a", "audio_data": {"url": 5}}`, `{"text": "a", "image_data": {"url": "x", "bogus": 1}}`, `{"text": "a", "video_data": "v.mp4"}`,
		`{"text": "a", "custom_logit_processor": "x"}`, `{"text": "a", "lora_path": "adapter"}`, `{"text": "a", "return_hidden_states": true}`,
		`{"text": "a", "sampling_params": {"max_new_tokens": 100000}}`, `{"text": "a", "sampling_params": {"stop": 5}}`,
		`{"text": "a", "sampling_params": {"stop_regex": "("}}`, `{"text": "a", "sampling_params": {"stop_token_ids": ["a"]}}`,
		`{"text": "a", "sampling_params": {"logit_bias": {"x": 1}}}`, `{"text": "a", "sampling_params": {"beam_width": 4}}`,
		`{"text": "a", "stream": "yes"}`, `{"text": "a", "sampling_params": {"temperature": "hot"}}`, `{"text": "a", "sampling_params": {"temperature": null, "top_k": 0}}`,
	}
	for _, p := range []string{"max_new_tokens", "min_new_tokens", "top_k"} {
		gen = append(gen, fmt.Sprintf(`{"text": "a", "sampling_params": {"%s": -7}}`, p))
	}
	for _, p := range []string{"temperature", "top_p", "min_p", "frequency_penalty", "presence_penalty", "repetition_penalty"} {
		gen = append(gen, fmt.Sprintf(`{"text": "a", "sampling_params": {"%s": -9}}`, p), fmt.Sprintf(`{"text": "a", "sampling_params": {"%s": "x"}}`, p),
			fmt.Sprintf(`{"text": "a", "sampling_params": {"%s": [1]}}`, p), fmt.Sprintf(`{"text": "a", "sampling_params": {"%s": 1e999}}`, p))
	}
	add("/generate", gen...)
	chat := []string{``, `{`, `[]`, `{}`, `{"messages": []}`, `{"messages": "hi"}`, `{"messages": [1]}`, `{"messages": [{}]}`,
		`{"messages": [{"role": "wizard", "content": "x"}]}`, `{"messages": [{"role": "user", "content": 5}]}`,
		`{"messages": [{"role": "user", "content": [{"type": "bogus"}]}]}`, `{"messages": [{"role": "user", "content": [{"type": "text"}]}]}`,
		`{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}]}]}`,
		`{"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}`,
		`{"messages": [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "x"}}]}]}`,
		`{"messages": [{"role": "user", "content": "x"}], "model": "nope"}`, `{"messages": [{"role": "user", "content": "x"}], "model": "tiny:lora"}`,
		`{"messages": [{"role": "user", "content": "x"}], "temperature": -1}`, `{"messages": [{"role": "user", "content": "x"}], "top_p": 7}`,
		`{"messages": [{"role": "user", "content": "x"}], "n": 0}`, `{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1000000}`,
		`{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema"}}`,
		`{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "weird"}}`,
		`{"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}`,
		`{"messages": [{"role": "user", "content": "x"}], "stream": true, "return_prompt_token_ids": true}`,
		`{"messages": [{"role": "assistant", "content": "x", "tool_calls": [{"function": {"name": "f", "arguments": "{bad"}}]}]}`,
		`{"messages": [{"role": "assistant", "content": "x", "tool_calls": [{"function": {"name": "f", "arguments": "[1]"}}]}]}`,
		`{"messages": [{"role": "user", "content": "x"}], "stop": 7}`, `{"messages": [{"role": "user", "content": "x"}], "logit_bias": {"q": 1}}`,
		`{"messages": [{"role": "user", "content": "x"}], "seed": "s"}`,
	}
	add("/v1/chat/completions", chat...)
	comp := []string{``, `{}`, `{"prompt": ""}`, `{"prompt": []}`, `{"prompt": [[]]}`, `{"prompt": 5}`, `{"prompt": [-1]}`, `{"prompt": {"a": 1}}`,
		`{"prompt": "x", "max_tokens": 0}`, `{"prompt": "x", "max_tokens": -2}`, `{"prompt": "x", "model": "other"}`, `{"prompt": "x", "temperature": -3}`,
		`{"prompt": "x", "n": -1}`, `{"prompt": [99999999]}`}
	add("/v1/completions", comp...)
	add("/v1/tokenize", ``, `{}`, `{"prompt": 5}`, `{"prompt": "a", "messages": []}`)
	add("/v1/detokenize", ``, `{"tokens": "x"}`, `{"tokens": [-1]}`, `{"tokens": [[1], [-2]]}`, `{"tokens": [1.5]}`)
	add("/abort_request", `{`, `[1]`)
	return out
}

// TestMalformedRequests: 200+ malformed requests all get 4xx JSON errors.
func TestMalformedRequests(t *testing.T) {
	ts := start(t, opts{})
	cases := malformed()
	// each body also with a truncated variant and a duplicated-key variant
	var all []struct{ path, body string }
	for _, c := range cases {
		all = append(all, c)
		if len(c.body) > 2 {
			all = append(all, struct{ path, body string }{c.path, c.body[:len(c.body)/2]})
		}
	}
	if len(all) < 200 {
		t.Fatalf("only %d malformed requests", len(all))
	}
	for _, c := range all {
		code, b := ts.post(t, c.path, c.body)
		if code < 400 || code >= 500 {
			t.Errorf("%s %s: status %d %s", c.path, c.body, code, b)
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(string(b)), "{") || !strings.Contains(string(b), "error") {
			t.Errorf("%s %s: body is not a JSON error: %s", c.path, c.body, b)
		}
	}
	t.Logf("%d malformed requests answered 4xx", len(all))
	ts.idle(t)
}

// TestConformanceDetails: SGLang behaviours a wider check found missing.
func TestConformanceDetails(t *testing.T) {
	ts := start(t, opts{})
	// a negative id in token_ids_logprob is out of the vocabulary
	code, b := ts.post(t, "/generate", `{"text": "hi", "return_logprob": true, "token_ids_logprob": [-3], "sampling_params": {"max_new_tokens": 1}}`)
	if code != 400 || !strings.Contains(string(b), "token_ids_logprob contains out-of-vocabulary token id -3") {
		t.Fatalf("negative token_ids_logprob: %d %s", code, b)
	}
	// ids in, ids out: no text in the response
	ids := start(t, opts{cfg: Config{SkipTokenizerInit: true}})
	code, b = ids.post(t, "/generate", `{"input_ids": [5, 6, 7], "sampling_params": {"max_new_tokens": 3, "temperature": 0}}`)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	m := decode[map[string]any](t, b)
	if _, has := m["text"]; has || len(m["output_ids"].([]any)) != 3 {
		t.Fatalf("skip-tokenizer-init reply: %s", b)
	}
	if code, b = ids.post(t, "/generate", `{"text": "hi"}`); code != 400 || !strings.Contains(string(b), "skip_tokenizer_init=True cannot accept text prompts") {
		t.Fatalf("text with skip-tokenizer-init: %d %s", code, b)
	}
}

// TestHTTPExceptionType: E2 bodies of HTTP exceptions carry the status code
// as their type ("503"), as SGLang's do.
func TestHTTPExceptionType(t *testing.T) {
	rec := httptest.NewRecorder()
	(&Server{cfg: Config{Logger: slog.New(slog.DiscardHandler)}}).failOpenAI(rec, fmt.Errorf("submit: %w", engine.ErrQueueFull))
	body := decode[map[string]any](t, rec.Body.Bytes())
	if rec.Code != 503 || body["type"] != "503" || body["code"] != float64(503) {
		t.Fatalf("queue full: %d %v", rec.Code, body)
	}
}

// TestBodyCapTokenize: /v1/tokenize and /v1/detokenize read their bodies
// under the same cap as the generation routes (413), so one huge body cannot
// exhaust the server's memory.
func TestBodyCapTokenize(t *testing.T) {
	ts := start(t, opts{cfg: Config{MaxBodyBytes: 1 << 10}})
	big := strings.Repeat("a", 4<<10)
	for path, body := range map[string]string{
		"/v1/tokenize":   `{"prompt": "` + big + `"}`,
		"/tokenize":      `{"prompt": "` + big + `"}`,
		"/v1/detokenize": `{"tokens": [` + strings.Repeat("1,", 2<<10) + `1]}`,
		"/detokenize":    `{"tokens": [` + strings.Repeat("1,", 2<<10) + `1]}`,
	} {
		code, b := ts.post(t, path, body)
		if code != 413 || !strings.Contains(string(b), `"code":413`) {
			t.Errorf("%s with a %d-byte body: %d %.200s; want 413", path, len(body), code, b)
		}
	}
	if code, b := ts.post(t, "/v1/tokenize", `{"prompt": "hi"}`); code != 200 {
		t.Fatalf("small body: %d %s", code, b)
	}
}
