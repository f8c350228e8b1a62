package weights

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

// allMeta holds one value of every metadata type, arrays of every element
// type (including empty and nested ones), in the order they are set.
func allMeta() []struct {
	key string
	val any
} {
	return []struct {
		key string
		val any
	}{
		{"general.architecture", "llama"},
		{"t.u8", uint8(200)},
		{"t.i8", int8(-100)},
		{"t.u16", uint16(60000)},
		{"t.i16", int16(-30000)},
		{"t.u32", uint32(4_000_000_000)},
		{"t.i32", int32(-2_000_000_000)},
		{"t.f32", float32(9.9999997e-06)},
		{"t.bool", true},
		{"t.false", false},
		{"t.str", "héllo\x00world"},
		{"t.empty", ""},
		{"t.u64", uint64(math.MaxUint64)},
		{"t.i64", int64(math.MinInt64)},
		{"t.f64", float64(1e300)},
		{"a.u8", []uint8{0, 1, 255}},
		{"a.i8", []int8{-128, 0, 127}},
		{"a.u16", []uint16{0, 65535}},
		{"a.i16", []int16{-32768, 32767}},
		{"a.u32", []uint32{0, 7, math.MaxUint32}},
		{"a.i32", []int32{2, 3, 3, 0}},
		{"a.f32", []float32{0.5, -1.25, float32(math.Inf(1))}},
		{"a.bool", []bool{true, false, true}},
		{"a.str", []string{"<unk>", "<s>", "", "▁the"}},
		{"a.u64", []uint64{1, math.MaxUint64}},
		{"a.i64", []int64{-1, math.MaxInt64}},
		{"a.f64", []float64{3.5, -0.0}},
		{"a.empty", []string{}},
		{"a.nested", Array{Elem: TypeArray, V: []Array{
			{Elem: TypeInt32, V: []int32{1, 2}},
			{Elem: TypeString, V: []string{"x"}},
			{Elem: TypeArray, V: []Array{{Elem: TypeUint8, V: []uint8{9}}}},
		}}},
	}
}

func TestGGUFMetadataRoundTrip(t *testing.T) {
	w := NewGGUFWriter()
	meta := allMeta()
	for _, m := range meta {
		if err := w.Set(m.key, m.val); err != nil {
			t.Fatalf("Set(%s): %v", m.key, err)
		}
	}
	g, err := parseGGUF("meta.gguf", w.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.Version() != 3 || g.Arch() != "llama" || g.Alignment() != 32 {
		t.Errorf("version %d arch %q alignment %d", g.Version(), g.Arch(), g.Alignment())
	}
	keys := g.Keys()
	if len(keys) != len(meta) {
		t.Fatalf("%d keys, want %d", len(keys), len(meta))
	}
	for i, m := range meta {
		if keys[i] != m.key {
			t.Errorf("key %d = %q, want %q (file order)", i, keys[i], m.key)
		}
		want, _ := ValueOf(m.val)
		got, ok := g.Value(m.key)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", m.key, got, want)
		}
	}
	check := func(name string, got, want any, ok bool) {
		t.Helper()
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v (ok %v), want %v", name, got, ok, want)
		}
	}
	u, ok := g.Uint("t.u64")
	check("Uint(u64)", u, uint64(math.MaxUint64), ok)
	u, ok = g.Uint("t.u8")
	check("Uint(u8)", u, uint64(200), ok)
	i, ok := g.Int("t.i32")
	check("Int(i32)", i, int64(-2_000_000_000), ok)
	f, ok := g.Float("t.f32")
	check("Float(f32)", f, float64(float32(9.9999997e-06)), ok)
	f, ok = g.Float("t.u16")
	check("Float(u16)", f, 60000.0, ok)
	b, ok := g.Bool("t.bool")
	check("Bool", b, true, ok)
	s, ok := g.String("t.str")
	check("String", s, "héllo\x00world", ok)
	ss, ok := g.Strings("a.str")
	check("Strings", ss, []string{"<unk>", "<s>", "", "▁the"}, ok)
	fs, ok := g.Float32s("a.f32")
	check("Float32s", fs, []float32{0.5, -1.25, float32(math.Inf(1))}, ok)
	fs, ok = g.Float32s("a.i16")
	check("Float32s(i16)", fs, []float32{-32768, 32767}, ok)
	is, ok := g.Int32s("a.i32")
	check("Int32s", is, []int32{2, 3, 3, 0}, ok)
	is, ok = g.Int32s("a.u8")
	check("Int32s(u8)", is, []int32{0, 1, 255}, ok)
	ss, ok = g.Strings("a.empty")
	check("Strings(empty)", ss, []string{}, ok)

	// refusals
	for name, ok := range map[string]bool{
		"Uint(negative)":        second(g.Uint("t.i8")),
		"Uint(string)":          second(g.Uint("t.str")),
		"Int(u64 > MaxInt64)":   second(g.Int("t.u64")),
		"Float(string)":         second(g.Float("t.str")),
		"Bool(u8)":              second(g.Bool("t.u8")),
		"String(missing)":       second(g.String("nope")),
		"Strings(i32 array)":    second(g.Strings("a.i32")),
		"Int32s(u32 overflow)":  second(g.Int32s("a.u32")),
		"Int32s(u64 overflow)":  second(g.Int32s("a.u64")),
		"Int32s(float array)":   second(g.Int32s("a.f32")),
		"Float32s(str array)":   second(g.Float32s("a.str")),
		"Float32s(scalar)":      second(g.Float32s("t.f32")),
		"Strings(nested array)": second(g.Strings("a.nested")),
	} {
		if ok {
			t.Errorf("%s: ok, want false", name)
		}
	}
	// getters return copies
	ss, _ = g.Strings("a.str")
	ss[0] = "changed"
	if again, _ := g.Strings("a.str"); again[0] != "<unk>" {
		t.Error("Strings returned the internal slice")
	}
}

