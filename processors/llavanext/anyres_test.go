package llavanext

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// layoutTable is testdata/anyres_layouts.json: transformers' formulas
// (select_best_resolution, get_patch_output_size, unpad_image and
// OneVision's anyres_max in pack_image_features / the processor's token
// count), evaluated by a Python port outside this repository over 619
// image sizes for LLaVA-1.6, LLaVA-OneVision and the two tiny shapes.
type layoutTable struct {
	Columns []string `json:"columns"`
	Configs map[string]struct {
		Size       int      `json:"size"`
		Patch      int      `json:"patch"`
		Pinpoints  [][2]int `json:"pinpoints"`
		MaxPatches int      `json:"max_patches"`
	} `json:"configs"`
	Layouts [][]json.RawMessage `json:"layouts"`
}

func loadTable(t *testing.T) (layoutTable, map[string]Geometry) {
	t.Helper()
	raw, err := os.ReadFile("testdata/anyres_layouts.json")
	if err != nil {
		t.Fatal(err)
	}
	var tab layoutTable
	if err := json.Unmarshal(raw, &tab); err != nil {
		t.Fatal(err)
	}
	geos := map[string]Geometry{}
	for name, c := range tab.Configs {
		g := Geometry{Size: c.Size, Patch: c.Patch, MaxPatches: c.MaxPatches}
		for _, p := range c.Pinpoints {
			g.Pinpoints = append(g.Pinpoints, Res{H: p[0], W: p[1]})
		}
		geos[name] = g
	}
	return tab, geos
}

// TestLayoutTable checks BestResolution, FitSize, Layout and TokenCount
// against the table, row by row.
func TestLayoutTable(t *testing.T) {
	tab, geos := loadTable(t)
	if len(tab.Layouts) < 2000 || len(geos) != 4 {
		t.Fatalf("table has %d rows, %d configs", len(tab.Layouts), len(geos))
	}
	// The real configurations must be what FromSpec builds by default.
	if g := geos["llava-onevision"]; g.MaxPatches != 9 || len(g.Pinpoints) != 36 || !slices.Equal(g.Pinpoints, OneVisionPinpoints(384)) {
		t.Fatalf("OneVision pinpoints in the table differ from OneVisionPinpoints: %+v", g)
	}
	if g := geos["llava-v1.6"]; !slices.Equal(g.Pinpoints, NeXTPinpoints()) {
		t.Fatalf("LLaVA-1.6 pinpoints in the table differ from NeXTPinpoints: %+v", g)
	}
	seen := map[string]int{}
	for i, row := range tab.Layouts {
		var name string
		if err := json.Unmarshal(row[0], &name); err != nil {
			t.Fatal(err)
		}
		v := make([]int, len(row))
		for j := 1; j < len(row); j++ {
			if err := json.Unmarshal(row[j], &v[j]); err != nil {
				t.Fatal(err)
			}
		}
		w, h := v[1], v[2]
		geo := geos[name]
		seen[name]++
		best, err := BestResolution(h, w, geo.Pinpoints)
		if err != nil || best != (Res{H: v[3], W: v[4]}) {
			t.Fatalf("row %d %s %dx%d: best %+v %v, want %dx%d (h×w)", i, name, w, h, best, err, v[3], v[4])
		}
		if fh, fw := FitSize(h, w, best); fh != v[5] || fw != v[6] {
			t.Fatalf("row %d %s %dx%d: fit %dx%d (h×w), want %dx%d", i, name, w, h, fh, fw, v[5], v[6])
		}
		l, err := geo.Layout(h, w)
		if err != nil {
			t.Fatalf("row %d %s %dx%d: %v", i, name, w, h, err)
		}
		got := []int{l.Rows, l.Cols, l.Top, l.Left, l.H, l.W, l.OutH, l.OutW, l.Tokens()}
		for j, g := range got {
			if g != v[7+j] {
				t.Fatalf("row %d %s %dx%d: %s = %d, want %d (layout %+v)", i, name, w, h, tab.Columns[7+j], g, v[7+j], l)
			}
		}
		n, err := TokenCount(geo, [3]int{l.Views(), h, w})
		if err != nil || n != v[15] {
			t.Fatalf("row %d: TokenCount %d %v, want %d", i, n, err, v[15])
		}
		if n, err := TokenCount(geo, [3]int{1, h, w}); err != nil || n != v[16] {
			t.Fatalf("row %d: base-only TokenCount %d %v, want %d", i, n, err, v[16])
		}
		if n, err := TokenCount(geo, [3]int{5, 0, 0}); err != nil || n != 5*v[17]+1 {
			t.Fatalf("row %d: 5-frame video TokenCount %d %v, want %d", i, n, err, 5*v[17]+1)
		}
	}
	for name, n := range seen {
		if n < 600 {
			t.Fatalf("%s: %d rows", name, n)
		}
	}
}

