package weights

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

func FuzzGGUF(f *testing.F) {
	w := NewGGUFWriter()
	for _, m := range allMeta() {
		w.Set(m.key, m.val)
	}
	w.AddTensor(TensorData{Info: Info{Name: "q8k", Type: "Q8_K", Shape: []int{1, 256}}, Data: make([]byte, 292)})
	for i, dt := range tensor.DTypes() { // every served type, random bytes (any bits are a valid block)
		if dt.Quantized() {
			data := make([]byte, dt.BlockBytes())
			for j := range data {
				data[j] = byte(i*31 + j*7)
			}
			w.AddTensor(TensorData{Info: Info{Name: "t." + dt.String(), DType: dt, Shape: []int{1, dt.BlockSize()}}, Data: data})
		}
	}
	w.AddTensor(TensorData{Info: Info{Name: "q8", DType: tensor.Q8_0, Shape: []int{2, 32}}, Data: make([]byte, 68)})
	w.AddTensor(TensorData{Info: Info{Name: "f16", DType: tensor.F16, Shape: []int{3}}, Data: make([]byte, 6)})
	f.Add(w.Bytes())
	small := NewGGUFWriter()
	small.Set("general.alignment", uint32(8))
	small.Set("a", []int32{1, 2})
	small.AddTensor(TensorData{Info: Info{Name: "x", DType: tensor.BF16, Shape: []int{2, 2}}, Data: make([]byte, 8)})
	f.Add(small.Bytes())
	f.Add(newGB(2, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 8).pad().raw(make([]byte, 128)).b)
	f.Add(newGB(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 40).b)
	f.Add([]byte("GGUF"))

	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := parseGGUF("fuzz.gguf", data)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "weights: fuzz.gguf: ") {
				t.Fatalf("error %q is not a weights format error naming the file", err)
			}
			return
		}
		keys := g.Keys()
		rebuilt := NewGGUFWriter()
		for _, k := range keys {
			g.String(k)
			g.Uint(k)
			g.Int(k)
			g.Float(k)
			g.Bool(k)
			g.Strings(k)
			g.Float32s(k)
			g.Int32s(k)
			v, ok := g.Value(k)
			if !ok {
				t.Fatalf("key %q listed but absent", k)
			}
			if k == "general.alignment" && v.Type != TypeUint32 {
				continue // readers accept any integer type; the writer wants uint32
			}
			if err := rebuilt.Set(k, v); err != nil {
				t.Fatalf("parsed value of %q does not re-encode: %v", k, err)
			}
		}
		infos := g.Tensors()
		if !slices.IsSortedFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) }) {
			t.Fatal("Tensors() not sorted")
		}
		for _, info := range infos {
			got, b, err := g.Tensor(info.Name)
			if !info.DType.Valid() {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%s (%s): %v, want ErrUnsupported", info.Name, info.Type, err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			want, ok := numElements(got.Shape)
			if !ok {
				t.Fatalf("%s: shape %v overflows", info.Name, got.Shape)
			}
			if want > 0 {
				row := got.Shape[len(got.Shape)-1]
				rb, err := got.DType.RowBytes(row)
				if err != nil || len(b) != rb*(want/row) {
					t.Fatalf("%s: %d bytes for %v %v (%v)", info.Name, len(b), got.DType, got.Shape, err)
				}
			}
			if want > 0 && want <= 1<<16 {
				if err := tensor.DecodeRow(got.DType, b, make([]float32, want)); err != nil {
					t.Fatalf("%s: %v", info.Name, err)
				}
			}
			rebuilt.AddTensor(TensorData{Info: got, Data: b})
		}
		// what was read must be writable and read back the same
		again, err := parseGGUF("again.gguf", rebuilt.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		if !slices.Equal(again.Keys(), rebuilt.keys) {
			t.Fatalf("keys %v after re-encoding, want %v", again.Keys(), rebuilt.keys)
		}
	})
}

func FuzzSafetensors(f *testing.F) {
	for _, ts := range [][]TensorData{
		{{Info: Info{Name: "a", DType: tensor.F32, Shape: []int{2, 2}}, Data: make([]byte, 16)},
			{Info: Info{Name: "b", Type: "I64", Shape: []int{1}}, Data: make([]byte, 8)}},
		{{Info: Info{Name: "s", DType: tensor.BF16, Shape: []int{}}, Data: make([]byte, 2)}},
	} {
		var buf sliceWriter
		WriteSafetensorsTo(&buf, ts, map[string]string{"format": "pt"})
		f.Add([]byte(buf))
	}
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	f.Add([]byte("\x3a\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}\x00\x00"))

	f.Fuzz(func(t *testing.T, data []byte) {
		_, entries, err := parseSafetensors("fuzz.safetensors", data)
		if err != nil {
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "weights: fuzz.safetensors: ") {
				t.Fatalf("error %q is not a weights format error naming the file", err)
			}
			return
		}
		var prevEnd uint64
		byStart := slices.Clone(entries)
		slices.SortFunc(byStart, func(a, b stEntry) int { return cmp.Compare(a.start, b.start) })
		for i, e := range byStart {
			if e.start > e.end || e.end > uint64(len(data)) {
				t.Fatalf("%s: range [%d, %d) outside %d bytes", e.info.Name, e.start, e.end, len(data))
			}
			if e.end > e.start && i > 0 && e.start < prevEnd {
				t.Fatalf("%s overlaps its predecessor", e.info.Name)
			}
			if e.end > e.start {
				prevEnd = e.end
			}
			n, ok := numElements(e.info.Shape)
			if !ok || uint64(n)*stDTypes[e.info.Type].bits != 8*(e.end-e.start) {
				t.Fatalf("%s: %d elements of %s in %d bytes", e.info.Name, n, e.info.Type, e.end-e.start)
			}
		}
	})
}
