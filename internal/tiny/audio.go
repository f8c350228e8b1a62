package tiny

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// AudioSpec describes a Whisper encoder with Qwen2-Audio's projector.
type AudioSpec struct {
	NMel, D, Layers, Heads, FFN int
	MaxPos                      int          // position table rows (1500 for 30 s)
	Eps                         float32      // LayerNorm epsilon
	DType                       tensor.DType // matrices and conv kernels; norms, biases, positions stay F32
	Seed                        uint64
}

// AudioShapes are named encoder specs.
var AudioShapes = map[string]AudioSpec{
	// the oracle's mmproj shape, paired with tiny-qwen2
	"tiny-qwen2a": {NMel: 128, D: 32, Layers: 2, Heads: 4, FFN: 64, MaxPos: 1500, Eps: 1e-5, DType: tensor.F32, Seed: 11},
	// Qwen2-Audio-7B's encoder (Whisper-large-v3), for benchmarks only
	"whisper-large-v3": {NMel: 128, D: 1280, Layers: 32, Heads: 20, FFN: 5120, MaxPos: 1500, Eps: 1e-5, DType: tensor.F16, Seed: 12},
}

// audioTensor is one generated encoder tensor.
type audioTensor struct {
	hf, gguf  string
	shape     []int // HF shape (GGUF conv biases are stored [D, 1])
	ggufShape []int
	kind      int // 0 matrix/kernel, 1 norm weight, 2 bias, 3 position table
}

func (a AudioSpec) tensors(projDim int) []audioTensor {
	D := a.D
	t := func(hf, gg string, kind int, shape ...int) audioTensor {
		return audioTensor{hf: hf, gguf: gg, shape: shape, ggufShape: shape, kind: kind}
	}
	ts := []audioTensor{
		t("audio_tower.conv1.weight", "a.conv1d.1.weight", 0, D, a.NMel, 3),
		t("audio_tower.conv1.bias", "a.conv1d.1.bias", 2, D),
		t("audio_tower.conv2.weight", "a.conv1d.2.weight", 0, D, D, 3),
		t("audio_tower.conv2.bias", "a.conv1d.2.bias", 2, D),
		t("audio_tower.embed_positions.weight", "a.position_embd.weight", 3, a.MaxPos, D),
	}
	ts[1].ggufShape, ts[3].ggufShape = []int{D, 1}, []int{D, 1}
	for i := 0; i < a.Layers; i++ {
		hf := func(n string) string { return fmt.Sprintf("audio_tower.layers.%d.%s", i, n) }
		gg := func(n string) string { return fmt.Sprintf("a.blk.%d.%s", i, n) }
		ts = append(ts,
			t(hf("self_attn_layer_norm.weight"), gg("ln1.weight"), 1, D),
			t(hf("self_attn_layer_norm.bias"), gg("ln1.bias"), 2, D),
			t(hf("self_attn.q_proj.weight"), gg("attn_q.weight"), 0, D, D),
			t(hf("self_attn.q_proj.bias"), gg("attn_q.bias"), 2, D),
			t(hf("self_attn.k_proj.weight"), gg("attn_k.weight"), 0, D, D),
			t(hf("self_attn.v_proj.weight"), gg("attn_v.weight"), 0, D, D),
			t(hf("self_attn.v_proj.bias"), gg("attn_v.bias"), 2, D),
			t(hf("self_attn.out_proj.weight"), gg("attn_out.weight"), 0, D, D),
			t(hf("self_attn.out_proj.bias"), gg("attn_out.bias"), 2, D),
			t(hf("final_layer_norm.weight"), gg("ln2.weight"), 1, D),
			t(hf("final_layer_norm.bias"), gg("ln2.bias"), 2, D),
			t(hf("fc1.weight"), gg("ffn_up.weight"), 0, a.FFN, D),
			t(hf("fc1.bias"), gg("ffn_up.bias"), 2, a.FFN),
			t(hf("fc2.weight"), gg("ffn_down.weight"), 0, D, a.FFN),
			t(hf("fc2.bias"), gg("ffn_down.bias"), 2, D),
		)
	}
	return append(ts,
		t("audio_tower.layer_norm.weight", "a.post_ln.weight", 1, D),
		t("audio_tower.layer_norm.bias", "a.post_ln.bias", 2, D),
		t("multi_modal_projector.linear.weight", "mm.a.fc.weight", 0, projDim, D),
		t("multi_modal_projector.linear.bias", "mm.a.fc.bias", 2, projDim),
	)
}

