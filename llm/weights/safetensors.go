package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sightline/sightline/llm/tensor"
)

const (
	// maxSTHeader is the safetensors header limit (the reference implementation's).
	maxSTHeader = 100_000_000
	// maxIndexBytes bounds model.safetensors.index.json.
	maxIndexBytes = 64 << 20
	stMetadataKey = "__metadata__"
	stIndexName   = "model.safetensors.index.json"
	stSingleName  = "model.safetensors"
)

type stDType struct {
	bits  uint64
	dtype tensor.DType
}

// stDTypes lists the safetensors dtypes by name; only F32/F16/BF16 are served.
var stDTypes = map[string]stDType{
	"BOOL": {8, invalidDType}, "U8": {8, invalidDType}, "I8": {8, invalidDType},
	"F8_E5M2": {8, invalidDType}, "F8_E4M3": {8, invalidDType}, "F8_E8M0": {8, invalidDType},
	"I16": {16, invalidDType}, "U16": {16, invalidDType}, "F16": {16, tensor.F16}, "BF16": {16, tensor.BF16},
	"I32": {32, invalidDType}, "U32": {32, invalidDType}, "F32": {32, tensor.F32},
	"I64": {64, invalidDType}, "U64": {64, invalidDType}, "F64": {64, invalidDType}, "C64": {64, invalidDType},
	"F4": {4, invalidDType}, "F6_E2M3": {6, invalidDType}, "F6_E3M2": {6, invalidDType},
}

// Safetensors is one safetensors file or a sharded model directory. It implements Source.
type Safetensors struct {
	path    string // the file, or the directory for a sharded set
	files   []*stFile
	tensors []stEntry // sorted by name
	index   map[string]int
	meta    map[string]string
}

type stFile struct {
	path    string
	data    []byte // nil after Close
	release func() error
	meta    map[string]string
	entries []stEntry
}

type stEntry struct {
	info       Info
	file       int    // index into Safetensors.files
	start, end uint64 // absolute byte range in the file
}

var _ Source = (*Safetensors)(nil)

// OpenSafetensors maps and parses one safetensors file.
func OpenSafetensors(path string) (*Safetensors, error) {
	f, err := openSTFile(path)
	if err != nil {
		return nil, err
	}
	s := &Safetensors{path: path, files: []*stFile{f}, meta: maps.Clone(f.meta), tensors: f.entries}
	s.buildIndex()
	return s, nil
}

func openSTFile(path string) (*stFile, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	meta, entries, err := parseSafetensors(path, data)
	if err != nil {
		release()
		return nil, err
	}
	return &stFile{path: path, data: data, release: release, meta: meta, entries: entries}, nil
}

// OpenDir opens a Hugging Face model directory: the shards listed by
// model.safetensors.index.json (its weight_map decides which tensors are
// visible), else model.safetensors.
func OpenDir(dir string) (*Safetensors, error) {
	idx := filepath.Join(dir, stIndexName)
	if _, err := os.Stat(idx); err == nil {
		return openSharded(dir, idx)
	}
	single := filepath.Join(dir, stSingleName)
	if _, err := os.Stat(single); err == nil {
		return OpenSafetensors(single)
	}
	return nil, newErr(dir, fs.ErrNotExist, "no %s or %s in the directory", stSingleName, stIndexName)
}

