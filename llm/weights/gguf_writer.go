package weights

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// GGUFWriter builds a GGUF v3 file. Output is deterministic: metadata in the
// order keys were first set, tensors in the order added, each tensor's data
// padded to the alignment (general.alignment if set as a uint32, else 32).
type GGUFWriter struct {
	keys    []string
	meta    map[string]Value
	tensors []writerTensor
	names   map[string]bool
}

type writerTensor struct {
	TensorData
	typeID uint32
	typ    ggmlType
}

// NewGGUFWriter returns an empty writer.
func NewGGUFWriter() *GGUFWriter {
	return &GGUFWriter{meta: map[string]Value{}, names: map[string]bool{}}
}

// Set stores a metadata value (see ValueOf for the accepted Go types);
// setting a key again replaces its value in place.
func (w *GGUFWriter) Set(key string, v any) error {
	val, err := ValueOf(v)
	if err != nil {
		return fmt.Errorf("weights: GGUF metadata %q: %w", key, err)
	}
	if key == "general.alignment" {
		a, ok := val.V.(uint32)
		if !ok || a == 0 || a > maxAlignment || a&(a-1) != 0 {
			return fmt.Errorf("weights: general.alignment must be a uint32 power of two, got %v (%v)", val.V, val.Type)
		}
	}
	if _, ok := w.meta[key]; !ok {
		w.keys = append(w.keys, key)
	}
	w.meta[key] = val
	return nil
}

// AddTensor queues a tensor; t.Data is referenced, not copied, until written.
// Any GGML type name this package recognises may be written.
func (w *GGUFWriter) AddTensor(t TensorData) error {
	name := t.typeName()
	id, ok := ggmlTypeID(name)
	if !ok {
		return fmt.Errorf("weights: GGUF tensor %q: unknown ggml type %q", t.Name, name)
	}
	if w.names[t.Name] {
		return fmt.Errorf("weights: GGUF tensor %q added twice", t.Name)
	}
	typ := ggmlTypes[id]
	if len(t.Shape) > maxDims {
		return fmt.Errorf("weights: GGUF tensor %q: %d dimensions (at most %d)", t.Name, len(t.Shape), maxDims)
	}
	if _, ok := numElements(t.Shape); !ok {
		return fmt.Errorf("weights: GGUF tensor %q: bad shape %v", t.Name, t.Shape)
	}
	row := 1
	if len(t.Shape) > 0 {
		row = t.Shape[len(t.Shape)-1]
	}
	if uint64(row)%typ.block != 0 {
		return fmt.Errorf("weights: GGUF tensor %q: last dim %d is not a multiple of the %s block size %d", t.Name, row, typ.name, typ.block)
	}
	want, ok := mulOK(uint64(row)/typ.block, typ.size, math.MaxInt)
	for _, d := range t.Shape[:max(len(t.Shape)-1, 0)] {
		if want, ok = mulOK(want, uint64(d), math.MaxInt); !ok {
			break
		}
	}
	if !ok || uint64(len(t.Data)) != want {
		return fmt.Errorf("weights: GGUF tensor %q: %s shape %v needs %d bytes, got %d", t.Name, typ.name, t.Shape, want, len(t.Data))
	}
	t.Shape = append([]int(nil), t.Shape...)
	w.names[t.Name] = true
	w.tensors = append(w.tensors, writerTensor{TensorData: t, typeID: id, typ: typ})
	return nil
}

func (w *GGUFWriter) alignment() uint64 {
	if a, ok := w.meta["general.alignment"].V.(uint32); ok {
		return uint64(a)
	}
	return defaultAlignment
}

