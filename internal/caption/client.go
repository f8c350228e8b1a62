package caption

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Client captions one image per request through a server's native
// /generate or OpenAI /v1/chat/completions API.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	API     string // "native" or "openai"
	APIKey  string
	Model   string // OpenAI model name ("default" when empty)
	Prompt  string
	// MaxFileBytes bounds local images read into data URIs (default 32 MiB).
	MaxFileBytes int64
	Temperature  float64
	TopP         float64
	MaxNewTokens int
}

// mediaMarker is Sightline's generic image marker; native prompts without
// any known image placeholder get it prepended.
const mediaMarker = "<__media__>"

var placeholders = []string{mediaMarker, "<image>", "<|image_pad|>", "<|vision_start|>"}

// source turns an input into an image_data / image_url value: URLs pass
// through, local files become data URIs (the server need not see our disk).
func (c *Client) source(input string) (string, error) {
	if isURL(input) {
		return input, nil
	}
	limit := c.MaxFileBytes
	if limit <= 0 {
		limit = 32 << 20
	}
	f, err := os.Open(input)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > limit {
		return "", fmt.Errorf("image is larger than %d bytes", limit)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil // the server sniffs the real format
}

// Caption requests a caption for one input.
func (c *Client) Caption(ctx context.Context, input string) (Record, error) {
	rec := Record{Input: input}
	src, err := c.source(input)
	if err != nil {
		return rec, err
	}
	var path string
	var body map[string]any
	if c.API == "native" {
		prompt := c.Prompt
		has := false
		for _, p := range placeholders {
			has = has || strings.Contains(prompt, p)
		}
		if !has {
			prompt = mediaMarker + "\n" + prompt
		}
		path = "/generate"
		body = map[string]any{"text": prompt, "image_data": src,
			"sampling_params": map[string]any{"temperature": c.Temperature, "top_p": c.TopP, "max_new_tokens": c.MaxNewTokens}}
	} else {
		model := c.Model
		if model == "" {
			model = "default"
		}
		path = "/v1/chat/completions"
		body = map[string]any{"model": model, "temperature": c.Temperature, "top_p": c.TopP, "max_tokens": c.MaxNewTokens,
			"messages": []any{map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "image_url", "image_url": map[string]any{"url": src}},
				map[string]any{"type": "text", "text": c.Prompt}}}}}
	}
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(raw))
	if err != nil {
		return rec, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return rec, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return rec, err
	}
	if resp.StatusCode != http.StatusOK {
		return rec, fmt.Errorf("server answered %d: %s", resp.StatusCode, errorMessage(data))
	}
	if c.API == "native" {
		var r struct {
			Text string `json:"text"`
			Meta struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			} `json:"meta_info"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return rec, fmt.Errorf("bad /generate response: %w", err)
		}
		rec.Caption, rec.PromptTokens, rec.CompletionTokens = r.Text, r.Meta.PromptTokens, r.Meta.CompletionTokens
		return rec, nil
	}
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.Choices) == 0 {
		return rec, fmt.Errorf("bad chat response: %s", errorMessage(data))
	}
	rec.Caption, rec.PromptTokens, rec.CompletionTokens = r.Choices[0].Message.Content, r.Usage.PromptTokens, r.Usage.CompletionTokens
	return rec, nil
}

// errorMessage extracts the message of an SGLang/OpenAI error body.
func errorMessage(data []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Error != nil && e.Error.Message != "" {
			return e.Error.Message
		}
		if e.Message != "" {
			return e.Message
		}
	}
	if len(data) > 300 {
		data = data[:300]
	}
	return strings.TrimSpace(string(data))
}
