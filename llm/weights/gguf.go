package weights

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

const (
	ggufMagic        = "GGUF"
	defaultAlignment = 32
	maxAlignment     = 1 << 30
	maxDims          = 4 // GGML_MAX_DIMS
	minKVBytes       = 8 + 4 + 1
	minTensorBytes   = 8 + 4 + 4 + 8
)

// GGUF is an opened GGUF v2/v3 file: metadata, tensor infos and the mapped data.
// It implements Source.
type GGUF struct {
	path      string
	data      []byte // whole file; nil after Close
	release   func() error
	version   uint32
	keys      []string // file order
	meta      map[string]Value
	alignment uint64
	dataStart uint64
	tensors   []ggufTensor // sorted by name
	index     map[string]int
}

type ggufTensor struct {
	info       Info
	start, end uint64 // absolute byte range in the file
}

var _ Source = (*GGUF)(nil)

// OpenGGUF maps and parses a GGUF file.
func OpenGGUF(path string) (*GGUF, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	g, err := parseGGUF(path, data)
	if err != nil {
		release()
		return nil, err
	}
	g.release = release
	return g, nil
}

// Path is the path the file was opened with.
func (g *GGUF) Path() string { return g.path }

// Alignment is the data alignment (general.alignment, default 32).
func (g *GGUF) Alignment() int { return int(g.alignment) }

// DataOffset is the file offset of the tensor data section.
func (g *GGUF) DataOffset() int64 { return int64(g.dataStart) }

// Tensors lists every tensor sorted by name.
func (g *GGUF) Tensors() []Info {
	out := make([]Info, len(g.tensors))
	for i, t := range g.tensors {
		out[i] = t.info.clone()
	}
	return out
}

// Tensor returns a tensor's info and bytes (see Source).
func (g *GGUF) Tensor(name string) (Info, []byte, error) {
	i, ok := g.index[name]
	if !ok {
		return Info{}, nil, newErr(g.path, ErrNotFound, "tensor %q not found", name)
	}
	t := g.tensors[i]
	info := t.info.clone()
	if !info.DType.Valid() {
		return info, nil, newErr(g.path, ErrUnsupported, "tensor %q: ggml type %s is not supported (supported: %s)",
			name, info.Type, strings.Join(SupportedGGMLTypes(), ", "))
	}
	if g.data == nil {
		return info, nil, newErr(g.path, ErrClosed, "tensor %q: file is closed", name)
	}
	return info, g.data[t.start:t.end:t.end], nil
}

// Close unmaps the file. Byte slices returned by Tensor become invalid.
func (g *GGUF) Close() error {
	g.data = nil
	if g.release == nil {
		return nil
	}
	rel := g.release
	g.release = nil
	if err := rel(); err != nil {
		return newErr(g.path, err, "munmap: %v", err)
	}
	return nil
}

// ggufReader reads little-endian GGUF fields with bounds checks.
type ggufReader struct {
	file string
	b    []byte
	off  int
}

func (r *ggufReader) left() int { return len(r.b) - r.off }

func (r *ggufReader) errf(format string, args ...any) error {
	return newErr(r.file, ErrFormat, format, args...)
}

func (r *ggufReader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, r.errf("%s: truncated at offset %d: need %d bytes, %d left (file size %d)", what, r.off, n, r.left(), len(r.b))
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p, nil
}

