// Package model defines what a language model is to the engine — its typed
// Config and the Model interface — and loads models from Hugging Face
// directories and GGUF files through a registry of families.
package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Format is how a model's weights are named and laid out.
type Format uint8

const (
	HF   Format = iota // Hugging Face safetensors directory
	GGUF               // llama.cpp GGUF file
)

func (f Format) String() string {
	if f == GGUF {
		return "gguf"
	}
	return "hf"
}

// Config is the typed architecture of a text decoder.
type Config struct {
	Arch    string // family name in the registry: "llama", "qwen2", "qwen2vl", "qwen3"
	Format  Format
	HFArch  string // Hugging Face architectures[0], when known
	Vocab   int
	Hidden  int
	Layers  int
	Heads   int
	KVHeads int
	HeadDim int
	FFN     int
	RMSEps  float32
	MaxPos  int
	Tied    bool // output projection shares the token embedding

	RopeTheta    float32
	RopeScaling  *RopeScaling // nil: none
	RopeSections []int        // M-RoPE sections in rotary pairs (t, h, w, e); nil for 1-D RoPE

	BOS int32   // −1 when none
	EOS []int32 // end-of-generation ids from the model files
	// Generation holds generation_config.json (sampling defaults), raw.
	Generation map[string]json.RawMessage
	// WeightPrefix is the name prefix of the text decoder's tensors in a
	// multimodal HF checkpoint ("model.", "model.language_model.", "language_model.model.").
	WeightPrefix string
}

// RopeScaling is HF rope_scaling for the types Sightline implements.
type RopeScaling struct {
	Type           string  // "linear" or "llama3"
	Factor         float64 // both
	LowFreqFactor  float64 // llama3
	HighFreqFactor float64 // llama3
	OriginalMaxPos float64 // llama3 original_max_position_embeddings
}

// ErrConfig reports an invalid or unsupported model configuration.
var ErrConfig = errors.New("model: bad config")

// Validate checks the shape fields for consistency.
func (c *Config) Validate() error {
	switch {
	case c.Vocab <= 0 || c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.FFN <= 0:
		return fmt.Errorf("%w: vocab %d, hidden %d, layers %d, heads %d, ffn %d must be positive", ErrConfig, c.Vocab, c.Hidden, c.Layers, c.Heads, c.FFN)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: %d heads is not a multiple of %d kv heads", ErrConfig, c.Heads, c.KVHeads)
	case c.HeadDim <= 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("%w: head dim %d must be even and positive", ErrConfig, c.HeadDim)
	case !(c.RMSEps > 0) || !(c.RopeTheta > 0):
		return fmt.Errorf("%w: rms eps %v and rope theta %v must be positive", ErrConfig, c.RMSEps, c.RopeTheta)
	case c.Layers > 1024 || c.Hidden > 1<<17 || c.Heads > 1024 || c.Vocab > 1<<24:
		return fmt.Errorf("%w: implausible sizes (layers %d, hidden %d, heads %d, vocab %d)", ErrConfig, c.Layers, c.Hidden, c.Heads, c.Vocab)
	}
	if c.RopeSections != nil {
		sum := 0
		for _, s := range c.RopeSections {
			if s < 0 {
				return fmt.Errorf("%w: negative rope section in %v", ErrConfig, c.RopeSections)
			}
			sum += s
		}
		if sum != c.HeadDim/2 {
			return fmt.Errorf("%w: rope sections %v sum to %d, head dim %d has %d pairs", ErrConfig, c.RopeSections, sum, c.HeadDim, c.HeadDim/2)
		}
	}
	if s := c.RopeScaling; s != nil {
		if !(s.Factor > 0) {
			return fmt.Errorf("%w: rope_scaling factor %v", ErrConfig, s.Factor)
		}
		if s.Type == "llama3" && (!(s.OriginalMaxPos > 0) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor)) {
			return fmt.Errorf("%w: llama3 rope_scaling %+v", ErrConfig, *s)
		}
	}
	return nil
}

