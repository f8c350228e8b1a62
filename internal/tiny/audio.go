package tiny

import (
	"fmt"
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
	FastRand                    bool // counter-based parallel random streams (see Spec.FastRand)
}

// AudioShapes are named encoder specs.
var AudioShapes = map[string]AudioSpec{
	// the oracle's mmproj shape, paired with tiny-qwen2
	"tiny-qwen2a": {NMel: 128, D: 32, Layers: 2, Heads: 4, FFN: 64, MaxPos: 1500, Eps: 1e-5, DType: tensor.F32, Seed: 11},
	// Qwen2-Audio-7B's encoder (Whisper-large-v3)
	"whisper-large-v3": {NMel: 128, D: 1280, Layers: 32, Heads: 20, FFN: 5120, MaxPos: 1500, Eps: 1e-5, DType: tensor.F16, Seed: 12, FastRand: true},
}

// Qwen2AudioSpec is a Qwen2-Audio model: a qwen2 text decoder and a
// Whisper encoder whose pooled output is projected into the decoder's width.
type Qwen2AudioSpec struct {
	Text  Spec // Arch is "qwen2"
	Audio AudioSpec
}

// Qwen2AudioShapes are the named Qwen2-Audio specs. "qwen2a-whisper-large-v3"
// is Qwen2-Audio's encoder (Whisper-large-v3: 128 mels, 1280 wide, 32
// layers, 20 heads, FFN 5120; 750 tokens per 30 s window) projecting into
// a Qwen2-0.5B-shaped decoder, random F16 weights.
var Qwen2AudioShapes = map[string]Qwen2AudioSpec{
	"tiny-qwen2a":             {Text: Shapes["tiny-qwen2"], Audio: AudioShapes["tiny-qwen2a"]},
	"qwen2a-whisper-large-v3": {Text: qwen05Text("qwen2", 31), Audio: AudioShapes["whisper-large-v3"]},
}

func (a AudioSpec) tensors(projDim int) []tensorSpec {
	D := a.D
	t := func(hf, gg string, kind int, shape ...int) tensorSpec {
		return tensorSpec{hf: hf, gguf: gg, shape: shape, kind: kind}
	}
	ts := []tensorSpec{
		t("audio_tower.conv1.weight", "a.conv1d.1.weight", kMatrix, D, a.NMel, 3),
		t("audio_tower.conv1.bias", "a.conv1d.1.bias", kBias, D),
		t("audio_tower.conv2.weight", "a.conv1d.2.weight", kMatrix, D, D, 3),
		t("audio_tower.conv2.bias", "a.conv1d.2.bias", kBias, D),
		t("audio_tower.embed_positions.weight", "a.position_embd.weight", kWide, a.MaxPos, D),
	}
	ts[1].ggufShape, ts[3].ggufShape = []int{D, 1}, []int{D, 1} // GGUF conv biases are [D, 1]
	for i := 0; i < a.Layers; i++ {
		l := func(hf, gg string, kind int, shape ...int) tensorSpec {
			return t(fmt.Sprintf("audio_tower.layers.%d.%s", i, hf), fmt.Sprintf("a.blk.%d.%s", i, gg), kind, shape...)
		}
		ts = append(ts,
			l("self_attn_layer_norm.weight", "ln1.weight", kNorm, D),
			l("self_attn_layer_norm.bias", "ln1.bias", kBias, D),
			l("self_attn.q_proj.weight", "attn_q.weight", kMatrix, D, D),
			l("self_attn.q_proj.bias", "attn_q.bias", kBias, D),
			l("self_attn.k_proj.weight", "attn_k.weight", kMatrix, D, D),
			l("self_attn.v_proj.weight", "attn_v.weight", kMatrix, D, D),
			l("self_attn.v_proj.bias", "attn_v.bias", kBias, D),
			l("self_attn.out_proj.weight", "attn_out.weight", kMatrix, D, D),
			l("self_attn.out_proj.bias", "attn_out.bias", kBias, D),
			l("final_layer_norm.weight", "ln2.weight", kNorm, D),
			l("final_layer_norm.bias", "ln2.bias", kBias, D),
			l("fc1.weight", "ffn_up.weight", kMatrix, a.FFN, D),
			l("fc1.bias", "ffn_up.bias", kBias, a.FFN),
			l("fc2.weight", "ffn_down.weight", kMatrix, D, a.FFN),
			l("fc2.bias", "ffn_down.bias", kBias, D),
		)
	}
	return append(ts,
		t("audio_tower.layer_norm.weight", "a.post_ln.weight", kNorm, D),
		t("audio_tower.layer_norm.bias", "a.post_ln.bias", kBias, D),
		t("multi_modal_projector.linear.weight", "mm.a.fc.weight", kMatrix, projDim, D),
		t("multi_modal_projector.linear.bias", "mm.a.fc.bias", kBias, projDim),
	)
}

func (a AudioSpec) validate(projDim int) error {
	if a.NMel < 1 || a.D < 1 || a.Heads < 1 || a.D%a.Heads != 0 || a.Layers < 1 || a.FFN < 1 || a.MaxPos < 1 || projDim < 1 {
		return fmt.Errorf("tiny: bad audio spec %+v (projection %d)", a, projDim)
	}
	return nil
}