func second[T any](_ T, ok bool) bool { return ok }

func TestGGUFTensorRoundTrip(t *testing.T) {
	w := NewGGUFWriter()
	if err := w.Set("general.alignment", uint32(64)); err != nil {
		t.Fatal(err)
	}
	w.Set("general.architecture", "test")
	in := []TensorData{
		mustEncode(t, "z.f32", tensor.F32, []int{3, 5}, ramp(15, 0.25)),
		mustEncode(t, "a.f16", tensor.F16, []int{2, 3, 4}, ramp(24, 0.5)),
		mustEncode(t, "m.bf16", tensor.BF16, []int{7}, ramp(7, 2)),
		mustEncode(t, "q.q8_0", tensor.Q8_0, []int{3, 64}, ramp(192, 0.01)),
		mustEncode(t, "s.scalar", tensor.F32, []int{1}, []float32{42}),
	}
	for _, td := range in {
		if err := w.AddTensor(td); err != nil {
			t.Fatal(err)
		}
	}
	file := w.Bytes()
	if !bytes.Equal(file, w.Bytes()) {
		t.Fatal("Bytes is not deterministic")
	}
	g, err := parseGGUF("t.gguf", file)
	if err != nil {
		t.Fatal(err)
	}
	if g.Alignment() != 64 || g.DataOffset()%64 != 0 {
		t.Errorf("alignment %d data offset %d", g.Alignment(), g.DataOffset())
	}
	names := []string{}
	for _, info := range g.Tensors() {
		names = append(names, info.Name)
	}
	if !slices.IsSorted(names) || len(names) != len(in) {
		t.Errorf("Tensors() names %v: want %d sorted", names, len(in))
	}
	for _, td := range in {
		info, b, err := g.Tensor(td.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(info, td.Info) {
			t.Errorf("info %+v, want %+v", info, td.Info)
		}
		if !bytes.Equal(b, td.Data) {
			t.Errorf("%s: bytes differ", td.Name)
		}
		if cap(b) != len(b) {
			t.Errorf("%s: view has spare capacity %d", td.Name, cap(b)-len(b))
		}
	}
	for _, gt := range g.tensors {
		if (gt.start-g.dataStart)%64 != 0 {
			t.Errorf("%s: starts at %d, not aligned to 64 after %d", gt.info.Name, gt.start, g.dataStart)
		}
	}
	info, b, _ := g.Tensor("z.f32")
	for i, v := range decodeAll(t, info, b) {
		if want := ramp(15, 0.25)[i]; v != want {
			t.Fatalf("z.f32[%d] = %v, want %v", i, v, want)
		}
	}
	info, b, _ = g.Tensor("q.q8_0")
	for i, v := range decodeAll(t, info, b) {
		if want := ramp(192, 0.01)[i]; !near(v, want, 0.004) {
			t.Fatalf("q.q8_0[%d] = %v, want ≈ %v", i, v, want)
		}
	}
	if _, _, err := g.Tensor("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tensor: %v", err)
	}
}

