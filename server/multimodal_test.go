package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/sightline/sightline/encoders"
	_ "github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/testserver"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/all"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/server"
)

// These tests drive the media pipeline through the HTTP surface with a
// tiny random-weight Qwen2-VL (both its HF and its GGUF + mmproj form) and
// a tiny Qwen2-Audio served from GGUF + qwen2a mmproj.

func mediaFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "oracle", "media", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func postJSON(t *testing.T, url string, body any) reply {
	t.Helper()
	var buf []byte
	switch b := body.(type) {
	case string:
		buf = []byte(b)
	default:
		var err error
		if buf, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (r reply) ok(t *testing.T) reply {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	return r
}

func (r reply) outputIDs(t *testing.T) []int {
	t.Helper()
	var ids []int
	for _, v := range r.body["output_ids"].([]any) {
		ids = append(ids, int(v.(float64)))
	}
	if len(ids) == 0 {
		t.Fatalf("no output ids: %s", r.raw)
	}
	return ids
}

func (r reply) meta(t *testing.T, key string) int {
	t.Helper()
	m, ok := r.body["meta_info"].(map[string]any)
	if !ok {
		t.Fatalf("no meta_info: %s", r.raw)
	}
	return int(m[key].(float64))
}

// metric reads one unlabelled-by-us series from /metrics.
func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{[^}]*\} (\S+)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("%s not in /metrics:\n%s", name, b)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func generate(text string, image any) map[string]any {
	return map[string]any{"text": text, "image_data": image,
		"sampling_params": map[string]any{"temperature": 0, "max_new_tokens": 6, "ignore_eos": true}}
}

// The seed's multimodal request shape (ChatML text with the image marker,
// greedy, a file/URL/base64 image_data), for a Qwen2-VL served from an HF
// directory and from GGUF + mmproj: every image form gives the same tokens,
// processor_output and precomputed_embedding included, a repeated image hits
// the prefix cache (cached_tokens) and, after a different prefix, the
// embedding cache.
func TestVisionGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], true, true); err != nil {
		t.Fatal(err)
	}
	png := mediaFile(t, "img112_circle.png")
	b64 := base64.StdEncoding.EncodeToString(png)
	seedText := func(q string) string {
		return "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" +
			processors.Marker + "\n" + q + "<|im_end|>\n<|im_start|>assistant\n"
	}
	feat, embeds := preprocessed(t, filepath.Join(dir, "hf"), png, seedText("Describe this image in a very short sentence."))

	var want []int
	for _, form := range []struct{ name, model, mmproj string }{
		{"hf", filepath.Join(dir, "hf"), ""},
		{"gguf", filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")},
	} {
		t.Run(form.name, func(t *testing.T) {
			url := testserver.Start(t, testserver.Options{Model: form.model, MMProj: form.mmproj, Multimodal: true,
				Config: server.Config{EnableMetrics: true}})
			text := seedText("Describe this image in a very short sentence.")
			first := postJSON(t, url+"/generate", generate(text, b64)).ok(t)
			ids := first.outputIDs(t)
			if want == nil {
				want = ids
			} else if !slices.Equal(ids, want) {
				t.Fatalf("%s form generated %v, the HF form %v", form.name, ids, want)
			}
			if n := first.meta(t, "prompt_tokens"); n <= len(embeds) {
				t.Fatalf("prompt_tokens %d does not count the %d image tokens", n, len(embeds))
			}
			// The same request again: the prompt, image rows included, comes from the prefix cache.
			again := postJSON(t, url+"/generate", generate(text, b64)).ok(t)
			if !slices.Equal(again.outputIDs(t), want) {
				t.Fatalf("repeat generated %v, want %v", again.outputIDs(t), want)
			}
			if c := again.meta(t, "cached_tokens"); c < len(embeds) {
				t.Fatalf("repeat cached_tokens = %d, want at least the %d image rows", c, len(embeds))
			}
			// Another prefix with the same image: the prefix cache misses at the
			// image, the embedding cache does not.
			hits := metric(t, url, "sightline:mm_embedding_cache_hits_total")
			postJSON(t, url+"/generate", generate("Look: "+text, b64)).ok(t)
			if h := metric(t, url, "sightline:mm_embedding_cache_hits_total"); h != hits+1 {
				t.Fatalf("embedding cache hits %v → %v, want one more", hits, h)
			}
			// Every other form of the same image gives the same tokens.
			forms := map[string]any{
				"data URI": "data:image/png;base64," + b64,
				"object":   map[string]any{"url": "data:image/png;base64," + b64},
				"list":     []any{b64},
				"processor_output": map[string]any{"format": "processor_output", "pixel_values": feat.pixels,
					"image_grid_thw": [][]int{feat.grid[:]}},
				"precomputed_embedding": map[string]any{"format": "precomputed_embedding", "feature": embeds,
					"image_grid_thw": [][]int{feat.grid[:]}},
			}
			for name, img := range forms {
				r := postJSON(t, url+"/generate", generate(text, img)).ok(t)
				if !slices.Equal(r.outputIDs(t), want) {
					t.Errorf("%s: generated %v, want %v", name, r.outputIDs(t), want)
				}
			}
			// Two markers, one image; a local path outside --allowed-local-media-path.
			for _, bad := range []map[string]any{
				generate(processors.Marker+processors.Marker+"two?", b64),
				generate(text, filepath.Join("..", "testdata", "oracle", "media", "img112_circle.png")),
				generate(text, "data:image/png;base64,"+b64[:40]),
			} {
				if r := postJSON(t, url+"/generate", bad); r.status != http.StatusBadRequest || r.body["error"] == nil && r.body["message"] == nil {
					t.Errorf("%v: status %d %s, want a 400 error", bad["image_data"] != nil, r.status, r.raw)
				}
			}
		})
	}
}

