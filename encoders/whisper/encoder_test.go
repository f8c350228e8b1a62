package whisper_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/nn"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	pw "github.com/sightline/sightline/processors/whisper"
)

// small is a tiny encoder over 2 s windows (200 mel frames, 100 positions).
var small = tiny.AudioSpec{NMel: 16, D: 16, Layers: 2, Heads: 2, FFN: 32, MaxPos: 100, Eps: 1e-5, DType: tensor.F32, Seed: 5}

const smallProj = 12

func smallEncoder(t testing.TB, be tensor.Backend, f whisper.Format) *whisper.Encoder {
	t.Helper()
	src, err := small.AudioSource(smallProj, f == whisper.GGUF)
	if err != nil {
		t.Fatal(err)
	}
	cfg := whisper.Config{NMel: small.NMel, D: small.D, Layers: small.Layers, Heads: small.Heads, FFN: small.FFN, Eps: small.Eps, MaxPos: 1, ProjDim: smallProj}
	e, err := whisper.Load(src, f, cfg, be)
	if err != nil {
		t.Fatal(err)
	}
	if e.Config().MaxPos != small.MaxPos {
		t.Fatalf("MaxPos %d, want it from the position table (%d)", e.Config().MaxPos, small.MaxPos)
	}
	return e
}

// smallSpan is a span of real length l mel frames over a 200-frame window
// of features from a 2 s extractor.
func smallSpan(t testing.TB, l int, seed float64) *input.Span {
	t.Helper()
	p := pw.DefaultParams(small.NMel)
	p.Samples = 32000
	e, err := pw.NewExtractor(p)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, l*160)
	for i := range x {
		x[i] = float32(0.3*math.Sin(float64(i)*0.07*seed) + 0.1*math.Sin(float64(i)*0.31))
	}
	c := e.Extract(x)
	if c.Frames != l {
		t.Fatalf("%d frames, want %d", c.Frames, l)
	}
	return &input.Span{Len: pw.Tokens(l), NPos: pw.Tokens(l), Features: &input.Features{Data: c.Mel, Shape: []int{small.NMel, 200}, Grid: [3]int{l}}}
}

func encode(t testing.TB, be tensor.Backend, e *whisper.Encoder, spans ...*input.Span) [][]float32 {
	t.Helper()
	out, err := e.Encode(context.Background(), spans)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float32, len(out))
	for i, o := range out {
		if o.Rows() != spans[i].Len || o.Cols() != smallProj {
			t.Fatalf("span %d: output %v, want [%d, %d]", i, o.Shape, spans[i].Len, smallProj)
		}
		res[i] = make([]float32, o.Len())
		if err := be.ToF32(o, res[i]); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestBatchAndWindow checks that spans encoded together equal spans encoded
// alone, and that Hugging Face's masked full-window computation keeps the
// same rows as computing the real positions only.
func TestBatchAndWindow(t *testing.T) {
	lengths := []int{3, 4, 37, 100, 199, 200}
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		e := smallEncoder(t, be, whisper.GGUF)
		var spans []*input.Span
		for i, l := range lengths {
			spans = append(spans, smallSpan(t, l, float64(i+1)))
		}
		batched := encode(t, be, e, spans...)
		whisper.SetFullWindow(e, true)
		full := encode(t, be, e, spans...)
		whisper.SetFullWindow(e, false)
		for i, sp := range spans {
			alone := encode(t, be, e, sp)[0]
			if d := maxDiff(alone, batched[i]); d != 0 {
				t.Errorf("%s: L=%d: batched differs from alone by %g", be.Name(), lengths[i], d)
			}
			if d := maxDiff(alone, full[i]); d > 1e-6 {
				t.Errorf("%s: L=%d: full window differs by %g", be.Name(), lengths[i], d)
			}
		}
		be.Close()
	}
}

func TestHFAndGGUFNames(t *testing.T) {
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		sp := smallSpan(t, 77, 1)
		g := encode(t, be, smallEncoder(t, be, whisper.GGUF), sp)[0]
		h := encode(t, be, smallEncoder(t, be, whisper.HF), sp)[0]
		if d := maxDiff(g, h); d != 0 {
			t.Fatalf("%s: GGUF and HF names give different outputs (%g)", be.Name(), d)
		}
		be.Close()
	}
}

