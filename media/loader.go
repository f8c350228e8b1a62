package media

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
)

// Config configures a Loader.
type Config struct {
	// Fetcher downloads http(s) sources; nil refuses URLs (ErrForbidden).
	Fetcher Fetcher
	// AllowedDirs are the directories local paths may be read from (SGLang's
	// --allowed-local-media-path). None: local files are refused.
	AllowedDirs []string
	Limits      Limits // zero fields take DefaultLimits
	// TargetRate is the rate audio is resampled to, in Hz (Whisper: 16000);
	// 0 keeps each clip's native rate.
	TargetRate int
	// Workers bounds concurrent decodes across all Load calls (default GOMAXPROCS).
	Workers int
}

// Loader resolves and decodes Refs. It is safe for concurrent use.
type Loader struct {
	fetcher Fetcher
	allowed []string
	limits  Limits
	rate    int
	sem     chan struct{}
}

// New validates c and returns a Loader.
func New(c Config) (*Loader, error) {
	l := &Loader{fetcher: c.Fetcher, limits: c.Limits.withDefaults(), rate: c.TargetRate}
	if c.TargetRate < 0 || c.TargetRate > maxAudioRate {
		return nil, fmt.Errorf("%w: target rate %d Hz", ErrInvalid, c.TargetRate)
	}
	for _, d := range c.AllowedDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("%w: allowed media path %q: %v", ErrInvalid, d, err)
		}
		l.allowed = append(l.allowed, abs)
	}
	w := c.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	l.sem = make(chan struct{}, w)
	return l, nil
}

// Limits returns the effective limits.
func (l *Loader) Limits() Limits { return l.limits }

// Load resolves refs (one request's items of any modality) into items in the
// same order. Items are fetched and decoded concurrently (decodes bounded by
// Config.Workers). On failure it returns the lowest failing index's error as
// an *ItemError, or ctx's error once ctx is done.
func (l *Loader) Load(ctx context.Context, refs []Ref) ([]Item, error) {
	if len(refs) > l.limits.MaxItems {
		return nil, fmt.Errorf("%w: %d media items exceed the limit of %d", ErrTooLarge, len(refs), l.limits.MaxItems)
	}
	items := make([]Item, len(refs))
	errs := make([]error, len(refs))
	if len(refs) == 1 {
		items[0], errs[0] = l.loadOne(ctx, refs[0])
	} else {
		// Siblings are not cancelled on failure, so the reported error is
		// deterministic (the lowest failing index).
		var wg sync.WaitGroup
		for i := range refs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				items[i], errs[i] = l.loadOne(ctx, refs[i])
			}()
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, &ItemError{Modality: refs[i].Modality, Index: indexInModality(refs, i), Err: err}
		}
	}
	return items, nil
}

// indexInModality is i's position among the refs of the same modality, the
// index SGLang reports.
func indexInModality(refs []Ref, i int) int {
	n := 0
	for _, r := range refs[:i] {
		if r.Modality == refs[i].Modality {
			n++
		}
	}
	return n
}

func (l *Loader) loadOne(ctx context.Context, r Ref) (Item, error) {
	it := Item{Modality: r.Modality, Format: r.Format, Hints: r.Hints}
	if r.Modality != Image && r.Modality != Audio {
		return it, fmt.Errorf("%w: modality %v", ErrUnsupported, r.Modality)
	}
	if r.Format != Raw {
		var n int64
		for k, a := range r.Arrays {
			if a.Len() != len(a.Data) {
				return it, fmt.Errorf("%w: %s: shape %v does not match %d elements", ErrInvalid, k, a.Shape, len(a.Data))
			}
			n += int64(len(a.Data))
		}
		if n > l.limits.MaxArray {
			return it, fmt.Errorf("%w: %d array elements exceed %d", ErrTooLarge, n, l.limits.MaxArray)
		}
		it.Arrays = r.Arrays
		it.Hash = hashItem(&it, r.ID)
		return it, nil
	}
	if r.Src == "" {
		return it, fmt.Errorf("%w: empty source", ErrInvalid)
	}
	b, _, err := l.readSource(ctx, r.Src)
	if err != nil {
		return it, err
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return it, ctx.Err()
	}
	defer func() { <-l.sem }()
	if err := ctx.Err(); err != nil {
		return it, err
	}
	switch r.Modality {
	case Image:
		it.RGB, it.Codec, err = DecodeImage(b, l.limits)
	case Audio:
		it.PCM, it.Codec, err = DecodeAudio(b, l.limits)
		if err == nil && l.rate > 0 {
			it.PCM, err = Resample(it.PCM, l.rate)
		}
	}
	if err != nil {
		return it, err
	}
	it.Hash = hashItem(&it, r.ID)
	return it, nil
}

// hashItem is SHA-256 over a version tag, modality, format and either the
// caller's ID or the shapes and canonical bytes, truncated to 64 bits.
func hashItem(it *Item, id string) uint64 {
	h := sha256.New()
	var hdr [4]byte
	h.Write([]byte("sightline/media/v1"))
	hdr[0], hdr[1] = byte(it.Modality), byte(it.Format)
	h.Write(hdr[:2])
	var buf [1 << 12]byte
	putU64 := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:8], v)
		h.Write(buf[:8])
	}
	switch {
	case id != "":
		h.Write([]byte("id:"))
		h.Write([]byte(id))
	case it.RGB != nil:
		putU64(uint64(it.RGB.W))
		putU64(uint64(it.RGB.H))
		h.Write(it.RGB.Pix)
	case it.PCM != nil:
		putU64(uint64(it.PCM.Rate))
		putU64(uint64(len(it.PCM.Samples)))
		writeF32(h, it.PCM.Samples, buf[:])
	default:
		keys := make([]string, 0, len(it.Arrays))
		for k := range it.Arrays {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a := it.Arrays[k]
			putU64(uint64(len(k)))
			h.Write([]byte(k))
			putU64(uint64(len(a.Shape)))
			for _, d := range a.Shape {
				putU64(uint64(d))
			}
			writeF32(h, a.Data, buf[:])
		}
	}
	sum := h.Sum(nil)
	return binary.LittleEndian.Uint64(sum[:8])
}

// writeF32 writes v as little-endian float32 bytes through buf.
func writeF32(h interface{ Write([]byte) (int, error) }, v []float32, buf []byte) {
	for len(v) > 0 {
		n := min(len(v), len(buf)/4)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		h.Write(buf[:4*n])
		v = v[n:]
	}
}
