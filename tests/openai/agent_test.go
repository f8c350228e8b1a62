package openai_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// The tiny model is random: the output a tool-calling model would write is
// forced with the server's regex extension.
var weatherTool = openai.ChatCompletionToolUnionParam{OfFunction: &openai.ChatCompletionFunctionToolParam{
	Function: openai.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String("Weather of a city"),
		Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{
			"city": map[string]any{"type": "string", "enum": []string{"Paris", "Rome"}}}, "required": []string{"city"}},
	},
}}

func forced(out string) option.RequestOption {
	return option.WithJSONSet("regex", regexp.QuoteMeta(out))
}

const agentOutput = "<think>Need the weather.</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"

// TestToolCalling: the official client sees parsed tool calls, whole and
// streamed (accumulated), with reasoning split out.
func TestToolCalling(t *testing.T) {
	ctx := context.Background()
	c := clientOf(agentURL)
	params := openai.ChatCompletionNewParams{
		Model:       "tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What's the weather in Paris?")},
		Tools:       []openai.ChatCompletionToolUnionParam{weatherTool},
		MaxTokens:   openai.Int(200),
		Temperature: openai.Float(0),
	}
	resp, err := c.Chat.Completions.New(ctx, params, forced(agentOutput))
	if err != nil {
		t.Fatal(err)
	}
	ch := resp.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("%+v", ch)
	}
	call := ch.Message.ToolCalls[0]
	if call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` || !strings.HasPrefix(call.ID, "call_") {
		t.Fatalf("call %+v", call)
	}
	var reasoning string
	if err := json.Unmarshal([]byte(ch.Message.JSON.ExtraFields["reasoning_content"].Raw()), &reasoning); err != nil || reasoning != "Need the weather." {
		t.Fatalf("reasoning_content %q (%v)", ch.Message.JSON.ExtraFields["reasoning_content"].Raw(), err)
	}

	stream := c.Chat.Completions.NewStreaming(ctx, params, forced(agentOutput))
	acc := openai.ChatCompletionAccumulator{}
	var streamedReasoning string
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		for _, choice := range chunk.Choices {
			var r string
			if raw := choice.Delta.JSON.ExtraFields["reasoning_content"].Raw(); raw != "" && json.Unmarshal([]byte(raw), &r) == nil {
				streamedReasoning += r
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	got := acc.Choices[0]
	if got.FinishReason != "tool_calls" || len(got.Message.ToolCalls) != 1 || got.Message.ToolCalls[0].Function.Name != "get_weather" ||
		got.Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || streamedReasoning != "Need the weather." {
		t.Fatalf("streamed %+v, reasoning %q", got, streamedReasoning)
	}

	// the tool result goes back and the conversation continues
	params.Messages = append(params.Messages, ch.Message.ToParam(), openai.ToolMessage(`{"temp_c": 21}`, call.ID))
	next, err := c.Chat.Completions.New(ctx, params, forced("<think>ok</think>It is 21 °C in Paris."))
	if err != nil {
		t.Fatal(err)
	}
	if next.Choices[0].FinishReason != "stop" || strings.TrimSpace(next.Choices[0].Message.Content) != "It is 21 °C in Paris." {
		t.Fatalf("second turn %+v", next.Choices[0])
	}
}

// TestToolChoiceNamed: a named tool_choice makes even a random model return
// schema-valid arguments for that tool.
func TestToolChoiceNamed(t *testing.T) {
	c := clientOf(agentURL)
	resp, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:       "tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather?")},
		Tools:       []openai.ChatCompletionToolUnionParam{weatherTool},
		ToolChoice:  openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_weather"}),
		MaxTokens:   openai.Int(200),
		Temperature: openai.Float(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Choices[0].Message.ToolCalls
	var args struct{ City string }
	if len(calls) != 1 || calls[0].Function.Name != "get_weather" || json.Unmarshal([]byte(calls[0].Function.Arguments), &args) != nil ||
		(args.City != "Paris" && args.City != "Rome") {
		t.Fatalf("%+v", resp.Choices[0])
	}
}
