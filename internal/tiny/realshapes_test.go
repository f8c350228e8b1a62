package tiny_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/encoders"
	_ "github.com/sightline/sightline/encoders/vit"
	_ "github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// fastBackend is the CPU backend where cgo is on (backend_cgo_test.go),
// else the reference one.
var fastBackend = func() (tensor.Backend, error) { return ref.New(), nil }

// fullDepth runs the real-shape checks at full depth (2 GB models; the
// 336x336 LLaVA image is encoded through all 23 layers) instead of 2
// decoder and 2 encoder layers.
var fullDepth = os.Getenv("SIGHTLINE_TINY_FULL") != ""

func photo(w, h int) *media.RGB {
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	img := &media.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := (y*w + x) * 3
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(x*255/w), uint8(y*255/h), uint8(r.IntN(256))
		}
	}
	return img
}

// loaded is one model form opened through the real loaders.
type loaded struct {
	m    *model.Loaded
	tok  *tokenizer.Tokenizer
	proc processors.Processor
	encs []encoders.Encoder
}

func open(t *testing.T, be tensor.Backend, path, mmproj string) *loaded {
	t.Helper()
	m, err := model.Load(path, be)
	if err != nil {
		t.Fatal(err)
	}
	var tok *tokenizer.Tokenizer
	if m.GGUF != nil {
		v, err := tokenizer.VocabFromGGUF(m.GGUF)
		if err == nil {
			tok, err = tokenizer.FromGGUF(v)
		}
		if err != nil {
			t.Fatal(err)
		}
	} else if tok, err = tokenizer.Load(path); err != nil {
		t.Fatal(err)
	}
	op, err := encoders.Open(context.Background(), path, mmproj, be)
	if err != nil {
		t.Fatal(err)
	}
	encs := op.Encoders
	proc, err := processors.New(op.Family, op.ProcessorSpec(tok))
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { encoders.CloseAll(encs); m.Close() })
	return &loaded{m: m, tok: tok, proc: proc, encs: encs}
}

func (l *loaded) prepare(t *testing.T, it media.Item) *input.Prompt {
	t.Helper()
	text := "<|im_start|>user\n" + processors.Marker + "What is this?<|im_end|>\n<|im_start|>assistant\n"
	p, err := l.proc.Prepare(context.Background(), processors.Tokenize(l.tok, text, true), []media.Item{it})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mediaTokens(p *input.Prompt) int {
	n := 0
	for _, s := range p.Spans {
		n += s.Len
	}
	return n
}

// encode embeds p's spans, checks the embeddings are finite and [Len,
// hidden], prefills the decoder and checks the last logits are finite.
func (l *loaded) encode(t *testing.T, be tensor.Backend, p *input.Prompt) time.Duration {
	t.Helper()
	if be.Name() == "ref" {
		// The float64 reference backend takes minutes at these widths; the
		// cgo pass of CI runs this check.
		t.Log("encode check left to the CPU backend (cgo)")
		return 0
	}
	ctx := context.Background()
	var sp []*input.Span
	for i := range p.Spans {
		sp = append(sp, &p.Spans[i])
	}
	t0 := time.Now()
	if err := encoders.NewSet(nil, l.encs...).Embed(ctx, sp); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	hidden := l.m.Config().Hidden
	for _, s := range sp {
		e := toF32(t, be, s.Embeds)
		if len(e) != s.Len*hidden {
			t.Fatalf("span of %d tokens has %d embedding values, want %d×%d", s.Len, len(e), s.Len, hidden)
		}
		checkFinite(t, "embeddings", e)
	}
	cfg := l.m.Config()
	kv, err := kvcache.New(be, cfg.KVSpec(64, len(p.Tokens)/64+2))
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&model.Runner{M: l.m, KV: kv}).Prefill(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	checkFinite(t, "logits", toF32(t, be, out))
	return took
}

func checkFinite(t *testing.T, what string, v []float32) {
	t.Helper()
	var m float64
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("%s: non-finite value %v", what, x)
		}
		m = math.Max(m, math.Abs(float64(x)))
	}
	if m == 0 {
		t.Fatalf("%s: all zero", what)
	}
	t.Logf("%s: %d values, max |x| %.3g", what, len(v), m)
}