// InvFreqs returns the inverse frequency of each rotary pair after rope
// scaling, or nil when plain θ^(−2i/d) applies.
func (c *Config) InvFreqs() []float32 {
	s := c.RopeScaling
	if s == nil {
		return nil
	}
	half := c.HeadDim / 2
	out := make([]float32, half)
	for i := range out {
		f := math.Pow(float64(c.RopeTheta), -2*float64(i)/float64(c.HeadDim))
		switch s.Type {
		case "linear":
			f /= s.Factor
		case "llama3":
			wavelen := 2 * math.Pi / f
			lowWave := s.OriginalMaxPos / s.LowFreqFactor
			highWave := s.OriginalMaxPos / s.HighFreqFactor
			switch {
			case wavelen > lowWave:
				f /= s.Factor
			case wavelen >= highWave:
				smooth := (s.OriginalMaxPos/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				f = (1-smooth)*f/s.Factor + smooth*f
			}
		}
		out[i] = float32(f)
	}
	return out
}

// hfConfig is the subset of config.json Sightline reads (text_config nested
// for multimodal checkpoints has the same fields).
type hfConfig struct {
	Architectures         []string                   `json:"architectures"`
	ModelType             string                     `json:"model_type"`
	VocabSize             int                        `json:"vocab_size"`
	HiddenSize            int                        `json:"hidden_size"`
	IntermediateSize      int                        `json:"intermediate_size"`
	NumHiddenLayers       int                        `json:"num_hidden_layers"`
	NumAttentionHeads     int                        `json:"num_attention_heads"`
	NumKeyValueHeads      *int                       `json:"num_key_value_heads"`
	HeadDim               *int                       `json:"head_dim"`
	RMSNormEps            float64                    `json:"rms_norm_eps"`
	RopeTheta             *float64                   `json:"rope_theta"`
	RopeScaling           map[string]json.RawMessage `json:"rope_scaling"`
	MaxPositionEmbeddings int                        `json:"max_position_embeddings"`
	TieWordEmbeddings     *bool                      `json:"tie_word_embeddings"`
	BOSTokenID            json.RawMessage            `json:"bos_token_id"`
	EOSTokenID            json.RawMessage            `json:"eos_token_id"`
	TextConfig            *hfConfig                  `json:"text_config"`
	RopeParameters        map[string]json.RawMessage `json:"rope_parameters"`
	UseSlidingWindow      bool                       `json:"use_sliding_window"`
	SlidingWindow         *int                       `json:"sliding_window"`
	MaxWindowLayers       *int                       `json:"max_window_layers"`
	LayerTypes            []string                   `json:"layer_types"`
}

// ids decodes an int or a list of ints (HF eos_token_id takes both forms).
func ids(raw json.RawMessage) []int32 {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var one int64
	if json.Unmarshal(raw, &one) == nil {
		return []int32{int32(one)}
	}
	var many []int64
	if json.Unmarshal(raw, &many) == nil {
		out := make([]int32, 0, len(many))
		for _, v := range many {
			out = append(out, int32(v))
		}
		return out
	}
	return nil
}

// hfArchFamilies maps HF architectures to a registry family, the weight
// prefix of the text decoder and, where the transformers config class has
// one, the head_dim it defaults to when config.json omits it (0: hidden/heads).
var hfArchFamilies = map[string]struct {
	family, prefix string
	headDim        int
}{
	"LlamaForCausalLM":                   {"llama", "model.", 0},
	"MistralForCausalLM":                 {"llama", "model.", 0},
	"Qwen2ForCausalLM":                   {"qwen2", "model.", 0},
	"Qwen2VLForConditionalGeneration":    {"qwen2vl", "model.", 0},
	"Qwen2_5_VLForConditionalGeneration": {"qwen2vl", "model.", 0}, // text side as Qwen2-VL's (M-RoPE)
	"Qwen3ForCausalLM":                   {"qwen3", "model.", 128}, // Qwen3Config.head_dim = 128
	"LlavaForConditionalGeneration":      {"llama", "language_model.model.", 0},
	// LLaVA-NeXT (Mistral/Vicuna/Llama decoders) and OneVision (Qwen2): the
	// HF forms of both families decode alike (biases where the weights have them).
	"LlavaNextForConditionalGeneration":      {"llama", "language_model.model.", 0},
	"LlavaOnevisionForConditionalGeneration": {"qwen2", "language_model.model.", 0},
	"Idefics3ForConditionalGeneration":       {"llama", "model.text_model.", 0},
	"Qwen2AudioForConditionalGeneration":     {"qwen2", "language_model.model.", 0},
}

// ReadHFConfig parses dir/config.json (and generation_config.json when present).
func ReadHFConfig(dir string) (*Config, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	c, err := ParseHFConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", filepath.Join(dir, "config.json"), err)
	}
	if gen, err := os.ReadFile(filepath.Join(dir, "generation_config.json")); err == nil {
		if err := json.Unmarshal(gen, &c.Generation); err != nil {
			return nil, fmt.Errorf("model: generation_config.json: %w", err)
		}
		if e := ids(c.Generation["eos_token_id"]); len(e) > 0 {
			c.EOS = mergeIDs(c.EOS, e)
		}
	}
	return c, nil
}

