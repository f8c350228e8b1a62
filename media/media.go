// Package media resolves the image_data / audio_data of a request (docs/api.md §4)
// into decoded, hashed items: RGB8 images and mono float32 audio, or the
// numeric arrays of pre-processed inputs.
//
// Lifecycle: ParseSingle/ParseBatch turn the raw JSON container into Refs;
// Loader.Load resolves each Ref (URL, data URI, local path, base64, or inline
// arrays), checks Limits before allocating, decodes, and hashes.
//
// The package depends on the standard library only (and its own media/jpeg,
// which decodes JPEG exactly as Pillow's libjpeg-turbo does). PNG, JPEG and
// GIF are built in; other codecs live in subpackages that register themselves
// on import (media/ximage: WebP, BMP, TIFF; media/wav, media/flac, media/ogg,
// media/mp3; media/all imports them all).
package media

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Modality is the kind of media an item carries.
type Modality uint8

const (
	Image Modality = iota + 1
	Audio
)

// String returns the upper-case name SGLang uses in error messages.
func (m Modality) String() string {
	switch m {
	case Image:
		return "IMAGE"
	case Audio:
		return "AUDIO"
	}
	return fmt.Sprintf("Modality(%d)", uint8(m))
}

// field is the request field that carries the modality.
func (m Modality) field() string {
	return strings.ToLower(m.String()) + "_data"
}

// Format says how an item arrived (SGLang's "format" key).
type Format uint8

const (
	Raw             Format = iota // encoded media bytes (path, URL, base64, data URI)
	ProcessorOutput               // {"format":"processor_output", ...}: HF processor tensors
	Precomputed                   // {"format":"precomputed_embedding","feature":...}: encoder output
)

func (f Format) String() string {
	switch f {
	case Raw:
		return "raw"
	case ProcessorOutput:
		return "processor_output"
	case Precomputed:
		return "precomputed_embedding"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Array is a dense float32 tensor, row-major. len(Data) == product(Shape);
// a scalar has an empty Shape and one element.
type Array struct {
	Shape []int
	Data  []float32
}

// RGB is a decoded image: 8-bit RGB, row-major, len(Pix) == W*H*3.
type RGB struct {
	W, H int
	Pix  []uint8
}

// PCM is decoded audio: mono samples in [-1, 1] at Rate Hz.
type PCM struct {
	Rate    int
	Samples []float32
}

// Duration is the clip length.
func (p *PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(int64(len(p.Samples)) * int64(time.Second) / int64(p.Rate))
}

// Hints are the optional keys of an object item (docs/api.md §4.2). Zero means unset.
type Hints struct {
	Detail                          string // "auto" | "low" | "high"
	MinPixels, MaxPixels            int64
	TotalMaxPixels                  int64
	MinDynamicPatch                 int
	MaxDynamicPatch                 int
	FPS                             float64
	NumFrames, MinFrames, MaxFrames int
	MaxTokensPerFrame               int
	MaxImageTokens                  int
	UseAudio                        bool
	ContentHash                     string // "sha256:<64 hex>", lower-cased; sets Item.Hash
}

// Ref is one unresolved media item of a request.
type Ref struct {
	Modality Modality
	Format   Format
	Src      string           // source string; Format == Raw only
	Arrays   map[string]Array // ProcessorOutput / Precomputed only
	Hints    Hints
	// ID is a caller-supplied identity ("hash" key of a pre-processed object,
	// or Hints.ContentHash); when set, Item.Hash is derived from it.
	ID string
}

// Item is one resolved media item. Exactly one of RGB, PCM, Arrays is set:
// RGB for Raw images, PCM for Raw audio, Arrays for the other formats.
type Item struct {
	Modality Modality
	Format   Format
	// Hash is a 64-bit content identity, stable across runs: SHA-256 over the
	// modality, format, shape and canonical decoded bytes (or over the
	// caller-supplied ID), truncated.
	Hash   uint64
	RGB    *RGB
	PCM    *PCM
	Arrays map[string]Array
	Hints  Hints
	Codec  string // container/codec sniffed from the bytes ("png", "jpeg", "wav", ...); "" unless Raw
}

// Sentinel errors. Every error returned by this package wraps one of them;
// all describe client mistakes (HTTP 400) except context cancellation, which
// is returned as is.
var (
	ErrInvalid     = errors.New("invalid media input")      // malformed JSON, base64, array or ref
	ErrUnsupported = errors.New("unsupported media format") // unknown codec or variant
	ErrTooLarge    = errors.New("media exceeds limit")      // a Limits bound
	ErrFetch       = errors.New("media fetch failed")       // URL download failed
	ErrForbidden   = errors.New("media source not allowed") // local path policy, URL scheme, host or address
	ErrDecode      = errors.New("corrupt media data")       // decoder rejected the bytes
)

// ItemError locates a failure: the item index within its request's list.
// Its message is SGLang's ("An exception occurred while loading IMAGE data at
// index 2: ...").
type ItemError struct {
	Modality Modality
	Index    int
	Err      error
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("An exception occurred while loading %s data at index %d: %v", e.Modality, e.Index, e.Err)
}

func (e *ItemError) Unwrap() error { return e.Err }

// Limits bound the work and memory one item may cost. They are checked
// before the corresponding allocation. Zero fields take the defaults.
type Limits struct {
	MaxItems  int           // items per Load call (default 64)
	MaxBytes  int64         // encoded bytes per item (default 32 MiB)
	MaxPixels int64         // width×height per image, from the header (default 1<<25: 8K UHD fits)
	MaxAudio  time.Duration // decoded clip length (default 5 min)
	MaxArray  int64         // float32 elements per pre-processed item (default 1<<25)
}

// DefaultLimits returns the defaults used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxItems:  64,
		MaxBytes:  32 << 20,
		MaxPixels: 1 << 25,
		MaxAudio:  5 * time.Minute,
		MaxArray:  1 << 25,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxItems <= 0 {
		l.MaxItems = d.MaxItems
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxAudio <= 0 {
		l.MaxAudio = d.MaxAudio
	}
	if l.MaxArray <= 0 {
		l.MaxArray = d.MaxArray
	}
	return l
}
