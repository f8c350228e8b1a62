// Package testserver starts an in-process Sightline server on a loopback
// port for tests of clients (examples, the caption CLI): the embedded
// stories260K model, or a model directory / GGUF file given by the caller,
// opened through launch like `sightline serve` does.
package testserver

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/sightline/sightline/launch"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/server"
)

// Options tune Start; the zero value serves stories260K.
type Options struct {
	Model   string         // HF directory or .gguf ("" = embedded stories260K)
	Backend tensor.Backend // default: the reference backend
	Config  server.Config
	// Launch adjusts the runtime configuration before it is opened.
	Launch func(*launch.Config)
	// Multimodal wires the model's vision/audio towers, from MMProj for a
	// GGUF model.
	Multimodal bool
	MMProj     string
}

// Start serves a model until the test ends and returns its base URL.
func Start(t testing.TB, o Options) string {
	t.Helper()
	be := o.Backend
	if be == nil {
		be = ref.New()
	}
	cfg := launch.Config{ModelPath: o.Model, MMProj: o.MMProj, Backend: be, TextOnly: !o.Multimodal,
		MaxTotalTokens: 256 * 16, ChunkedPrefill: 256, Seed: 1, EmbeddingCache: 64 << 20}
	if o.Launch != nil {
		o.Launch(&cfg)
	}
	rt, err := launch.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.FromRuntime(o.Config, rt)
	if err != nil {
		rt.Close()
		t.Fatal(err)
	}
	srv.SetReady()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		rt.Close()
	})
	return hs.URL
}
