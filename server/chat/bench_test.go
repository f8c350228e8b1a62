package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// qwen3Conversation is a 20-message conversation: system prompt, tool
// calls with results, and <think> reasoning in assistant turns.
func qwen3Conversation(tb testing.TB) RenderContext {
	tb.Helper()
	msgs := []map[string]any{{"role": "system", "content": "You are a helpful assistant. Answer briefly."}}
	for i := 0; len(msgs) < 20; i++ {
		msgs = append(msgs, map[string]any{"role": "user", "content": fmt.Sprintf("Question %d: what is the weather in city %d today, and why?", i, i)})
		switch i % 3 {
		case 0:
			msgs = append(msgs, map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{
				"type": "function", "function": map[string]any{"name": "get_weather", "arguments": map[string]any{"city": fmt.Sprintf("city %d", i), "unit": "celsius"}}}}})
			msgs = append(msgs, map[string]any{"role": "tool", "content": `{"temperature": 21, "condition": "sunny"}`})
		default:
			msgs = append(msgs, map[string]any{"role": "assistant", "content": fmt.Sprintf("<think>\nLet me think about city %d.\n</think>\n\nIt is sunny and 21 degrees in city %d.", i, i)})
		}
	}
	raw, err := json.Marshal(msgs[:20])
	if err != nil {
		tb.Fatal(err)
	}
	tools := `[{"type":"function","function":{"name":"get_weather","description":"Get the current weather for a city.","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}}]`
	return RenderContext{
		Messages:            raw,
		Tools:               json.RawMessage(tools),
		AddGenerationPrompt: true,
		Special:             map[string]string{"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
	}
}

// BenchmarkRenderQwen3 renders the Qwen3 template (from tokenizer_config.json) with 20 messages.
func BenchmarkRenderQwen3(b *testing.B) {
	sources, _ := loadGoldens(b, "qwen3")
	tpl, err := Parse(sources["qwen3_tokenizer_config"])
	if err != nil {
		b.Fatal(err)
	}
	rc := qwen3Conversation(b)
	out, err := tpl.Render(context.Background(), rc)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tpl.Render(context.Background(), rc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseQwen3 parses the Qwen3 template.
func BenchmarkParseQwen3(b *testing.B) {
	sources, _ := loadGoldens(b, "qwen3")
	src := sources["qwen3_tokenizer_config"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
