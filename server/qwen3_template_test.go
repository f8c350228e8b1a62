package server

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/server/api"
)

// TestQwen3EnableThinking: the Qwen3 chat template (its tokenizer_config.json)
// renders chat_template_kwargs as SGLang passes them to apply_chat_template:
// enable_thinking false (or reasoning_effort "none") closes an empty think
// block after the generation prompt; by default the prompt ends there.
func TestQwen3EnableThinking(t *testing.T) {
	raw, err := os.ReadFile("chat/testdata/qwen3/tokenizer_config.json")
	if err != nil {
		t.Fatal(err)
	}
	var tc struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(raw, &tc); err != nil || tc.ChatTemplate == "" {
		t.Fatalf("qwen3 chat template: %v", err)
	}
	ts := start(t, opts{template: tc.ChatTemplate})
	const base = "<|im_start|>user\nIs 21 prime?<|im_end|>\n<|im_start|>assistant\n"
	for extra, want := range map[string]string{
		``: base,
		`, "chat_template_kwargs": {"enable_thinking": true}`:  base,
		`, "chat_template_kwargs": {"enable_thinking": false}`: base + "<think>\n\n</think>\n\n",
		`, "reasoning_effort": "none"`:                         base + "<think>\n\n</think>\n\n",
	} {
		var req api.ChatRequest
		if err := json.Unmarshal([]byte(`{"messages": [{"role": "user", "content": "Is 21 prime?"}]`+extra+`}`), &req); err != nil {
			t.Fatal(err)
		}
		p, err := ts.srv.renderChat(context.Background(), &req, &chatTools{})
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		if got := ts.tok.Decode(p.Tokens, tokenizer.DecodeOptions{}); got != want {
			t.Errorf("%s: rendered %q, want %q", extra, got, want)
		}
	}
}
