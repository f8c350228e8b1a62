package whisper

import (
	"encoding/json"
	"fmt"

	"github.com/sightline/sightline/processors"
)

// preprocessorConfig is the subset of a WhisperFeatureExtractor's
// preprocessor_config.json that changes the features. Absent keys keep
// Whisper's defaults. "dither" is not read: the extractor is deterministic.
type preprocessorConfig struct {
	Type         *string  `json:"feature_extractor_type"`
	FeatureSize  *int     `json:"feature_size"`
	SamplingRate *int     `json:"sampling_rate"`
	HopLength    *int     `json:"hop_length"`
	NFFT         *int     `json:"n_fft"`
	NSamples     *int     `json:"n_samples"`
	ChunkLength  *int     `json:"chunk_length"`
	NbMaxFrames  *int     `json:"nb_max_frames"`
	PaddingValue *float64 `json:"padding_value"`
}

// ParsePreprocessorConfig reads the feature extractor settings from the JSON
// of a Hugging Face preprocessor_config.json.
func ParsePreprocessorConfig(raw []byte) (Params, error) {
	var c preprocessorConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return Params{}, fmt.Errorf("%w: preprocessor_config.json: %v", ErrParams, err)
	}
	if c.Type != nil && *c.Type != "WhisperFeatureExtractor" {
		return Params{}, fmt.Errorf("%w: feature_extractor_type %q (want WhisperFeatureExtractor)", ErrParams, *c.Type)
	}
	if c.PaddingValue != nil && *c.PaddingValue != 0 {
		return Params{}, fmt.Errorf("%w: padding_value %v (want 0)", ErrParams, *c.PaddingValue)
	}
	p := DefaultParams(80) // WhisperFeatureExtractor's default feature_size
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.NMel, c.FeatureSize)
	set(&p.SampleRate, c.SamplingRate)
	set(&p.Hop, c.HopLength)
	set(&p.NFFT, c.NFFT)
	chunk := 30
	set(&chunk, c.ChunkLength)
	if chunk < 1 || chunk > 120 || p.SampleRate < 0 || p.SampleRate > 192000 {
		return Params{}, fmt.Errorf("%w: chunk_length %d s at %d Hz", ErrParams, chunk, p.SampleRate)
	}
	p.Samples = chunk * p.SampleRate // HF derives n_samples; a stored one must agree
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	if c.NSamples != nil && *c.NSamples != p.Samples {
		return Params{}, fmt.Errorf("%w: n_samples %d, but chunk_length %d s at %d Hz is %d", ErrParams, *c.NSamples, chunk, p.SampleRate, p.Samples)
	}
	if c.NbMaxFrames != nil && *c.NbMaxFrames != p.Frames() {
		return Params{}, fmt.Errorf("%w: nb_max_frames %d, but %d samples / hop %d = %d", ErrParams, *c.NbMaxFrames, p.Samples, p.Hop, p.Frames())
	}
	return p, nil
}

// ReadPreprocessorConfig reads dir/preprocessor_config.json.
func ReadPreprocessorConfig(dir string) (Params, error) {
	var raw json.RawMessage
	ok, err := processors.ReadJSON(dir, "preprocessor_config.json", &raw)
	if err != nil {
		return Params{}, err
	}
	if !ok {
		return Params{}, fmt.Errorf("%w: %s has no preprocessor_config.json", processors.ErrConfig, dir)
	}
	return ParsePreprocessorConfig(raw)
}

// ParamsFromGGUF reads an audio mmproj's settings: clip.audio.num_mel_bins
// (llama.cpp fixes the rest at Whisper's 16 kHz, n_fft 400, hop 160, 30 s).
func ParamsFromGGUF(md processors.Metadata) (Params, error) {
	n, ok := md.Uint("clip.audio.num_mel_bins")
	if !ok {
		return Params{}, fmt.Errorf("%w: mmproj has no clip.audio.num_mel_bins", ErrParams)
	}
	if n > 512 {
		return Params{}, fmt.Errorf("%w: clip.audio.num_mel_bins %d", ErrParams, n)
	}
	p := DefaultParams(int(n))
	return p, p.Validate()
}
