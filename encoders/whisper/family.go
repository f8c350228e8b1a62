package whisper

import (
	"context"

	"github.com/sightline/sightline/encoders"
	"github.com/sightline/sightline/llm/tensor"
	pw "github.com/sightline/sightline/processors/whisper"
)

// The "qwen2a" family: a GGUF qwen2a mmproj, or an HF Qwen2-Audio directory.
func init() {
	encoders.RegisterFamily(encoders.Family{
		Name: pw.ProjectorType,
		Detect: func(f *encoders.Files) bool {
			if f.MMProj != nil {
				return ProjectorType(f.MMProj) == pw.ProjectorType
			}
			return f.HFArch == pw.HFArch
		},
		Open: func(ctx context.Context, f *encoders.Files, be tensor.Backend) ([]encoders.Encoder, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if f.MMProj != nil {
				e, err := openGGUF(f.MMProj, be)
				if err != nil {
					return nil, err
				}
				return []encoders.Encoder{&Opened{Encoder: e, src: f.MMProj}}, nil
			}
			e, err := openHF(f.Dir, be)
			if err != nil {
				return nil, err
			}
			return []encoders.Encoder{e}, nil
		},
	})
}
