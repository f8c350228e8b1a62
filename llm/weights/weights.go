// Package weights reads model weights from GGUF files and Hugging Face
// safetensors (one file or a sharded directory) through one Source interface,
// and writes both formats for tests and tiny-model generators.
//
// Files are memory-mapped read-only; tensor data is returned as views into the
// mapping and stays valid until Close. Every header value is checked against
// the file size before it is used, so truncated, corrupt or hostile files give
// an *Error naming the file and the problem, never a panic or an allocation
// larger than the file.
package weights

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"

	"github.com/sightline/sightline/llm/tensor"
)

// Sentinel errors; every error of this package wraps one of them (or an os error).
var (
	ErrFormat      = errors.New("weights: malformed file")
	ErrNotFound    = errors.New("weights: tensor not found")
	ErrUnsupported = errors.New("weights: unsupported tensor type")
	ErrClosed      = errors.New("weights: source closed")
)

// Error is the error type of this package: the file and the problem.
type Error struct {
	File string // path as given to Open*
	Msg  string // the problem, e.g. `tensor "x": data [a, b) beyond end of file (size n)`
	Kind error  // ErrFormat, ErrNotFound, ErrUnsupported, ErrClosed or an os error
}

func (e *Error) Error() string { return "weights: " + e.File + ": " + e.Msg }

// Unwrap returns Kind, so errors.Is(err, ErrFormat) and friends work.
func (e *Error) Unwrap() error { return e.Kind }

func newErr(file string, kind error, format string, args ...any) *Error {
	return &Error{File: file, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Info describes one tensor.
type Info struct {
	Name string
	// DType is the element type for the dtypes this package serves (F32, F16,
	// BF16 and the GGUF block types of tensor.DType: Q4_0 … Q8_0, Q2_K … Q6_K,
	// IQ4_NL, IQ4_XS); for any other type it is not Valid() and Type names it.
	DType tensor.DType
	// Type is the file's own type name: GGML ("F16", "Q8_0", "Q4_K") or safetensors ("BF16", "I64").
	Type string
	// Shape is row-major, outermost first (GGUF ne reversed); the last dim is
	// the contiguous one and, for block types, a whole number of blocks.
	Shape []int
}

// NumElements is the product of Shape (1 for a scalar).
func (i Info) NumElements() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

func (i Info) clone() Info {
	i.Shape = append([]int(nil), i.Shape...)
	return i
}

// invalidDType marks Info.DType for types this package refuses.
const invalidDType = tensor.DType(math.MaxUint8)

// Source is a set of named tensors backed by one or more files.
type Source interface {
	// Tensors lists every tensor, sorted by name.
	Tensors() []Info
	// Tensor returns the tensor's info and its raw row-major bytes (GGUF blocks
	// along the last dim), a view into the mapping valid until Close. Errors wrap
	// ErrNotFound, ErrUnsupported (the Info is still returned) or ErrClosed.
	// Safe for concurrent use; must not race with Close.
	Tensor(name string) (Info, []byte, error)
	// Close unmaps the files; it is idempotent.
	Close() error
}

// TensorData is one tensor handed to the writers. The type written is Type
// when set, else DType.String(); Shape is outermost first.
type TensorData struct {
	Info
	Data []byte
}

func (t TensorData) typeName() string {
	if t.Type != "" {
		return t.Type
	}
	return t.DType.String()
}

// EncodeTensor builds a TensorData of dtype dt from float32 values in
// row-major order, encoding each row (the last dim) with tensor.EncodeRow.
func EncodeTensor(name string, dt tensor.DType, shape []int, vals []float32) (TensorData, error) {
	n, ok := numElements(shape)
	if !ok || n != len(vals) {
		return TensorData{}, fmt.Errorf("weights: EncodeTensor %q: shape %v does not hold %d values", name, shape, len(vals))
	}
	row := 1
	if len(shape) > 0 {
		row = shape[len(shape)-1]
	}
	var data []byte
	for off := 0; off < len(vals) && row > 0; off += row {
		var err error
		if data, err = tensor.EncodeRow(dt, data, vals[off:off+row]); err != nil {
			return TensorData{}, fmt.Errorf("weights: EncodeTensor %q: %w", name, err)
		}
	}
	return TensorData{Info: Info{Name: name, DType: dt, Type: dt.String(), Shape: append([]int(nil), shape...)}, Data: data}, nil
}

// Open opens a GGUF file, a safetensors file or a Hugging Face model directory.
func Open(path string) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error(), Kind: err}
	}
	if st.IsDir() {
		return OpenDir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error(), Kind: err}
	}
	var magic [4]byte
	_, rerr := f.Read(magic[:])
	f.Close()
	if rerr == nil && bytes.Equal(magic[:], []byte(ggufMagic)) {
		return OpenGGUF(path)
	}
	return OpenSafetensors(path)
}

// numElements multiplies non-negative dims, reporting overflow past MaxInt
// (dims of size 0 still count as 1 for the overflow test).
func numElements(shape []int) (int, bool) {
	n, guard := uint64(1), uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		n *= uint64(d)
		hi, lo := bits.Mul64(guard, uint64(max(d, 1)))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		guard = lo
	}
	return int(n), true
}

// mulOK returns a*b and whether it fits in a uint64 below limit.
func mulOK(a, b, limit uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0 && lo <= limit
}