// header encodes everything before the data section, padded to the alignment.
func (w *GGUFWriter) header() []byte {
	le := binary.LittleEndian
	align := w.alignment()
	b := []byte(ggufMagic)
	b = le.AppendUint32(b, 3)
	b = le.AppendUint64(b, uint64(len(w.tensors)))
	b = le.AppendUint64(b, uint64(len(w.keys)))
	for _, k := range w.keys {
		b = appendString(b, k)
		v := w.meta[k]
		b = le.AppendUint32(b, uint32(v.Type))
		b = appendValue(b, v)
	}
	var off uint64
	for _, t := range w.tensors {
		b = appendString(b, t.Name)
		b = le.AppendUint32(b, uint32(len(t.Shape)))
		for i := len(t.Shape) - 1; i >= 0; i-- {
			b = le.AppendUint64(b, uint64(t.Shape[i]))
		}
		b = le.AppendUint32(b, t.typeID)
		b = le.AppendUint64(b, off)
		off = padTo(off+uint64(len(t.Data)), align)
	}
	return append(b, make([]byte, padTo(uint64(len(b)), align)-uint64(len(b)))...)
}

func padTo(n, align uint64) uint64 { return (n + align - 1) / align * align }

// WriteTo writes the file to out.
func (w *GGUFWriter) WriteTo(out io.Writer) (int64, error) {
	align := w.alignment()
	n, err := out.Write(w.header())
	total := int64(n)
	if err != nil {
		return total, err
	}
	zeros := make([]byte, align)
	for _, t := range w.tensors {
		n, err = out.Write(t.Data)
		total += int64(n)
		if err != nil {
			return total, err
		}
		pad := padTo(uint64(len(t.Data)), align) - uint64(len(t.Data))
		n, err = out.Write(zeros[:pad])
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Bytes returns the whole file.
func (w *GGUFWriter) Bytes() []byte {
	var buf sliceWriter
	w.WriteTo(&buf) // sliceWriter never fails
	return buf
}

type sliceWriter []byte

func (s *sliceWriter) Write(p []byte) (int, error) {
	*s = append(*s, p...)
	return len(p), nil
}

// WriteFile writes the file to path (created or truncated).
func (w *GGUFWriter) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	_, err = w.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("weights: write %s: %w", path, err)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue encodes v (already checked by ValueOf) without its type id.
func appendValue(b []byte, v Value) []byte {
	le := binary.LittleEndian
	switch x := v.V.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	case string:
		return appendString(b, x)
	case Array:
		b = le.AppendUint32(b, uint32(x.Elem))
		b = le.AppendUint64(b, uint64(x.Len()))
		return appendElems(b, x)
	}
	return b
}

func appendElems(b []byte, a Array) []byte {
	each := func(n int, f func(int) Value) []byte {
		for i := range n {
			b = appendValue(b, f(i))
		}
		return b
	}
	switch s := a.V.(type) {
	case []uint8:
		return append(b, s...)
	case []int8:
		return each(len(s), func(i int) Value { return Value{TypeInt8, s[i]} })
	case []bool:
		return each(len(s), func(i int) Value { return Value{TypeBool, s[i]} })
	case []uint16:
		return each(len(s), func(i int) Value { return Value{TypeUint16, s[i]} })
	case []int16:
		return each(len(s), func(i int) Value { return Value{TypeInt16, s[i]} })
	case []uint32:
		return each(len(s), func(i int) Value { return Value{TypeUint32, s[i]} })
	case []int32:
		return each(len(s), func(i int) Value { return Value{TypeInt32, s[i]} })
	case []float32:
		return each(len(s), func(i int) Value { return Value{TypeFloat32, s[i]} })
	case []uint64:
		return each(len(s), func(i int) Value { return Value{TypeUint64, s[i]} })
	case []int64:
		return each(len(s), func(i int) Value { return Value{TypeInt64, s[i]} })
	case []float64:
		return each(len(s), func(i int) Value { return Value{TypeFloat64, s[i]} })
	case []string:
		return each(len(s), func(i int) Value { return Value{TypeString, s[i]} })
	case []Array:
		return each(len(s), func(i int) Value { return Value{TypeArray, s[i]} })
	}
	return b
}