type pixels struct {
	pixels [][]float32
	grid   [3]int
}

// preprocessed runs the HF model's own processor and encoders in process:
// the image's processor_output pixel rows and grid, and its projected
// embeddings [rows][hidden].
func preprocessed(t *testing.T, hfDir string, png []byte, text string) (pixels, [][]float32) {
	t.Helper()
	ctx := context.Background()
	be := ref.New()
	tok, err := tokenizer.Load(hfDir)
	if err != nil {
		t.Fatal(err)
	}
	op, err := encoders.Open(ctx, hfDir, "", be)
	if err != nil {
		t.Fatal(err)
	}
	encs := op.Encoders
	proc, err := processors.New(op.Family, op.ProcessorSpec(tok))
	if err != nil {
		t.Fatal(err)
	}
	defer encoders.CloseAll(encs)
	loader, err := media.New(media.Config{Limits: media.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	itemRef, err := media.ParseItem([]byte(strconv.Quote(base64.StdEncoding.EncodeToString(png))), media.Image)
	if err != nil {
		t.Fatal(err)
	}
	items, err := loader.Load(ctx, []media.Ref{itemRef})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proc.Prepare(ctx, processors.Tokenize(tok, text, true), items)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spans) != 1 {
		t.Fatalf("%d spans", len(p.Spans))
	}
	sp := &p.Spans[0]
	f := sp.Features
	var px pixels
	px.grid = f.Grid
	w := f.Shape[len(f.Shape)-1]
	for r := 0; r < len(f.Data)/w; r++ {
		px.pixels = append(px.pixels, f.Data[r*w:(r+1)*w])
	}
	if err := encoders.NewSet(nil, encs...).Embed(ctx, []*input.Span{sp}); err != nil {
		t.Fatal(err)
	}
	e := sp.Embeds.F32()
	h := len(e) / sp.Len
	var rows [][]float32
	for r := 0; r < sp.Len; r++ {
		rows = append(rows, e[r*h:(r+1)*h])
	}
	return px, rows
}

// An OpenAI vision chat request (two images in one message, URL-less data
// URIs as clients send them) against GGUF + mmproj.
func TestVisionChat(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteVLM(dir, tiny.VLMShapes["tiny-qwen2vl"], false, true); err != nil {
		t.Fatal(err)
	}
	url := testserver.Start(t, testserver.Options{Model: filepath.Join(dir, "model.gguf"), MMProj: filepath.Join(dir, "mmproj.gguf"), Multimodal: true})
	part := func(name string) map[string]any {
		return map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(mediaFile(t, name))}}
	}
	chat := func(parts ...map[string]any) reply {
		content := append([]map[string]any{{"type": "text", "text": "Compare these."}}, parts...)
		return postJSON(t, url+"/v1/chat/completions", map[string]any{"model": "default", "max_tokens": 4, "temperature": 0,
			"messages": []any{map[string]any{"role": "user", "content": content}}})
	}
	one := chat(part("img56_checker.png")).ok(t)
	two := chat(part("img56_checker.png"), part("img112_stripes.png")).ok(t)
	usage := func(r reply) int { return int(r.body["usage"].(map[string]any)["prompt_tokens"].(float64)) }
	// img112 at the tiny model's patch 14 / merge 2 is a 4×4 merged grid (16 rows); img56 is 2×2 (4 rows).
	if d := usage(two) - usage(one); d != 16+2 {
		t.Fatalf("second image added %d prompt tokens, want 16 image rows + vision_start/end", d)
	}
	if msg := two.body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any); msg["content"] == nil {
		t.Fatalf("no content: %s", two.raw)
	}
	if r := chat(map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,AAAA"}}); r.status != http.StatusBadRequest {
		t.Fatalf("undecodable image: status %d %s", r.status, r.raw)
	}
}

