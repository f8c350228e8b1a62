package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestChatCompletions(t *testing.T) {
	ts := start(t, opts{})
	body := `{"model": "tiny", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}],
		"max_tokens": 5, "temperature": 0, "logprobs": true, "top_logprobs": 2}`
	code, b := ts.post(t, "/v1/chat/completions", body)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	r := decode[map[string]any](t, b)
	ch := r["choices"].([]any)[0].(map[string]any)
	msg := ch["message"].(map[string]any)
	if r["object"] != "chat.completion" || msg["role"] != "assistant" || r["model"] != "tiny" {
		t.Fatalf("%s", b)
	}
	lp := ch["logprobs"].(map[string]any)["content"].([]any)
	u := r["usage"].(map[string]any)
	if len(lp) != int(u["completion_tokens"].(float64)) || u["total_tokens"].(float64) != u["prompt_tokens"].(float64)+u["completion_tokens"].(float64) {
		t.Fatalf("logprobs/usage: %s", b)
	}
	// streaming: role chunk, content chunks, one finish chunk, usage chunk, [DONE]; text equals non-stream
	code, sb := ts.post(t, "/v1/chat/completions", strings.Replace(body, `"max_tokens": 5`, `"max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}`, 1))
	if code != 200 {
		t.Fatalf("%d %s", code, sb)
	}
	frames := sseData(t, sb)
	var text string
	finishes := 0
	for i, f := range frames[:len(frames)-1] {
		c := decode[map[string]any](t, []byte(f))
		choices := c["choices"].([]any)
		if i == len(frames)-2 {
			if len(choices) != 0 || c["usage"] == nil {
				t.Fatalf("last chunk must be usage only: %s", f)
			}
			continue
		}
		ch := choices[0].(map[string]any)
		d := ch["delta"].(map[string]any)
		if i == 0 && (d["role"] != "assistant" || d["content"] != "") {
			t.Fatalf("first chunk: %s", f)
		}
		if s, ok := d["content"].(string); ok {
			text += s
		}
		if ch["finish_reason"] != nil {
			finishes++
			if len(d) != 0 {
				t.Fatalf("finish chunk has content: %s", f)
			}
		}
	}
	if finishes != 1 || text != msg["content"] {
		t.Fatalf("finishes %d, streamed %q vs %q", finishes, text, msg["content"])
	}
	// n = 2 choices
	_, b = ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "n": 2, "max_tokens": 3}`)
	if cs := decode[map[string]any](t, b)["choices"].([]any); len(cs) != 2 {
		t.Fatalf("n=2: %s", b)
	}
	// unsupported media type
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("text/plain: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	// images to a text-only model are refused, not dropped
	code, b = ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": [{"type": "text", "text": "what is it"},
		{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"}}]}]}`)
	if code != 400 || !strings.Contains(string(b), "does not accept image input") {
		t.Fatalf("image to text model: %d %s", code, b)
	}
	ts.idle(t)
}

func TestCompletionsAndModels(t *testing.T) {
	ts := start(t, opts{})
	code, b := ts.post(t, "/v1/completions", `{"prompt": ["hello", "the cat"], "n": 2, "max_tokens": 3, "temperature": 0, "echo": true, "logprobs": 2}`)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	r := decode[map[string]any](t, b)
	cs := r["choices"].([]any)
	if len(cs) != 4 || r["object"] != "text_completion" {
		t.Fatalf("%s", b)
	}
	c3 := cs[3].(map[string]any)
	if c3["index"].(float64) != 3 || !strings.HasPrefix(c3["text"].(string), "the cat") {
		t.Fatalf("choice 3: %v", c3)
	}
	lp := c3["logprobs"].(map[string]any)
	if lp["token_logprobs"].([]any)[0] != nil {
		t.Fatalf("echo logprobs start with null: %v", lp)
	}
	if u := r["usage"].(map[string]any); u["completion_tokens"].(float64) != 12 {
		t.Fatalf("usage %v", u)
	}
	// default max_tokens is 16
	_, b = ts.post(t, "/v1/completions", `{"prompt": "x", "temperature": 0, "ignore_eos": true}`)
	if u := decode[map[string]any](t, b)["usage"].(map[string]any); u["completion_tokens"].(float64) != 16 {
		t.Fatalf("default max_tokens: %s", b)
	}
	code, b = ts.get(t, "/v1/models")
	if code != 200 || !strings.Contains(string(b), `"id":"tiny"`) || !strings.Contains(string(b), `"max_model_len":512`) {
		t.Fatalf("models: %d %s", code, b)
	}
	if code, _ = ts.get(t, "/v1/models/tiny"); code != 200 {
		t.Fatalf("model card: %d", code)
	}
	if code, b = ts.get(t, "/v1/models/other"); code != 404 || !strings.Contains(string(b), "model_not_found") {
		t.Fatalf("unknown model: %d %s", code, b)
	}
	ts.idle(t)
}

