package model

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseHFConfig(t *testing.T) {
	cases := []struct {
		name, json string
		check      func(*Config) bool
	}{
		{"qwen2", `{"architectures":["Qwen2ForCausalLM"],"vocab_size":151936,"hidden_size":896,"intermediate_size":4864,
			"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"rms_norm_eps":1e-6,"rope_theta":1000000.0,
			"max_position_embeddings":32768,"tie_word_embeddings":true,"eos_token_id":151643,"bos_token_id":151643}`,
			func(c *Config) bool {
				return c.Arch == "qwen2" && c.HeadDim == 64 && c.KVHeads == 2 && c.Tied && c.RopeTheta == 1e6 && c.EOS[0] == 151643 && c.BOS == 151643
			}},
		{"llama3 scaling and eos list", `{"architectures":["LlamaForCausalLM"],"vocab_size":128256,"hidden_size":4096,"intermediate_size":14336,
			"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"rms_norm_eps":1e-5,"rope_theta":500000.0,
			"rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
			"eos_token_id":[128001,128008,128009]}`,
			func(c *Config) bool {
				return c.RopeScaling != nil && c.RopeScaling.Type == "llama3" && len(c.EOS) == 3 && !c.Tied
			}},
		{"mistral default kv heads, explicit head_dim", `{"architectures":["MistralForCausalLM"],"vocab_size":32768,"hidden_size":5120,
			"intermediate_size":14336,"num_hidden_layers":40,"num_attention_heads":32,"head_dim":128,"rms_norm_eps":1e-5}`,
			func(c *Config) bool {
				return c.Arch == "llama" && c.HeadDim == 128 && c.KVHeads == 32 && c.RopeTheta == 10000
			}},
		{"qwen2-vl mrope in text_config", `{"architectures":["Qwen2VLForConditionalGeneration"],"text_config":{"vocab_size":151936,
			"hidden_size":1536,"intermediate_size":8960,"num_hidden_layers":28,"num_attention_heads":12,"num_key_value_heads":2,
			"rms_norm_eps":1e-6,"rope_theta":1000000.0,"rope_scaling":{"type":"mrope","mrope_section":[16,24,24]}}}`,
			func(c *Config) bool { return c.Arch == "qwen2vl" && len(c.RopeSections) == 3 && c.HeadDim == 128 }},
		{"qwen3-0.6b", `{"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","vocab_size":151936,"hidden_size":1024,
			"intermediate_size":3072,"num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,
			"rms_norm_eps":1e-6,"rope_theta":1000000,"rope_scaling":null,"tie_word_embeddings":true,"attention_bias":false,
			"use_sliding_window":false,"sliding_window":null,"max_window_layers":28,"max_position_embeddings":40960}`,
			func(c *Config) bool {
				return c.Arch == "qwen3" && c.HeadDim == 128 && c.Hidden/c.Heads == 64 && c.KVHeads == 8 && c.Tied && c.RopeTheta == 1e6
			}},
		{"qwen3 head_dim defaults to 128, not hidden/heads", `{"architectures":["Qwen3ForCausalLM"],"vocab_size":512,"hidden_size":64,
			"intermediate_size":160,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
			"use_sliding_window":true,"max_window_layers":2}`,
			func(c *Config) bool { return c.HeadDim == 128 && !c.Tied && c.RMSEps == 1e-6 }},
		{"mistral v0.1: the sliding window caps the context", `{"architectures":["MistralForCausalLM"],"model_type":"mistral",
			"vocab_size":32000,"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,
			"num_key_value_heads":8,"max_position_embeddings":32768,"sliding_window":4096,"rms_norm_eps":1e-5}`,
			func(c *Config) bool { return c.Arch == "llama" && c.MaxPos == 4096 }},
		{"mistral v0.2: no window", `{"architectures":["MistralForCausalLM"],"vocab_size":32000,"hidden_size":4096,
			"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
			"max_position_embeddings":32768,"sliding_window":null,"rms_norm_eps":1e-5}`,
			func(c *Config) bool { return c.MaxPos == 32768 }},
		{"llava-next on a windowed mistral", `{"architectures":["LlavaNextForConditionalGeneration"],"text_config":{"model_type":"mistral",
			"vocab_size":32064,"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,
			"num_key_value_heads":8,"max_position_embeddings":32768,"sliding_window":4096,"rms_norm_eps":1e-5}}`,
			func(c *Config) bool { return c.MaxPos == 4096 }},
		{"qwen2's sliding_window is off unless use_sliding_window", `{"architectures":["Qwen2ForCausalLM"],"vocab_size":151936,
			"hidden_size":896,"intermediate_size":4864,"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,
			"max_position_embeddings":32768,"sliding_window":4096,"use_sliding_window":false,"rms_norm_eps":1e-6}`,
			func(c *Config) bool { return c.MaxPos == 32768 }},
	}
	for _, c := range cases {
		cfg, err := ParseHFConfig([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.check(cfg) {
			t.Fatalf("%s: %+v", c.name, cfg)
		}
	}
	bad := []struct{ json, want string }{
		{`{"architectures":["GPT2LMHeadModel"]}`, "not supported"},
		{`{"architectures":[]}`, "no architectures"},
		{`{`, "bad config"},
		{`{"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":3,"num_key_value_heads":2,"rms_norm_eps":1e-5}`, "multiple"},
		{`{"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"rope_scaling":{"type":"yarn","factor":4}}`, "yarn"},
		{`{"architectures":["LlamaForCausalLM"],"vocab_size":0,"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4}`, "positive"},
		{`{"architectures":["Qwen3ForCausalLM"],"vocab_size":10,"hidden_size":64,"intermediate_size":8,"num_hidden_layers":4,"num_attention_heads":4,"use_sliding_window":true,"max_window_layers":2}`, "sliding-window"},
		{`{"architectures":["Qwen3ForCausalLM"],"vocab_size":10,"hidden_size":64,"intermediate_size":8,"num_hidden_layers":2,"num_attention_heads":4,"layer_types":["full_attention","sliding_attention"]}`, "sliding_attention"},
	}
	for _, b := range bad {
		_, err := ParseHFConfig([]byte(b.json))
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want ErrConfig mentioning %q", b.json, err, b.want)
		}
	}
}

func TestLlama3InvFreqs(t *testing.T) {
	c := &Config{HeadDim: 128, RopeTheta: 500000, RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}}
	f := c.InvFreqs()
	// high-frequency pairs are untouched, low-frequency ones divided by the factor
	if math.Abs(float64(f[0])-1) > 1e-7 {
		t.Fatalf("pair 0: %v", f[0])
	}
	base := math.Pow(500000, -2*63.0/128)
	if math.Abs(float64(f[63])-base/8)/(base/8) > 1e-6 {
		t.Fatalf("pair 63: %v want %v", f[63], base/8)
	}
	for i := 1; i < len(f); i++ {
		if f[i] > f[i-1] {
			t.Fatalf("frequencies not decreasing at %d", i)
		}
	}
}

