package whisper

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

func TestTokenCount(t *testing.T) {
	for _, tc := range []struct{ l, enc, tokens int }{
		{0, 0, 0}, {1, 1, 0}, {2, 1, 0}, {3, 2, 1}, {4, 2, 1}, {5, 3, 1}, {6, 3, 1}, {7, 4, 2},
		{100, 50, 25}, {101, 51, 25}, {150, 75, 37}, {1000, 500, 250}, {2998, 1499, 749}, {2999, 1500, 750}, {3000, 1500, 750},
	} {
		if e, n := EncoderFrames(tc.l), Tokens(tc.l); e != tc.enc || n != tc.tokens {
			t.Errorf("L=%d: L_enc %d, tokens %d; want %d, %d", tc.l, e, n, tc.enc, tc.tokens)
		}
	}
	for _, tc := range []struct{ samples, tokens int }{
		{0, 0}, {1, 0}, {320, 0}, {321, 1}, {480, 1}, {16000, 25}, {24000, 37}, {160000, 250}, {480000, 750},
	} {
		if n := Tokens(MelFrames(tc.samples, 160)); n != tc.tokens {
			t.Errorf("%d samples: %d tokens, want %d", tc.samples, n, tc.tokens)
		}
	}
}

// vocab is a test processors.Vocab; textVocab also tokenizes text, one
// byte per token (ids 1000+byte).
type vocab struct{ ids map[string]int32 }

func (v vocab) TokenID(s string) (int32, bool) { id, ok := v.ids[s]; return id, ok }

type textVocab struct{ vocab }

func (v textVocab) Encode(s string, addSpecial bool) []int32 {
	var out []int32
	for i := 0; i < len(s); i++ {
		out = append(out, 1000+int32(s[i]))
	}
	return out
}

func clip(samples int, rate int, hash uint64) media.Item {
	x := make([]float32, samples)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return media.Item{Modality: media.Audio, Format: media.Raw, Hash: hash, PCM: &media.PCM{Rate: rate, Samples: x}}
}