func TestGGUFUnsupportedTypes(t *testing.T) {
	w := NewGGUFWriter()
	types := map[string]int{"Q8_K": 292, "Q8_1": 36, "IQ3_S": 110, "IQ2_XXS": 66, "I32": 4, "F64": 8, "MXFP4": 17, "TQ2_0": 66}
	for name, blockBytes := range types {
		typ := ggmlTypes[must(ggmlTypeID(name))]
		row := int(typ.block) * 2
		td := TensorData{Info: Info{Name: "t." + name, Type: name, Shape: []int{3, row}}, Data: make([]byte, 3*2*blockBytes)}
		if err := w.AddTensor(td); err != nil {
			t.Fatal(err)
		}
	}
	w.AddTensor(mustEncode(t, "ok", tensor.F16, []int{2}, []float32{1, 2}))
	g, err := parseGGUF("quant.gguf", w.Bytes())
	if err != nil {
		t.Fatalf("file with unsupported types must open: %v", err)
	}
	for _, info := range g.Tensors() {
		if info.Name == "ok" {
			continue
		}
		name := info.Name[2:]
		if info.Type != name || info.DType.Valid() {
			t.Errorf("%s: Type %q DType %v", info.Name, info.Type, info.DType)
		}
		got, b, err := g.Tensor(info.Name)
		wantErr(t, err, ErrUnsupported, "quant.gguf", info.Name, "ggml type "+name+" is not supported", "Q4_K")
		if b != nil || got.Type != name {
			t.Errorf("%s: refused tensor returned %d bytes, info %+v", info.Name, len(b), got)
		}
	}
	if _, _, err := g.Tensor("ok"); err != nil {
		t.Error(err)
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("lookup failed")
	}
	return v
}

func TestGGUFVersion2(t *testing.T) {
	w := NewGGUFWriter()
	w.Set("general.architecture", "llama")
	w.AddTensor(mustEncode(t, "x", tensor.F32, []int{2, 2}, []float32{1, 2, 3, 4}))
	b := w.Bytes()
	b[4] = 2
	g, err := parseGGUF("v2.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version() != 2 || g.Arch() != "llama" || len(g.Tensors()) != 1 {
		t.Errorf("v2: version %d arch %q tensors %d", g.Version(), g.Arch(), len(g.Tensors()))
	}
}

