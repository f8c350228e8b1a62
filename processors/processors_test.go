package processors

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
)

// wordTok tokenizes by words: each word is its rune count, specials
// "<s>"=100 and "<x>"=101 when ParseSpecial; BOS 1.
type wordTok struct{ addBOS bool }

func (w wordTok) EncodeOpts(text string, o tokenizer.EncodeOptions) []int32 {
	var out []int32
	for _, f := range strings.Fields(text) {
		switch {
		case o.ParseSpecial && f == "<x>":
			out = append(out, 101)
		default:
			out = append(out, int32(len([]rune(f))))
		}
	}
	return out
}
func (w wordTok) BOS() (int32, bool) { return 1, true }
func (w wordTok) AddBOS() bool       { return w.addBOS }

func TestTokenize(t *testing.T) {
	M := input.MediaMarker
	for _, tc := range []struct {
		text    string
		special bool
		bos     bool
		want    []int32
	}{
		{"a bb " + Marker + " ccc", true, true, []int32{1, 1, 2, M, 3}},
		{Marker + "x" + Marker, true, true, []int32{1, M, 1, M}},
		{Marker, false, true, []int32{M}},
		{"no media <x>", true, false, []int32{2, 5, 101}},
		{"two" + Marker + Marker + "end", false, false, []int32{3, M, M, 3}},
	} {
		got := Tokenize(wordTok{addBOS: tc.bos}, tc.text, tc.special)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Tokenize(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestFindSites(t *testing.T) {
	M := input.MediaMarker
	got := FindSites([]int32{5, M, 7, 7, 7, 5, 7, M, M}, 7)
	want := []Site{{1, 0}, {2, 3}, {6, 1}, {7, 0}, {8, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("FindSites = %v, want %v", got, want)
	}
	if got := FindSites([]int32{7, 7}, -1); len(got) != 0 {
		t.Fatalf("placeholder −1 matched %v", got)
	}
}

func TestCountError(t *testing.T) {
	err := CountError(2, 1, "image")
	if !errors.Is(err, ErrMediaCount) || !strings.Contains(err.Error(), "prompt has 2 image placeholder(s) but 1 image(s) were provided") {
		t.Fatalf("CountError = %v", err)
	}
}

func TestBuilderMRoPE(t *testing.T) {
	b := NewBuilder(true)
	if err := b.Text(10, 11); err != nil {
		t.Fatal(err)
	}
	pos := [][3]int32{{0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 1, 1}, {0, 2, 0}, {0, 2, 1}}
	if err := b.Media(input.Span{Key: 9}, 7, 6, pos, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.Text(12); err != nil {
		t.Fatal(err)
	}
	p := b.Prompt()
	if !slices.Equal(p.Tokens, []int32{10, 11, 7, 7, 7, 7, 7, 7, 12}) {
		t.Fatalf("tokens %v", p.Tokens)
	}
	wantPos := [][3]int32{{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {2, 2, 3}, {2, 3, 2}, {2, 3, 3}, {2, 4, 2}, {2, 4, 3}, {5, 5, 5}}
	if !slices.Equal(p.MRoPE, wantPos) {
		t.Fatalf("M-RoPE %v, want %v", p.MRoPE, wantPos)
	}
	if p.PosDelta != 6-9 || p.Spans[0].Start != 2 || p.Spans[0].Len != 6 || p.Spans[0].NPos != 3 || p.Spans[0].Key != 9 {
		t.Fatalf("prompt %+v", p)
	}
	if err := b.Media(input.Span{}, 7, 2, pos, 1); err == nil {
		t.Fatal("Media accepted 2 tokens with 6 positions")
	}
	b1 := NewBuilder(false)
	if err := b1.Media(input.Span{}, 7, 4, nil, 0); err != nil {
		t.Fatal(err)
	}
	if p := b1.Prompt(); p.MRoPE != nil || p.PosDelta != 0 || p.Spans[0].NPos != 4 {
		t.Fatalf("1-D prompt %+v", p)
	}
}

func TestSpanKey(t *testing.T) {
	a := SpanKey(1, []int{4, 588}, 0)
	for _, b := range []uint64{SpanKey(2, []int{4, 588}, 0), SpanKey(1, []int{4, 589}, 0), SpanKey(1, []int{4, 588}, 1), SpanKey(1, []int{588, 4}, 0)} {
		if a == b {
			t.Fatal("SpanKey collides for different inputs")
		}
	}
	if a != SpanKey(1, []int{4, 588}, 0) {
		t.Fatal("SpanKey is not deterministic")
	}
}

func TestPrecomputed(t *testing.T) {
	ok := media.Item{Arrays: map[string]media.Array{"feature": {Shape: []int{1, 2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}}}
	e, err := Precomputed(ok, 3)
	if err != nil || !slices.Equal(e.Shape, []int{2, 3}) || !slices.Equal(e.F32(), []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("Precomputed = %v %v", e, err)
	}
	for name, arrs := range map[string]map[string]media.Array{
		"missing": {},
		"rank":    {"feature": {Shape: []int{6}, Data: make([]float32, 6)}},
		"width":   {"feature": {Shape: []int{3, 2}, Data: make([]float32, 6)}},
		"short":   {"feature": {Shape: []int{2, 3}, Data: make([]float32, 5)}},
		"nan":     {"feature": {Shape: []int{1, 3}, Data: []float32{0, float32NaN(), 0}}},
	} {
		if _, err := Precomputed(media.Item{Arrays: arrs}, 3); !errors.Is(err, ErrBadFeatures) {
			t.Errorf("%s: err %v, want ErrBadFeatures", name, err)
		}
	}
}

func float32NaN() float32 {
	var z float32
	return z / z
}

// pieceVocab finds tokens by text, and decodes byte tokens like SPM's <0x0A>.
type pieceVocab []string

func (v pieceVocab) TokenID(s string) (int32, bool) {
	i := slices.Index(v, s)
	return int32(i), i >= 0
}
func (v pieceVocab) VocabSize() int { return len(v) }
func (v pieceVocab) Decode(ids []int32, _ tokenizer.DecodeOptions) string {
	var sb strings.Builder
	for _, id := range ids {
		if v[id] == "<0x0A>" {
			sb.WriteString("\n")
		} else {
			sb.WriteString(v[id])
		}
	}
	return sb.String()
}

func TestLookupPiece(t *testing.T) {
	v := pieceVocab{"a", "<0x0A>", "\n\n", "b"}
	for s, want := range map[string]int32{"\n": 1, "\n\n": 2, "b": 3} {
		if id, ok := LookupPiece(v, s); !ok || id != want {
			t.Errorf("LookupPiece(%q) = %d %v, want %d", s, id, ok, want)
		}
	}
	if _, ok := LookupPiece(v, "zz"); ok {
		t.Error("found a missing piece")
	}
}

func TestTriple(t *testing.T) {
	for raw, want := range map[string][3]float32{`0.5`: {0.5, 0.5, 0.5}, `[1,2,3]`: {1, 2, 3}} {
		got, ok, err := Triple(json.RawMessage(raw))
		if err != nil || !ok || got != want {
			t.Errorf("Triple(%s) = %v %v %v", raw, got, ok, err)
		}
	}
	if _, ok, err := Triple(nil); ok || err != nil {
		t.Error("absent triple")
	}
	if _, _, err := Triple(json.RawMessage(`[1,2]`)); !errors.Is(err, ErrConfig) {
		t.Errorf("short triple: %v", err)
	}
}

func FuzzTriple(f *testing.F) {
	for _, s := range []string{`0.5`, `[1,2,3]`, `[1,2]`, `null`, `"x"`, `[1e40,0,0]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok, err := Triple(json.RawMessage(s))
		if err != nil && ok {
			t.Fatalf("ok with error %v", err)
		}
		_ = v
	})
}
