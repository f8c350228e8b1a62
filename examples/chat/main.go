// Command chat sends an OpenAI chat completion, optionally with an image
// (a local file sent as a data URI), and prints the answer.
//
//	go run ./examples/chat [-url http://localhost:30000] [-image photo.png] [-prompt "Describe the image."]
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	url := flag.String("url", "http://localhost:30000", "server address")
	prompt := flag.String("prompt", "Tell me a short story.", "user message")
	image := flag.String("image", "", "image file to attach (needs a vision model)")
	flag.Parse()
	if err := run(context.Background(), *url, *prompt, *image, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, prompt, image string, out io.Writer) error {
	content := []map[string]any{{"type": "text", "text": prompt}}
	if image != "" {
		b, err := os.ReadFile(image)
		if err != nil {
			return err
		}
		uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(b) // the server sniffs the real format
		content = append([]map[string]any{{"type": "image_url", "image_url": map[string]any{"url": uri}}}, content...)
	}
	body, _ := json.Marshal(map[string]any{
		"model":       "default",
		"messages":    []map[string]any{{"role": "user", "content": content}},
		"max_tokens":  48,
		"temperature": 0,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(r.Choices) == 0 {
		return fmt.Errorf("server (%d): %s", resp.StatusCode, r.Message)
	}
	_, err = fmt.Fprintf(out, "%s\n[finish: %s]\n", r.Choices[0].Message.Content, r.Choices[0].FinishReason)
	return err
}
