package media

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// srcs lists the Src of each ref ("<fmt>" for pre-processed ones).
func srcs(refs []Ref) []string {
	out := []string{}
	for _, r := range refs {
		if r.Format != Raw {
			out = append(out, "<"+r.Format.String()+">")
			continue
		}
		out = append(out, r.Src)
	}
	return out
}

func TestParseSingle(t *testing.T) {
	tests := []struct {
		json string
		want []string
		err  string // substring; "" means success
	}{
		{`null`, []string{}, ""},
		{``, []string{}, ""},
		{`[]`, []string{}, ""},
		{`"a.png"`, []string{"a.png"}, ""},
		{`{"url": "a.png", "detail": "high"}`, []string{"a.png"}, ""},
		{`["a.png", "b.png"]`, []string{"a.png", "b.png"}, ""},
		{`["a.png", null, "b.png"]`, []string{"a.png", "b.png"}, ""},
		{`[null]`, []string{}, ""},
		{`[["a.png", "b.png"]]`, []string{"a.png", "b.png"}, ""},
		{`[["a.png"], ["b.png"]]`, nil, "needs a batch request"},
		{`["a.png", ["b.png"]]`, nil, "mixes items and lists"},
		{`[[["a.png"]]]`, nil, "nested more than two deep"},
		{`""`, nil, "empty source string"},
		{`3`, nil, "string or an object"},
		{`[3]`, nil, "string or an object"},
		{`{"detail": "low"}`, nil, `needs a non-empty "url"`},
		{`{"url": "a.png", "foo": 1}`, nil, "unknown field"},
		{`{"url": "a.png", "detail": "max"}`, nil, "detail must be"},
		{`{"url": "a.png", "min_pixels": -1}`, nil, "must be ≥ 0"},
		{`{"url": "a.png", "min_pixels": 10, "max_pixels": 5}`, nil, "min_pixels 10 > max_pixels 5"},
		{`{"url": "a.png", "content_hash": "md5:abc"}`, nil, "content_hash must be"},
		{`["a.png", {"format": "precomputed_embedding", "feature": [[1]]}]`, nil, "you must pass exactly one item"},
		{`{"format": "precomputed_embedding", "feature": [[1, 2], [3, 4]]}`, []string{"<precomputed_embedding>"}, ""},
		{`[{"format": "processor_output", "pixel_values": [[1]], "image_grid_thw": [[1, 2, 2]]}]`, []string{"<processor_output>"}, ""},
		{`{"format": "raw"}`, nil, "unknown format"},
		{`[1,`, nil, "image_data"},
	}
	for _, tt := range tests {
		refs, err := ParseSingle([]byte(tt.json), Image)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseSingle(%s) = %v, want ErrInvalid containing %q", tt.json, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSingle(%s): %v", tt.json, err)
			continue
		}
		if got := srcs(refs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSingle(%s) = %q, want %q", tt.json, got, tt.want)
		}
		for _, r := range refs {
			if r.Modality != Image {
				t.Errorf("ParseSingle(%s): modality %v", tt.json, r.Modality)
			}
		}
	}
}

func TestParseBatch(t *testing.T) {
	tests := []struct {
		json string
		n    int
		want [][]string
		err  string
	}{
		{`null`, 2, [][]string{{}, {}}, ""},
		{`[]`, 2, [][]string{{}, {}}, ""},
		{`"a.wav"`, 3, [][]string{{"a.wav"}, {"a.wav"}, {"a.wav"}}, ""},
		{`["a.wav", "b.wav"]`, 2, [][]string{{"a.wav"}, {"b.wav"}}, ""},
		{`["a.wav", null]`, 2, [][]string{{"a.wav"}, {}}, ""},
		{`[["a.wav", "b.wav"], null, [], [null]]`, 4, [][]string{{"a.wav", "b.wav"}, {}, {}, {}}, ""},
		{`["a.wav"]`, 2, nil, "The length of audio_data should be equal to the batch size."},
		{`[["a.wav"], ["b.wav"], []]`, 2, nil, "The length of audio_data should be equal to the batch size."},
		{`[["a.wav"], "b.wav"]`, 2, nil, "mixes items and lists"},
		{`[["a.wav"], [{"url": "b.wav", "x": 1}]]`, 2, nil, `audio_data[1][0]: json: unknown field "x"`},
		{`"a.wav"`, 0, nil, "batch size 0"},
	}
	for _, tt := range tests {
		got, err := ParseBatch([]byte(tt.json), Audio, tt.n)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseBatch(%s, %d) = %v, want error containing %q", tt.json, tt.n, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseBatch(%s, %d): %v", tt.json, tt.n, err)
			continue
		}
		var lists [][]string
		for _, refs := range got {
			lists = append(lists, srcs(refs))
		}
		if !reflect.DeepEqual(lists, tt.want) {
			t.Errorf("ParseBatch(%s, %d) = %q, want %q", tt.json, tt.n, lists, tt.want)
		}
	}
}

