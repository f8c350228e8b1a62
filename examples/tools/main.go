// Command tools is a tool-calling agent loop over the OpenAI chat API: it
// offers the model a get_weather function, runs every call the model makes,
// sends the results back, and prints the final answer. Serve a model that
// calls tools with the matching parser, e.g.
//
//	sightline serve --model-path Qwen2.5-7B-Instruct --tool-call-parser qwen25
//	go run ./examples/tools [-url http://localhost:30000] [-prompt "Weather in Paris?"] [-tool-choice auto|required]
//
// -tool-choice required makes the server constrain the first turn to a call
// (even a model that never calls tools then makes one).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	url := flag.String("url", "http://localhost:30000", "server address")
	prompt := flag.String("prompt", "What is the weather in Paris?", "user message")
	choice := flag.String("tool-choice", "auto", "tool_choice of the first turn: auto or required")
	flag.Parse()
	if err := run(context.Background(), *url, *prompt, *choice, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// tools is what the model may call.
var tools = []map[string]any{{"type": "function", "function": map[string]any{
	"name": "get_weather", "description": "Current weather of a city",
	"parameters": map[string]any{"type": "object", "required": []string{"city"},
		"properties": map[string]any{"city": map[string]any{"type": "string", "enum": []string{"Paris", "Rome", "Tokyo"}}}},
}}}

// getWeather is the local implementation of the tool.
func getWeather(args string) string {
	var a struct{ City string }
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		return `{"error": "bad arguments"}`
	}
	temps := map[string]int{"Paris": 21, "Rome": 26, "Tokyo": 18}
	return fmt.Sprintf(`{"city": %q, "temp_c": %d}`, a.City, temps[a.City])
}

type message struct {
	Role       string     `json:"role"`
	Content    *string    `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// run loops: ask, run the calls, send the results, until the model answers.
func run(ctx context.Context, url, prompt, choice string, out io.Writer) error {
	msgs := []message{{Role: "user", Content: &prompt}}
	for turn := 0; turn < 4; turn++ {
		body := map[string]any{"model": "default", "messages": msgs, "tools": tools, "tool_choice": "auto",
			"max_tokens": 256, "temperature": 0}
		if turn == 0 {
			body["tool_choice"] = choice
		}
		reply, finish, err := chat(ctx, url, body)
		if err != nil {
			return err
		}
		if reply.Content == nil { // some chat templates expect a string
			empty := ""
			reply.Content = &empty
		}
		msgs = append(msgs, reply)
		if finish != "tool_calls" {
			content := ""
			if reply.Content != nil {
				content = *reply.Content
			}
			_, err := fmt.Fprintf(out, "answer: %s\n[finish: %s]\n", content, finish)
			return err
		}
		for _, c := range reply.ToolCalls {
			result := getWeather(c.Function.Arguments)
			fmt.Fprintf(out, "call %s(%s) -> %s\n", c.Function.Name, c.Function.Arguments, result)
			msgs = append(msgs, message{Role: "tool", Content: &result, ToolCallID: c.ID})
		}
	}
	return fmt.Errorf("no answer after 4 turns")
}

func chat(ctx context.Context, url string, body map[string]any) (message, string, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		return message{}, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return message{}, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return message{}, "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	var r struct {
		Choices []struct {
			Message      message `json:"message"`
			FinishReason string  `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Choices) == 0 {
		return message{}, "", fmt.Errorf("unexpected reply %s", raw)
	}
	return r.Choices[0].Message, r.Choices[0].FinishReason, nil
}
