// Package testserver starts an in-process Sightline server on a loopback
// port for tests of clients (examples, the caption CLI): the embedded
// stories260K model, or a model directory / GGUF file given by the caller.
package testserver

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/sightline/sightline/encoders"
	_ "github.com/sightline/sightline/encoders/vit"
	_ "github.com/sightline/sightline/encoders/whisper"
	"github.com/sightline/sightline/internal/defaultmodel"
	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/prefix"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	_ "github.com/sightline/sightline/media/all"
	"github.com/sightline/sightline/server"
	"github.com/sightline/sightline/server/chat"
)

// Options tune Start; the zero value serves stories260K.
type Options struct {
	Model   string         // HF directory or .gguf ("" = embedded stories260K)
	Backend tensor.Backend // default: the reference backend
	Config  server.Config
	Deps    func(*server.Deps) // adds collaborators (grammar, ...)
	// Multimodal wires the model's vision/audio towers (encoders.Open),
	// from MMProj for a GGUF model.
	Multimodal bool
	MMProj     string
}

// Start serves a model until the test ends and returns its base URL.
func Start(t testing.TB, o Options) string {
	t.Helper()
	if o.Model == "" {
		p, err := defaultmodel.Write(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		o.Model = p
	}
	be := o.Backend
	if be == nil {
		be = ref.New()
	}
	m, err := model.Load(o.Model, be)
	if err != nil {
		t.Fatal(err)
	}
	var tok *tokenizer.Tokenizer
	if m.GGUF != nil {
		v, err := tokenizer.VocabFromGGUF(m.GGUF)
		if err == nil {
			tok, err = tokenizer.FromGGUF(v)
		}
		if err != nil {
			t.Fatal(err)
		}
	} else if tok, err = tokenizer.Load(o.Model); err != nil {
		t.Fatal(err)
	}
	kv, err := kvcache.New(be, m.Config().KVSpec(16, 256))
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := prefix.NewRadix(16)
	d := server.Deps{Tokenizer: tok}
	var emb engine.Embedder
	if o.Multimodal {
		proc, encs, err := encoders.Open(context.Background(), o.Model, o.MMProj, be, tok)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { encoders.CloseAll(encs) })
		for _, e := range encs {
			d.Images = d.Images || e.Modality() == media.Image
			d.Audio = d.Audio || e.Modality() == media.Audio
		}
		d.EmbCache = encoders.NewCache(64 << 20)
		d.Processor, emb = proc, encoders.NewSet(d.EmbCache, encs...)
	}
	eng, err := engine.New(m, kv, pc, engine.TokenizerText(tok), emb, engine.Config{PageSize: 16, StepTokens: 256,
		EOS: append(m.Config().EOS, tok.EOS()...), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	loader, err := media.New(media.Config{Limits: media.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	d.Engine, d.Media = eng, loader
	if src := tok.ChatTemplate(); src != "" {
		if d.Template, err = chat.Parse(src); err != nil {
			t.Fatal(err)
		}
		d.TemplateSource = src
	}
	if o.Deps != nil {
		o.Deps(&d)
	}
	cfg := o.Config
	cfg.ModelPath, cfg.Vocab, cfg.Hidden = o.Model, m.Config().Vocab, m.Config().Hidden
	srv := server.New(cfg, d)
	srv.SetReady()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		m.Close()
	})
	return hs.URL
}
