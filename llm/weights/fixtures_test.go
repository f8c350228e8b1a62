package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/llm/tensor"
)

// Facts below come from the fixture READMEs (shared/fixtures/models/stories260K
// and shared/fixtures/oracle), not from this reader's output.

// The GGUFs are read from the repository (internal/defaultmodel,
// testdata/oracle/models) and else from ../shared/fixtures; tiny-qwen2.gguf
// (45 MB) and stories260K.bin are only in ../shared, so the parts that need
// them skip without it.

func TestFixtureStories260K(t *testing.T) {
	g, err := OpenGGUF(oracle.MustPath(t, "models/stories260K/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Version() != 3 || g.Arch() != "llama" {
		t.Errorf("version %d arch %q", g.Version(), g.Arch())
	}
	for key, want := range map[string]uint64{
		"llama.embedding_length": 64, "llama.feed_forward_length": 172, "llama.block_count": 5,
		"llama.attention.head_count": 8, "llama.attention.head_count_kv": 4,
		"llama.context_length": 128, "llama.rope.dimension_count": 8,
		"tokenizer.ggml.unknown_token_id": 0, "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2,
	} {
		if got, ok := g.Uint(key); !ok || got != want {
			t.Errorf("%s = %d (%v), want %d", key, got, ok, want)
		}
	}
	if eps, ok := g.Float("llama.attention.layer_norm_rms_epsilon"); !ok || float32(eps) != float32(9.9999997e-06) {
		t.Errorf("rms eps %v %v", eps, ok)
	}
	if _, ok := g.Float("llama.rope.freq_base"); ok {
		t.Error("stories260K has no llama.rope.freq_base key")
	}
	if s, _ := g.String("tokenizer.ggml.model"); s != "llama" {
		t.Errorf("tokenizer model %q", s)
	}
	if _, ok := g.Bool("tokenizer.ggml.add_bos_token"); ok {
		t.Error("stories260K has no add_bos_token key")
	}
	toks, ok := g.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) != 512 || toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || toks[3] != "<0x00>" || toks[258] != "<0xFF>" {
		t.Errorf("tokens: %d, first %q", len(toks), toks[:min(4, len(toks))])
	}
	if sc, ok := g.Float32s("tokenizer.ggml.scores"); !ok || len(sc) != 512 {
		t.Errorf("scores: %d %v", len(sc), ok)
	}
	if tt, ok := g.Int32s("tokenizer.ggml.token_type"); !ok || len(tt) != 512 {
		t.Errorf("token types: %d %v", len(tt), ok)
	}
	infos := g.Tensors()
	if len(infos) != 48 {
		t.Errorf("%d tensors, want 48", len(infos))
	}
	for _, info := range infos {
		if info.DType != tensor.F32 || info.Type != "F32" {
			t.Errorf("%s: %v %s, want F32", info.Name, info.DType, info.Type)
		}
	}
	wantShapes := map[string][]int{
		"token_embd.weight":      {512, 64},
		"output.weight":          {512, 64},
		"output_norm.weight":     {64},
		"blk.0.attn_q.weight":    {64, 64},
		"blk.0.attn_k.weight":    {32, 64}, // 4 KV heads × head_dim 8
		"blk.4.ffn_gate.weight":  {172, 64},
		"blk.4.ffn_down.weight":  {64, 172},
		"blk.2.attn_norm.weight": {64},
	}
	for name, shape := range wantShapes {
		info, data, err := g.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(info.Shape, shape) || len(data) != 4*info.NumElements() {
			t.Errorf("%s: shape %v, %d bytes; want %v", name, info.Shape, len(data), shape)
		}
	}

	// The .bin checkpoint the GGUF was converted from: 7 int32 header, then the
	// token embedding [512, 64] and rms_att_weight [5, 64], all float32.
	t.Run("llama2.c checkpoint", func(t *testing.T) {
		dir, ok := fixtures.Find("models/stories260K")
		if !ok {
			t.Skip("stories260K.bin (1 MB) is only in ../shared/fixtures/models/stories260K, which is absent")
		}
		bin, err := os.ReadFile(filepath.Join(dir, "stories260K.bin"))
		if err != nil {
			t.Fatal(err)
		}
		var hdr [7]int32
		binary.Read(bytes.NewReader(bin), binary.LittleEndian, &hdr)
		if hdr != [7]int32{64, 172, 5, 8, 4, 512, 512} {
			t.Fatalf("bin header %v", hdr)
		}
		off := 28
		_, emb, _ := g.Tensor("token_embd.weight")
		if !bytes.Equal(emb, bin[off:off+512*64*4]) {
			t.Error("token_embd.weight differs from the llama2.c checkpoint")
		}
		off += 512 * 64 * 4
		for l := range 5 {
			_, norm, _ := g.Tensor(fmt.Sprintf("blk.%d.attn_norm.weight", l))
			if !bytes.Equal(norm, bin[off+l*64*4:off+(l+1)*64*4]) {
				t.Errorf("blk.%d.attn_norm.weight differs from the checkpoint", l)
			}
		}
	})
}