func openSharded(dir, idx string) (*Safetensors, error) {
	st, err := os.Stat(idx)
	if err != nil {
		return nil, &Error{File: idx, Msg: err.Error(), Kind: err}
	}
	if st.Size() > maxIndexBytes {
		return nil, newErr(idx, ErrFormat, "index is %d bytes (limit %d)", st.Size(), maxIndexBytes)
	}
	raw, err := os.ReadFile(idx)
	if err != nil {
		return nil, &Error{File: idx, Msg: err.Error(), Kind: err}
	}
	var index struct {
		Metadata  map[string]json.RawMessage `json:"metadata"`
		WeightMap map[string]string          `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, newErr(idx, ErrFormat, "bad index JSON: %v", err)
	}
	if len(index.WeightMap) == 0 {
		return nil, newErr(idx, ErrFormat, "index has no weight_map entries")
	}
	shardIdx := map[string]int{}
	var shards []string
	for _, name := range slices.Sorted(maps.Keys(index.WeightMap)) {
		shard := index.WeightMap[name]
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) || filepath.Base(shard) != shard {
			return nil, newErr(idx, ErrFormat, "weight_map: shard %q of tensor %q is not a file name in the model directory", shard, name)
		}
		if _, ok := shardIdx[shard]; !ok {
			shardIdx[shard] = -1
			shards = append(shards, shard)
		}
	}
	sort.Strings(shards)
	s := &Safetensors{path: dir, meta: map[string]string{}}
	for i, shard := range shards {
		f, err := openSTFile(filepath.Join(dir, shard))
		if err != nil {
			s.Close()
			return nil, err
		}
		shardIdx[shard] = i
		s.files = append(s.files, f)
	}
	for _, name := range slices.Sorted(maps.Keys(index.WeightMap)) {
		fi := shardIdx[index.WeightMap[name]]
		f := s.files[fi]
		j, found := slices.BinarySearchFunc(f.entries, name, func(e stEntry, n string) int { return strings.Compare(e.info.Name, n) })
		if !found {
			s.Close()
			return nil, newErr(idx, ErrFormat, "weight_map: tensor %q is not in %s", name, f.path)
		}
		e := f.entries[j]
		e.file = fi
		s.tensors = append(s.tensors, e)
	}
	for k, v := range index.Metadata {
		var str string
		if json.Unmarshal(v, &str) == nil {
			s.meta[k] = str
		} else {
			s.meta[k] = string(v)
		}
	}
	for _, f := range s.files {
		for k, v := range f.meta {
			if _, ok := s.meta[k]; !ok {
				s.meta[k] = v
			}
		}
	}
	s.buildIndex()
	return s, nil
}

func (s *Safetensors) buildIndex() {
	s.index = make(map[string]int, len(s.tensors))
	for i, e := range s.tensors {
		s.index[e.info.Name] = i
	}
}

// Path is the file, or the directory of a sharded set.
func (s *Safetensors) Path() string { return s.path }

// Files lists the safetensors files in use (shards sorted by name).
func (s *Safetensors) Files() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = f.path
	}
	return out
}

// Metadata is a copy of the file's __metadata__; for a sharded set, the
// index's "metadata" (string values as is, others as JSON text) plus the
// shards' __metadata__ keys it lacks (first shard wins).
func (s *Safetensors) Metadata() map[string]string { return maps.Clone(s.meta) }

// Tensors lists every tensor sorted by name.
func (s *Safetensors) Tensors() []Info {
	out := make([]Info, len(s.tensors))
	for i, e := range s.tensors {
		out[i] = e.info.clone()
	}
	return out
}

// Tensor returns a tensor's info and bytes (see Source).
func (s *Safetensors) Tensor(name string) (Info, []byte, error) {
	i, ok := s.index[name]
	if !ok {
		return Info{}, nil, newErr(s.path, ErrNotFound, "tensor %q not found", name)
	}
	e := s.tensors[i]
	f := s.files[e.file]
	info := e.info.clone()
	if !info.DType.Valid() {
		return info, nil, newErr(f.path, ErrUnsupported, "tensor %q: safetensors dtype %s is not supported", name, info.Type)
	}
	if f.data == nil {
		return info, nil, newErr(f.path, ErrClosed, "tensor %q: file is closed", name)
	}
	return info, f.data[e.start:e.end:e.end], nil
}

// Close unmaps every file. Byte slices returned by Tensor become invalid.
func (s *Safetensors) Close() error {
	var errs []error
	for _, f := range s.files {
		f.data = nil
		if f.release != nil {
			if err := f.release(); err != nil {
				errs = append(errs, newErr(f.path, err, "munmap: %v", err))
			}
			f.release = nil
		}
	}
	return errors.Join(errs...)
}

type stJSONTensor struct {
	DType       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// parseSafetensors parses the header of a whole safetensors file held in b
// and validates every tensor's range; entries come back sorted by name.
func parseSafetensors(file string, b []byte) (map[string]string, []stEntry, error) {
	errf := func(format string, args ...any) error { return newErr(file, ErrFormat, format, args...) }
	if len(b) < 8 {
		return nil, nil, errf("file too short for a safetensors header (%d bytes)", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxSTHeader {
		return nil, nil, errf("header length %d exceeds the %d-byte limit", n, maxSTHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, errf("header length %d exceeds the %d bytes after it (file size %d)", n, len(b)-8, len(b))
	}
	hdr := b[8 : 8+n]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, errf("header is not a JSON object")
	}
	dataStart, dataLen := 8+n, uint64(len(b))-8-n
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, errf("bad header JSON: %v", err)
	}
	var meta map[string]string
	seen := map[string]bool{}
	var entries []stEntry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, errf("bad header JSON: %v", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, nil, errf("duplicate header entry %q", name)
		}
		seen[name] = true
		if name == stMetadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, errf("__metadata__ is not a map of strings: %v", err)
			}
			continue
		}
		var t stJSONTensor
		if err := dec.Decode(&t); err != nil {
			return nil, nil, errf("tensor %q: bad header entry: %v", name, err)
		}
		e, err := stValidate(file, name, t, dataStart, dataLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, errf("bad header JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errf("trailing data after the header JSON object")
	}
	if err := checkOverlap(file, entries, func(e stEntry) (string, uint64, uint64) { return e.info.Name, e.start, e.end }); err != nil {
		return nil, nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].info.Name < entries[j].info.Name })
	if meta == nil {
		meta = map[string]string{}
	}
	return meta, entries, nil
}

func stValidate(file, name string, t stJSONTensor, dataStart, dataLen uint64) (stEntry, error) {
	errf := func(format string, args ...any) (stEntry, error) {
		return stEntry{}, newErr(file, ErrFormat, "tensor %q: "+format, append([]any{name}, args...)...)
	}
	dt, ok := stDTypes[t.DType]
	if !ok {
		return errf("unknown dtype %q", t.DType)
	}
	if t.Shape == nil {
		return errf("missing shape")
	}
	if len(t.DataOffsets) != 2 {
		return errf("data_offsets must hold 2 numbers, got %d", len(t.DataOffsets))
	}
	shape := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		if d > math.MaxInt {
			return errf("dimension %d is too large", d)
		}
		shape[i] = int(d)
	}
	numel, ok := numElements(shape)
	if !ok {
		return errf("shape %v overflows", shape)
	}
	nbits, ok := mulOK(uint64(numel), dt.bits, min(dataLen, math.MaxUint64/16)*8+7)
	if !ok {
		return errf("%s shape %v is larger than the %d-byte data section", t.DType, shape, dataLen)
	}
	if nbits%8 != 0 {
		return errf("%d %s elements are not a whole number of bytes", numel, t.DType)
	}
	begin, end := t.DataOffsets[0], t.DataOffsets[1]
	if begin > end {
		return errf("data_offsets [%d, %d) are reversed", begin, end)
	}
	if end > dataLen {
		return errf("data_offsets [%d, %d) beyond end of file: the data section is %d bytes (file size %d)", begin, end, dataLen, dataStart+dataLen)
	}
	if end-begin != nbits/8 {
		return errf("data_offsets [%d, %d) hold %d bytes, but %s shape %v needs %d", begin, end, end-begin, t.DType, shape, nbits/8)
	}
	return stEntry{
		info:  Info{Name: name, DType: dt.dtype, Type: t.DType, Shape: shape},
		start: dataStart + begin,
		end:   dataStart + end,
	}, nil
}
