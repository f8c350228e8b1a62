package server

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/tokenizer"
)

// A tools request on the tiny model: the output is forced with a regex (the
// model is random), so each parser sees exactly what a real model writes.
const weatherTools = `[{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
	"parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}}, "required": ["city"], "additionalProperties": false}}},
	{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC"]}}, "required": ["zone"], "additionalProperties": false}}}]`

var callIDRE = regexp.MustCompile(`^call_[0-9a-f]{24}$`)

// chatBody is a chat request whose output is forced to out (by regex).
func chatBody(out string, extra string) string {
	re, _ := json.Marshal(regexp.QuoteMeta(out))
	return `{"messages": [{"role": "user", "content": "What's the weather in Paris?"}], "tools": ` + weatherTools +
		`, "max_tokens": 200, "temperature": 0, "regex": ` + string(re) + extra + `}`
}

type chatReply struct {
	Choices []struct {
		Message struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			ToolCalls        []struct {
				ID       string `json:"id"`
				Index    int    `json:"index"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"usage"`
}

// streamed is what a chat stream's deltas add up to.
type streamed struct {
	reasoning, content string
	names              []string
	args               []string
	ids                []string
	finish             string
}

func collectStream(t *testing.T, body []byte) streamed {
	t.Helper()
	var s streamed
	for _, d := range sseData(t, body) {
		if d == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content          string `json:"content"`
					ReasoningContent string `json:"reasoning_content"`
					ToolCalls        []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct {
							Name      *string `json:"name"`
							Arguments string  `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatalf("%v: %s", err, d)
		}
		for _, ch := range c.Choices {
			s.content += ch.Delta.Content
			s.reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Function.Name != nil {
					if tc.Index != len(s.names) || tc.Type != "function" || !callIDRE.MatchString(tc.ID) {
						t.Fatalf("first delta of call %d: %+v", tc.Index, tc)
					}
					s.names, s.args, s.ids = append(s.names, *tc.Function.Name), append(s.args, ""), append(s.ids, tc.ID)
				} else if tc.ID != "" || tc.Index >= len(s.names) {
					t.Fatalf("later delta of call %d: %+v", tc.Index, tc)
				}
				s.args[tc.Index] += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				s.finish = *ch.FinishReason
			}
		}
	}
	return s
}

// TestToolCallParsers: every --tool-call-parser through /v1/chat/completions,
// whole and streamed.
func TestToolCallParsers(t *testing.T) {
	cases := []struct {
		parser, out, content string
	}{
		{"qwen25", "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>", "Let me check.\n"},
		{"llama3", "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}; {\"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}", ""},
		{"mistral", "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}]", ""},
		{"pythonic", "[get_weather(city=\"Paris\"), get_time(zone=\"UTC\")]", ""},
	}
	for _, c := range cases {
		t.Run(c.parser, func(t *testing.T) {
			ts := start(t, opts{cfg: Config{ToolCallParser: c.parser}})
			code, b := ts.post(t, "/v1/chat/completions", chatBody(c.out, ""))
			if code != 200 {
				t.Fatalf("%d %s", code, b)
			}
			r := decode[chatReply](t, b)
			m := r.Choices[0].Message
			if len(m.ToolCalls) != 2 || r.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("reply %s", b)
			}
			want := [][2]string{{"get_weather", `{"city":"Paris"}`}, {"get_time", `{"zone":"UTC"}`}}
			for i, tc := range m.ToolCalls {
				if tc.Function.Name != want[i][0] || tc.Function.Arguments != want[i][1] || tc.Type != "function" || tc.Index != i || !callIDRE.MatchString(tc.ID) {
					t.Fatalf("call %d: %+v", i, tc)
				}
			}
			if got := ""; m.Content != nil {
				got = *m.Content
				if strings.TrimSpace(got) != strings.TrimSpace(c.content) {
					t.Fatalf("content %q, want %q", got, c.content)
				}
			} else if strings.TrimSpace(c.content) != "" {
				t.Fatalf("content null, want %q", c.content)
			}
			code, b = ts.post(t, "/v1/chat/completions", chatBody(c.out, `, "stream": true`))
			if code != 200 {
				t.Fatalf("stream: %d %s", code, b)
			}
			s := collectStream(t, b)
			if s.finish != "tool_calls" || len(s.names) != 2 || s.names[0] != want[0][0] || s.args[0] != want[0][1] || s.names[1] != want[1][0] || s.args[1] != want[1][1] {
				t.Fatalf("stream: %+v", s)
			}
			if strings.TrimSpace(s.content) != strings.TrimSpace(c.content) {
				t.Fatalf("stream content %q, want %q", s.content, c.content)
			}
		})
	}
}

// TestToolCallText: malformed call text and unknown tools stay content; no
// parser means no calls.
func TestToolCallText(t *testing.T) {
	ts := start(t, opts{cfg: Config{ToolCallParser: "qwen25"}})
	for _, out := range []string{"<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par", "<tool_call>\n{\"name\": \"launch_rockets\", \"arguments\": {}}\n</tool_call>"} {
		code, b := ts.post(t, "/v1/chat/completions", chatBody(out, ""))
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		r := decode[chatReply](t, b)
		if m := r.Choices[0].Message; len(m.ToolCalls) != 0 || m.Content == nil || *m.Content != out || r.Choices[0].FinishReason == "tool_calls" {
			t.Fatalf("%q: %s", out, b)
		}
	}
	plain := start(t, opts{})
	code, b := plain.post(t, "/v1/chat/completions", chatBody("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", ""))
	if r := decode[chatReply](t, b); code != 200 || len(r.Choices[0].Message.ToolCalls) != 0 {
		t.Fatalf("without a parser: %d %s", code, b)
	}
}

// TestToolChoice: required and named choices are enforced by constrained
// decoding on a random model; none hides the tools from the template;
// unknown names are 400s.
func TestToolChoice(t *testing.T) {
	const tmpl = `{% if tools %}TOOLS:{% for t in tools %}{{ t.function.name }};{% endfor %}{% endif %}` +
		`{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n`
	ts := start(t, opts{cfg: Config{ToolCallParser: "qwen25"}, template: tmpl})
	ask := func(choice string, stream bool) []byte {
		t.Helper()
		// one call (parallel_tool_calls false) keeps a random model's output bounded
		body := `{"messages": [{"role": "user", "content": "Weather?"}], "tools": ` + weatherTools + `, "tool_choice": ` + choice +
			`, "parallel_tool_calls": false, "max_tokens": 400, "temperature": 0`
		if stream {
			body += `, "stream": true`
		}
		code, b := ts.post(t, "/v1/chat/completions", body+"}")
		if code != 200 {
			t.Fatalf("%s: %d %s", choice, code, b)
		}
		return b
	}
	for _, choice := range []string{`"required"`, `{"type": "function", "function": {"name": "get_time"}}`} {
		r := decode[chatReply](t, ask(choice, false))
		calls := r.Choices[0].Message.ToolCalls
		if len(calls) != 1 || r.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("%s: %+v", choice, r)
		}
		for _, c := range calls {
			var args map[string]string
			if err := json.Unmarshal([]byte(c.Function.Arguments), &args); err != nil ||
				!(c.Function.Name == "get_weather" && (args["city"] == "Paris" || args["city"] == "Rome")) &&
					!(c.Function.Name == "get_time" && args["zone"] == "UTC") {
				t.Fatalf("%s: call %+v", choice, c)
			}
		}
		s := collectStream(t, ask(choice, true))
		if s.finish != "tool_calls" || len(s.names) != len(calls) || s.names[0] != calls[0].Function.Name || s.args[0] != calls[0].Function.Arguments {
			t.Fatalf("%s stream %+v, whole %+v", choice, s, calls)
		}
	}
	// none: the template sees no tools (a shorter prompt than auto)
	tokens := func(choice string) float64 {
		code, b := ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "Weather?"}], "tools": `+weatherTools+
			`, "tool_choice": `+choice+`, "max_tokens": 1}`)
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		return decode[map[string]any](t, b)["usage"].(map[string]any)["prompt_tokens"].(float64)
	}
	if none, auto := tokens(`"none"`), tokens(`"auto"`); none >= auto {
		t.Fatalf("tool_choice none renders %v prompt tokens, auto %v", none, auto)
	}
	for body, msg := range map[string]string{
		`{"messages": [{"role": "user", "content": "x"}], "tools": ` + weatherTools + `, "tool_choice": {"type": "function", "function": {"name": "nope"}}}`: "Tool 'nope' not found in tools list.",
		`{"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}`:                                                                        "Tools cannot be empty if tool choice is set to required.",
		`{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": 3}}]}`:                      "Tool 0 function has invalid 'parameters' schema",
	} {
		if code, b := ts.post(t, "/v1/chat/completions", body); code != 400 || !bytes.Contains(b, []byte(msg)) {
			t.Errorf("%s: %d %s", msg, code, b)
		}
	}
}

// TestReasoningParser: <think> text goes to reasoning_content (whole and
// streamed), is counted in usage, and stays content when thinking is off or
// separate_reasoning is false.
func TestReasoningParser(t *testing.T) {
	ts := start(t, opts{cfg: Config{ReasoningParser: "qwen3", ToolCallParser: "qwen25"}})
	out := "<think>The user wants weather.</think>\n\nI'll look.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>"
	code, b := ts.post(t, "/v1/chat/completions", chatBody(out, ""))
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	r := decode[chatReply](t, b)
	m := r.Choices[0].Message
	if m.ReasoningContent == nil || *m.ReasoningContent != "The user wants weather." || m.Content == nil || strings.TrimSpace(*m.Content) != "I'll look." ||
		len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Arguments != `{"city":"Rome"}` || r.Usage.ReasoningTokens == 0 {
		t.Fatalf("reply %s", b)
	}
	code, b = ts.post(t, "/v1/chat/completions", chatBody(out, `, "stream": true, "stream_options": {"include_usage": true}`))
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	s := collectStream(t, b)
	if s.reasoning != "The user wants weather." || strings.TrimSpace(s.content) != "I'll look." || len(s.names) != 1 || s.finish != "tool_calls" {
		t.Fatalf("stream %+v", s)
	}
	if !bytes.Contains(b, []byte(`"reasoning_tokens":`)) || bytes.Contains(b, []byte(`"reasoning_tokens":0`)) {
		t.Fatalf("stream usage lacks reasoning tokens: %s", b)
	}
	// thinking off (an empty think block in the prompt): untagged output is the answer
	code, b = ts.post(t, "/v1/chat/completions", chatBody("Sunny.", `, "chat_template_kwargs": {"enable_thinking": false}`))
	if r := decode[chatReply](t, b); code != 200 || r.Choices[0].Message.ReasoningContent != nil || r.Choices[0].Message.Content == nil || *r.Choices[0].Message.Content != "Sunny." {
		t.Fatalf("thinking off: %d %s", code, b)
	}
	// separate_reasoning false: the think block stays in content
	code, b = ts.post(t, "/v1/chat/completions", chatBody("<think>a</think>b", `, "separate_reasoning": false`))
	if r := decode[chatReply](t, b); code != 200 || r.Choices[0].Message.ReasoningContent != nil || r.Choices[0].Message.Content == nil || *r.Choices[0].Message.Content != "<think>a</think>b" {
		t.Fatalf("separate_reasoning false: %d %s", code, b)
	}
}

// TestChatSamplingFields: the OpenAI sampling fields of a chat request act.
func TestChatSamplingFields(t *testing.T) {
	ts := start(t, opts{})
	ask := func(extra string) chatSampled {
		t.Helper()
		code, b := ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "tell me a story"}]`+extra+`}`)
		if code != 200 {
			t.Fatalf("%s: %d %s", extra, code, b)
		}
		return decode[chatSampled](t, b)
	}
	text := func(r chatSampled, i int) string { return r.Choices[i].Message.Content }
	// seed: the same seed gives the same text, n > 1 gives n choices
	a := ask(`, "temperature": 1, "seed": 5, "max_completion_tokens": 12, "n": 2`)
	b := ask(`, "temperature": 1, "seed": 5, "max_completion_tokens": 12, "n": 2`)
	if len(a.Choices) != 2 || text(a, 0) != text(b, 0) || a.Usage.CompletionTokens != 24 {
		t.Fatalf("seed/n/max_completion_tokens: %+v vs %+v", a, b)
	}
	// logit_bias: a huge bias forces the token
	g := ask(`, "temperature": 0, "max_completion_tokens": 4, "logit_bias": {"66": 100}`)
	if g.Choices[0].Message.Content != strings.Repeat(ts.tok.Decode([]int32{66}, tokenizer.DecodeOptions{}), 4) {
		t.Fatalf("logit_bias: %q", g.Choices[0].Message.Content)
	}
	// stop: with the forced token as the stop string, the output ends before it
	r := ask(`, "temperature": 0, "max_completion_tokens": 4, "logit_bias": {"66": 100}, "stop": ` + jsonString(ts.tok.Decode([]int32{66}, tokenizer.DecodeOptions{})))
	if text(r, 0) != "" || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("stop: %+v", r)
	}
}

type chatSampled struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestResponseFormats: json_object and structural_tag in its format form
// (and the legacy form) constrain chat output.
func TestResponseFormats(t *testing.T) {
	ts := start(t, opts{})
	ask := func(rf string) string {
		t.Helper()
		code, b := ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 300, "temperature": 0, "response_format": `+rf+`}`)
		if code != 200 {
			t.Fatalf("%s: %d %s", rf, code, b)
		}
		return decode[chatSampled](t, b).Choices[0].Message.Content
	}
	if got := ask(`{"type": "structural_tag", "format": {"type": "sequence", "elements": [{"type": "const_string", "value": "Answer: "}, {"type": "tag", "begin": "<n>", "content": {"type": "json_schema", "json_schema": {"type": "integer", "enum": [7, 9]}}, "end": "</n>"}]}}`); got != "Answer: <n>7</n>" && got != "Answer: <n>9</n>" {
		t.Fatalf("structural_tag format: %q", got)
	}
	// json_object: a random model never closes the object within the budget,
	// but it must open one (llm/grammar checks the whole language)
	if got := ask(`{"type": "json_object"}`); !strings.HasPrefix(got, "{") {
		t.Fatalf("json_object: %q", got)
	}
	if code, b := ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "structural_tag", "format": {"type": "bogus"}}}`); code != 400 {
		t.Fatalf("bad format: %d %s", code, b)
	}
}

// TestReasoningEffortNone: reasoning_effort "none" turns thinking off for the
// template (docs/api.md §7.2), so the reasoning parser must not take the
// untagged answer for reasoning.
func TestReasoningEffortNone(t *testing.T) {
	ts := start(t, opts{cfg: Config{ReasoningParser: "qwen3"}})
	for _, stream := range []bool{false, true} {
		extra := `, "reasoning_effort": "none"`
		if stream {
			extra += `, "stream": true`
		}
		code, b := ts.post(t, "/v1/chat/completions", chatBody("Sunny.", extra))
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		if !stream {
			m := decode[chatReply](t, b).Choices[0].Message
			if m.ReasoningContent != nil || m.Content == nil || *m.Content != "Sunny." {
				t.Fatalf("reasoning_effort none: %s", b)
			}
			continue
		}
		if s := collectStream(t, b); s.reasoning != "" || s.content != "Sunny." {
			t.Fatalf("reasoning_effort none, streamed: %+v", s)
		}
	}
}
