// Command mktiny writes a deterministic random-weight model as a Hugging Face
// directory (OUT/hf) and a GGUF file (OUT/model.gguf, plus OUT/mmproj.gguf
// for multimodal shapes) holding the same weights.
//
//	mktiny --out DIR [--shape tiny-llama|tiny-qwen2|qwen2-0.5b|tiny-qwen2vl|tiny-qwen2a] [--dtype f32|f16|bf16|q8_0] [--format both|hf|gguf] [--seed N]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
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
	var shapes []string
	for k := range tiny.Shapes {
		shapes = append(shapes, k)
	}
	for k := range tiny.VLMShapes {
		shapes = append(shapes, k)
	}
	shapes = append(shapes, "tiny-qwen2a")
	sort.Strings(shapes)
	shape := fs.String("shape", "tiny-qwen2", "model shape: "+strings.Join(shapes, ", "))
	dtype := fs.String("dtype", "", "matrix dtype: f32, f16, bf16, q8_0 (default: the shape's)")
	format := fs.String("format", "both", "what to write: both, hf, gguf")
	seed := fs.Uint64("seed", 0, "random seed (0: the shape's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required")
	}
	hf, gguf := *format == "both" || *format == "hf", *format == "both" || *format == "gguf"
	if !hf && !gguf {
		return fmt.Errorf("unknown --format %q (both, hf, gguf)", *format)
	}
	if v, ok := tiny.VLMShapes[*shape]; ok {
		return tiny.WriteVLM(*out, v, hf, gguf)
	}
	if *shape == "tiny-qwen2a" { // Qwen2-Audio: the tiny-qwen2 decoder with the oracle-shaped Whisper encoder
		return tiny.WriteQwen2Audio(*out, tiny.Shapes["tiny-qwen2"], tiny.AudioShapes["tiny-qwen2a"])
	}
	spec, ok := tiny.Shapes[*shape]
	if !ok {
		return fmt.Errorf("unknown --shape %q (have %s)", *shape, strings.Join(shapes, ", "))
	}
	if *dtype != "" {
		dts := map[string]tensor.DType{"f32": tensor.F32, "f16": tensor.F16, "bf16": tensor.BF16, "q8_0": tensor.Q8_0}
		dt, ok := dts[strings.ToLower(*dtype)]
		if !ok {
			return fmt.Errorf("unknown --dtype %q (f32, f16, bf16, q8_0)", *dtype)
		}
		spec.DType = dt
	}
	if *seed != 0 {
		spec.Seed = *seed
	}
	return tiny.Write(*out, spec, hf, gguf)
}