func (r *ggufReader) u32(what string) (uint32, error) {
	p, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (r *ggufReader) u64(what string) (uint64, error) {
	p, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

func (r *ggufReader) str(what string) (string, error) {
	at := r.off
	n, err := r.u64(what)
	if err != nil {
		return "", err
	}
	if n > uint64(r.left()) {
		return "", r.errf("%s: string length %d at offset %d exceeds the %d bytes left (file size %d)", what, n, at, r.left(), len(r.b))
	}
	p, _ := r.take(int(n), what)
	return string(p), nil
}

// parseGGUF parses a whole GGUF file held in b; file names it in errors.
func parseGGUF(file string, b []byte) (*GGUF, error) {
	r := &ggufReader{file: file, b: b}
	magic, err := r.take(4, "magic")
	if err != nil {
		return nil, r.errf("not a GGUF file: %d bytes", len(b))
	}
	if string(magic) != ggufMagic {
		return nil, r.errf("not a GGUF file (magic %q)", magic)
	}
	version, err := r.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, r.errf("GGUF v1 is not supported (v2 and v3 are)")
	case version&0xffff == 0 && (version>>24 == 2 || version>>24 == 3):
		return nil, r.errf("GGUF version %#x: big-endian files are not supported", version)
	default:
		return nil, r.errf("unsupported GGUF version %d", version)
	}
	nTensors, err := r.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := r.u64("metadata count")
	if err != nil {
		return nil, err
	}
	left := uint64(r.left())
	if nKV > left/minKVBytes || nTensors > left/minTensorBytes || nKV*minKVBytes+nTensors*minTensorBytes > left {
		return nil, r.errf("header claims %d metadata entries and %d tensors, more than the %d bytes left can hold", nKV, nTensors, left)
	}
	g := &GGUF{path: file, data: b, version: version, alignment: defaultAlignment,
		keys: make([]string, 0, nKV), meta: make(map[string]Value, nKV)}
	for i := range nKV {
		key, err := r.str(fmt.Sprintf("metadata key #%d", i))
		if err != nil {
			return nil, err
		}
		if _, dup := g.meta[key]; dup {
			return nil, r.errf("duplicate metadata key %q", key)
		}
		what := fmt.Sprintf("metadata %q", key)
		typ, err := r.u32(what + " type")
		if err != nil {
			return nil, err
		}
		v, err := r.value(ValueType(typ), what, 0)
		if err != nil {
			return nil, err
		}
		g.keys = append(g.keys, key)
		g.meta[key] = v
	}
	if v, ok := g.meta["general.alignment"]; ok {
		a, isInt := v.asInt64()
		if !v.isInteger() || !isInt || a <= 0 || a > maxAlignment || a&(a-1) != 0 {
			return nil, r.errf("general.alignment %v (%v) is not a power of two in [1, %d]", v.V, v.Type, maxAlignment)
		}
		g.alignment = uint64(a)
	}
	raw, err := r.tensorInfos(nTensors)
	if err != nil {
		return nil, err
	}
	g.dataStart = (uint64(r.off) + g.alignment - 1) / g.alignment * g.alignment
	if err := g.placeTensors(raw); err != nil {
		return nil, err
	}
	return g, nil
}

// value reads one metadata value of type t.
func (r *ggufReader) value(t ValueType, what string, depth int) (Value, error) {
	switch t {
	case TypeString:
		s, err := r.str(what)
		return Value{t, s}, err
	case TypeArray:
		a, err := r.array(what, depth)
		return Value{t, a}, err
	}
	n := t.fixedSize()
	if n == 0 {
		return Value{}, r.errf("%s: unknown value type %d at offset %d", what, uint32(t), r.off-4)
	}
	p, err := r.take(n, what)
	if err != nil {
		return Value{}, err
	}
	return decodeScalar(r, t, p, what)
}

func decodeScalar(r *ggufReader, t ValueType, p []byte, what string) (Value, error) {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return Value{t, p[0]}, nil
	case TypeInt8:
		return Value{t, int8(p[0])}, nil
	case TypeBool:
		if p[0] > 1 {
			return Value{}, r.errf("%s: bool byte %d is neither 0 nor 1", what, p[0])
		}
		return Value{t, p[0] == 1}, nil
	case TypeUint16:
		return Value{t, le.Uint16(p)}, nil
	case TypeInt16:
		return Value{t, int16(le.Uint16(p))}, nil
	case TypeUint32:
		return Value{t, le.Uint32(p)}, nil
	case TypeInt32:
		return Value{t, int32(le.Uint32(p))}, nil
	case TypeFloat32:
		return Value{t, math.Float32frombits(le.Uint32(p))}, nil
	case TypeUint64:
		return Value{t, le.Uint64(p)}, nil
	case TypeInt64:
		return Value{t, int64(le.Uint64(p))}, nil
	default: // TypeFloat64
		return Value{t, math.Float64frombits(le.Uint64(p))}, nil
	}
}