func mergeIDs(a, b []int32) []int32 {
	seen := map[int32]bool{}
	var out []int32
	for _, v := range append(append([]int32{}, a...), b...) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// ParseHFConfig parses the bytes of a config.json.
func ParseHFConfig(raw []byte) (*Config, error) {
	var top hfConfig
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if len(top.Architectures) == 0 {
		return nil, fmt.Errorf("%w: no architectures", ErrConfig)
	}
	arch := top.Architectures[0]
	fam, ok := hfArchFamilies[arch]
	if !ok {
		return nil, fmt.Errorf("%w: architecture %q is not supported", ErrConfig, arch)
	}
	h := &top
	if top.TextConfig != nil && top.TextConfig.HiddenSize > 0 {
		h = top.TextConfig
	}
	c := &Config{
		Arch: fam.family, Format: HF, HFArch: arch, WeightPrefix: fam.prefix,
		Vocab: h.VocabSize, Hidden: h.HiddenSize, Layers: h.NumHiddenLayers, Heads: h.NumAttentionHeads,
		FFN: h.IntermediateSize, RMSEps: float32(h.RMSNormEps), MaxPos: h.MaxPositionEmbeddings,
		RopeTheta: 10000, BOS: -1,
	}
	if c.Vocab == 0 {
		c.Vocab = top.VocabSize
	}
	c.KVHeads = c.Heads
	if h.NumKeyValueHeads != nil {
		c.KVHeads = *h.NumKeyValueHeads
	}
	if c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if fam.headDim > 0 {
		c.HeadDim = fam.headDim
	}
	if h.HeadDim != nil && *h.HeadDim > 0 {
		c.HeadDim = *h.HeadDim
	}
	if err := h.checkFullAttention(); err != nil {
		return nil, err
	}
	if w := h.mistralWindow(arch); w > 0 && (c.MaxPos == 0 || w < c.MaxPos) {
		// Within the window every token sees the whole context, so capping
		// the context there is exact.
		c.MaxPos = w
	}
	rope := h.RopeScaling
	if h.RopeParameters != nil { // transformers ≥ 4.56 moves theta and scaling here
		rope = h.RopeParameters
		var theta float64
		if json.Unmarshal(rope["rope_theta"], &theta) == nil && theta > 0 {
			c.RopeTheta = float32(theta)
		}
	}
	if h.RopeTheta != nil {
		c.RopeTheta = float32(*h.RopeTheta)
	}
	if err := c.parseRopeScaling(rope); err != nil {
		return nil, err
	}
	c.Tied = false
	if t := h.TieWordEmbeddings; t != nil {
		c.Tied = *t
	} else if t := top.TieWordEmbeddings; t != nil {
		c.Tied = *t
	}
	if b := ids(h.BOSTokenID); len(b) > 0 {
		c.BOS = b[0]
	} else if b := ids(top.BOSTokenID); len(b) > 0 {
		c.BOS = b[0]
	}
	c.EOS = mergeIDs(ids(h.EOSTokenID), ids(top.EOSTokenID))
	if c.RMSEps == 0 {
		c.RMSEps = 1e-6
	}
	return c, c.Validate()
}

// checkFullAttention refuses sliding-window layers (Qwen2/Qwen3
// use_sliding_window from max_window_layers on, or layer_types): every
// decoder here attends to the whole context.
func (h *hfConfig) checkFullAttention() error {
	for _, t := range h.LayerTypes {
		if t != "full_attention" {
			return fmt.Errorf("%w: layer type %q is not supported", ErrConfig, t)
		}
	}
	if h.UseSlidingWindow && h.LayerTypes == nil {
		from := 28 // the Qwen2/Qwen3 config default
		if h.MaxWindowLayers != nil {
			from = *h.MaxWindowLayers
		}
		if from < h.NumHiddenLayers {
			return fmt.Errorf("%w: sliding-window attention (layers %d and up) is not supported", ErrConfig, from)
		}
	}
	return nil
}

// mistralWindow is the sliding window of a Mistral decoder (Mistral-7B
// v0.1's 4096; later versions have null): transformers' Mistral masks keys
// more than sliding_window positions back whenever it is set, with no
// use_sliding_window switch. 0 for other families.
func (h *hfConfig) mistralWindow(arch string) int {
	if arch != "MistralForCausalLM" && h.ModelType != "mistral" {
		return 0
	}
	if h.SlidingWindow == nil {
		return 0
	}
	return *h.SlidingWindow
}

func (c *Config) parseRopeScaling(m map[string]json.RawMessage) error {
	if len(m) == 0 {
		return nil
	}
	var typ string
	if err := json.Unmarshal(m["rope_type"], &typ); err != nil || typ == "" {
		_ = json.Unmarshal(m["type"], &typ)
	}
	num := func(k string) float64 {
		var v float64
		_ = json.Unmarshal(m[k], &v)
		return v
	}
	switch typ {
	case "", "default":
	case "mrope": // Qwen2-VL: sections over the rotary pairs
		var sec []int
		if err := json.Unmarshal(m["mrope_section"], &sec); err != nil {
			return fmt.Errorf("%w: mrope_section: %v", ErrConfig, err)
		}
		c.RopeSections = sec
	case "linear":
		c.RopeScaling = &RopeScaling{Type: typ, Factor: num("factor")}
	case "llama3":
		c.RopeScaling = &RopeScaling{Type: typ, Factor: num("factor"), LowFreqFactor: num("low_freq_factor"),
			HighFreqFactor: num("high_freq_factor"), OriginalMaxPos: num("original_max_position_embeddings")}
	default:
		return fmt.Errorf("%w: rope_scaling type %q is not supported", ErrConfig, typ)
	}
	if c.RopeSections == nil {
		var sec []int
		if json.Unmarshal(m["mrope_section"], &sec) == nil && len(sec) > 0 {
			c.RopeSections = sec
		}
	}
	return nil
}
