package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

func stTensors(t *testing.T) []TensorData {
	i64 := make([]byte, 3*8)
	for i := range 3 {
		binary.LittleEndian.PutUint64(i64[8*i:], uint64(i+7))
	}
	return []TensorData{
		mustEncode(t, "model.layers.0.self_attn.q_proj.weight", tensor.BF16, []int{4, 8}, ramp(32, 0.5)),
		mustEncode(t, "model.norm.weight", tensor.F32, []int{8}, ramp(8, 1)),
		mustEncode(t, "lm_head.weight", tensor.F16, []int{3, 8}, ramp(24, 0.25)),
		mustEncode(t, "scalar", tensor.F32, []int{}, []float32{3}),
		{Info: Info{Name: "position_ids", Type: "I64", Shape: []int{1, 3}}, Data: i64},
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := stTensors(t)
	meta := map[string]string{"format": "pt", "note": "x"}
	var a, b sliceWriter
	if _, err := WriteSafetensorsTo(&a, in, meta); err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(in)
	slices.Reverse(rev)
	WriteSafetensorsTo(&b, rev, meta)
	if !bytes.Equal(a, b) {
		t.Error("output depends on the order tensors are given")
	}
	if n := binary.LittleEndian.Uint64(a); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := WriteSafetensors(path, in, meta); err != nil {
		t.Fatal(err)
	}
	if disk, _ := os.ReadFile(path); !bytes.Equal(disk, a) {
		t.Error("WriteSafetensors and WriteSafetensorsTo differ")
	}
	s, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(s.Metadata(), meta) {
		t.Errorf("metadata %v, want %v", s.Metadata(), meta)
	}
	infos := s.Tensors()
	if len(infos) != len(in) || !slices.IsSortedFunc(infos, func(x, y Info) int { return strings.Compare(x.Name, y.Name) }) {
		t.Fatalf("Tensors() = %v", infos)
	}
	for _, td := range in {
		info, data, err := s.Tensor(td.Name)
		if td.Type == "I64" {
			wantErr(t, err, ErrUnsupported, path, td.Name, "I64")
			if info.Type != "I64" || info.DType.Valid() || !reflect.DeepEqual(info.Shape, []int{1, 3}) {
				t.Errorf("refused info %+v", info)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(info, td.Info) || !bytes.Equal(data, td.Data) {
			t.Errorf("%s: got %+v / %d bytes, want %+v / %d bytes", td.Name, info, len(data), td.Info, len(td.Data))
		}
	}
	info, data, _ := s.Tensor("model.norm.weight")
	if got := decodeAll(t, info, data); !reflect.DeepEqual(got, ramp(8, 1)) {
		t.Errorf("decoded %v", got)
	}
	if _, _, err := s.Tensor("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tensor: %v", err)
	}
	s.Close()
	_, _, err = s.Tensor("model.norm.weight")
	wantErr(t, err, ErrClosed)
}

func TestSafetensorsWriterErrors(t *testing.T) {
	var w sliceWriter
	bad := [][]TensorData{
		{{Info: Info{Name: "a", DType: tensor.Q8_0, Shape: []int{32}}, Data: make([]byte, 34)}},
		{{Info: Info{Name: "a", DType: tensor.F32, Shape: []int{2}}, Data: make([]byte, 4)}},
		{{Info: Info{Name: "__metadata__", DType: tensor.F32, Shape: []int{1}}, Data: make([]byte, 4)}},
		{mustEncode(t, "a", tensor.F32, []int{1}, []float32{1}), mustEncode(t, "a", tensor.F32, []int{1}, []float32{1})},
	}
	for i, ts := range bad {
		if _, err := WriteSafetensorsTo(&w, ts, nil); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

// writeSharded writes a two-shard HF directory and returns it with the tensors.
func writeSharded(t *testing.T) (string, []TensorData) {
	dir := t.TempDir()
	in := stTensors(t)
	shard1, shard2 := in[:2], in[2:]
	names := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
	weightMap := map[string]string{}
	for i, part := range [][]TensorData{shard1, shard2} {
		if err := WriteSafetensors(filepath.Join(dir, names[i]), part, map[string]string{"format": "pt", "shard": names[i]}); err != nil {
			t.Fatal(err)
		}
		for _, td := range part {
			weightMap[td.Name] = names[i]
		}
	}
	writeIndex(t, dir, map[string]any{"metadata": map[string]any{"total_size": 1234, "kind": "test"}, "weight_map": weightMap})
	return dir, in
}

func writeIndex(t *testing.T, dir string, index any) {
	js, err := json.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stIndexName), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirSharded(t *testing.T) {
	dir, in := writeSharded(t)
	src, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := src.(*Safetensors)
	if len(s.Files()) != 2 || s.Path() != dir {
		t.Errorf("files %v path %q", s.Files(), s.Path())
	}
	wantMeta := map[string]string{"total_size": "1234", "kind": "test", "format": "pt", "shard": "model-00001-of-00002.safetensors"}
	if !reflect.DeepEqual(s.Metadata(), wantMeta) {
		t.Errorf("metadata %v, want %v", s.Metadata(), wantMeta)
	}
	var names []string
	for _, info := range s.Tensors() {
		names = append(names, info.Name)
	}
	if len(names) != len(in) || !slices.IsSorted(names) {
		t.Errorf("names %v", names)
	}
	for _, td := range in {
		info, data, err := s.Tensor(td.Name)
		if td.Type == "I64" {
			wantErr(t, err, ErrUnsupported, "model-00002-of-00002.safetensors", "I64")
			continue
		}
		if err != nil || !bytes.Equal(data, td.Data) || !reflect.DeepEqual(info, td.Info) {
			t.Errorf("%s: %v", td.Name, err)
		}
	}
}

func TestOpenDirSingleAndErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenDir(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty dir: %v", err)
	}
	in := stTensors(t)[:2]
	if err := WriteSafetensors(filepath.Join(dir, stSingleName), in, nil); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tensors()) != 2 || len(s.Metadata()) != 0 {
		t.Errorf("single: %v %v", s.Tensors(), s.Metadata())
	}
	s.Close()

	sharded, _ := writeSharded(t)
	cases := []struct {
		name  string
		index any
		want  string
	}{
		{"escape", map[string]any{"weight_map": map[string]string{"x": "../model.safetensors"}}, `shard "../model.safetensors" of tensor "x" is not a file name`},
		{"absolute", map[string]any{"weight_map": map[string]string{"x": "/etc/passwd"}}, "is not a file name"},
		{"empty", map[string]any{"weight_map": map[string]string{}}, "no weight_map entries"},
		{"missing shard", map[string]any{"weight_map": map[string]string{"x": "nope.safetensors"}}, "nope.safetensors"},
		{"missing tensor", map[string]any{"weight_map": map[string]string{"ghost": "model-00001-of-00002.safetensors"}}, `tensor "ghost" is not in`},
		{"bad json", []int{1}, "bad index JSON"},
	}
	for _, c := range cases {
		writeIndex(t, sharded, c.index)
		s, err := OpenDir(sharded)
		if err == nil {
			s.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		wantErr(t, err, errors.Unwrap(err), c.want)
	}
}

func TestOpenAutodetect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	if err := WriteSafetensors(path, stTensors(t)[:1], nil); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*Safetensors); !ok {
		t.Errorf("Open returned %T", src)
	}
	src.Close()
	_, err = Open(filepath.Join(dir, "absent.gguf"))
	wantErr(t, err, fs.ErrNotExist, "absent.gguf")
	empty := filepath.Join(dir, "empty.gguf")
	os.WriteFile(empty, nil, 0o644)
	_, err = Open(empty)
	wantErr(t, err, ErrFormat, "empty file")
}
