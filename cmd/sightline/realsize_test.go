package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/launch"
)

// Real sizes through `sightline serve` at its default flags: random weights
// in real shapes (internal/tiny), the inputs users send. Skipped under
// -short and on the pure-Go backend (hours there); .ci/run runs them.

var realModels struct {
	sync.Mutex
	dir  string
	done map[string]string
}

// realModel writes the named real-shape model once per test binary.
func realModel(t testing.TB, name string, o tiny.Options) string {
	t.Helper()
	if testing.Short() {
		t.Skip("real-size models: skipped under -short")
	}
	if launch.DefaultBackend() != "cpu" {
		t.Skip("real-size models need the CPU backend (cgo)")
	}
	realModels.Lock()
	defer realModels.Unlock()
	key := fmt.Sprintf("%s-%d-%d", name, o.TextLayers, o.MediaLayers)
	if d, ok := realModels.done[key]; ok {
		return d
	}
	if realModels.dir == "" {
		d, err := os.MkdirTemp("", "sightline-realsize")
		if err != nil {
			t.Fatal(err)
		}
		realModels.dir, realModels.done = d, map[string]string{}
	}
	dir := filepath.Join(realModels.dir, key)
	start := time.Now()
	if err := tiny.WriteShape(dir, name, o); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s in %v", key, time.Since(start).Round(time.Millisecond))
	realModels.done[key] = dir
	return dir
}

func TestMain(m *testing.M) {
	if os.Getenv("SIGHTLINE_AS_MAIN") == "1" { // a re-executed test binary playing the real command
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(runMain(args, os.Stdout, os.Stderr))
	}
	if os.Getenv("SIGHTLINE_FAKE_LLAMA_SERVER") == "1" { // a stand-in llama-server (see TestBenchAgainstLlamaServer)
		fakeLlamaServer(os.Args[1:])
		return
	}
	code := m.Run()
	if realModels.dir != "" {
		os.RemoveAll(realModels.dir)
	}
	os.Exit(code)
}

