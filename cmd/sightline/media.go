package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
)

// mediaPrompt loads --image/--audio files, runs the model's processor over
// ids (which hold media markers) and encodes the media.
func mediaPrompt(ctx context.Context, f *runFlags, modelPath string, be tensor.Backend, tok *tokenizer.Tokenizer, ids []int32) (*input.Prompt, error) {
	proc, encs, err := encoders.Open(ctx, modelPath, f.mmproj, be, tok)
	if err != nil {
		return nil, err
	}
	for _, e := range encs {
		if c, ok := e.(io.Closer); ok {
			defer c.Close()
		}
	}
	var refs []media.Ref
	var dirs []string
	for _, group := range []struct {
		files []string
		m     media.Modality
	}{{f.images, media.Image}, {f.audios, media.Audio}} {
		for _, p := range group.files {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(abs); err != nil {
				return nil, usagef("%v", err)
			}
			refs = append(refs, media.Ref{Modality: group.m, Src: abs})
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	loader, err := media.New(media.Config{AllowedDirs: dirs, Limits: media.DefaultLimits(), TargetRate: 16000})
	if err != nil {
		return nil, err
	}
	items, err := loader.Load(ctx, refs)
	if err != nil {
		return nil, err
	}
	p, err := proc.Prepare(ctx, ids, items)
	if err != nil {
		return nil, err
	}
	spans := make([]*input.Span, len(p.Spans))
	for i := range p.Spans {
		spans[i] = &p.Spans[i]
	}
	if err := encoders.NewSet(nil, encs...).Embed(ctx, spans); err != nil {
		return nil, fmt.Errorf("encoding media: %w", err)
	}
	return p, nil
}