// array reads an array header and its elements; count is checked against the
// bytes left before anything is allocated.
func (r *ggufReader) array(what string, depth int) (Array, error) {
	if depth >= maxArrayDepth {
		return Array{}, r.errf("%s: arrays nested deeper than %d", what, maxArrayDepth)
	}
	et, err := r.u32(what + " array type")
	if err != nil {
		return Array{}, err
	}
	elem := ValueType(et)
	if elem.minSize() == 0 {
		return Array{}, r.errf("%s: unknown array element type %d at offset %d", what, et, r.off-4)
	}
	at := r.off
	count, err := r.u64(what + " array length")
	if err != nil {
		return Array{}, err
	}
	if count > uint64(r.left()/elem.minSize()) {
		return Array{}, r.errf("%s: array of %d %v at offset %d exceeds the %d bytes left (file size %d)", what, count, elem, at, r.left(), len(r.b))
	}
	n := int(count)
	switch elem {
	case TypeString:
		out := make([]string, n)
		for i := range out {
			if out[i], err = r.str(what); err != nil {
				return Array{}, err
			}
		}
		return Array{elem, out}, nil
	case TypeArray:
		out := make([]Array, n)
		for i := range out {
			if out[i], err = r.array(what, depth+1); err != nil {
				return Array{}, err
			}
		}
		return Array{elem, out}, nil
	}
	size := elem.fixedSize()
	p, _ := r.take(n*size, what) // fits: count <= left/size
	return Array{elem, decodeFixed(elem, p, n)}, nil
}

// decodeFixed decodes n fixed-size elements of type t from p.
func decodeFixed(t ValueType, p []byte, n int) any {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return slices.Clone(p[:n])
	case TypeInt8:
		return fill(n, func(i int) int8 { return int8(p[i]) })
	case TypeBool:
		return fill(n, func(i int) bool { return p[i] != 0 })
	case TypeUint16:
		return fill(n, func(i int) uint16 { return le.Uint16(p[2*i:]) })
	case TypeInt16:
		return fill(n, func(i int) int16 { return int16(le.Uint16(p[2*i:])) })
	case TypeUint32:
		return fill(n, func(i int) uint32 { return le.Uint32(p[4*i:]) })
	case TypeInt32:
		return fill(n, func(i int) int32 { return int32(le.Uint32(p[4*i:])) })
	case TypeFloat32:
		return fill(n, func(i int) float32 { return math.Float32frombits(le.Uint32(p[4*i:])) })
	case TypeUint64:
		return fill(n, func(i int) uint64 { return le.Uint64(p[8*i:]) })
	case TypeInt64:
		return fill(n, func(i int) int64 { return int64(le.Uint64(p[8*i:])) })
	default: // TypeFloat64
		return fill(n, func(i int) float64 { return math.Float64frombits(le.Uint64(p[8*i:])) })
	}
}