type md map[string]any

func (m md) String(k string) (string, bool) { v, ok := m[k].(string); return v, ok }
func (m md) Uint(k string) (uint64, bool)   { v, ok := m[k].(uint64); return v, ok }
func (m md) Float(k string) (float64, bool) { v, ok := m[k].(float64); return v, ok }
func (m md) Strings(k string) ([]string, bool) {
	v, ok := m[k].([]string)
	return v, ok
}
func (m md) Int32s(k string) ([]int32, bool)     { v, ok := m[k].([]int32); return v, ok }
func (m md) Float32s(k string) ([]float32, bool) { v, ok := m[k].([]float32); return v, ok }

func TestParseGGUFConfig(t *testing.T) {
	m := md{"general.architecture": "qwen2vl", "qwen2vl.embedding_length": uint64(64), "qwen2vl.block_count": uint64(2),
		"qwen2vl.feed_forward_length": uint64(160), "qwen2vl.attention.head_count": uint64(4),
		"qwen2vl.attention.head_count_kv": uint64(2), "qwen2vl.rope.freq_base": 1e6,
		"qwen2vl.attention.layer_norm_rms_epsilon": 1e-6, "qwen2vl.rope.dimension_sections": []int32{2, 3, 3, 0},
		"tokenizer.ggml.tokens": make([]string, 515), "tokenizer.ggml.bos_token_id": uint64(1), "tokenizer.ggml.eos_token_id": uint64(2)}
	c, err := ParseGGUFConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	if c.Arch != "qwen2vl" || c.Vocab != 515 || c.HeadDim != 16 || len(c.RopeSections) != 4 || c.BOS != 1 || c.EOS[0] != 2 || c.Format != GGUF {
		t.Fatalf("%+v", c)
	}
	m["qwen2vl.rope.dimension_sections"] = []int32{2, 3, 3, 1}
	if _, err := ParseGGUFConfig(m); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad sections: %v", err)
	}
	q3 := md{"general.architecture": "qwen3", "qwen3.embedding_length": uint64(64), "qwen3.block_count": uint64(2),
		"qwen3.feed_forward_length": uint64(160), "qwen3.attention.head_count": uint64(4), "qwen3.attention.head_count_kv": uint64(2),
		"qwen3.attention.key_length": uint64(32), "qwen3.attention.value_length": uint64(32), "qwen3.rope.freq_base": 1e6,
		"qwen3.attention.layer_norm_rms_epsilon": 1e-6, "tokenizer.ggml.tokens": make([]string, 315)}
	if c, err := ParseGGUFConfig(q3); err != nil || c.Arch != "qwen3" || c.HeadDim != 32 || c.KVHeads != 2 || c.RopeSections != nil {
		t.Fatalf("qwen3: %+v, %v", c, err)
	}
	q3["qwen3.attention.value_length"] = uint64(16)
	if _, err := ParseGGUFConfig(q3); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "value_length") {
		t.Fatalf("qwen3 value_length ≠ key_length: %v", err)
	}
	if _, err := ParseGGUFConfig(md{"general.architecture": "gpt2"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("unsupported arch: %v", err)
	}
}
