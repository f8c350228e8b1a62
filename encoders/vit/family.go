package vit

import (
	"context"
	"io"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/processors"
	_ "github.com/sightline/sightline/processors/idefics3" // registers "idefics3"
	_ "github.com/sightline/sightline/processors/llava"    // registers "llava"
	_ "github.com/sightline/sightline/processors/qwen2vl"  // registers "qwen2vl"
)

// families: the processor registered under name pairs with encoder kind.
var families = []struct {
	name string
	kind Kind
}{{"llava", CLIP}, {"qwen2vl", Qwen2VL}, {"idefics3", SigLIP}}

func init() {
	for _, f := range families {
		kind, name := f.kind, f.name
		encoders.RegisterFamily(encoders.Family{
			Name: name,
			Detect: func(fs *encoders.Files) bool {
				if fs.MMProj != nil {
					return GGUFKind(fs.MMProj) == kind
				}
				return HFKinds[fs.HFArch] == kind
			},
			Open: func(ctx context.Context, fs *encoders.Files, be tensor.Backend, v processors.Vocab) (processors.Processor, []encoders.Encoder, error) {
				return open(ctx, name, fs, be, v)
			},
		})
	}
}

func open(ctx context.Context, name string, fs *encoders.Files, be tensor.Backend, v processors.Vocab) (processors.Processor, []encoders.Encoder, error) {
	spec := processors.Spec{Dir: fs.Dir, Vocab: v}
	if fs.MMProj != nil {
		spec.MMProj = fs.MMProj
	}
	p, err := processors.New(name, spec)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var e *Encoder
	if fs.MMProj != nil {
		if e, err = FromGGUF(fs.MMProj, fs.MMProj, be); err != nil {
			return nil, nil, err
		}
		e.closer = fs.MMProj
	} else if e, err = FromHF(fs.Dir, be); err != nil {
		return nil, nil, err
	}
	return p, []encoders.Encoder{e}, nil
}

var _ io.Closer = (*Encoder)(nil)