// audioValues fills t: kernels uniform with std 1/√fan_in (fan_in = all
// dims but the first), norms 1 ± 0.1, biases ± 0.1, positions ± 0.5.
func audioValues(r *rand.Rand, t audioTensor) []float32 {
	n, fan := 1, 1
	for i, d := range t.shape {
		n *= d
		if i > 0 {
			fan *= d
		}
	}
	a, off := 0.1, 0.0
	switch t.kind {
	case 0:
		a = math.Sqrt(3 / float64(fan))
	case 1:
		off = 1
	case 3:
		a = 0.5
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(off + (r.Float64()*2-1)*a)
	}
	return v
}

// AudioTensors generates the encoder and projector (into projDim) and
// returns them under Hugging Face names (HF shapes) or, with gguf, under
// llama.cpp's qwen2a names and shapes. Same seed, same values.
func (a AudioSpec) AudioTensors(projDim int, gguf bool) ([]weights.TensorData, error) {
	if a.NMel < 1 || a.D < 1 || a.Heads < 1 || a.D%a.Heads != 0 || a.Layers < 1 || a.FFN < 1 || a.MaxPos < 1 || projDim < 1 {
		return nil, fmt.Errorf("tiny: bad audio spec %+v (projection %d)", a, projDim)
	}
	r := rand.New(rand.NewPCG(a.Seed, a.Seed^0xa0d10))
	var out []weights.TensorData
	for _, t := range a.tensors(projDim) {
		vals := audioValues(r, t)
		dt := tensor.F32
		if t.kind == 0 {
			dt = a.DType
		}
		name, shape := t.hf, t.shape
		if gguf {
			name, shape = t.gguf, t.ggufShape
		}
		td, err := weights.EncodeTensor(name, dt, shape, vals)
		if err != nil {
			return nil, err
		}
		out = append(out, td)
	}
	return out, nil
}

// AudioSource is AudioTensors as an in-memory weights.Source (for
// benchmarks of shapes too large to write to disk).
func (a AudioSpec) AudioSource(projDim int, gguf bool) (weights.Source, error) {
	ts, err := a.AudioTensors(projDim, gguf)
	if err != nil {
		return nil, err
	}
	m := memSource{}
	for _, t := range ts {
		m[t.Name] = t
	}
	return m, nil
}

// memSource is a read-only in-memory weights.Source.
type memSource map[string]weights.TensorData

