package vit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/internal/oracle"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/processors"
)

// hfFromMMProj rewrites an oracle mmproj as a Hugging Face checkpoint
// directory (the inverse of llama.cpp's converter), adding extra random
// layers that the HF config must skip.
func hfFromMMProj(t *testing.T, mmproj string, rename func(string) string, cfg map[string]any, extra map[string][]int) string {
	t.Helper()
	g, err := weights.OpenGGUF(mmproj)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var ts []weights.TensorData
	for _, info := range g.Tensors() {
		_, data, err := g.Tensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		name := rename(info.Name)
		if name == "" {
			t.Fatalf("no HF name for %s", info.Name)
		}
		ts = append(ts, weights.TensorData{Info: weights.Info{Name: name, DType: info.DType, Type: info.DType.String(), Shape: info.Shape}, Data: slices.Clone(data)})
	}
	r := rand.New(rand.NewPCG(9, 9))
	for name, shape := range extra {
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(r.NormFloat64())
		}
		td, err := weights.EncodeTensor(name, tensor.F32, shape, vals)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, td)
	}
	dir := t.TempDir()
	if err := weights.WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// clipRename maps clip.cpp names to HF CLIP/SigLIP names under vp.
func clipRename(vp string, mm map[string]string) func(string) string {
	blk := map[string]string{"ln1": "layer_norm1", "ln2": "layer_norm2", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
		"attn_v": "self_attn.v_proj", "attn_out": "self_attn.out_proj", "ffn_up": "mlp.fc1", "ffn_down": "mlp.fc2"}
	top := map[string]string{"v.patch_embd.weight": "embeddings.patch_embedding.weight", "v.patch_embd.bias": "embeddings.patch_embedding.bias",
		"v.class_embd": "embeddings.class_embedding", "v.position_embd.weight": "embeddings.position_embedding.weight",
		"v.pre_ln.weight": "pre_layrnorm.weight", "v.pre_ln.bias": "pre_layrnorm.bias",
		"v.post_ln.weight": "post_layernorm.weight", "v.post_ln.bias": "post_layernorm.bias"}
	return func(n string) string {
		if s, ok := top[n]; ok {
			return vp + s
		}
		if s, ok := mm[n]; ok {
			return s
		}
		var i int
		var rest string
		if _, err := fmt.Sscanf(n, "v.blk.%d.%s", &i, &rest); err == nil {
			k, suffix, _ := strings.Cut(rest, ".")
			return fmt.Sprintf("%sencoder.layers.%d.%s.%s", vp, i, blk[k], suffix)
		}
		return ""
	}
}

// TestHFLoadersMatchGGUF converts the LLaVA and SmolVLM oracle mmproj files
// to Hugging Face checkpoints and checks that the HF loaders give the same
// embeddings, bit for bit, as the GGUF loader and the golden within
// tolerance. The LLaVA checkpoint has one more layer than the mmproj, which
// vision_feature_layer −2 must skip.
func TestHFLoadersMatchGGUF(t *testing.T) {
	vp := "vision_tower.vision_model."
	cases := []struct {
		golden string
		rename func(string) string
		cfg    map[string]any
		extra  map[string][]int
	}{
		{"mm-llava-img56_gradient", clipRename(vp, map[string]string{"mm.0.weight": "multi_modal_projector.linear_1.weight",
			"mm.0.bias": "multi_modal_projector.linear_1.bias", "mm.2.weight": "multi_modal_projector.linear_2.weight",
			"mm.2.bias": "multi_modal_projector.linear_2.bias"}),
			map[string]any{"architectures": []string{"LlavaForConditionalGeneration"}, "vision_feature_layer": -2,
				"vision_feature_select_strategy": "default", "projector_hidden_act": "gelu",
				"vision_config": map[string]any{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 4,
					"num_attention_heads": 4, "image_size": 56, "patch_size": 14, "layer_norm_eps": 1e-5, "hidden_act": "quick_gelu"}},
			map[string][]int{vp + "encoder.layers.3.self_attn.q_proj.weight": {32, 32}}},
		{"mm-smolvlm-img56_checker", clipRename("model.vision_model.", map[string]string{"mm.model.fc.weight": "model.connector.modality_projection.proj.weight"}),
			map[string]any{"architectures": []string{"Idefics3ForConditionalGeneration"}, "scale_factor": 2,
				"vision_config": map[string]any{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
					"num_attention_heads": 4, "image_size": 56, "patch_size": 14, "layer_norm_eps": 1e-6, "hidden_act": "gelu_pytorch_tanh"}},
			nil},
	}
	all := visionCases(t)
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			var c oracle.Case
			for _, x := range all {
				if x.Name == tc.golden {
					c = x
				}
			}
			for _, newBE := range backendsUnderTest {
				mc := loadCase(t, c, newBE)
				hfDir := hfFromMMProj(t, oracle.MustPath(t, c.MMProj), tc.rename, tc.cfg, tc.extra)
				hfEnc, err := vit.FromHF(hfDir, mc.be)
				if err != nil {
					t.Fatal(err)
				}
				p, err := mc.proc.Prepare(context.Background(), processors.Tokenize(mc.tok, c.Prompt, true), nil)
				if !errors.Is(err, processors.ErrMediaCount) || p != nil {
					t.Fatalf("Prepare without the image: %v, want ErrMediaCount", err)
				}
				toks := processors.Tokenize(mc.tok, c.Prompt, true)
				pg, err := mc.proc.Prepare(context.Background(), toks, mc.items())
				if err != nil {
					t.Fatal(err)
				}
				ph, _ := mc.proc.Prepare(context.Background(), toks, mc.items())
				embedsOf(t, mc, pg)
				checkEmbeds(t, mc, pg)
				spans := make([]*input.Span, len(ph.Spans))
				for i := range ph.Spans {
					spans[i] = &ph.Spans[i]
				}
				out, err := hfEnc.Encode(context.Background(), spans)
				if err != nil {
					t.Fatal(err)
				}
				for i := range out {
					if !slices.Equal(out[i].F32(), pg.Spans[i].Embeds.F32()) {
						t.Fatalf("%s: span %d: HF and GGUF loaders give different embeddings", mc.be.Name(), i)
					}
				}
				hfEnc.Close()
				mc.close()
			}
		})
	}
}
