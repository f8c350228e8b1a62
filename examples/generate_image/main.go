// Command generate_image asks /generate about an image: the prompt holds the
// model's image placeholder (or Sightline's generic <__media__> marker) and
// image_data carries the image as a path the server may read, a URL, base64
// or a data URI (here: a data URI built from a local file).
//
//	go run ./examples/generate_image -image photo.png [-url http://localhost:30000]
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
	image := flag.String("image", "", "image file (required)")
	prompt := flag.String("prompt", "<__media__>\nDescribe this image in a very short sentence.", "prompt with an image marker")
	flag.Parse()
	if err := run(context.Background(), *url, *image, *prompt, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, image, prompt string, out io.Writer) error {
	b, err := os.ReadFile(image)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{
		"text":            prompt,
		"image_data":      "data:image/png;base64," + base64.StdEncoding.EncodeToString(b),
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
		Text string `json:"text"`
		Meta struct {
			PromptTokens int `json:"prompt_tokens"`
			ImageTokens  int `json:"image_tokens"`
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
	_, err = fmt.Fprintf(out, "%s\n[%d prompt tokens, %d of them image tokens]\n", r.Text, r.Meta.PromptTokens, r.Meta.ImageTokens)
	return err
}
