// Package whisper is the Whisper audio encoder with Qwen2-Audio's average
// pool and projector, loaded from a GGUF qwen2a mmproj or a Hugging Face
// Qwen2AudioForConditionalGeneration directory.
//
//	mel [NMel, F] ─conv k3 s1+GELU─ conv k3 s2+GELU─▶ [L_enc, D] + positions
//	─▶ Layers × pre-LN block (attention over the real positions only)
//	─▶ avg-pool 2 ─▶ LayerNorm ─▶ fc ─▶ [(L_enc−2)//2+1, ProjDim]
package whisper

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sightline/sightline/processors"
)

// Sentinel errors.
var (
	ErrConfig   = errors.New("whisper: bad encoder config")
	ErrNotAudio = errors.New("whisper: not a Qwen2-Audio model")
	ErrFeatures = errors.New("whisper: span features do not fit the encoder")
)

// Config is the encoder's shape.
type Config struct {
	NMel    int     // mel bins (conv1 input channels)
	D       int     // d_model
	Layers  int     // encoder blocks
	Heads   int     // attention heads
	FFN     int     // MLP width
	Eps     float32 // LayerNorm epsilon
	MaxPos  int     // position table rows (1500)
	ProjDim int     // projector output: the text model's hidden size
}

// Validate bounds the shape.
func (c Config) Validate() error {
	switch {
	case c.NMel < 1 || c.NMel > 512 || c.D < 1 || c.D > 1<<14 || c.Layers < 1 || c.Layers > 256 ||
		c.FFN < 1 || c.FFN > 1<<16 || c.MaxPos < 1 || c.MaxPos > 1<<16 || c.ProjDim < 1 || c.ProjDim > 1<<17:
		return fmt.Errorf("%w: implausible shape %+v", ErrConfig, c)
	case c.Heads < 1 || c.D%c.Heads != 0:
		return fmt.Errorf("%w: d_model %d is not a multiple of %d heads", ErrConfig, c.D, c.Heads)
	case !(c.Eps > 0) || c.Eps > 0.1:
		return fmt.Errorf("%w: layer norm epsilon %v", ErrConfig, c.Eps)
	}
	return nil
}

// ConfigFromGGUF reads clip.audio.* of a qwen2a mmproj. MaxPos is left 0
// (the loader takes it from the position table).
func ConfigFromGGUF(md processors.Metadata) (Config, error) {
	if t := ProjectorType(md); t != "qwen2a" {
		return Config{}, fmt.Errorf("%w: audio projector type %q (want qwen2a)", ErrNotAudio, t)
	}
	var c Config
	for _, f := range []struct {
		key string
		dst *int
	}{
		{"clip.audio.num_mel_bins", &c.NMel}, {"clip.audio.embedding_length", &c.D},
		{"clip.audio.block_count", &c.Layers}, {"clip.audio.attention.head_count", &c.Heads},
		{"clip.audio.feed_forward_length", &c.FFN}, {"clip.audio.projection_dim", &c.ProjDim},
	} {
		v, ok := md.Uint(f.key)
		if !ok {
			return Config{}, fmt.Errorf("%w: mmproj has no %s", ErrConfig, f.key)
		}
		if v > 1<<20 {
			return Config{}, fmt.Errorf("%w: %s = %d", ErrConfig, f.key, v)
		}
		*f.dst = int(v)
	}
	c.Eps = 1e-5
	if e, ok := md.Float("clip.audio.attention.layer_norm_epsilon"); ok {
		c.Eps = float32(e)
	}
	c.MaxPos = 1500
	return c, c.Validate()
}

// ProjectorType is the mmproj's audio projector: clip.audio.projector_type
// (files with both encoders), else clip.projector_type when the file has an
// audio encoder.
func ProjectorType(md processors.Metadata) string {
	if t, ok := md.String("clip.audio.projector_type"); ok {
		return t
	}
	if a, ok := md.Bool("clip.has_audio_encoder"); ok && !a {
		return ""
	}
	t, _ := md.String("clip.projector_type")
	return t
}

// hfAudioConfig is Qwen2AudioEncoderConfig; absent keys take its defaults.
type hfAudioConfig struct {
	NMel       *int    `json:"num_mel_bins"`
	D          *int    `json:"d_model"`
	Layers     *int    `json:"encoder_layers"`
	Heads      *int    `json:"encoder_attention_heads"`
	FFN        *int    `json:"encoder_ffn_dim"`
	MaxPos     *int    `json:"max_source_positions"`
	Activation *string `json:"activation_function"`
}

// ParseHFConfig reads the audio_config (and text_config.hidden_size) of a
// Qwen2AudioForConditionalGeneration config.json. ProjDim is 0 when the
// text config omits hidden_size (the loader takes it from the projector).
func ParseHFConfig(raw []byte) (Config, error) {
	var doc struct {
		Arch  []string       `json:"architectures"`
		Audio *hfAudioConfig `json:"audio_config"`
		Text  struct {
			Hidden *int `json:"hidden_size"`
		} `json:"text_config"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Config{}, fmt.Errorf("%w: config.json: %v", ErrConfig, err)
	}
	if len(doc.Arch) == 0 || doc.Arch[0] != "Qwen2AudioForConditionalGeneration" {
		return Config{}, fmt.Errorf("%w: architectures %q", ErrNotAudio, doc.Arch)
	}
	a := doc.Audio
	if a == nil {
		a = &hfAudioConfig{}
	}
	if a.Activation != nil && *a.Activation != "gelu" {
		return Config{}, fmt.Errorf("%w: activation_function %q (only exact \"gelu\")", ErrConfig, *a.Activation)
	}
	c := Config{NMel: 128, D: 1280, Layers: 32, Heads: 20, FFN: 5120, MaxPos: 1500, Eps: 1e-5, ProjDim: 1}
	for _, f := range []struct {
		dst *int
		v   *int
	}{{&c.NMel, a.NMel}, {&c.D, a.D}, {&c.Layers, a.Layers}, {&c.Heads, a.Heads}, {&c.FFN, a.FFN}, {&c.MaxPos, a.MaxPos}, {&c.ProjDim, doc.Text.Hidden}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	if doc.Text.Hidden == nil {
		c.ProjDim = 0
	}
	return c, nil
}
