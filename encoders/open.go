package encoders

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

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

// Family is a media model family: it recognises its files and builds the
// processor and the encoders for them.
type Family struct {
	Name string
	// Detect reports whether f belongs to the family.
	Detect func(f *Files) bool
	// Open builds the family's processor and encoders. It may keep f.MMProj
	// open (closing it from an encoder's Close); Open closes it on error.
	Open func(ctx context.Context, f *Files, be tensor.Backend, v processors.Vocab) (processors.Processor, []Encoder, error)
}

var families = struct {
	sync.Mutex
	m map[string]Family
}{m: map[string]Family{}}

// RegisterFamily adds a family (from the family package's init).
func RegisterFamily(f Family) {
	families.Lock()
	defer families.Unlock()
	families.m[f.Name] = f
}

// FamilyNames lists the registered families, sorted.
func FamilyNames() []string {
	families.Lock()
	defer families.Unlock()
	var s []string
	for k := range families.m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Open builds the processor and encoders of a multimodal model: modelPath
// is an HF directory (mmprojPath "") or a GGUF text model with its mmproj
// file. Encoders that implement io.Closer must be closed after use. Errors
// wrap ErrNoTower when no family recognises the files.
func Open(ctx context.Context, modelPath, mmprojPath string, be tensor.Backend, v processors.Vocab) (processors.Processor, []Encoder, error) {
	f := &Files{Path: modelPath}
	st, err := os.Stat(modelPath)
	if err != nil {
		return nil, nil, fmt.Errorf("encoders: %w", err)
	}
	if st.IsDir() {
		if mmprojPath != "" {
			return nil, nil, fmt.Errorf("encoders: --mmproj is for GGUF models; %s is a Hugging Face directory", modelPath)
		}
		f.Dir = modelPath
		var cfg struct {
			Architectures []string `json:"architectures"`
		}
		if _, err := processors.ReadJSON(modelPath, "config.json", &cfg); err != nil {
			return nil, nil, err
		}
		if len(cfg.Architectures) > 0 {
			f.HFArch = cfg.Architectures[0]
		}
	} else {
		if mmprojPath == "" {
			return nil, nil, fmt.Errorf("%w: %s is a GGUF text model; its vision or audio tower comes from an --mmproj file", ErrNoTower, filepath.Base(modelPath))
		}
		if f.MMProj, err = weights.OpenGGUF(mmprojPath); err != nil {
			return nil, nil, err
		}
	}
	fam, ok := detect(f)
	if !ok {
		if f.MMProj != nil {
			pt, _ := f.MMProj.String("clip.projector_type")
			f.MMProj.Close()
			return nil, nil, fmt.Errorf("%w: mmproj %s (projector %q) matches none of %v", ErrNoTower, filepath.Base(mmprojPath), pt, FamilyNames())
		}
		return nil, nil, fmt.Errorf("%w: %s (%s) has no vision tower Sightline supports (families %v)", ErrNoTower, filepath.Base(modelPath), f.HFArch, FamilyNames())
	}
	p, encs, err := fam.Open(ctx, f, be, v)
	if err != nil {
		if f.MMProj != nil {
			f.MMProj.Close()
		}
		return nil, nil, fmt.Errorf("encoders: %s: %w", fam.Name, err)
	}
	return p, encs, nil
}

func detect(f *Files) (Family, bool) {
	families.Lock()
	defer families.Unlock()
	var names []string
	for k := range families.m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if fam := families.m[k]; fam.Detect != nil && fam.Detect(f) {
			return fam, true
		}
	}
	return Family{}, false
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
