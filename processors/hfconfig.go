package processors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/processors/imageproc"
)

// ErrConfig reports model files a processor cannot be built from.
var ErrConfig = errors.New("processors: bad model configuration")

// maxConfigBytes bounds the JSON config files a processor reads.
const maxConfigBytes = 16 << 20

// ReadJSON decodes dir/name into v. A missing file returns (false, nil).
func ReadJSON(dir, name string, v any) (bool, error) {
	path := filepath.Join(dir, name)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if st.Size() > maxConfigBytes {
		return false, fmt.Errorf("%w: %s is %d bytes", ErrConfig, path, st.Size())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	return true, nil
}

// Triple reads a 3-value float list (image_mean, image_std); a single number
// is broadcast. ok is false when raw is absent.
func Triple(raw json.RawMessage) (v [3]float32, ok bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return v, false, nil
	}
	var one float32
	if json.Unmarshal(raw, &one) == nil {
		return [3]float32{one, one, one}, true, nil
	}
	var many []float32
	if err := json.Unmarshal(raw, &many); err != nil || len(many) != 3 {
		return v, false, fmt.Errorf("%w: want 3 numbers, got %s", ErrConfig, raw)
	}
	return [3]float32{many[0], many[1], many[2]}, true, nil
}

// ImageNorm holds the keys every Hugging Face image processor config
// (preprocessor_config.json) shares; families embed it in their own struct.
type ImageNorm struct {
	Mean        json.RawMessage `json:"image_mean"`
	Std         json.RawMessage `json:"image_std"`
	DoNormalize *bool           `json:"do_normalize"`
	Resample    *int            `json:"resample"`
}

// Apply overrides mean, std and filter with the keys present
// (do_normalize false means mean 0, std 1).
func (n ImageNorm) Apply(mean, std *[3]float32, filter *imageproc.Filter) error {
	if m, ok, err := Triple(n.Mean); err != nil {
		return err
	} else if ok {
		*mean = m
	}
	if s, ok, err := Triple(n.Std); err != nil {
		return err
	} else if ok {
		*std = s
	}
	if n.DoNormalize != nil && !*n.DoNormalize {
		*mean, *std = [3]float32{}, [3]float32{1, 1, 1}
	}
	if n.Resample != nil {
		f, err := imageproc.FilterFromPIL(*n.Resample)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrConfig, err)
		}
		*filter = f
	}
	return nil
}

// MMProjTriple reads a 3-float GGUF array key.
func MMProjTriple(md Metadata, key string) ([3]float32, error) {
	v, ok := md.Float32s(key)
	if !ok || len(v) != 3 {
		return [3]float32{}, fmt.Errorf("%w: GGUF key %s must hold 3 floats", ErrConfig, key)
	}
	return [3]float32{v[0], v[1], v[2]}, nil
}

// MMProjInt reads a positive integer GGUF key; def is used when absent
// (def ≤ 0 makes the key required).
func MMProjInt(md Metadata, key string, def int) (int, error) {
	v, ok := md.Uint(key)
	if !ok {
		if def > 0 {
			return def, nil
		}
		return 0, fmt.Errorf("%w: GGUF key %s is missing", ErrConfig, key)
	}
	if v == 0 || v > 1<<20 {
		return 0, fmt.Errorf("%w: GGUF key %s = %d", ErrConfig, key, v)
	}
	return int(v), nil
}

// TokenIDs resolves special-token strings through v, naming the first that
// is missing.
func TokenIDs(v Vocab, pieces ...string) ([]int32, error) {
	out := make([]int32, len(pieces))
	for i, p := range pieces {
		id, ok := v.TokenID(p)
		if !ok {
			return nil, fmt.Errorf("%w: the tokenizer has no %q token", ErrConfig, p)
		}
		out[i] = id
	}
	return out, nil
}

// PieceDecoder is an optional Vocab extension (*tokenizer.Tokenizer has it)
// used to find a token by its decoded text, as llama.cpp's mtmd does for
// glue tokens such as "\n".
type PieceDecoder interface {
	Decode(ids []int32, o tokenizer.DecodeOptions) string
	VocabSize() int
}

// LookupPiece finds the token whose text is s: an exact vocabulary match
// first, else (when v is a PieceDecoder) the lowest id whose decoded text is
// s, llama.cpp's lookup_token.
func LookupPiece(v Vocab, s string) (int32, bool) {
	if id, ok := v.TokenID(s); ok {
		return id, true
	}
	d, ok := v.(PieceDecoder)
	if !ok {
		return 0, false
	}
	for i := 0; i < d.VocabSize(); i++ {
		if d.Decode([]int32{int32(i)}, tokenizer.DecodeOptions{}) == s {
			return int32(i), true
		}
	}
	return 0, false
}