func TestEncodeErrors(t *testing.T) {
	be := backendsUnderTest[0]
	b, _ := be()
	e := smallEncoder(t, b, whisper.GGUF)
	good := smallSpan(t, 50, 1)
	bad := func(f func(s *input.Span)) *input.Span {
		s := *good
		ft := *good.Features
		s.Features = &ft
		f(&s)
		return &s
	}
	for name, sp := range map[string]*input.Span{
		"no features":   bad(func(s *input.Span) { s.Features = nil }),
		"wrong mels":    bad(func(s *input.Span) { s.Features.Shape = []int{8, 400} }),
		"short data":    bad(func(s *input.Span) { s.Features.Data = s.Features.Data[:10] }),
		"len mismatch":  bad(func(s *input.Span) { s.Len++ }),
		"no real frame": bad(func(s *input.Span) { s.Features.Grid[0] = 0 }),
		"L beyond F":    bad(func(s *input.Span) { s.Features.Grid[0] = 201 }),
	} {
		if _, err := e.Encode(context.Background(), []*input.Span{good, sp}); !errors.Is(err, whisper.ErrFeatures) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// more positions than the table holds: 100 positions, 101 needed
	long := &input.Span{Len: pw.Tokens(202), Features: &input.Features{Data: make([]float32, 16*202), Shape: []int{16, 202}, Grid: [3]int{202}}}
	if _, err := e.Encode(context.Background(), []*input.Span{long}); !errors.Is(err, whisper.ErrFeatures) || !strings.Contains(err.Error(), "positions") {
		t.Errorf("too long: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Encode(ctx, []*input.Span{good}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if out, err := e.Encode(context.Background(), nil); err != nil || len(out) != 0 {
		t.Errorf("no spans: %v %v", out, err)
	}
}

// filtered hides tensors of a source.
type filtered struct {
	weights.Source
	hide    string
	reshape map[string][]int
}

func (f filtered) Tensor(name string) (weights.Info, []byte, error) {
	if name == f.hide {
		return weights.Info{}, nil, &weights.Error{File: "test", Msg: "hidden " + name, Kind: weights.ErrNotFound}
	}
	info, data, err := f.Source.Tensor(name)
	if s, ok := f.reshape[name]; ok {
		info.Shape = s
	}
	return info, data, err
}

func TestLoadErrors(t *testing.T) {
	b, _ := backendsUnderTest[0]()
	cfg := whisper.Config{NMel: 16, D: 16, Layers: 2, Heads: 2, FFN: 32, Eps: 1e-5, MaxPos: 100, ProjDim: smallProj}
	gg, _ := small.AudioSource(smallProj, true)
	hf, _ := small.AudioSource(smallProj, false)
	if _, err := whisper.Load(filtered{Source: gg, hide: "a.blk.1.attn_q.weight"}, whisper.GGUF, cfg, b); !errors.Is(err, weights.ErrNotFound) {
		t.Errorf("missing q: %v", err)
	}
	if _, err := whisper.Load(filtered{Source: gg, hide: "a.position_embd.weight"}, whisper.GGUF, cfg, b); !errors.Is(err, weights.ErrNotFound) {
		t.Errorf("GGUF without positions: %v", err)
	}
	if _, err := whisper.Load(filtered{Source: gg, reshape: map[string][]int{"a.blk.0.ffn_up.weight": {16, 64}}}, whisper.GGUF, cfg, b); !errors.Is(err, nn.ErrShape) {
		t.Errorf("wrong shape: %v", err)
	}
	big := cfg
	big.Layers = 3
	if _, err := whisper.Load(gg, whisper.GGUF, big, b); !errors.Is(err, weights.ErrNotFound) {
		t.Errorf("layer 2 missing: %v", err)
	}
	odd := cfg
	odd.Heads = 3
	if _, err := whisper.Load(gg, whisper.GGUF, odd, b); !errors.Is(err, whisper.ErrConfig) {
		t.Errorf("16 dims / 3 heads: %v", err)
	}
	// HF checkpoints without embed_positions use Whisper's sinusoids
	e, err := whisper.Load(filtered{Source: hf, hide: "audio_tower.embed_positions.weight"}, whisper.HF, cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	if out := encode(t, b, e, smallSpan(t, 40, 2))[0]; maxAbs(out) == 0 {
		t.Fatal("sinusoid positions gave zeros")
	}
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

func TestParseHFConfig(t *testing.T) {
	c, err := whisper.ParseHFConfig([]byte(`{"architectures":["Qwen2AudioForConditionalGeneration"],"audio_config":{"model_type":"qwen2_audio_encoder"},"text_config":{"model_type":"qwen2"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := whisper.Config{NMel: 128, D: 1280, Layers: 32, Heads: 20, FFN: 5120, Eps: 1e-5, MaxPos: 1500, ProjDim: 0}
	if c != want {
		t.Fatalf("defaults %+v, want %+v", c, want)
	}
	for raw, sentinel := range map[string]error{
		`{"architectures":["LlavaForConditionalGeneration"]}`:                                                    whisper.ErrNotAudio,
		`{"architectures":["Qwen2AudioForConditionalGeneration"],"audio_config":{"activation_function":"relu"}}`: whisper.ErrConfig,
		`{"architectures":["Qwen2AudioForConditionalGeneration"],"audio_config":{"d_model":1281}}`:               whisper.ErrConfig,
		`{"architectures":`: whisper.ErrConfig,
	} {
		if _, err := whisper.ParseHFConfig([]byte(raw)); !errors.Is(err, sentinel) {
			t.Errorf("%s: %v, want %v", raw, err, sentinel)
		}
	}
}

// TestManySpans encodes more positions than one batch holds (45 × 100 >
// 4096): the spans are split over batches with unchanged results.
func TestManySpans(t *testing.T) {
	be, _ := backendsUnderTest[0]()
	e := smallEncoder(t, be, whisper.GGUF)
	var spans []*input.Span
	for i := 0; i < 45; i++ {
		spans = append(spans, smallSpan(t, 195+i%6, float64(i%3+1)))
	}
	all := encode(t, be, e, spans...)
	for i := 0; i < 3; i++ {
		if d := maxDiff(encode(t, be, e, spans[i])[0], all[i]); d != 0 {
			t.Fatalf("span %d differs by %g when batched with 44 others", i, d)
		}
	}
	if d := maxDiff(encode(t, be, e, spans[44])[0], all[44]); d != 0 {
		t.Fatalf("last span differs by %g", d)
	}
}