func TestOperationalRoutes(t *testing.T) {
	ts := start(t, opts{cfg: Config{EnableMetrics: true, APIKey: "sekret"}})
	// auth: health and metrics stay open; the rest need the bearer key
	if code, _ := ts.get(t, "/health"); code != 200 {
		t.Fatalf("health: %d", code)
	}
	if code, b := ts.post(t, "/generate", `{"text": "hi"}`); code != 401 || !strings.Contains(string(b), `"error":"Unauthorized"`) {
		t.Fatalf("no key: %d %s", code, b)
	}
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sekret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, sb.String()
	}
	_, beforeB := ts.get(t, "/metrics")
	before := string(beforeB)
	if code, b := do("POST", "/generate", `{"text": "hello", "sampling_params": {"max_new_tokens": 3}}`); code != 200 {
		t.Fatalf("generate with key: %d %s", code, b)
	}
	_, afterB := ts.get(t, "/metrics")
	after := string(afterB)
	for _, name := range []string{"sglang:num_requests_total", "sglang:generation_tokens_total", "sglang:prompt_tokens_total", "sglang:time_to_first_token_seconds_count", "sglang:e2e_request_latency_seconds_count"} {
		if metricValue(before, name) >= metricValue(after, name) {
			t.Errorf("%s did not move: %v → %v", name, metricValue(before, name), metricValue(after, name))
		}
	}
	for _, name := range []string{"sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage", "sglang:cache_hit_rate", "sglang:gen_throughput", "sglang:inter_token_latency_seconds_count", "sglang:time_per_output_token_seconds_count"} {
		if !strings.Contains(after, name) {
			t.Errorf("missing series %s", name)
		}
	}
	// Honest KV usage: once idle, the prompt's pages stay in the prefix cache
	// but count as free (routers read token_usage).
	ts.idle(t)
	_, idleB := ts.get(t, "/metrics")
	idle := string(idleB)
	if u, ev := metricValue(idle, "sglang:token_usage"), metricValue(idle, "sightline:prefix_cache_evictable_tokens"); u != 0 || ev <= 0 {
		t.Errorf("idle server: token_usage %v, evictable prefix-cache tokens %v", u, ev)
	}
	if code, b := do("GET", "/get_model_info", ""); code != 200 || !strings.Contains(b, `"is_generation":true`) {
		t.Fatalf("model info: %d %s", code, b)
	}
	if code, b := do("GET", "/server_info", ""); code != 200 || !strings.Contains(b, `"max_total_num_tokens"`) || strings.Contains(b, "sekret") {
		t.Fatalf("server info: %d %s", code, b)
	}
	if code, b := do("POST", "/flush_cache", ""); code != 200 || !strings.HasPrefix(b, "Cache flushed.") {
		t.Fatalf("flush: %d %s", code, b)
	}
	if code, _ := do("POST", "/abort_request", `{"rid": "nothing"}`); code != 200 {
		t.Fatalf("abort: %d", code)
	}
	if code, b := do("POST", "/tokenize", `{"prompt": "hello there"}`); code != 200 || !strings.Contains(b, `"count"`) {
		t.Fatalf("tokenize: %d %s", code, b)
	}
	if code, b := do("POST", "/v1/tokenize", `{"messages": [{"role": "user", "content": "hi"}]}`); code != 200 || !strings.Contains(b, `"tokens"`) {
		t.Fatalf("tokenize messages: %d %s", code, b)
	}
	ids, _ := json.Marshal(ts.tok.Encode("hello there", false))
	body := `{"tokens": ` + string(ids) + `}`
	if code, b := do("POST", "/detokenize", body); code != 200 || !strings.Contains(b, `"text":"hello there"`) {
		t.Fatalf("detokenize %s: %d %s", body, code, b)
	}
	ts.idle(t)
}

// metricValue sums the samples of a series in a Prometheus text body.
func metricValue(body, name string) float64 {
	var total float64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			var v float64
			if _, err := fmtSscan(f[len(f)-1], &v); err == nil {
				total += v
			}
		}
	}
	return total
}
