package vit

import (
	"context"
	"io"
	"slices"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/tensor"
	_ "github.com/sightline/sightline/processors/idefics3"  // registers "idefics3"
	_ "github.com/sightline/sightline/processors/llava"     // registers "llava"
	_ "github.com/sightline/sightline/processors/llavanext" // registers "llavanext"
	_ "github.com/sightline/sightline/processors/qwen2vl"   // registers "qwen2vl"
)

// families: the processors family that prepares the prompts of each
// encoder kind (registered by the imports above). Qwen2.5-VL's images are
// prepared exactly as Qwen2-VL's.
var families = []struct {
	name  string
	kinds []Kind
}{{"llava", []Kind{CLIP}}, {"qwen2vl", []Kind{Qwen2VL, Qwen25VL}}, {"idefics3", []Kind{SigLIP}}, {"llavanext", []Kind{AnyRes}}}

func init() {
	for _, f := range families {
		kinds := f.kinds
		encoders.RegisterFamily(encoders.Family{
			Name: f.name,
			Detect: func(fs *encoders.Files) bool {
				k := HFKinds[fs.HFArch]
				if fs.MMProj != nil {
					k = GGUFKind(fs.MMProj)
				}
				return k != 0 && slices.Contains(kinds, k)
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
