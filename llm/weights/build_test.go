package weights

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

// gb builds raw GGUF bytes field by field, so tests can inject hostile values.
type gb struct{ b []byte }

func newGB(version uint32, nTensors, nKV uint64) *gb {
	g := &gb{b: []byte("GGUF")}
	return g.u32(version).u64(nTensors).u64(nKV)
}

func (g *gb) u8(v uint8) *gb   { g.b = append(g.b, v); return g }
func (g *gb) u32(v uint32) *gb { g.b = binary.LittleEndian.AppendUint32(g.b, v); return g }
func (g *gb) u64(v uint64) *gb { g.b = binary.LittleEndian.AppendUint64(g.b, v); return g }
func (g *gb) str(s string) *gb { return g.u64(uint64(len(s))).raw([]byte(s)) }
func (g *gb) raw(p []byte) *gb { g.b = append(g.b, p...); return g }

// kvStr appends a string metadata entry.
func (g *gb) kvStr(k, v string) *gb { return g.str(k).u32(uint32(TypeString)).str(v) }

// tensor appends a tensor info (ne innermost first).
func (g *gb) tensor(name string, typ uint32, off uint64, ne ...uint64) *gb {
	g.str(name).u32(uint32(len(ne)))
	for _, d := range ne {
		g.u64(d)
	}
	return g.u32(typ).u64(off)
}

// pad pads to a multiple of 32 (the default alignment).
func (g *gb) pad() *gb {
	for len(g.b)%32 != 0 {
		g.b = append(g.b, 0)
	}
	return g
}

// wantErr asserts err wraps kind and its message contains every part.
func wantErr(t *testing.T, err error, kind error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error containing %q, got nil", parts)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q does not wrap %v", err, kind)
	}
	var we *Error
	if !errors.As(err, &we) {
		t.Errorf("error %q is not a *weights.Error", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// ramp returns n distinct float32 values.
func ramp(n int, scale float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i%97-48) * scale
	}
	return out
}

func mustEncode(t *testing.T, name string, dt tensor.DType, shape []int, vals []float32) TensorData {
	t.Helper()
	td, err := EncodeTensor(name, dt, shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

func decodeAll(t *testing.T, info Info, b []byte) []float32 {
	t.Helper()
	out := make([]float32, info.NumElements())
	row := info.Shape[len(info.Shape)-1]
	rb, err := info.DType.RowBytes(row)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != rb*len(out)/row {
		t.Fatalf("%s: %d bytes, want %d", info.Name, len(b), rb*len(out)/row)
	}
	for r := 0; r < len(out)/row; r++ {
		if err := tensor.DecodeRow(info.DType, b[r*rb:], out[r*row:(r+1)*row]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func near(a, b, tol float32) bool { return math.Abs(float64(a-b)) <= float64(tol) }
