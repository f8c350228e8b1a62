// Command generate sends the seed document's /generate request to a
// Sightline (or SGLang) server and prints the reply.
//
//	go run ./examples/generate [-url http://localhost:30000]
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
	prompt := flag.String("prompt", "The capital of France is", "prompt text")
	flag.Parse()
	if err := run(context.Background(), *url, *prompt, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run posts one greedy /generate request and prints text and finish reason.
func run(ctx context.Context, url, prompt string, out io.Writer) error {
	body, _ := json.Marshal(map[string]any{
		"text":            prompt,
		"sampling_params": map[string]any{"temperature": 0, "max_new_tokens": 32},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/generate", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Text     string `json:"text"`
		MetaInfo struct {
			FinishReason     json.RawMessage `json:"finish_reason"`
			PromptTokens     int             `json:"prompt_tokens"`
			CompletionTokens int             `json:"completion_tokens"`
		} `json:"meta_info"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if r.Error != nil {
		return fmt.Errorf("server: %s", r.Error.Message)
	}
	_, err = fmt.Fprintf(out, "%s%s\n[finish %s, %d prompt + %d completion tokens]\n", prompt, r.Text,
		r.MetaInfo.FinishReason, r.MetaInfo.PromptTokens, r.MetaInfo.CompletionTokens)
	return err
}