// hf is a processor with Qwen2-Audio's single-token specials.
func hf(t testing.TB) *Processor {
	t.Helper()
	p, err := New(Config{Params: DefaultParams(128), Hidden: 8, Audio: 5, Before: []int32{4}, After: []int32{6}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrepareHF(t *testing.T) {
	p := hf(t)
	ctx := context.Background()
	one := clip(16000, 16000, 1)
	// placeholder as the HF prompt writes it: bos, AUDIO, eos
	got, err := p.Prepare(ctx, []int32{9, 4, 5, 6, 9}, []media.Item{one})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tokens) != 4+25 || got.Tokens[1] != 4 || got.Tokens[27] != 6 || len(got.Spans) != 1 {
		t.Fatalf("tokens %v, spans %d", got.Tokens, len(got.Spans))
	}
	s := got.Spans[0]
	if s.Start != 2 || s.Len != 25 || s.NPos != 25 || s.Modality != input.Audio || s.Features == nil || s.Embeds != nil {
		t.Fatalf("span %+v", s)
	}
	if f := s.Features; len(f.Shape) != 2 || f.Shape[0] != 128 || f.Shape[1] != 3000 || f.Grid[0] != 100 || len(f.Data) != 128*3000 {
		t.Fatalf("features shape %v grid %v", f.Shape, f.Grid)
	}
	for _, tok := range got.Tokens[2:27] {
		if tok != 5 {
			t.Fatalf("placeholder rows %v", got.Tokens[2:27])
		}
	}
	// already expanded: used as is
	exp := append(append([]int32{4}, got.Tokens[2:27]...), 6)
	again, err := p.Prepare(ctx, exp, []media.Item{one})
	if err != nil || len(again.Tokens) != 27 || again.Spans[0].Key != s.Key || again.Spans[0].Start != 1 {
		t.Fatalf("expanded run: %v, %+v", err, again)
	}
	// a wrong-length run is a count mismatch
	if _, err := p.Prepare(ctx, []int32{4, 5, 5, 5, 6}, []media.Item{one}); !errors.Is(err, processors.ErrMediaCount) {
		t.Fatalf("run of 3: %v", err)
	}
	// the generic marker gets bos/eos
	m, err := p.Prepare(ctx, []int32{9, input.MediaMarker, 9}, []media.Item{one})
	if err != nil || !equal(m.Tokens, got.Tokens) || m.Spans[0].Start != 2 {
		t.Fatalf("marker: %v %v", err, m.Tokens)
	}
	// keys: same content same key, different content different key
	other, err := p.Prepare(ctx, []int32{input.MediaMarker}, []media.Item{clip(16000, 16000, 2)})
	if err != nil || other.Spans[0].Key == s.Key {
		t.Fatalf("different item hash gave key %x (err %v)", other.Spans[0].Key, err)
	}
}

func TestPrepareGGUF(t *testing.T) {
	c := Config{Params: DefaultParams(128), Audio: -1, Fill: 0}
	c.Before, c.After = wrapTokens(textVocab{vocab{ids: map[string]int32{}}}, BOSPiece), wrapTokens(textVocab{vocab{ids: map[string]int32{}}}, EOSPiece)
	if len(c.Before) != len(BOSPiece) || c.Before[0] != 1000+'<' {
		t.Fatalf("text-tokenized bos %v", c.Before)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Prepare(context.Background(), []int32{7, input.MediaMarker, 8, input.MediaMarker}, []media.Item{clip(16000, 16000, 1), clip(8000, 16000, 2)})
	if err != nil {
		t.Fatal(err)
	}
	w := len(BOSPiece) + len(EOSPiece)
	if n := 2 + 25 + 12 + 2*w; len(got.Tokens) != n || len(got.Spans) != 2 {
		t.Fatalf("%d tokens, %d spans; want %d, 2", len(got.Tokens), len(got.Spans), n)
	}
	s0, s1 := got.Spans[0], got.Spans[1]
	if s0.Start != 1+len(BOSPiece) || s0.Len != 25 || s1.Start != s0.Start+25+w+1 || s1.Len != 12 {
		t.Fatalf("spans %+v %+v", s0, s1)
	}
	if got.Tokens[0] != 7 || got.Tokens[s0.Start+25+len(EOSPiece)] != 8 || got.Tokens[s0.Start] != 0 {
		t.Fatalf("tokens %v", got.Tokens)
	}
}

func TestPrepareLongAndResampled(t *testing.T) {
	p := hf(t)
	ctx := context.Background()
	got, err := p.Prepare(ctx, []int32{input.MediaMarker}, []media.Item{clip(65*16000, 16000, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spans) != 3 || got.Spans[0].Len != 750 || got.Spans[1].Len != 750 || got.Spans[2].Len != 125 {
		t.Fatalf("65 s: %d spans", len(got.Spans))
	}
	for i := 1; i < 3; i++ {
		if got.Spans[i].Start != got.Spans[i-1].Start+got.Spans[i-1].Len || got.Spans[i].Key == got.Spans[i-1].Key {
			t.Fatalf("chunk spans not contiguous or share keys: %+v", got.Spans)
		}
	}
	if len(got.Tokens) != 2+1625 {
		t.Fatalf("%d tokens", len(got.Tokens))
	}
	// 30 s + 2 samples: the tail gives no token and no span
	if tail, err := p.Prepare(ctx, []int32{input.MediaMarker}, []media.Item{clip(480002, 16000, 4)}); err != nil || len(tail.Spans) != 1 {
		t.Fatalf("tail chunk: %v %+v", err, tail)
	}
	// 8 kHz input is resampled to 16 kHz: 1 s → 25 tokens
	r, err := p.Prepare(ctx, []int32{input.MediaMarker}, []media.Item{clip(8000, 8000, 5)})
	if err != nil || r.Spans[0].Len != 25 {
		t.Fatalf("8 kHz: %v %+v", err, r)
	}
}

func TestPrepareErrors(t *testing.T) {
	p := hf(t)
	ctx := context.Background()
	one := clip(16000, 16000, 1)
	img := media.Item{Modality: media.Image, Format: media.Raw, RGB: &media.RGB{W: 1, H: 1, Pix: []uint8{1, 2, 3}}}
	long := clip(21*30*16000, 16000, 6)
	for _, tc := range []struct {
		name   string
		tokens []int32
		items  []media.Item
		want   error
		msg    string
	}{
		{"missing item", []int32{input.MediaMarker}, nil, processors.ErrMediaCount, "1 audio placeholder(s) but 0"},
		{"extra item", []int32{1}, []media.Item{one}, processors.ErrMediaCount, "0 audio placeholder(s) but 1"},
		{"image", []int32{input.MediaMarker}, []media.Item{one, img}, processors.ErrMediaCount, "IMAGE item"},
		{"too short", []int32{input.MediaMarker}, []media.Item{clip(320, 16000, 1)}, processors.ErrBadMedia, "too short"},
		{"no samples", []int32{input.MediaMarker}, []media.Item{{Modality: media.Audio}}, processors.ErrBadMedia, "no samples"},
		{"too long", []int32{input.MediaMarker}, []media.Item{long}, processors.ErrBadMedia, "longer than 20 chunks"},
	} {
		_, err := p.Prepare(ctx, tc.tokens, tc.items)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v with %q", tc.name, err, tc.want, tc.msg)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Prepare(cctx, []int32{input.MediaMarker}, []media.Item{one}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestPreparePrecomputed(t *testing.T) {
	p := hf(t)
	ctx := context.Background()
	emb := func(shape ...int) media.Item {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)
		}
		return media.Item{Modality: media.Audio, Format: media.Precomputed, Hash: 7,
			Arrays: map[string]media.Array{"feature": {Shape: shape, Data: data}}}
	}
	got, err := p.Prepare(ctx, []int32{4, 5, 6}, []media.Item{emb(3, 8)})
	if err != nil {
		t.Fatal(err)
	}
	s := got.Spans[0]
	if s.Len != 3 || s.Embeds == nil || s.Features != nil || s.Embeds.Rows() != 3 || s.Embeds.Cols() != 8 || s.Embeds.F32()[23] != 23 {
		t.Fatalf("span %+v", s)
	}
	if _, err := p.Prepare(ctx, []int32{4, 5, 5, 6}, []media.Item{emb(1, 3, 8)}); !errors.Is(err, processors.ErrMediaCount) {
		t.Fatalf("run of 2 for 3 rows: %v", err)
	}
	if _, err := p.Prepare(ctx, []int32{5}, []media.Item{emb(3, 7)}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("width 7: %v", err)
	}
	if _, err := p.Prepare(ctx, []int32{5}, []media.Item{emb(24)}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("rank 1: %v", err)
	}
}

func TestPrepareProcessorOutput(t *testing.T) {
	p := hf(t)
	feat := make([]float32, 128*3000)
	mask := make([]float32, 3000)
	for i := 0; i < 150; i++ {
		mask[i] = 1
	}
	it := media.Item{Modality: media.Audio, Format: media.ProcessorOutput, Hash: 9, Arrays: map[string]media.Array{
		"input_features":         {Shape: []int{1, 128, 3000}, Data: feat},
		"feature_attention_mask": {Shape: []int{1, 3000}, Data: mask},
	}}
	got, err := p.Prepare(context.Background(), []int32{5}, []media.Item{it})
	if err != nil || got.Spans[0].Len != 37 || got.Spans[0].Features.Grid[0] != 150 {
		t.Fatalf("%v %+v", err, got)
	}
	it.Arrays["input_features"] = media.Array{Shape: []int{1, 80, 3000}, Data: feat[:80*3000]}
	if _, err := p.Prepare(context.Background(), []int32{5}, []media.Item{it}); !errors.Is(err, processors.ErrBadFeatures) {
		t.Fatalf("80 mels for a 128-mel model: %v", err)
	}
}

func TestFromSpec(t *testing.T) {
	if _, err := processors.New(ProjectorType, processors.Spec{MMProj: meta{"clip.audio.num_mel_bins": 80, "clip.audio.projection_dim": 16}}); err != nil {
		t.Fatal(err)
	}
	if _, err := processors.New(ProjectorType, processors.Spec{MMProj: meta{}}); !errors.Is(err, ErrParams) {
		t.Fatalf("no mel bins: %v", err)
	}
	if _, err := FromSpec(processors.Spec{}); err == nil {
		t.Fatal("empty spec accepted")
	}
}

// meta is a test processors.Metadata holding unsigned values.
type meta map[string]uint64

func (m meta) String(string) (string, bool)      { return "", false }
func (m meta) Uint(k string) (uint64, bool)      { v, ok := m[k]; return v, ok }
func (m meta) Float(string) (float64, bool)      { return 0, false }
func (m meta) Bool(string) (bool, bool)          { return false, false }
func (m meta) Float32s(string) ([]float32, bool) { return nil, false }
func (m meta) Int32s(string) ([]int32, bool)     { return nil, false }

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPrepareConcurrent runs Prepare from several goroutines: same output.
func TestPrepareConcurrent(t *testing.T) {
	p := hf(t)
	one := clip(7000, 16000, 1)
	want, err := p.Prepare(context.Background(), []int32{input.MediaMarker}, []media.Item{one})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := p.Prepare(context.Background(), []int32{input.MediaMarker}, []media.Item{one})
			if err == nil && (!equal(got.Tokens, want.Tokens) || got.Spans[0].Key != want.Spans[0].Key ||
				!slices.Equal(got.Spans[0].Features.Data, want.Spans[0].Features.Data)) {
				err = errors.New("concurrent Prepare gave a different prompt")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