// writeTimed writes a shape (reduced unless fullDepth) and logs the time and size.
func writeTimed(t *testing.T, name string, o tiny.Options) string {
	t.Helper()
	if !fullDepth {
		o.TextLayers = 2
		if _, textOnly := tiny.Shapes[name]; !textOnly {
			o.MediaLayers = 2
		}
	}
	dir := t.TempDir()
	t0 := time.Now()
	if err := tiny.WriteShape(dir, name, o); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	var size int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	depth := "full depth"
	if !fullDepth {
		depth = "2 text, 2 media layers"
	}
	t.Logf("%s (hf %v, gguf %v, %s): wrote %.2f GB in %v", name, o.HF, o.GGUF, depth, float64(size)/1e9, took.Round(time.Millisecond))
	return dir
}

func backend(t *testing.T) tensor.Backend {
	be, err := fastBackend()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

// TestRealShapes writes the real-shape multimodal models (real widths and
// token counts; 2 decoder and 2 encoder layers unless SIGHTLINE_TINY_FULL
// is set), loads them through model.Load and encoders.Open, checks the
// processors' token counts for real inputs (336x336 → 576 for LLaVA,
// 1024x768 → 999 for Qwen2-VL, 45 s → 750 + 375 for Qwen2-Audio), and
// encodes one input each through the tower and the decoder, checking the
// outputs are finite.
func TestRealShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few hundred MB of weights")
	}
	be := backend(t)
	t.Run("llava-1.5-clip-l336", func(t *testing.T) {
		dir := writeTimed(t, "llava-1.5-clip-l336", tiny.Options{GGUF: true})
		l := open(t, be, filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf"))
		for _, wh := range [][2]int{{336, 336}, {1024, 768}} {
			p := l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(wh[0], wh[1]), Hash: 1})
			if n := mediaTokens(p); n != 576 {
				t.Fatalf("%dx%d image: %d tokens, want 576", wh[0], wh[1], n)
			}
			if wh[0] == 336 {
				t.Logf("336x336 image: 576 tokens, encoded in %v", l.encode(t, be, p).Round(time.Millisecond))
			}
		}
	})
	t.Run("qwen2vl-2b", func(t *testing.T) {
		dir := writeTimed(t, "qwen2vl-2b", tiny.Options{HF: !fullDepth, GGUF: true})
		forms := [][2]string{{filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")}}
		if !fullDepth {
			forms = append(forms, [2]string{filepath.Join(dir, "hf"), ""})
		}
		for _, f := range forms {
			l := open(t, be, f[0], f[1])
			p := l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(1024, 768), Hash: 2})
			n := mediaTokens(p)
			t.Logf("%s: 1024x768 image: %d tokens (grid %v)", filepath.Base(f[0]), n, p.Spans[0].Features.Grid)
			if n < 990 || n > 1010 { // 1036x756 → 74x54 patches → 37x27 = 999
				t.Fatalf("1024x768 image: %d tokens", n)
			}
			if f[1] != "" { // a 448x336 image (192 tokens) is enough to check the numbers
				p = l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(448, 336), Hash: 3})
				t.Logf("%d tokens encoded in %v", mediaTokens(p), l.encode(t, be, p).Round(time.Millisecond))
			}
		}
	})
	t.Run("qwen2a-whisper-large-v3", func(t *testing.T) {
		dir := writeTimed(t, "qwen2a-whisper-large-v3", tiny.Options{HF: !fullDepth, GGUF: true})
		forms := [][2]string{{filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")}}
		if !fullDepth {
			forms = append(forms, [2]string{filepath.Join(dir, "hf"), ""})
		}
		for _, f := range forms {
			l := open(t, be, f[0], f[1])
			p := l.prepare(t, media.Item{Modality: media.Audio, Format: media.Raw, PCM: tones(45 * 16000), Hash: 4})
			if len(p.Spans) != 2 || p.Spans[0].Len != 750 || p.Spans[1].Len != 375 {
				t.Fatalf("45 s: spans %d (%d + … tokens), want 750 + 375", len(p.Spans), p.Spans[0].Len)
			}
			t.Logf("%s: 45 s of audio: %d tokens in %d windows", filepath.Base(f[0]), mediaTokens(p), len(p.Spans))
			// 3 s (75 tokens) is enough to check the numbers
			p = l.prepare(t, media.Item{Modality: media.Audio, Format: media.Raw, PCM: tones(3 * 16000), Hash: 5})
			t.Logf("%d tokens encoded in %v", mediaTokens(p), l.encode(t, be, p).Round(time.Millisecond))
		}
	})
	for _, c := range []struct {
		shape        string
		w, h, tokens int // a photo's token count (transformers' formulas)
	}{{"llava-onevision-qwen2-0.5b-ov", 1024, 768, 4725}, {"llava-v1.6-clip-l336", 1024, 768, 2340}} {
		t.Run(c.shape, func(t *testing.T) {
			dir := writeTimed(t, c.shape, tiny.Options{HF: !fullDepth, GGUF: true})
			forms := [][2]string{{filepath.Join(dir, "model.gguf"), filepath.Join(dir, "mmproj.gguf")}}
			if !fullDepth {
				forms = append(forms, [2]string{filepath.Join(dir, "hf"), ""})
			}
			for _, f := range forms {
				l := open(t, be, f[0], f[1])
				p := l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(c.w, c.h), Hash: 6})
				if n := mediaTokens(p); n != c.tokens {
					t.Fatalf("%s: %dx%d image: %d tokens, want %d", filepath.Base(f[0]), c.w, c.h, n, c.tokens)
				}
				if f[1] != "" { // a small image (base view and two tiles) is enough to check the numbers
					p = l.prepare(t, media.Item{Modality: media.Image, Format: media.Raw, RGB: photo(300, 150), Hash: 7})
					t.Logf("%d tokens encoded in %v", mediaTokens(p), l.encode(t, be, p).Round(time.Millisecond))
				}
			}
		})
	}
	t.Run("qwen3-0.6b", func(t *testing.T) {
		dir := writeTimed(t, "qwen3-0.6b", tiny.Options{HF: true, GGUF: true})
		var last []float32
		for _, path := range []string{filepath.Join(dir, "model.gguf"), filepath.Join(dir, "hf")} {
			m, err := model.Load(path, be)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			c := m.Config()
			if c.Arch != "qwen3" || c.Hidden != 1024 || c.Heads != 16 || c.KVHeads != 8 || c.HeadDim != 128 || c.FFN != 3072 || c.Vocab != 151936 || !c.Tied {
				t.Fatalf("%s: config %+v", path, c)
			}
			kv, err := kvcache.New(be, c.KVSpec(16, 2))
			if err != nil {
				t.Fatal(err)
			}
			p := &input.Prompt{Tokens: []int32{307, 117, 115, 261, 10, 87, 104, 266}}
			out, err := (&model.Runner{M: m, KV: kv}).Prefill(context.Background(), p, false)
			if err != nil {
				t.Fatal(err)
			}
			got := toF32(t, be, out)
			checkFinite(t, filepath.Base(path)+" logits", got)
			for i := range last { // HF and GGUF hold the same F16 weights
				if math.Abs(float64(got[i]-last[i])) > 1e-4 {
					t.Fatalf("logit %d: %s %v, gguf %v", i, path, got[i], last[i])
				}
			}
			last = got
		}
	})
}
