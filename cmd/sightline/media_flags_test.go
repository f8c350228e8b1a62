package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sightline/sightline/internal/tiny"
)

// post sends body to url and returns the status and the reply.
func post(t *testing.T, url string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestMediaFlags drives sightline serve's media flags on a tiny Qwen2-VL:
// per-modality limits refuse before anything is fetched, URL media may not
// reach loopback by default, and --allow-private-media-urls opts in.
func TestMediaFlags(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, false); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "hf")
	png, err := os.ReadFile(filepath.Join("..", "..", "testdata", "oracle", "media", "img112_circle.png"))
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int64
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	defer media.Close()
	img := media.URL + "/cat.png?token=secret"
	one := "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is it?<|im_end|>\n<|im_start|>assistant\n"
	two := "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>Same?<|im_end|>\n<|im_start|>assistant\n"
	greedy := map[string]any{"temperature": 0, "max_new_tokens": 2}

	t.Run("limits", func(t *testing.T) {
		hs, _ := serveDefaults(t, "--model-path", model, "--limit-mm-data-per-request", `{"image": 1, "audio": 0}`, "--allow-private-media-urls")
		code, body := post(t, hs.URL+"/generate", map[string]any{"text": two, "image_data": []string{img, img}, "sampling_params": greedy})
		if code != http.StatusBadRequest || !strings.Contains(body, "Image count 2 exceeds limit 1 per request.") {
			t.Fatalf("two images: %d %s", code, body)
		}
		code, body = post(t, hs.URL+"/generate", map[string]any{"text": "<|audio_bos|><|AUDIO|><|audio_eos|>", "audio_data": img, "sampling_params": greedy})
		if code != http.StatusBadRequest || !strings.Contains(body, "Audio count 1 exceeds limit 0 per request.") {
			t.Fatalf("audio with limit 0: %d %s", code, body)
		}
		if n := fetches.Load(); n != 0 {
			t.Fatalf("refused requests fetched %d URLs", n)
		}
		if code, body = post(t, hs.URL+"/generate", map[string]any{"text": one, "image_data": img, "sampling_params": greedy}); code != http.StatusOK {
			t.Fatalf("one image within the limit: %d %s", code, body)
		}
	})

	t.Run("private URLs refused by default", func(t *testing.T) {
		before := fetches.Load()
		hs, _ := serveDefaults(t, "--model-path", model)
		code, body := post(t, hs.URL+"/generate", map[string]any{"text": one, "image_data": img, "sampling_params": greedy})
		if code != http.StatusBadRequest || !strings.Contains(body, "not public") || strings.Contains(body, "secret") {
			t.Fatalf("loopback URL at defaults: %d %s", code, body)
		}
		if fetches.Load() != before {
			t.Fatal("the loopback server was contacted")
		}
	})

	t.Run("allowed domains", func(t *testing.T) {
		hs, _ := serveDefaults(t, "--model-path", model, "--allow-private-media-urls", "--allowed-media-domains", "images.example.com")
		code, body := post(t, hs.URL+"/generate", map[string]any{"text": one, "image_data": img, "sampling_params": greedy})
		if code != http.StatusBadRequest || !strings.Contains(body, "127.0.0.1") {
			t.Fatalf("host outside --allowed-media-domains: %d %s", code, body)
		}
	})
}