// generate draws the encoder and projector (into projDim) in both forms
// from a's own stream.
func (a AudioSpec) generate(projDim int, hf, gguf bool) (forms, error) {
	if err := a.validate(projDim); err != nil {
		return forms{}, err
	}
	return generate(newGen(a.Seed, 0xa0d10, a.FastRand), a.tensors(projDim), a.DType, "", hf, gguf)
}

// AudioTensors generates the encoder and projector (into projDim) and
// returns them under Hugging Face names (HF shapes) or, with gguf, under
// llama.cpp's qwen2a names and shapes. Same seed, same values.
func (a AudioSpec) AudioTensors(projDim int, gguf bool) ([]weights.TensorData, error) {
	f, err := a.generate(projDim, !gguf, gguf)
	if gguf {
		return f.gguf, err
	}
	return f.hf, err
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
	f, err := a.generate(projDim, false, true)
	if err != nil {
		return err
	}
	return a.writeMMProj(path, projDim, f.gguf)
}

func (a AudioSpec) writeMMProj(path string, projDim int, ts []weights.TensorData) error {
	return writeGGUFFile(path, []kv{
		{"general.architecture", "clip"}, {"general.name", "sightline-tiny-qwen2a"},
		{"clip.has_vision_encoder", false}, {"clip.has_audio_encoder", true}, {"clip.projector_type", "qwen2a"},
		{"clip.audio.num_mel_bins", uint32(a.NMel)}, {"clip.audio.embedding_length", uint32(a.D)},
		{"clip.audio.feed_forward_length", uint32(a.FFN)}, {"clip.audio.block_count", uint32(a.Layers)},
		{"clip.audio.attention.head_count", uint32(a.Heads)}, {"clip.audio.attention.layer_norm_epsilon", a.Eps},
		{"clip.audio.projection_dim", uint32(projDim)},
	}, ts)
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
	return WriteQwen2AudioForms(dir, Qwen2AudioSpec{Text: s, Audio: a}, true, true)
}

// WriteQwen2AudioForms is WriteQwen2Audio writing the HF directory only if
// hf and the GGUF pair only if gguf.
func WriteQwen2AudioForms(dir string, q Qwen2AudioSpec, hf, gguf bool) error {
	s, a := q.Text, q.Audio
	if s.Arch != "qwen2" {
		return fmt.Errorf("tiny: Qwen2-Audio needs a qwen2 text decoder, not %q", s.Arch)
	}
	if err := s.validate(); err != nil {
		return err
	}
	voc, err := NewVocab(s.Vocab)
	if err != nil {
		return err
	}
	text, err := generate(s.textGen(), s.tensors(len(voc.Tokens)), s.DType, "language_model.", hf, gguf)
	if err != nil {
		return err
	}
	audio, err := a.generate(s.Hidden, hf, gguf)
	if err != nil {
		return err
	}
	if err := mkdir(dir); err != nil {
		return err
	}
	if gguf {
		if err := s.writeGGUF(filepath.Join(dir, "model.gguf"), voc, text.gguf); err != nil {
			return err
		}
		if err := a.writeMMProj(filepath.Join(dir, "mmproj.gguf"), s.Hidden, audio.gguf); err != nil {
			return err
		}
	}
	if !hf {
		return nil
	}
	cfg := map[string]any{
		"architectures": []string{"Qwen2AudioForConditionalGeneration"}, "model_type": "qwen2_audio",
		"audio_token_index": voc.Special["<|AUDIO|>"], "torch_dtype": "float32", "tie_word_embeddings": s.Tied,
		"audio_config": map[string]any{
			"model_type": "qwen2_audio_encoder", "num_mel_bins": a.NMel, "d_model": a.D, "encoder_layers": a.Layers,
			"encoder_attention_heads": a.Heads, "encoder_ffn_dim": a.FFN, "max_source_positions": a.MaxPos,
			"activation_function": "gelu", "scale_embedding": false,
		},
		"text_config": s.hfConfig(voc),
	}
	pre := map[string]any{
		"feature_extractor_type": "WhisperFeatureExtractor", "processor_class": "Qwen2AudioProcessor",
		"feature_size": a.NMel, "sampling_rate": 16000, "hop_length": 160, "n_fft": 400, "chunk_length": 30,
		"n_samples": 480000, "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
		"return_attention_mask": true, "dither": 0.0,
	}
	gen := map[string]any{"eos_token_id": []int32{voc.EOS, voc.PAD}}
	return writeHFDir(filepath.Join(dir, "hf"), voc, map[string]any{"config.json": cfg, "preprocessor_config.json": pre, "generation_config.json": gen},
		append(text.hf, audio.hf...))
}

// ChatAudioPrompt is a one-turn ChatML prompt asking about one clip, with
// Qwen2-Audio's placeholder.
func ChatAudioPrompt(question string) string {
	return "<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n" +
		strings.TrimSpace(question) + "<|im_end|>\n<|im_start|>assistant\n"
}