func TestGGUFFileOpenClose(t *testing.T) {
	w := NewGGUFWriter()
	w.Set("general.architecture", "qwen2")
	td := mustEncode(t, "w", tensor.BF16, []int{4, 8}, ramp(32, 1))
	w.AddTensor(td)
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(path)
	if !bytes.Equal(onDisk, w.Bytes()) {
		t.Fatal("WriteFile and Bytes differ")
	}
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := src.(*GGUF)
	if !ok {
		t.Fatalf("Open returned %T, want *GGUF", src)
	}
	if g.Path() != path || g.Arch() != "qwen2" {
		t.Errorf("path %q arch %q", g.Path(), g.Arch())
	}
	_, b, err := g.Tensor("w")
	if err != nil || !bytes.Equal(b, td.Data) {
		t.Fatalf("Tensor: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, _, err = g.Tensor("w")
	wantErr(t, err, ErrClosed, path)
}

func TestGGUFWriterErrors(t *testing.T) {
	w := NewGGUFWriter()
	for name, v := range map[string]any{"int": 1, "float64s2d": [][]float64{{1}}, "nil": nil, "map": map[string]int{}} {
		if err := w.Set("k."+name, v); err == nil {
			t.Errorf("Set(%s) accepted %T", name, v)
		}
	}
	if err := w.Set("bad.nested", Array{Elem: TypeInt32, V: []string{"x"}}); err == nil {
		t.Error("Set accepted an Array whose slice does not match Elem")
	}
	for _, a := range []any{uint32(0), uint32(48), uint64(32), "32"} {
		if err := w.Set("general.alignment", a); err == nil {
			t.Errorf("Set(general.alignment, %v %T) accepted", a, a)
		}
	}
	deep := Array{Elem: TypeInt32, V: []int32{1}}
	for range maxArrayDepth + 1 {
		deep = Array{Elem: TypeArray, V: []Array{deep}}
	}
	if err := w.Set("deep", deep); err == nil {
		t.Error("Set accepted arrays nested too deep")
	}
	good := mustEncode(t, "x", tensor.F32, []int{2}, []float32{1, 2})
	if err := w.AddTensor(good); err != nil {
		t.Fatal(err)
	}
	bad := []TensorData{
		good, // duplicate
		{Info: Info{Name: "short", DType: tensor.F32, Shape: []int{4}}, Data: make([]byte, 12)},
		{Info: Info{Name: "type", Type: "Q9_9", Shape: []int{4}}, Data: make([]byte, 4)},
		{Info: Info{Name: "block", DType: tensor.Q8_0, Shape: []int{33}}, Data: make([]byte, 34)},
		{Info: Info{Name: "dims", DType: tensor.F32, Shape: []int{1, 1, 1, 1, 1}}, Data: make([]byte, 4)},
		{Info: Info{Name: "neg", DType: tensor.F32, Shape: []int{-1}}, Data: nil},
		{Info: Info{Name: "removed", Type: "Q4_0_4_4", Shape: []int{32}}, Data: make([]byte, 18)},
	}
	for _, td := range bad {
		if err := w.AddTensor(td); err == nil {
			t.Errorf("AddTensor(%s) accepted", td.Name)
		}
	}
	if _, err := EncodeTensor("e", tensor.F32, []int{2, 2}, []float32{1}); err == nil {
		t.Error("EncodeTensor accepted 1 value for shape [2 2]")
	}
}

// TestGGUFQuantMixture: one file holding every supported block type (as
// llama-quantize mixes them) serves each tensor's bytes, and they decode.
func TestGGUFQuantMixture(t *testing.T) {
	w := NewGGUFWriter()
	var in []TensorData
	for i, name := range SupportedGGMLTypes() {
		dt, ok := tensor.ParseDType(name)
		if !ok {
			t.Fatalf("supported type %s has no dtype", name)
		}
		shape := []int{2, 256 * (1 + i%2)}
		td := mustEncode(t, fmt.Sprintf("blk.%d.%s", i, name), dt, shape, ramp(shape[0]*shape[1], 0.01))
		in = append(in, td)
		if err := w.AddTensor(td); err != nil {
			t.Fatal(err)
		}
	}
	if len(in) != 15 {
		t.Fatalf("%d supported types, want 15", len(in))
	}
	g, err := parseGGUF("mix.gguf", w.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, td := range in {
		info, b, err := g.Tensor(td.Name)
		if err != nil {
			t.Fatal(err)
		}
		if info.DType != td.DType || info.Type != td.DType.String() || !bytes.Equal(b, td.Data) {
			t.Fatalf("%s: %+v, %d bytes", td.Name, info, len(b))
		}
		want, tol := ramp(info.NumElements(), 0.01), float32(0.07) // values in ±0.48; Q4_0 codes reach only +7
		if info.DType == tensor.Q2_K || info.DType == tensor.Q3_K {
			tol = 0.17 // 2- and 3-bit codes: half a step of a sub-block spanning the ramp
		}
		for i, v := range decodeAll(t, info, b) {
			if !near(v, want[i], tol) {
				t.Fatalf("%s[%d] = %v, want ≈ %v", td.Name, i, v, want[i])
			}
		}
	}
}

func TestGGMLTypeTable(t *testing.T) {
	// ids from ggml.h
	for name, id := range map[string]uint32{"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 8, "Q4_K": 12, "Q6_K": 14, "IQ4_XS": 23, "I8": 24, "F64": 28, "BF16": 30, "TQ1_0": 34, "MXFP4": 39} {
		if got, ok := ggmlTypeID(name); !ok || got != id {
			t.Errorf("%s: id %d (%v), want %d", name, got, ok, id)
		}
	}
	names := GGMLTypeNames()
	if len(names) != 35 || names[0] != "F32" || !slices.Contains(names, "Q4_K") || slices.Contains(names, "Q4_0_4_4") {
		t.Errorf("GGMLTypeNames() = %v", names)
	}
	for _, n := range names {
		id, _ := ggmlTypeID(n)
		typ, msg := lookupGGMLType(id)
		if msg != "" || typ.name != n || typ.block == 0 || typ.size == 0 {
			t.Errorf("%s: %+v %q", n, typ, msg)
		}
		if dt := typ.dtype; dt.Valid() && (dt.String() != n || uint64(dt.BlockSize()) != typ.block || uint64(dt.BlockBytes()) != typ.size) {
			t.Errorf("%s maps to %v with different block layout", n, dt)
		}
	}
}

func TestOpenCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	w := NewGGUFWriter()
	w.AddTensor(mustEncode(t, "x", tensor.F32, []int{8}, ramp(8, 1)))
	b := w.Bytes()
	path := filepath.Join(dir, "cut.gguf")
	os.WriteFile(path, b[:len(b)-20], 0o644)
	_, err := OpenGGUF(path)
	wantErr(t, err, ErrFormat, path, `tensor "x": data [`, "beyond end of file")
	_, err = Open(path)
	wantErr(t, err, ErrFormat, path)
	spath := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(spath, []byte("\x02\x00\x00\x00\x00\x00\x00\x00[]"), 0o644)
	_, err = OpenSafetensors(spath)
	wantErr(t, err, ErrFormat, spath, "not a JSON object")
	_, err = OpenGGUF(dir)
	wantErr(t, err, ErrFormat, "not a regular file")
}
