package vit

import (
	"context"
	"io"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/tensor"
	_ "github.com/sightline/sightline/processors/idefics3" // registers "idefics3"
	_ "github.com/sightline/sightline/processors/llava"    // registers "llava"
	_ "github.com/sightline/sightline/processors/qwen2vl"  // registers "qwen2vl"
)

// families: each encoder kind with the processors family that prepares its
// prompts (registered by the imports above).
var families = []struct {
	name string
	kind Kind
}{{"llava", CLIP}, {"qwen2vl", Qwen2VL}, {"idefics3", SigLIP}}

func init() {
	for _, f := range families {
		kind := f.kind
		encoders.RegisterFamily(encoders.Family{
			Name: f.name,
			Detect: func(fs *encoders.Files) bool {
				if fs.MMProj != nil {
					return GGUFKind(fs.MMProj) == kind
				}
				return HFKinds[fs.HFArch] == kind
			},
			Open: open,
		})
	}
}

func open(ctx context.Context, fs *encoders.Files, be tensor.Backend) ([]encoders.Encoder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var e *Encoder
	var err error
	if fs.MMProj != nil {
		if e, err = FromGGUF(fs.MMProj, fs.MMProj, be); err != nil {
			return nil, err
		}
		e.closer = fs.MMProj
	} else if e, err = FromHF(fs.Dir, be); err != nil {
		return nil, err
	}
	return []encoders.Encoder{e}, nil
}

var _ io.Closer = (*Encoder)(nil)
