package llama_test

import (
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/fixtures"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/tensortest"
	"github.com/sightline/sightline/llm/weights"
)

// dequantTwin writes dst: src's metadata and tensors, every block-quantised
// tensor decoded to F32 (the same weights, no quantisation left).
func dequantTwin(t *testing.T, src, dst string) (types map[string]int) {
	t.Helper()
	g, err := weights.OpenGGUF(src)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	w := weights.NewGGUFWriter()
	for _, k := range g.Keys() {
		v, _ := g.Value(k)
		if err := w.Set(k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	types = map[string]int{}
	for _, info := range g.Tensors() {
		info, data, err := g.Tensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		types[info.Type]++
		td := weights.TensorData{Info: info, Data: data}
		if info.DType.Quantized() {
			vals := make([]float32, info.NumElements())
			if err := tensor.DecodeRow(info.DType, data, vals); err != nil {
				t.Fatal(err)
			}
			if td, err = weights.EncodeTensor(info.Name, tensor.F32, info.Shape, vals); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.AddTensor(td); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteFile(dst); err != nil {
		t.Fatal(err)
	}
	return types
}

// checkTwin compares the prompt logits of a quantised model and its
// dequantised twin on every backend: the only difference is MatMul's
// activation quantisation, so they must agree within 3% of the largest
// logit with correlation ≥ 0.999.
func checkTwin(t *testing.T, name, quant, twin string) {
	t.Helper()
	ids := []int32{3, 77, 12, 250, 9, 40, 41, 42, 100, 7, 300, 5}
	for _, newBE := range backendsUnderTest {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		q, _ := promptLogits(t, be, quant, ids)
		f, _ := promptLogits(t, be, twin, ids)
		maxDiff, maxAbs, corr := tensortest.Agreement(q, f)
		t.Logf("%s/%s: max |Δlogit| %.3g = %.2f%% of max |logit| %.3g, correlation %.6f", name, be.Name(),
			maxDiff, 100*maxDiff/maxAbs, maxAbs, corr)
		if maxDiff > 0.03*maxAbs || !(corr >= 0.999) {
			t.Errorf("%s/%s: quantised logits differ from the dequantised twin's: max |Δ| %.3g (max |logit| %.3g), correlation %.6f",
				name, be.Name(), maxDiff, maxAbs, corr)
		}
		be.Close()
	}
}

// TestQuantTypesMatchTwin: a model of each block type (every matrix and the
// embedding in that type, written by internal/tiny) against its dequantised twin.
func TestQuantTypesMatchTwin(t *testing.T) {
	for _, dt := range tensor.DTypes() {
		if !dt.Quantized() {
			continue
		}
		spec := tiny.Shapes["tiny-qwen2-256"]
		spec.DType = dt
		dir := t.TempDir()
		if err := tiny.Write(dir, spec, false, true); err != nil {
			t.Fatal(err)
		}
		quant, twin := filepath.Join(dir, "model.gguf"), filepath.Join(dir, "twin.gguf")
		if types := dequantTwin(t, quant, twin); types[dt.String()] != 15 {
			t.Fatalf("%v: tensor types %v", dt, types)
		}
		checkTwin(t, dt.String(), quant, twin)
	}
}

// TestLlamaQuantizeQ4KM: a Q4_K_M file written by llama.cpp's llama-quantize
// (Q4_K and Q6_K mixed; testdata/README.md) against its dequantised twin.
func TestLlamaQuantizeQ4KM(t *testing.T) {
	quant := filepath.Join(fixtures.Root(), "testdata", "quant", "tiny-qwen2-256-Q4_K_M.gguf")
	twin := filepath.Join(t.TempDir(), "twin.gguf")
	types := dequantTwin(t, quant, twin)
	if types["Q4_K"] == 0 || types["Q6_K"] == 0 {
		t.Fatalf("not a Q4_K_M mixture: %v", types)
	}
	checkTwin(t, "llama-quantize Q4_K_M", quant, twin)
}
