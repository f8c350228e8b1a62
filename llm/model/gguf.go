package model

import "fmt"

// Metadata is the GGUF key/value access the model package needs
// (*weights.GGUF satisfies it).
type Metadata interface {
	String(key string) (string, bool)
	Uint(key string) (uint64, bool)
	Float(key string) (float64, bool)
	Strings(key string) ([]string, bool)
	Int32s(key string) ([]int32, bool)
	Float32s(key string) ([]float32, bool)
}

// ggufFamilies maps general.architecture to a registry family.
var ggufFamilies = map[string]string{"llama": "llama", "qwen2": "qwen2", "qwen2vl": "qwen2vl", "qwen3": "qwen3"}

// ParseGGUFConfig reads a decoder config from GGUF metadata.
func ParseGGUFConfig(md Metadata) (*Config, error) {
	arch, _ := md.String("general.architecture")
	fam, ok := ggufFamilies[arch]
	if !ok {
		return nil, fmt.Errorf("%w: GGUF architecture %q is not supported", ErrConfig, arch)
	}
	u := func(k string) int {
		v, _ := md.Uint(arch + "." + k)
		if v > 1<<31 {
			return -1
		}
		return int(v)
	}
	c := &Config{
		Arch: fam, Format: GGUF, Hidden: u("embedding_length"), Layers: u("block_count"),
		FFN: u("feed_forward_length"), Heads: u("attention.head_count"), MaxPos: u("context_length"),
		BOS: -1, RopeTheta: 10000,
	}
	c.KVHeads = c.Heads
	if _, ok := md.Uint(arch + ".attention.head_count_kv"); ok {
		c.KVHeads = u("attention.head_count_kv")
	}
	if c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if _, ok := md.Uint(arch + ".attention.key_length"); ok {
		c.HeadDim = u("attention.key_length")
	}
	// One head size for K, V and the rotation (llama.cpp defaults all three to key_length's default).
	for _, k := range []string{"attention.value_length", "rope.dimension_count"} {
		if _, ok := md.Uint(arch + "." + k); ok && u(k) != c.HeadDim {
			return nil, fmt.Errorf("%w: GGUF %s.%s %d differs from the head size %d", ErrConfig, arch, k, u(k), c.HeadDim)
		}
	}
	if eps, ok := md.Float(arch + ".attention.layer_norm_rms_epsilon"); ok {
		c.RMSEps = float32(eps)
	}
	if th, ok := md.Float(arch + ".rope.freq_base"); ok {
		c.RopeTheta = float32(th)
	}
	if v, ok := md.Uint(arch + ".vocab_size"); ok && v < 1<<31 {
		c.Vocab = int(v)
	} else if toks, ok := md.Strings("tokenizer.ggml.tokens"); ok {
		c.Vocab = len(toks)
	}
	if sec, ok := md.Int32s(arch + ".rope.dimension_sections"); ok {
		for _, s := range sec {
			c.RopeSections = append(c.RopeSections, int(s))
		}
	}
	if typ, ok := md.String(arch + ".rope.scaling.type"); ok && typ != "none" {
		f, _ := md.Float(arch + ".rope.scaling.factor")
		if typ != "linear" {
			return nil, fmt.Errorf("%w: GGUF rope scaling %q is not supported", ErrConfig, typ)
		}
		c.RopeScaling = &RopeScaling{Type: typ, Factor: f}
	}
	if b, ok := md.Uint("tokenizer.ggml.bos_token_id"); ok {
		c.BOS = int32(b)
	}
	for _, k := range []string{"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if e, ok := md.Uint(k); ok {
			c.EOS = mergeIDs(c.EOS, []int32{int32(e)})
		}
	}
	if c.RMSEps == 0 {
		c.RMSEps = 1e-6
	}
	return c, c.Validate()
}