func (m memSource) Tensors() []weights.Info {
	out := make([]weights.Info, 0, len(m))
	for _, t := range m {
		out = append(out, t.Info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (m memSource) Tensor(name string) (weights.Info, []byte, error) {
	t, ok := m[name]
	if !ok {
		return weights.Info{}, nil, &weights.Error{File: "memory", Msg: fmt.Sprintf("no tensor %q", name), Kind: weights.ErrNotFound}
	}
	return t.Info, t.Data, nil
}

func (m memSource) Close() error { return nil }

// WriteMMProj writes a qwen2a mmproj GGUF of a projecting into projDim.
func (a AudioSpec) WriteMMProj(path string, projDim int) error {
	ts, err := a.AudioTensors(projDim, true)
	if err != nil {
		return err
	}
	w := weights.NewGGUFWriter()
	for _, kv := range []struct {
		k string
		v any
	}{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-qwen2a"},
		{"clip.has_vision_encoder", false}, {"clip.has_audio_encoder", true}, {"clip.projector_type", "qwen2a"},
		{"clip.audio.num_mel_bins", uint32(a.NMel)}, {"clip.audio.embedding_length", uint32(a.D)},
		{"clip.audio.feed_forward_length", uint32(a.FFN)}, {"clip.audio.block_count", uint32(a.Layers)},
		{"clip.audio.attention.head_count", uint32(a.Heads)}, {"clip.audio.attention.layer_norm_epsilon", a.Eps},
		{"clip.audio.projection_dim", uint32(projDim)},
	} {
		if err := w.Set(kv.k, kv.v); err != nil {
			return fmt.Errorf("tiny: %s: %w", kv.k, err)
		}
	}
	for _, t := range ts {
		if err := w.AddTensor(t); err != nil {
			return err
		}
	}
	return w.WriteFile(path)
}

// WriteQwen2Audio writes one Qwen2-Audio model (text decoder s, which must
// be a qwen2 spec, plus encoder a) in both forms, from the same weights:
//
//	dir/hf/          Qwen2AudioForConditionalGeneration: config.json, model.safetensors
//	                 (language_model.*, audio_tower.*, multi_modal_projector.*),
//	                 preprocessor_config.json, tokenizer files
//	dir/model.gguf   the text decoder (as Write makes it)
//	dir/mmproj.gguf  the qwen2a projector
func WriteQwen2Audio(dir string, s Spec, a AudioSpec) error {
	if s.Arch != "qwen2" {
		return fmt.Errorf("tiny: Qwen2-Audio needs a qwen2 text decoder, not %q", s.Arch)
	}
	if err := Write(dir, s, false, true); err != nil {
		return err
	}
	if err := a.WriteMMProj(filepath.Join(dir, "mmproj.gguf"), s.Hidden); err != nil {
		return err
	}
	voc, err := NewVocab(s.Vocab)
	if err != nil {
		return err
	}
	// The text weights again, in Write's order and random stream, under the
	// multimodal checkpoint's names.
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x5eed))
	var ts []weights.TensorData
	for _, t := range s.tensors(len(voc.Tokens)) {
		vals := values(r, t)
		dt := s.DType
		if t.kind != 0 || dt == tensor.Q8_0 {
			dt = tensor.F32
		}
		name := "language_model." + t.hf
		td, err := weights.EncodeTensor(name, dt, t.shape, vals)
		if err != nil {
			return err
		}
		ts = append(ts, td)
	}
	at, err := a.AudioTensors(s.Hidden, false)
	if err != nil {
		return err
	}
	ts = append(ts, at...)
	hf := filepath.Join(dir, "hf")
	if err := os.MkdirAll(hf, 0o755); err != nil {
		return err
	}
	text := map[string]any{
		"model_type": "qwen2", "vocab_size": len(voc.Tokens), "hidden_size": s.Hidden, "intermediate_size": s.FFN,
		"num_hidden_layers": s.Layers, "num_attention_heads": s.Heads, "num_key_value_heads": s.KVHeads,
		"rms_norm_eps": s.Eps, "rope_theta": s.Theta, "max_position_embeddings": s.MaxPos,
		"tie_word_embeddings": s.Tied, "eos_token_id": voc.EOS,
	}
	cfg := map[string]any{
		"architectures": []string{"Qwen2AudioForConditionalGeneration"}, "model_type": "qwen2_audio",
		"audio_token_index": voc.Special["<|AUDIO|>"], "torch_dtype": "float32", "tie_word_embeddings": s.Tied,
		"audio_config": map[string]any{
			"model_type": "qwen2_audio_encoder", "num_mel_bins": a.NMel, "d_model": a.D, "encoder_layers": a.Layers,
			"encoder_attention_heads": a.Heads, "encoder_ffn_dim": a.FFN, "max_source_positions": a.MaxPos,
			"activation_function": "gelu", "scale_embedding": false,
		},
		"text_config": text,
	}
	pre := map[string]any{
		"feature_extractor_type": "WhisperFeatureExtractor", "processor_class": "Qwen2AudioProcessor",
		"feature_size": a.NMel, "sampling_rate": 16000, "hop_length": 160, "n_fft": 400, "chunk_length": 30,
		"n_samples": 480000, "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
		"return_attention_mask": true, "dither": 0.0,
	}
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}}
	tj, err := voc.TokenizerJSON()
	if err != nil {
		return err
	}
	tc, err := voc.TokenizerConfigJSON()
	if err != nil {
		return err
	}
	files := map[string][]byte{"tokenizer.json": tj, "tokenizer_config.json": tc}
	for name, v := range map[string]any{"config.json": cfg, "preprocessor_config.json": pre, "generation_config.json": gen} {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(hf, name), b, 0o644); err != nil {
			return err
		}
	}
	return weights.WriteSafetensors(filepath.Join(hf, "model.safetensors"), ts, map[string]string{"format": "pt"})
}

// ChatAudioPrompt is a one-turn ChatML prompt asking about one clip, with
// Qwen2-Audio's placeholder.
func ChatAudioPrompt(question string) string {
	return "<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n" +
		strings.TrimSpace(question) + "<|im_end|>\n<|im_start|>assistant\n"
}
