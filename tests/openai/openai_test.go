// Package openai_test drives a real `sightline serve` process with the
// official OpenAI Go client (chat, streaming chat, completions, models). It
// lives in its own module so the client's dependencies stay out of the main
// go.mod.
package openai_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

var baseURL, agentURL string

// serve starts `sightline serve` on a free loopback port and waits until it
// is healthy; stop interrupts it.
func serve(bin, model string, extra ...string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	args := append([]string{"serve", "--model-path", model, "--served-model-name", "tiny",
		"--port", fmt.Sprint(port), "--api-key", "test-key", "--threads", "2", "--kv-cache-memory", "64MiB"}, extra...)
	srv := exec.Command(bin, args...)
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		srv.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			srv.Process.Kill()
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("server %v did not become healthy", extra)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "openai-e2e")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sightline")
	for _, c := range [][]string{
		{"go", "build", "-o", bin, "./cmd/sightline"},
		{"go", "run", "./cmd/mktiny", "--out", filepath.Join(dir, "tiny"), "--shape", "tiny-qwen2", "--format", "hf"},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = filepath.Join("..", "..") // the main module: this module only holds the client
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "setup:", strings.Join(c, " "), err)
			return 1
		}
	}
	model := filepath.Join(dir, "tiny", "hf")
	var stop func()
	if baseURL, stop, err = serve(bin, model); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	// a second server with the agent parsers (the qwen3 reasoning parser
	// reads untagged output as reasoning, so the plain tests use the first)
	if agentURL, stop, err = serve(bin, model, "--tool-call-parser", "qwen25", "--reasoning-parser", "qwen3"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

func client() openai.Client { return clientOf(baseURL) }

func clientOf(url string) openai.Client {
	return openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey("test-key"), option.WithMaxRetries(0))
}

func TestChat(t *testing.T) {
	ctx := context.Background()
	c := client()
	resp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:       "tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Say hello.")},
		MaxTokens:   openai.Int(6),
		Temperature: openai.Float(0),
		Logprobs:    openai.Bool(true),
		TopLogprobs: openai.Int(2),
		Seed:        openai.Int(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Message.Role != "assistant" || resp.Usage.CompletionTokens == 0 ||
		resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
		t.Fatalf("%+v", resp)
	}
	if lp := resp.Choices[0].Logprobs.Content; int64(len(lp)) != resp.Usage.CompletionTokens || len(lp[0].TopLogprobs) == 0 {
		t.Fatalf("logprobs %+v", resp.Choices[0].Logprobs)
	}
	// the same request streamed accumulates to the same message
	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "tiny",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Say hello.")},
		MaxTokens:     openai.Int(6),
		Temperature:   openai.Float(0),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != resp.Choices[0].Message.Content || acc.Usage.CompletionTokens != resp.Usage.CompletionTokens {
		t.Fatalf("streamed %q (usage %+v), non-streamed %q", acc.Choices[0].Message.Content, acc.Usage, resp.Choices[0].Message.Content)
	}
	// errors come back as API errors
	_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "nope", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
	var apiErr *openai.Error
	if err == nil || !errorsAs(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestCompletions(t *testing.T) {
	ctx := context.Background()
	c := client()
	resp, err := c.Completions.New(ctx, openai.CompletionNewParams{
		Model:       "tiny",
		Prompt:      openai.CompletionNewParamsPromptUnion{OfArrayOfStrings: []string{"The cat", "A dog"}},
		MaxTokens:   openai.Int(4),
		Temperature: openai.Float(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 2 || resp.Choices[1].Index != 1 || resp.Usage.CompletionTokens == 0 {
		t.Fatalf("%+v", resp)
	}
	stream := c.Completions.NewStreaming(ctx, openai.CompletionNewParams{
		Model: "tiny", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("The cat")},
		MaxTokens: openai.Int(4), Temperature: openai.Float(0),
	})
	var text string
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text += ch.Text
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != resp.Choices[0].Text {
		t.Fatalf("streamed %q, non-streamed %q", text, resp.Choices[0].Text)
	}
}

func TestModels(t *testing.T) {
	c := client()
	page, err := c.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != "tiny" {
		t.Fatalf("%+v", page.Data)
	}
}
