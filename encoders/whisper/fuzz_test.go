package whisper_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor/ref"
	pw "github.com/sightline/sightline/processors/whisper"
)

func FuzzParseHFConfig(f *testing.F) {
	for _, s := range []string{
		`{"architectures":["Qwen2AudioForConditionalGeneration"],"audio_config":{"d_model":32,"encoder_layers":2,"encoder_attention_heads":4,"encoder_ffn_dim":64,"num_mel_bins":128,"max_source_positions":1500,"activation_function":"gelu"},"text_config":{"hidden_size":64}}`,
		`{"architectures":["Qwen2AudioForConditionalGeneration"]}`,
		`{"architectures":["Qwen2AudioForConditionalGeneration"],"audio_config":{"d_model":-1}}`,
		`{"architectures":["Qwen2AudioForConditionalGeneration"],"audio_config":null,"text_config":{"hidden_size":99999999999}}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := whisper.ParseHFConfig(raw)
		if err != nil {
			if !errors.Is(err, whisper.ErrConfig) && !errors.Is(err, whisper.ErrNotAudio) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if c.ProjDim == 0 {
			c.ProjDim = 1
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted %+v: %v", c, err)
		}
	})
}

// FuzzEncode feeds the small encoder spans with arbitrary feature shapes and
// lengths: each call returns rows of the right shape or an ErrFeatures error.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(16), uint16(200), uint16(100), uint16(25), uint8(1))
	f.Add(uint8(16), uint16(3), uint16(3), uint16(1), uint8(2))
	f.Add(uint8(8), uint16(40), uint16(50), uint16(3), uint8(0))
	be := ref.New()
	e := smallEncoder(f, be, whisper.GGUF)
	f.Fuzz(func(t *testing.T, mels uint8, frames, real, n uint16, copies uint8) {
		F := int(frames % 260)
		data := make([]float32, int(mels)*F)
		for i := range data {
			data[i] = float32(i%7) * 0.1
		}
		sp := &input.Span{Len: int(n % 140), Features: &input.Features{Data: data, Shape: []int{int(mels), F}, Grid: [3]int{int(real % 270)}}}
		spans := []*input.Span{sp}
		for range copies % 3 {
			spans = append(spans, sp)
		}
		out, err := e.Encode(context.Background(), spans)
		if err != nil {
			if !errors.Is(err, whisper.ErrFeatures) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if len(out) != len(spans) || out[0].Rows() != sp.Len || out[0].Cols() != smallProj || sp.Len != pw.Tokens(sp.Features.Grid[0]) {
			t.Fatalf("accepted span %+v gave %v", sp, out[0].Shape)
		}
	})
}