// photo is a w×h PNG with smooth gradients and noise, base64-encoded.
func photo(t testing.TB, w, h int, seed uint8) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x*y)>>3) ^ seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// speech is secs seconds of 16 kHz mono 16-bit WAV (a chirp), base64-encoded.
func speech(secs int) string {
	n := secs * 16000
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, struct {
		Size                   uint32
		Format, Channels       uint16
		Rate, ByteRate         uint32
		BlockAlign, SampleBits uint16
	}{16, 1, 1, 16000, 32000, 2, 16})
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	for i := 0; i < n; i++ {
		x := float64(i) / 16000
		binary.Write(&b, le, int16(8000*math.Sin(2*math.Pi*(200+40*x)*x)))
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

type generateReply struct {
	Text     string `json:"text"`
	MetaInfo struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"meta_info"`
}

// generate posts body to /generate and decodes a 200 reply.
func generate(t testing.TB, url string, body any) (generateReply, time.Duration) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Post(url+"/generate", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var r generateReply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return r, took
}

func greedyParams(n int) map[string]any {
	return map[string]any{"temperature": 0, "max_new_tokens": n, "ignore_eos": true}
}

// usedTokens reads /get_server_info's KV tokens held by requests, once the
// server is idle.
func usedTokens(t testing.TB, url string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/get_server_info")
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			States []struct {
				Running int `json:"num_running_reqs"`
				Queued  int `json:"num_queue_reqs"`
				Memory  struct {
					Used      int64 `json:"used_tokens"`
					Evictable int64 `json:"evictable_cached_tokens"`
				} `json:"memory_usage"`
			} `json:"internal_states"`
		}
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err != nil || len(info.States) != 1 {
			t.Fatalf("server info: %v", err)
		}
		st := info.States[0]
		if st.Running == 0 && st.Queued == 0 || time.Now().After(deadline) {
			return st.Memory.Used
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLLaVAImageAtDefaults is the reported hang: a LLaVA-1.5-shaped
// projector (CLIP ViT-L/14-336, 576 image tokens) on a Qwen2-0.5B-shaped
// GGUF, one 336×336 image, `sightline serve` at its default flags
// (--chunked-prefill-size 512). Then 8 concurrent clients mix text and
// image requests, and the KV metric returns to 0 when they are done.
func TestLLaVAImageAtDefaults(t *testing.T) {
	dir := realModel(t, "llava-1.5-clip-l336", tiny.Options{GGUF: true})
	hs, _ := serveDefaults(t, "--model-path", filepath.Join(dir, "model.gguf"), "--mmproj", filepath.Join(dir, "mmproj.gguf"))
	img := photo(t, 336, 336, 0)
	r, took := generate(t, hs.URL, map[string]any{"text": "USER: <__media__>\nWhat is in the picture? ASSISTANT:",
		"image_data": img, "sampling_params": greedyParams(8)})
	if r.MetaInfo.PromptTokens < 576 || r.MetaInfo.CompletionTokens != 8 {
		t.Fatalf("meta_info %+v", r.MetaInfo)
	}
	t.Logf("LLaVA-1.5 shape, 336x336 image, %d prompt tokens, 8 new: %v", r.MetaInfo.PromptTokens, took.Round(time.Millisecond))

	t.Run("8 concurrent mixed", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := map[string]any{"text": fmt.Sprintf("Once upon a time, story %d", i), "sampling_params": greedyParams(16)}
				want := 16
				if i%2 == 0 { // distinct images: each one is encoded
					body = map[string]any{"text": "USER: <__media__>\nDescribe it. ASSISTANT:", "image_data": photo(t, 336+8*i, 336, uint8(i)),
						"sampling_params": greedyParams(4)}
					want = 4
				}
				r, _ := generate(t, hs.URL, body)
				if r.MetaInfo.CompletionTokens != want {
					errs <- fmt.Errorf("client %d: %+v", i, r.MetaInfo)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if used := usedTokens(t, hs.URL); used != 0 {
			t.Fatalf("idle server reports %d KV tokens in use", used)
		}
	})
}

// TestQwen2VLPhotoAtDefaults: a 1024×784 photo through Qwen2-VL-2B's vision
// tower shape (1036 image tokens, 3 prefill chunks at the default budget).
// The tower and decoder keep their real widths at 4 layers each.
func TestQwen2VLPhotoAtDefaults(t *testing.T) {
	dir := realModel(t, "qwen2vl-2b", tiny.Options{GGUF: true, TextLayers: 4, MediaLayers: 4})
	hs, _ := serveDefaults(t, "--model-path", filepath.Join(dir, "model.gguf"), "--mmproj", filepath.Join(dir, "mmproj.gguf"))
	r, took := generate(t, hs.URL, map[string]any{
		"text":       "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe this photo.<|im_end|>\n<|im_start|>assistant\n",
		"image_data": photo(t, 1024, 784, 1), "sampling_params": greedyParams(4)})
	if r.MetaInfo.PromptTokens < 1000 {
		t.Fatalf("prompt tokens %d, want ≥ 1000", r.MetaInfo.PromptTokens)
	}
	t.Logf("Qwen2-VL shape (4+4 layers), 1024x784 photo, %d prompt tokens: %v", r.MetaInfo.PromptTokens, took.Round(time.Millisecond))

	t.Run("too big for the KV cache", func(t *testing.T) {
		small, _ := serveDefaults(t, "--model-path", filepath.Join(dir, "model.gguf"), "--mmproj", filepath.Join(dir, "mmproj.gguf"),
			"--max-total-tokens", "512")
		b, _ := json.Marshal(map[string]any{"text": "<|vision_start|><|image_pad|><|vision_end|>", "image_data": photo(t, 1024, 784, 1)})
		resp, err := http.Post(small.URL+"/generate", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(raw, []byte("too long")) {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
	})

	t.Run("2000 input_embeds rows", func(t *testing.T) {
		// input_embeds needs --disable-radix-cache (SGLang's rule); every other flag is default.
		es, _ := serveDefaults(t, "--model-path", filepath.Join(dir, "model.gguf"), "--disable-radix-cache")
		rows := make([][]float32, 2000)
		for i := range rows {
			rows[i] = make([]float32, 896)
			for j := range rows[i] {
				rows[i][j] = float32(math.Sin(float64(i*896+j))) * 0.02
			}
		}
		r, took := generate(t, es.URL, map[string]any{"input_embeds": rows, "sampling_params": greedyParams(4)})
		if r.MetaInfo.PromptTokens != 2000 || r.MetaInfo.CompletionTokens != 4 {
			t.Fatalf("meta_info %+v", r.MetaInfo)
		}
		t.Logf("2000 input_embeds rows: %v", took.Round(time.Millisecond))
	})
}

// TestQwen2Audio45sAtDefaults: 45 s of audio, two Whisper-large-v3 windows
// (750 + 375 tokens), through the real encoder width at 4 layers.
func TestQwen2Audio45sAtDefaults(t *testing.T) {
	dir := realModel(t, "qwen2a-whisper-large-v3", tiny.Options{GGUF: true, TextLayers: 4, MediaLayers: 4})
	hs, _ := serveDefaults(t, "--model-path", filepath.Join(dir, "model.gguf"), "--mmproj", filepath.Join(dir, "mmproj.gguf"))
	r, took := generate(t, hs.URL, map[string]any{"text": "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\nWhat is said?",
		"audio_data": speech(45), "sampling_params": greedyParams(4)})
	if r.MetaInfo.PromptTokens < 1125 {
		t.Fatalf("prompt tokens %d, want ≥ 1125", r.MetaInfo.PromptTokens)
	}
	t.Logf("Qwen2-Audio shape (4+4 layers), 45 s, %d prompt tokens: %v", r.MetaInfo.PromptTokens, took.Round(time.Millisecond))
}

// BenchmarkEncodeGap measures how a CLIP-L/336 image encode (LLaVA-1.5
// shape, full depth, on the full 24-layer Qwen2-0.5B-shaped decoder) affects
// a concurrent streaming text request at default flags: the longest gap
// between two of its tokens while the image encodes (max-gap-encode-ms),
// against the encode's wall time (encode-ms, until the encoder's last turn)
// and busy time; the median gaps with and without the encode; and, for
// context, the longest gap of the whole image request, which includes the
// steps that prefill its 608 rows beside the text stream's decode row
// (bounded by --chunked-prefill-size, not by the encoder).
//
//	go test ./cmd/sightline -run X -bench EncodeGap -benchtime 1x
func BenchmarkEncodeGap(b *testing.B) {
	dir := realModel(b, "llava-1.5-clip-l336", tiny.Options{GGUF: true})
	hs, a := serveDefaults(b, "--model-path", filepath.Join(dir, "model.gguf"), "--mmproj", filepath.Join(dir, "mmproj.gguf"))
	generate(b, hs.URL, map[string]any{"text": "warm up", "sampling_params": greedyParams(2)})
	for i := 0; i < b.N; i++ {
		img := photo(b, 336, 336, uint8(i))
		body, _ := json.Marshal(map[string]any{"text": "Once upon a time", "stream": true, "sampling_params": greedyParams(400)})
		resp, err := http.Post(hs.URL+"/generate", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var arrivals []time.Time
		var imgStart, imgEnd, encEnd time.Time
		var busy0, busy1 time.Duration
		done, watched := make(chan struct{}), make(chan struct{})
		watch := func() { // the encode ends at the arbiter's last background turn
			defer close(watched)
			last := a.rt.Arbiter.Stats().Background
			for {
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
				if bg := a.rt.Arbiter.Stats().Background; bg != last {
					last, encEnd = bg, time.Now()
				}
			}
		}
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				arrivals = append(arrivals, time.Now())
			}
			if len(arrivals) == 40 && imgStart.IsZero() {
				imgStart, busy0 = time.Now(), a.rt.Arbiter.Stats().Background
				go watch()
				go func() {
					generate(b, hs.URL, map[string]any{"text": "USER: <__media__>\nDescribe. ASSISTANT:", "image_data": img,
						"sampling_params": greedyParams(1)})
					imgEnd, busy1 = time.Now(), a.rt.Arbiter.Stats().Background
					close(done)
				}()
			}
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		<-done
		<-watched
		var encoding, request, before []time.Duration
		for k := 1; k < len(arrivals); k++ {
			g := arrivals[k].Sub(arrivals[k-1])
			if arrivals[k].Before(imgStart) {
				before = append(before, g)
			}
			if arrivals[k].After(imgStart) && arrivals[k-1].Before(imgEnd) {
				request = append(request, g)
			}
			if arrivals[k].After(imgStart) && arrivals[k-1].Before(encEnd) {
				encoding = append(encoding, g)
			}
		}
		if len(encoding) == 0 {
			b.Fatal("the text stream ended before the image encoded")
		}
		ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) }
		b.ReportMetric(ms(slices.Max(encoding)), "max-gap-encode-ms")
		b.ReportMetric(ms(encEnd.Sub(imgStart)), "encode-ms")
		b.ReportMetric(ms(busy1-busy0), "encoder-busy-ms")
		b.ReportMetric(ms(median(encoding)), "median-gap-encode-ms")
		b.ReportMetric(ms(median(before)), "median-gap-idle-ms")
		b.ReportMetric(ms(slices.Max(request)), "max-gap-request-ms")
		b.ReportMetric(ms(imgEnd.Sub(imgStart)), "image-request-ms")
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