// OpenAI chat with an input_audio WAV part, and /generate with audio_data,
// against GGUF + qwen2a mmproj: one second of audio is 25 audio tokens.
func TestAudioChat(t *testing.T) {
	dir := t.TempDir()
	if err := tiny.WriteQwen2Audio(dir, tiny.Shapes["tiny-qwen2"], tiny.AudioShapes["tiny-qwen2a"]); err != nil {
		t.Fatal(err)
	}
	url := testserver.Start(t, testserver.Options{Model: filepath.Join(dir, "model.gguf"), MMProj: filepath.Join(dir, "mmproj.gguf"), Multimodal: true})
	wav := base64.StdEncoding.EncodeToString(mediaFile(t, "tones_1s.wav"))
	chat := func(parts ...map[string]any) reply {
		content := append([]map[string]any{{"type": "text", "text": "What is this sound?"}}, parts...)
		return postJSON(t, url+"/v1/chat/completions", map[string]any{"model": "default", "max_tokens": 4, "temperature": 0,
			"messages": []any{map[string]any{"role": "user", "content": content}}})
	}
	text := chat().ok(t)
	audio := chat(map[string]any{"type": "input_audio", "input_audio": map[string]any{"data": wav, "format": "wav"}}).ok(t)
	usage := func(r reply) int { return int(r.body["usage"].(map[string]any)["prompt_tokens"].(float64)) }
	if d := usage(audio) - usage(text); d < 25 || d > 25+4 {
		t.Fatalf("the audio part added %d prompt tokens, want 25 audio rows (+ the template's markers)", d)
	}
	url2 := chat(map[string]any{"type": "audio_url", "audio_url": map[string]any{"url": "data:audio/wav;base64," + wav}}).ok(t)
	if usage(url2) != usage(audio) {
		t.Fatalf("audio_url part: %d prompt tokens, input_audio: %d", usage(url2), usage(audio))
	}
	gen := postJSON(t, url+"/generate", map[string]any{"text": processors.Marker + "Transcribe.", "audio_data": wav,
		"sampling_params": map[string]any{"temperature": 0, "max_new_tokens": 4}}).ok(t)
	if n := gen.meta(t, "prompt_tokens"); n < 25 {
		t.Fatalf("prompt_tokens %d", n)
	}
	for _, bad := range []string{
		`{"text": "<__media__>x", "audio_data": "data:audio/wav;base64,UklGRg=="}`,
		`{"text": "<__media__>x", "image_data": "` + wav + `"}`,
	} {
		if r := postJSON(t, url+"/generate", bad); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", bad, r.status, r.raw)
		}
	}
}
