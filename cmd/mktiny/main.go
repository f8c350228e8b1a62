// Command mktiny writes a deterministic random-weight model as a Hugging Face
// directory (OUT/hf) and a GGUF file (OUT/model.gguf, plus OUT/mmproj.gguf
// for multimodal shapes) holding the same weights.
//
//	mktiny --out DIR [--shape NAME] [--dtype f32|f16|bf16|q8_0|q4_k|…] [--format both|hf|gguf] [--seed N]
//	       [--text-layers N] [--media-layers N]
//
// Shapes: tiny-llama, tiny-qwen2, tiny-qwen3, qwen2-0.5b, qwen3-0.6b (text;
// the 0.5b/0.6b ones are the real shapes with random F16 weights);
// tiny-qwen2vl, tiny-qwen2a (tiny multimodal); and real-shape multimodal models with a
// Qwen2-0.5B-shaped decoder (24 layers unless --text-layers) and random F16
// weights: llava-1.5-clip-l336 (CLIP ViT-L/14-336 + MLP projector, GGUF +
// mmproj only), qwen2vl-2b (Qwen2-VL-2B's vision tower) and
// qwen2a-whisper-large-v3 (Qwen2-Audio's Whisper-large-v3 encoder).
// tiny-qwen25vl (Qwen2.5-VL: window attention, 4 vision layers) and
// qwen25vl-3b (Qwen2.5-VL-3B's vision tower and Qwen2.5-3B-shaped decoder,
// tiny vocabulary, random F16 weights) write Qwen2_5_VLForConditionalGeneration
// directories and qwen2.5vl_merger mmproj files. tiny-llavanext (LLaVA-1.6:
// CLIP, anyres over five pinpoints, llama decoder) and tiny-llavaov
// (OneVision: SigLIP, 36 pinpoints, anyres_max_9, qwen2 decoder), and the
// real-shape llava-v1.6-clip-l336 and llava-onevision-qwen2-0.5b-ov, write
// LlavaNextForConditionalGeneration / LlavaOnevisionForConditionalGeneration
// directories and "mlp" mmproj files with grid pinpoints.
// --media-layers sets the vision or audio encoder's depth.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/tensor"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mktiny:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mktiny", flag.ContinueOnError)
	out := fs.String("out", "", "output directory (required)")
	shapes := tiny.ShapeNames()
	shape := fs.String("shape", "tiny-qwen2", "model shape: "+strings.Join(shapes, ", "))
	dtype := fs.String("dtype", "", "decoder matrix dtype: "+dtypeNames()+" (default: the shape's; block types need row lengths that are whole blocks: 32, or 256 for the K-quants and IQ4_XS)")
	format := fs.String("format", "both", "what to write: both, hf, gguf (llava shapes: GGUF + mmproj only)")
	seed := fs.Uint64("seed", 0, "random seed of the decoder (0: the shape's)")
	textLayers := fs.Int("text-layers", 0, "decoder layers (0: the shape's)")
	mediaLayers := fs.Int("media-layers", 0, "vision or audio encoder layers (0: the shape's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required")
	}
	if *textLayers < 0 || *mediaLayers < 0 {
		return fmt.Errorf("--text-layers and --media-layers must not be negative")
	}
	o := tiny.Options{Seed: *seed, TextLayers: *textLayers, MediaLayers: *mediaLayers}
	switch *format {
	case "both":
		o.HF, o.GGUF = true, true
	case "hf":
		o.HF = true
	case "gguf":
		o.GGUF = true
	default:
		return fmt.Errorf("unknown --format %q (both, hf, gguf)", *format)
	}
	if _, ok := tiny.LLaVAShapes[*shape]; ok && *format == "both" {
		o.HF = false // the only form it has
	}
	if *dtype != "" {
		dt, ok := tensor.ParseDType(*dtype)
		if !ok {
			return fmt.Errorf("unknown --dtype %q (%s)", *dtype, dtypeNames())
		}
		o.DType = &dt
	}
	return tiny.WriteShape(*out, *shape, o)
}

// dtypeNames lists the --dtype values (every tensor dtype, lower case).
func dtypeNames() string {
	var names []string
	for _, dt := range tensor.DTypes() {
		names = append(names, strings.ToLower(dt.String()))
	}
	return strings.Join(names, ", ")
}
