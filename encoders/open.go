package encoders

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/internal/registry"
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
	"github.com/sightline/sightline/processors"
)

// ErrNoTower reports a model without a media encoder Sightline can run.
var ErrNoTower = errors.New("encoders: the model has no vision or audio tower")

// Files are a model's files as Open found them.
type Files struct {
	Path   string        // text model: HF directory or GGUF file
	Dir    string        // HF directory ("" for GGUF)
	HFArch string        // config.json architectures[0] (HF)
	MMProj *weights.GGUF // opened --mmproj file (GGUF), nil for HF
}

// Family is a media model family: it recognises its files and opens the
// encoders for them. Its Name is also the processors family that prepares
// the model's prompts (processors.New).
type Family struct {
	Name string
	// Detect reports whether f belongs to the family.
	Detect func(f *Files) bool
	// Open builds the family's encoders. It may keep f.MMProj open (closing
	// it from an encoder's Close); Open closes it on error.
	Open func(ctx context.Context, f *Files, be tensor.Backend) ([]Encoder, error)
}

// families are the registered encoder families (each registers in init).
var families = registry.New[Family]("encoder family")

// RegisterFamily adds a family (from the family package's init).
func RegisterFamily(f Family) { families.Register(f.Name, f) }

// FamilyNames lists the registered families, sorted.
func FamilyNames() []string { return families.Names() }

// Opened is a multimodal model's encoders and what its processor needs.
type Opened struct {
	Family string // the processors family of the model (processors.New)
	Files
	Encoders []Encoder
}

// ProcessorSpec is what processors.New needs for this model.
func (o *Opened) ProcessorSpec(v processors.Vocab) processors.Spec {
	s := processors.Spec{Dir: o.Dir, Vocab: v}
	if o.MMProj != nil {
		s.MMProj = o.MMProj
	}
	return s
}

// Close closes every encoder that holds resources.
func (o *Opened) Close() error { return CloseAll(o.Encoders) }

// Open builds the encoders of a multimodal model: modelPath is an HF
// directory (mmprojPath "") or a GGUF text model with its mmproj file.
// Close the result after use. Errors wrap ErrNoTower when no family
// recognises the files.
func Open(ctx context.Context, modelPath, mmprojPath string, be tensor.Backend) (*Opened, error) {
	f := &Files{Path: modelPath}
	st, err := os.Stat(modelPath)
	if err != nil {
		return nil, fmt.Errorf("encoders: %w", err)
	}
	if st.IsDir() {
		if mmprojPath != "" {
			return nil, fmt.Errorf("encoders: --mmproj is for GGUF models; %s is a Hugging Face directory", modelPath)
		}
		f.Dir = modelPath
		var cfg struct {
			Architectures []string `json:"architectures"`
		}
		if _, err := processors.ReadJSON(modelPath, "config.json", &cfg); err != nil {
			return nil, err
		}
		if len(cfg.Architectures) > 0 {
			f.HFArch = cfg.Architectures[0]
		}
	} else {
		if mmprojPath == "" {
			return nil, fmt.Errorf("%w: %s is a GGUF text model; its vision or audio tower comes from an --mmproj file", ErrNoTower, filepath.Base(modelPath))
		}
		if f.MMProj, err = weights.OpenGGUF(mmprojPath); err != nil {
			return nil, err
		}
	}
	fam, ok := detect(f)
	if !ok {
		if f.MMProj != nil {
			pt, _ := f.MMProj.String("clip.projector_type")
			f.MMProj.Close()
			return nil, fmt.Errorf("%w: mmproj %s (projector %q) matches none of %v", ErrNoTower, filepath.Base(mmprojPath), pt, FamilyNames())
		}
		return nil, fmt.Errorf("%w: %s (%s) has no vision tower Sightline supports (families %v)", ErrNoTower, filepath.Base(modelPath), f.HFArch, FamilyNames())
	}
	encs, err := fam.Open(ctx, f, be)
	if err != nil {
		if f.MMProj != nil {
			f.MMProj.Close()
		}
		return nil, fmt.Errorf("encoders: %s: %w", fam.Name, err)
	}
	return &Opened{Family: fam.Name, Files: *f, Encoders: encs}, nil
}

func detect(f *Files) (Family, bool) {
	var found Family
	families.Each(func(_ string, fam Family) bool {
		if fam.Detect != nil && fam.Detect(f) {
			found = fam
			return false
		}
		return true
	})
	return found, found.Name != ""
}

// CloseAll closes every encoder that holds resources.
func CloseAll(encs []Encoder) error {
	var errs []error
	for _, e := range encs {
		if c, ok := e.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
