package whisper

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/processors"
	pw "github.com/sightline/sightline/processors/whisper"
)

// Detect reports whether the model is a Qwen2-Audio model this package
// serves: mmprojPath (when not empty) is a GGUF whose audio projector is
// "qwen2a" (see ProjectorType), or modelPath is an HF directory whose
// config.json names Qwen2AudioForConditionalGeneration.
func Detect(modelPath, mmprojPath string) (bool, error) {
	if mmprojPath != "" {
		g, err := weights.OpenGGUF(mmprojPath)
		if err != nil {
			return false, err
		}
		defer g.Close()
		return ProjectorType(g) == pw.ProjectorType, nil
	}
	if st, err := os.Stat(modelPath); err != nil {
		return false, fmt.Errorf("whisper: %w", err)
	} else if !st.IsDir() {
		return false, nil // a GGUF text model without an mmproj
	}
	var c struct {
		Arch []string `json:"architectures"`
	}
	if _, err := processors.ReadJSON(modelPath, "config.json", &c); err != nil {
		return false, err
	}
	return len(c.Arch) > 0 && c.Arch[0] == pw.HFArch, nil
}

// Opened is an encoder that owns its weight file; Close releases it.
type Opened struct {
	*Encoder
	src weights.Source
}

// Close releases the weights (the encoder must not be used afterwards).
func (o *Opened) Close() error { return o.src.Close() }

// Open builds the audio encoder of a Qwen2-Audio model: from the qwen2a
// mmproj when mmprojPath is set (modelPath is then the GGUF text model and
// is not read), else from the HF directory modelPath. Errors wrap
// ErrNotAudio when the files are not a Qwen2-Audio model. The prompt side is
// processors/whisper's processor.
func Open(modelPath, mmprojPath string, be tensor.Backend) (*Opened, error) {
	ok, err := Detect(modelPath, mmprojPath)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s %s", ErrNotAudio, modelPath, mmprojPath)
	}
	if mmprojPath != "" {
		g, err := weights.OpenGGUF(mmprojPath)
		if err != nil {
			return nil, err
		}
		enc, err := openGGUF(g, be)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("whisper: %s: %w", mmprojPath, err)
		}
		return &Opened{Encoder: enc, src: g}, nil
	}
	return openHF(modelPath, be)
}

// openHF builds the encoder of an HF Qwen2-Audio directory, checking it
// against the directory's feature-extractor settings.
func openHF(dir string, be tensor.Backend) (*Opened, error) {
	var raw json.RawMessage
	if ok, err := processors.ReadJSON(dir, "config.json", &raw); err != nil || !ok {
		return nil, fmt.Errorf("%w: %s/config.json: missing or unreadable (%v)", ErrConfig, dir, err)
	}
	cfg, err := ParseHFConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("whisper: %s: %w", dir, err)
	}
	fe, err := pw.ReadPreprocessorConfig(dir)
	if err != nil {
		return nil, err
	}
	if fe.NMel != cfg.NMel {
		return nil, fmt.Errorf("%w: preprocessor has %d mel bins, the encoder %d", ErrConfig, fe.NMel, cfg.NMel)
	}
	src, err := weights.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	enc, err := Load(src, HF, cfg, be)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("whisper: %s: %w", dir, err)
	}
	return &Opened{Encoder: enc, src: src}, nil
}

func openGGUF(g *weights.GGUF, be tensor.Backend) (*Encoder, error) {
	cfg, err := ConfigFromGGUF(g)
	if err != nil {
		return nil, err
	}
	return Load(g, GGUF, cfg, be)
}
