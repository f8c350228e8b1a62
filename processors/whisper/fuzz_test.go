package whisper

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

func FuzzParsePreprocessorConfig(f *testing.F) {
	for _, s := range []string{
		`{"feature_extractor_type":"WhisperFeatureExtractor","feature_size":128,"sampling_rate":16000,"hop_length":160,"n_fft":400,"chunk_length":30,"n_samples":480000,"nb_max_frames":3000,"padding_value":0.0}`,
		`{"feature_size":80}`,
		`{"n_fft":401}`,
		`{"hop_length":0}`,
		`{"chunk_length":-3,"sampling_rate":99999999999}`,
		`[1,2]`,
		`{"feature_size":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParsePreprocessorConfig(raw)
		if err != nil {
			if !errors.Is(err, ErrParams) {
				t.Fatalf("error %v does not wrap ErrParams", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted invalid params %+v: %v", p, err)
		}
		if p.NFFT <= 2048 && p.NMel <= 256 {
			if _, err := NewExtractor(p); err != nil {
				t.Fatalf("valid params %+v: %v", p, err)
			}
		}
	})
}

// FuzzPrepare drives Prepare with arbitrary token layouts and items: it must
// return a clear error or a well-formed prompt, never panic.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte{0, 9, 1, 9}, []byte{0, 10})
	f.Add([]byte{2, 1, 1, 1, 3}, []byte{1, 3, 8})
	f.Add([]byte{0, 0}, []byte{2, 1, 0, 5})
	f.Add([]byte{1}, []byte{2, 40, 200, 7})
	p, err := New(Config{Params: withSamples(DefaultParams(16), 3200), Hidden: 4, Audio: 5, Before: []int32{4}, After: []int32{6}, MaxChunks: 3})
	if err != nil {
		f.Fatal(err)
	}
	sp := p.Extractor().Params()
	f.Fuzz(func(t *testing.T, layout, itemSpec []byte) {
		if len(layout) > 64 || len(itemSpec) > 64 {
			return
		}
		tokens := make([]int32, len(layout))
		for i, b := range layout {
			switch b % 4 {
			case 0:
				tokens[i] = input.MediaMarker
			case 1:
				tokens[i] = 5
			default:
				tokens[i] = int32(b)
			}
		}
		var items []media.Item
		for i := 0; i+1 < len(itemSpec) && len(items) < 4; i += 2 {
			kind, n := itemSpec[i]%3, int(itemSpec[i+1])
			it := media.Item{Modality: media.Audio, Hash: uint64(i)}
			switch kind {
			case 0:
				x := make([]float32, n*61)
				for j := range x {
					x[j] = float32(math.Sin(float64(j)))
				}
				it.PCM = &media.PCM{Rate: 16000 - 4000*(n%2), Samples: x}
			case 1:
				it.Format = media.Precomputed
				rows, cols := n%5, 4-n%2
				it.Arrays = map[string]media.Array{"feature": {Shape: []int{rows, cols}, Data: make([]float32, rows*cols)}}
			case 2:
				it.Format = media.ProcessorOutput
				b := 1 + n%2
				mask := make([]float32, b*sp.Frames())
				for j := range mask {
					if j%sp.Frames() < n {
						mask[j] = 1
					}
				}
				it.Arrays = map[string]media.Array{
					"input_features":         {Shape: []int{b, sp.NMel, sp.Frames()}, Data: make([]float32, b*sp.NMel*sp.Frames())},
					"feature_attention_mask": {Shape: []int{b, sp.Frames()}, Data: mask},
				}
			}
			items = append(items, it)
		}
		out, err := p.Prepare(context.Background(), tokens, items)
		if err != nil {
			if !errors.Is(err, processors.ErrMediaCount) && !errors.Is(err, processors.ErrBadMedia) && !errors.Is(err, processors.ErrBadFeatures) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		end := 0
		for _, s := range out.Spans {
			if s.Start < end || s.Len < 1 || s.Start+s.Len > len(out.Tokens) || s.NPos != s.Len || (s.Features == nil) == (s.Embeds == nil) {
				t.Fatalf("bad span %+v after %d in %d tokens", s, end, len(out.Tokens))
			}
			for _, tok := range out.Tokens[s.Start : s.Start+s.Len] {
				if tok != 5 {
					t.Fatalf("span row holds token %d", tok)
				}
			}
			if s.Features != nil && Tokens(s.Features.Grid[0]) != s.Len {
				t.Fatalf("span of %d for %d real frames", s.Len, s.Features.Grid[0])
			}
			end = s.Start + s.Len
		}
		for _, tok := range out.Tokens {
			if tok == input.MediaMarker {
				t.Fatal("marker left in the prompt")
			}
		}
	})
}