func TestParseItemHints(t *testing.T) {
	r, err := ParseItem([]byte(`{"url": "x.jpg", "detail": "low", "min_pixels": 3136, "max_pixels": 1003520,
		"max_dynamic_patch": 6, "fps": 2.5, "use_audio": true,
		"content_hash": "sha256:ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"}`), Image)
	if err != nil {
		t.Fatal(err)
	}
	want := Hints{Detail: "low", MinPixels: 3136, MaxPixels: 1003520, MaxDynamicPatch: 6, FPS: 2.5, UseAudio: true,
		ContentHash: "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}
	if r.Src != "x.jpg" || r.Hints != want || r.ID != want.ContentHash {
		t.Errorf("got %+v", r)
	}
}

func TestParsePreprocessed(t *testing.T) {
	r, err := ParseItem([]byte(`{"format": "processor_output", "modality": "IMAGE", "hash": 12345,
		"pixel_values": [[0.5, -1.25e-1], [3, 4], [5, 6]], "image_grid_thw": [[1, 2, 4]]}`), Image)
	if err != nil {
		t.Fatal(err)
	}
	pv := r.Arrays["pixel_values"]
	if r.Format != ProcessorOutput || r.ID != "int:12345" ||
		!reflect.DeepEqual(pv.Shape, []int{3, 2}) || !reflect.DeepEqual(pv.Data, []float32{0.5, -0.125, 3, 4, 5, 6}) ||
		!reflect.DeepEqual(r.Arrays["image_grid_thw"], Array{Shape: []int{1, 3}, Data: []float32{1, 2, 4}}) {
		t.Errorf("got %+v", r)
	}
	// base64 little-endian float32 feature with a top-level shape: [1, 2, 3, 4] as [2, 2].
	r, err = ParseItem([]byte(`{"format": "precomputed_embedding", "feature": "AACAPwAAAEAAAEBAAACAQA==", "shape": [2, 2]}`), Image)
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Arrays["feature"]; !reflect.DeepEqual(f, Array{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}) {
		t.Errorf("feature = %+v", f)
	}
	for _, bad := range []struct{ json, err string }{
		{`{"format": "precomputed_embedding", "feature": [[1, 2], [3]]}`, "ragged"},
		{`{"format": "precomputed_embedding", "feature": [1, 2]}`, "[N][hidden]"},
		{`{"format": "precomputed_embedding", "feature": [[]]}`, "[N][hidden]"},
		{`{"format": "precomputed_embedding"}`, `needs "feature"`},
		{`{"format": "precomputed_embedding", "feature": "AACAPw==", "shape": [2, 2]}`, "data bytes for shape"},
		{`{"format": "precomputed_embedding", "feature": "AACAPw=="}`, `needs a "shape"`},
		{`{"format": "processor_output", "image_grid_thw": [[1, 2, 2]]}`, "needs one of pixel_values"},
		{`{"format": "processor_output", "pixel_values": [[1]], "modality": "AUDIO"}`, "does not match"},
		{`{"format": "processor_output", "pixel_values": [["a"]]}`, "expected a number"},
		{`{"format": "processor_output", "pixel_values": [1e39]}`, "out of float32 range"},
		{`{"format": "processor_output", "pixel_values": [[[[[[[[[1]]]]]]]]]}`, "nesting deeper than 8"},
		{`{"format": 7}`, "format must be a string"},
	} {
		if _, err := ParseItem([]byte(bad.json), Image); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("ParseItem(%s) = %v, want %q", bad.json, err, bad.err)
		}
	}
}

func TestParseArrayShapes(t *testing.T) {
	tests := []struct {
		json  string
		shape []int
		data  []float32
		err   string
	}{
		{`2.5`, []int{}, []float32{2.5}, ""},
		{`[]`, []int{0}, nil, ""},
		{`[[], []]`, []int{2, 0}, nil, ""},
		{` [ [1 , 2] , [3,4] ] `, []int{2, 2}, []float32{1, 2, 3, 4}, ""},
		{`[[[1], [2]], [[3], [4]], [[5], [6]]]`, []int{3, 2, 1}, []float32{1, 2, 3, 4, 5, 6}, ""},
		{`[[1, 2], 3]`, nil, nil, "ragged"},
		{`[1, [2]]`, nil, nil, "ragged"},
		{`[[], [1]]`, nil, nil, "ragged"},
		{`[1 2]`, nil, nil, "expected ',' or ']'"},
		{`[01]`, nil, nil, "expected a number"},
		{`[1] x`, nil, nil, "trailing data"},
		{`[1, 2, 3]`, nil, nil, "more than 2 elements"},
		{`{"shape": [3], "data": "AACAPwAAAEAAAEBA"}`, []int{3}, []float32{1, 2, 3}, ""},
		{`{"shape": [-1], "data": ""}`, nil, nil, "negative dimension"},
		{`{"shape": [2], "data": "AACAPwAAAEAAAEBA"}`, nil, nil, "data bytes"},
	}
	for _, tt := range tests {
		a, err := ParseArray([]byte(tt.json), 2+boolInt(tt.err == ""))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseArray(%s) = %v, want %q", tt.json, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseArray(%s): %v", tt.json, err)
			continue
		}
		if !reflect.DeepEqual(a.Shape, tt.shape) || !reflect.DeepEqual(a.Data, tt.data) || a.Len() != len(a.Data) {
			t.Errorf("ParseArray(%s) = %v %v, want %v %v", tt.json, a.Shape, a.Data, tt.shape, tt.data)
		}
	}
}

// boolInt raises the element limit for the success cases (which have up to 6).
func boolInt(ok bool) int64 {
	if ok {
		return 100
	}
	return 0
}
