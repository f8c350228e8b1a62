// Command stream prints a /generate stream as it arrives (SSE frames whose
// text is cumulative, as in the seed document's streaming example).
//
//	go run ./examples/stream [-url http://localhost:30000]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
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

func run(ctx context.Context, url, prompt string, out io.Writer) error {
	body, _ := json.Marshal(map[string]any{
		"text":            prompt,
		"sampling_params": map[string]any{"temperature": 0, "max_new_tokens": 32},
		"stream":          true,
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
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("server: %s", b)
	}
	prev := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data:") {
			continue
		}
		data := strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		if data == "[DONE]" {
			break
		}
		var frame struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(data), &frame); err != nil {
			return err
		}
		fmt.Fprint(out, frame.Text[min(prev, len(frame.Text)):])
		prev = len(frame.Text)
	}
	fmt.Fprintln(out)
	return sc.Err()
}