func fill[T any](n int, f func(int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

type rawTensor struct {
	name string
	ne   []uint64 // innermost first
	typ  ggmlType
	off  uint64 // relative to the data section
}

func (r *ggufReader) tensorInfos(n uint64) ([]rawTensor, error) {
	out := make([]rawTensor, 0, n)
	seen := make(map[string]bool, n)
	for i := range n {
		name, err := r.str(fmt.Sprintf("tensor #%d name", i))
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, r.errf("duplicate tensor %q", name)
		}
		seen[name] = true
		what := fmt.Sprintf("tensor %q", name)
		nd, err := r.u32(what + " dimension count")
		if err != nil {
			return nil, err
		}
		if nd > maxDims {
			return nil, r.errf("%s: %d dimensions (at most %d)", what, nd, maxDims)
		}
		t := rawTensor{name: name, ne: make([]uint64, nd)}
		for j := range t.ne {
			if t.ne[j], err = r.u64(what + " dimension"); err != nil {
				return nil, err
			}
		}
		id, err := r.u32(what + " type")
		if err != nil {
			return nil, err
		}
		typ, msg := lookupGGMLType(id)
		if msg != "" {
			return nil, r.errf("%s: %s", what, msg)
		}
		t.typ = typ
		if t.off, err = r.u64(what + " offset"); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// placeTensors validates shapes, sizes, alignment and ranges, and builds the index.
func (g *GGUF) placeTensors(raw []rawTensor) error {
	size := uint64(len(g.data))
	errf := func(format string, args ...any) error { return newErr(g.path, ErrFormat, format, args...) }
	if len(raw) > 0 && g.dataStart > size {
		return errf("data section at offset %d is beyond end of file (size %d)", g.dataStart, size)
	}
	g.tensors = make([]ggufTensor, len(raw))
	for i, t := range raw {
		shape := make([]int, len(t.ne))
		for j, d := range t.ne {
			if d > math.MaxInt {
				return errf("tensor %q: dimension %d is too large", t.name, d)
			}
			shape[len(t.ne)-1-j] = int(d)
		}
		if _, ok := numElements(shape); !ok {
			return errf("tensor %q: shape %v overflows", t.name, shape)
		}
		ne0 := uint64(1)
		if len(t.ne) > 0 {
			ne0 = t.ne[0]
		}
		if ne0%t.typ.block != 0 {
			return errf("tensor %q: row of %d elements is not a whole number of %d-element %s blocks", t.name, ne0, t.typ.block, t.typ.name)
		}
		nbytes, ok := mulOK(ne0/t.typ.block, t.typ.size, size)
		for j := 1; ok && j < len(t.ne); j++ {
			nbytes, ok = mulOK(nbytes, t.ne[j], size)
		}
		if slices.Contains(t.ne, 0) {
			nbytes, ok = 0, true
		}
		if !ok {
			return errf("tensor %q: %s data of shape %v is larger than the file (size %d)", t.name, t.typ.name, shape, size)
		}
		if t.off%g.alignment != 0 {
			return errf("tensor %q: data offset %d is not a multiple of the alignment %d", t.name, t.off, g.alignment)
		}
		if t.off > size-g.dataStart {
			return errf("tensor %q: data offset %d (+ data section at %d) beyond end of file (size %d)", t.name, t.off, g.dataStart, size)
		}
		start := g.dataStart + t.off
		if start+nbytes > size {
			return errf("tensor %q: data [%d, %d) beyond end of file (size %d)", t.name, start, start+nbytes, size)
		}
		dt := t.typ.dtype
		g.tensors[i] = ggufTensor{
			info:  Info{Name: t.name, DType: dt, Type: t.typ.name, Shape: shape},
			start: start,
			end:   start + nbytes,
		}
	}
	if err := checkOverlap(g.path, g.tensors, func(t ggufTensor) (string, uint64, uint64) { return t.info.Name, t.start, t.end }); err != nil {
		return err
	}
	sort.Slice(g.tensors, func(a, b int) bool { return g.tensors[a].info.Name < g.tensors[b].info.Name })
	g.index = make(map[string]int, len(g.tensors))
	for i, t := range g.tensors {
		g.index[t.info.Name] = i
	}
	return nil
}

// checkOverlap reports the first two tensors whose non-empty byte ranges overlap.
func checkOverlap[T any](file string, ts []T, span func(T) (string, uint64, uint64)) error {
	type rng struct {
		name       string
		start, end uint64
	}
	rs := make([]rng, 0, len(ts))
	for _, t := range ts {
		n, s, e := span(t)
		if e > s {
			rs = append(rs, rng{n, s, e})
		}
	}
	slices.SortFunc(rs, func(a, b rng) int {
		if a.start != b.start {
			return cmp.Compare(a.start, b.start)
		}
		return strings.Compare(a.name, b.name)
	})
	for i := 1; i < len(rs); i++ {
		if p, c := rs[i-1], rs[i]; c.start < p.end {
			return newErr(file, ErrFormat, "tensors %q [%d, %d) and %q [%d, %d) overlap", p.name, p.start, p.end, c.name, c.start, c.end)
		}
	}
	return nil
}