// TestLayoutKnown spells out three layouts (numbers from the Python port of
// transformers' formulas): a wide image on LLaVA-1.6, and on OneVision one
// that anyres_max shrinks and one that it leaves alone.
func TestLayoutKnown(t *testing.T) {
	next := Geometry{Size: 336, Patch: 14, Pinpoints: NeXTPinpoints()}
	ov := Geometry{Size: 384, Patch: 14, Pinpoints: OneVisionPinpoints(384), MaxPatches: 9}
	for _, tc := range []struct {
		geo    Geometry
		w, h   int
		want   Layout
		tokens int
	}{
		// 800×600 → 672×672 (2×2 tiles, 48×48 cells), filled 672×504: 6 rows cut top and bottom.
		{next, 800, 600, Layout{Best: Res{672, 672}, Rows: 2, Cols: 2, Grid: 24, Top: 6, H: 36, W: 48, OutH: 36, OutW: 48, BaseTokens: 576, Size: 336}, 2340},
		// 2000×1500 → 1536×2304 (4×6 tiles, 108×162 cells), filled 2048 wide: 9 columns cut each side,
		// then √(108·144 / (9·27²)) ≈ 1.54 > 1.1 shrinks 108×144 to 70×93.
		{ov, 2000, 1500, Layout{Best: Res{1536, 2304}, Rows: 4, Cols: 6, Grid: 27, Left: 9, H: 108, W: 144, OutH: 70, OutW: 93, Resized: true, BaseTokens: 729, Size: 384}, 7309},
		// 1280×720 → 768×1536 (2×4 tiles), 54×96 after unpadding: ratio ≈ 0.89, kept.
		{ov, 1280, 720, Layout{Best: Res{768, 1536}, Rows: 2, Cols: 4, Grid: 27, Left: 6, H: 54, W: 96, OutH: 54, OutW: 96, BaseTokens: 729, Size: 384}, 5967},
	} {
		l, err := tc.geo.Layout(tc.h, tc.w)
		if err != nil || l != tc.want || l.Tokens() != tc.tokens {
			t.Fatalf("%dx%d: %+v (%d tokens) %v, want %+v (%d)", tc.w, tc.h, l, l.Tokens(), err, tc.want, tc.tokens)
		}
	}
	if _, err := ov.Layout(0, 10); err == nil {
		t.Fatal("a 10×0 image has a layout")
	}
}

func TestParsers(t *testing.T) {
	for s, want := range map[string]int{"": 0, "anyres": 0, "anyres_max_9": 9, "anyres_max_4": 4} {
		if n, err := ParseAspect(s); err != nil || n != want {
			t.Fatalf("ParseAspect(%q) = %d, %v", s, n, err)
		}
	}
	for _, s := range []string{"pad", "anyres_max_", "anyres_max_-1", "anyres_max_x", "anyres_max_99999"} {
		if _, err := ParseAspect(s); err == nil {
			t.Fatalf("ParseAspect(%q) accepted", s)
		}
	}
	pins, err := PinpointsJSON([]byte(`[[336,672],[672,336]]`))
	if err != nil || !slices.Equal(pins, []Res{{336, 672}, {672, 336}}) {
		t.Fatalf("PinpointsJSON: %v %v", pins, err)
	}
	for _, s := range []string{`[[1]]`, `[1,2]`, `{"a":1}`, `[[1,2,3]]`} {
		if _, err := PinpointsJSON([]byte(s)); err == nil {
			t.Fatalf("PinpointsJSON(%s) accepted", s)
		}
	}
	md := meta{"clip.vision.image_grid_pinpoints": []int32{672, 336, 336, 672}}
	if pins, ok, err := PinpointsGGUF(md); !ok || err != nil || !slices.Equal(pins, []Res{{H: 336, W: 672}, {H: 672, W: 336}}) {
		t.Fatalf("PinpointsGGUF: %v %v %v", pins, ok, err)
	}
	if _, _, err := PinpointsGGUF(meta{"clip.vision.image_grid_pinpoints": []int32{1, 2, 3}}); err == nil {
		t.Fatal("odd pinpoint list accepted")
	}
}

func FuzzLayout(f *testing.F) {
	f.Add(600, 800, 336, 14, 9, []byte{1, 2, 2, 1, 2, 2})
	f.Add(1, 4032, 384, 14, 9, []byte{1, 1, 6, 6})
	f.Add(70, 50, 46, 14, 0, []byte{1, 2})
	f.Fuzz(func(t *testing.T, h, w, size, patch, maxp int, tiles []byte) {
		g := Geometry{Size: size, Patch: patch, MaxPatches: maxp}
		for i := 0; i+1 < len(tiles) && i < 64; i += 2 {
			g.Pinpoints = append(g.Pinpoints, Res{H: int(tiles[i]%8) * size, W: int(tiles[i+1]%8) * size})
		}
		l, err := g.Layout(h, w)
		if err != nil {
			return
		}
		gr := g.Grid()
		if l.Rows*l.Cols <= 0 || l.H < 0 || l.W < 0 || l.Top+l.H > l.Rows*gr || l.Left+l.W > l.Cols*gr ||
			l.OutH > l.H || l.OutW > l.W || l.Tokens() < gr*gr {
			t.Fatalf("%dx%d %+v: layout %+v", w, h, g, l)
		}
		if n, err := TokenCount(g, [3]int{l.Views(), h, w}); err != nil || n != l.Tokens() {
			t.Fatalf("TokenCount %d %v, layout %d", n, err, l.Tokens())
		}
	})
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{`[[336,672],[672,336]]`, `[[1]]`, `null`, `{"shortest_edge":336}`, `{"height":384,"width":384}`, `anyres_max_9`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if pins, err := PinpointsJSON([]byte(s)); err == nil {
			for _, p := range pins {
				_ = p
			}
		}
		if n, err := viewSize([]byte(s)); err == nil && n < 0 {
			t.Fatalf("viewSize %d", n)
		}
		if n, err := ParseAspect(s); err == nil && (n < 0 || n > 1<<10) {
			t.Fatalf("ParseAspect %d", n)
		}
	})
}