func TestFixtureOracleModels(t *testing.T) {
	type want struct {
		arch   string
		uints  map[string]uint64
		floats map[string]float64
		strs   map[string]string
		shapes map[string][]int
		tokens int
		absent []string
	}
	cases := map[string]want{
		"tiny-llama.gguf": {arch: "llama",
			uints:  map[string]uint64{"llama.embedding_length": 64, "llama.block_count": 2, "llama.feed_forward_length": 192, "llama.attention.head_count": 4, "llama.attention.head_count_kv": 2, "llama.context_length": 2048, "general.file_type": 0},
			floats: map[string]float64{"llama.rope.freq_base": 1e4, "llama.attention.layer_norm_rms_epsilon": float64(float32(1e-6))},
			shapes: map[string][]int{"token_embd.weight": {512, 64}, "output.weight": {512, 64}, "blk.1.ffn_up.weight": {192, 64}, "blk.0.attn_k.weight": {32, 64}},
			tokens: 512},
		"tiny-smolvlm-text.gguf": {arch: "llama",
			floats: map[string]float64{"llama.rope.freq_base": 1e5},
			shapes: map[string][]int{"token_embd.weight": {552, 64}},
			tokens: 552},
		"tiny-qwen2vl-text.gguf": {arch: "qwen2vl",
			uints:  map[string]uint64{"qwen2vl.feed_forward_length": 160},
			floats: map[string]float64{"qwen2vl.rope.freq_base": 1e6},
			shapes: map[string][]int{"token_embd.weight": {515, 64}, "blk.0.attn_q.bias": {64}, "blk.0.attn_v.bias": {32}},
			tokens: 515, absent: []string{"output.weight"}},
		"tiny-qwen2.gguf": {arch: "qwen2",
			uints:  map[string]uint64{"tokenizer.ggml.bos_token_id": 151643, "tokenizer.ggml.eos_token_id": 151645, "tokenizer.ggml.padding_token_id": 151643},
			strs:   map[string]string{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "qwen2"},
			shapes: map[string][]int{"token_embd.weight": {151669, 64}, "blk.1.ffn_gate.weight": {160, 64}},
			tokens: 151669, absent: []string{"output.weight"}},
		"mmproj-tiny-llava.gguf": {arch: "clip",
			uints:  map[string]uint64{"clip.vision.image_size": 56, "clip.vision.patch_size": 14, "clip.vision.embedding_length": 32, "clip.vision.block_count": 3, "clip.vision.attention.head_count": 4},
			strs:   map[string]string{"clip.projector_type": "mlp"},
			shapes: map[string][]int{"mm.0.weight": {64, 32}, "mm.2.weight": {64, 64}}},
		"mmproj-tiny-qwen2vl.gguf": {arch: "clip",
			strs:   map[string]string{"clip.projector_type": "qwen2vl_merger"},
			shapes: map[string][]int{"mm.0.weight": {128, 128}, "mm.2.weight": {64, 128}}},
		"mmproj-tiny-smolvlm.gguf": {arch: "clip",
			strs:   map[string]string{"clip.projector_type": "idefics3"},
			shapes: map[string][]int{"mm.model.fc.weight": {64, 128}}},
		"mmproj-tiny-qwen2a.gguf": {arch: "clip",
			uints:  map[string]uint64{"clip.audio.num_mel_bins": 128},
			strs:   map[string]string{"clip.projector_type": "qwen2a"},
			shapes: map[string][]int{"mm.a.fc.weight": {64, 32}}},
	}
	for file, w := range cases {
		t.Run(file, func(t *testing.T) {
			g, err := OpenGGUF(oracle.MustPath(t, "models/"+file))
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if g.Arch() != w.arch {
				t.Errorf("arch %q, want %q", g.Arch(), w.arch)
			}
			for k, v := range w.uints {
				if got, ok := g.Uint(k); !ok || got != v {
					t.Errorf("%s = %d (%v), want %d", k, got, ok, v)
				}
			}
			for k, v := range w.floats {
				if got, ok := g.Float(k); !ok || got != v {
					t.Errorf("%s = %v (%v), want %v", k, got, ok, v)
				}
			}
			for k, v := range w.strs {
				if got, ok := g.String(k); !ok || got != v {
					t.Errorf("%s = %q (%v), want %q", k, got, ok, v)
				}
			}
			if w.tokens > 0 {
				if toks, ok := g.Strings("tokenizer.ggml.tokens"); !ok || len(toks) != w.tokens {
					t.Errorf("%d tokens, want %d", len(toks), w.tokens)
				}
			}
			for name, shape := range w.shapes {
				if info, _, err := g.Tensor(name); err != nil || !reflect.DeepEqual(info.Shape, shape) {
					t.Errorf("%s: shape %v (%v), want %v", name, info.Shape, err, shape)
				}
			}
			for _, name := range w.absent {
				if _, _, err := g.Tensor(name); !errors.Is(err, ErrNotFound) {
					t.Errorf("%s: %v, want ErrNotFound", name, err)
				}
			}
			// README: every tensor of every oracle model is F32.
			for _, info := range g.Tensors() {
				_, data, err := g.Tensor(info.Name)
				if err != nil || info.DType != tensor.F32 || len(data) != 4*info.NumElements() {
					t.Errorf("%s: %v %s %d bytes: %v", info.Name, info.DType, info.Type, len(data), err)
				}
			}
		})
	}
	t.Run("qwen2vl sections", func(t *testing.T) {
		g, err := OpenGGUF(oracle.MustPath(t, "models/tiny-qwen2vl-text.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if s, ok := g.Int32s("qwen2vl.rope.dimension_sections"); !ok || !reflect.DeepEqual(s, []int32{2, 3, 3, 0}) {
			t.Errorf("dimension_sections %v %v", s, ok)
		}
	})
	t.Run("qwen2 tokenizer", func(t *testing.T) {
		q, err := OpenGGUF(oracle.MustPath(t, "models/tiny-qwen2.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		if m, ok := q.Strings("tokenizer.ggml.merges"); !ok || len(m) != 151387 {
			t.Errorf("%d merges, want 151387", len(m))
		}
		if b, ok := q.Bool("tokenizer.ggml.add_bos_token"); !ok || b {
			t.Errorf("add_bos_token %v %v, want false", b, ok)
		}
	})
}
