//go:build cgo && unix

package vit_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/encoders/vit"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/cpu"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tensor/tensortest"
)

// TestQuantizedTower: a CLIP tower and projector whose matrices are in each
// GGUF block type (as a quantised mmproj holds them) against its twin with
// the same weights dequantised to F32. The only difference is MatMul's
// activation quantisation: within 3% of the largest output, correlation ≥ 0.999.
func TestQuantizedTower(t *testing.T) {
	cfg := vit.Config{Kind: vit.CLIP, Hidden: 256, Heads: 4, FFN: 512, Layers: 2, Patch: 14, Temporal: 1,
		Positions: 17, Eps: 1e-5, Act: tensor.QuickGELU, ProjAct: tensor.GELU, Out: 256}
	grid := [3]int{1, 4, 4}
	r := rand.New(rand.NewPCG(5, 6))
	data := make([]float32, 16*cfg.Cols())
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	encode := func(be tensor.Backend, dt tensor.DType, twin bool) []float32 {
		e := randomEncoder(t, cfg, be, 256, dt, twin)
		sp := &input.Span{Len: cfg.OutRows(16), Features: &input.Features{Data: data, Shape: []int{16, cfg.Cols()}, Grid: grid}}
		out, err := e.Encode(context.Background(), []*input.Span{sp})
		if err != nil {
			t.Fatal(err)
		}
		defer be.Free(out[0])
		return append([]float32(nil), out[0].F32()...)
	}
	backends := map[string]func() (tensor.Backend, error){
		"cpu": func() (tensor.Backend, error) { return cpu.New(tensor.Options{Threads: 2}) },
		"ref": func() (tensor.Backend, error) { return ref.New(), nil },
	}
	for name, newBE := range backends {
		be, err := newBE()
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range tensor.DTypes() {
			if !dt.Quantized() {
				continue
			}
			q, f := encode(be, dt, false), encode(be, dt, true)
			maxDiff, maxAbs, corr := tensortest.Agreement(q, f)
			t.Logf("%s/%v: max |Δ| %.3g of max %.3g (%.2f%%), correlation %.6f", name, dt, maxDiff, maxAbs, 100*maxDiff/maxAbs, corr)
			if maxDiff > 0.03*maxAbs || !(corr >= 0.999) {
				t.Errorf("%s/%v: quantised tower differs from its dequantised twin: max |Δ| %.3g (max %.3g), correlation %.6f",
					name, dt, maxDiff, maxAbs, corr)
			}
		}
		be.Close()
	}
}
