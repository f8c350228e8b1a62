// Command chat_audio sends an OpenAI chat message with an audio part: the
// OpenAI input_audio form ({data: base64, format}), which Sightline accepts
// like SGLang's audio_url.
//
//	go run ./examples/chat_audio -audio clip.wav [-url http://localhost:30000]
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
	"path/filepath"
	"strings"
)

func main() {
	url := flag.String("url", "http://localhost:30000", "server address")
	audio := flag.String("audio", "", "audio file: wav, flac, ogg or mp3 (required)")
	prompt := flag.String("prompt", "What is this sound?", "question")
	flag.Parse()
	if err := run(context.Background(), *url, *audio, *prompt, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, audio, prompt string, out io.Writer) error {
	b, err := os.ReadFile(audio)
	if err != nil {
		return err
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(audio)), ".")
	body, _ := json.Marshal(map[string]any{
		"model": "default", "max_tokens": 32, "temperature": 0,
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "input_audio", "input_audio": map[string]any{"data": base64.StdEncoding.EncodeToString(b), "format": format}},
			map[string]any{"type": "text", "text": prompt},
		}}},
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
		} `json:"choices"`
		Usage struct {
			PromptTokensDetails struct {
				AudioTokens int `json:"audio_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(r.Choices) == 0 {
		return fmt.Errorf("server (%d): %s", resp.StatusCode, r.Message)
	}
	_, err = fmt.Fprintf(out, "%s\n[%d audio tokens]\n", r.Choices[0].Message.Content, r.Usage.PromptTokensDetails.AudioTokens)
	return err
}
