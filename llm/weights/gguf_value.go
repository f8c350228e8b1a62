package weights

import (
	"fmt"
	"math"
	"slices"
)

// ValueType is a GGUF metadata value type id.
type ValueType uint32

// GGUF metadata value types (gguf spec ids).
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// fixedSize is the encoded size of a fixed-size type, 0 for string/array/unknown.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// minSize is the least number of bytes one encoded value of type t occupies.
func (t ValueType) minSize() int {
	switch t {
	case TypeString:
		return 8 // length
	case TypeArray:
		return 12 // element type + count
	}
	return t.fixedSize()
}

// Value is one GGUF metadata value. V holds the Go type matching Type: uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, or Array for TypeArray.
type Value struct {
	Type ValueType
	V    any
}

// Array is a GGUF metadata array. V is a slice of the Go type matching Elem
// ([]uint8 ... []float64, []bool, []string), or []Array when Elem is TypeArray.
type Array struct {
	Elem ValueType
	V    any
}

// Len is the number of elements.
func (a Array) Len() int {
	switch v := a.V.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// ValueOf wraps a Go value as a metadata Value: sized scalars, bool, string,
// slices of those, Array (nested arrays: Array{Elem: TypeArray, V: []Array{...}})
// and Value itself are accepted.
func ValueOf(v any) (Value, error) {
	switch x := v.(type) {
	case Value:
		return x, x.check(0)
	case Array:
		val := Value{Type: TypeArray, V: x}
		return val, val.check(0)
	case uint8:
		return Value{TypeUint8, x}, nil
	case int8:
		return Value{TypeInt8, x}, nil
	case uint16:
		return Value{TypeUint16, x}, nil
	case int16:
		return Value{TypeInt16, x}, nil
	case uint32:
		return Value{TypeUint32, x}, nil
	case int32:
		return Value{TypeInt32, x}, nil
	case float32:
		return Value{TypeFloat32, x}, nil
	case bool:
		return Value{TypeBool, x}, nil
	case string:
		return Value{TypeString, x}, nil
	case uint64:
		return Value{TypeUint64, x}, nil
	case int64:
		return Value{TypeInt64, x}, nil
	case float64:
		return Value{TypeFloat64, x}, nil
	}
	a, err := arrayOf(v, 0)
	if err != nil {
		return Value{}, err
	}
	return Value{TypeArray, a}, nil
}

func arrayOf(v any, depth int) (Array, error) {
	if depth > maxArrayDepth {
		return Array{}, fmt.Errorf("weights: arrays nested deeper than %d", maxArrayDepth)
	}
	var elem ValueType
	switch x := v.(type) {
	case []uint8:
		elem = TypeUint8
	case []int8:
		elem = TypeInt8
	case []uint16:
		elem = TypeUint16
	case []int16:
		elem = TypeInt16
	case []uint32:
		elem = TypeUint32
	case []int32:
		elem = TypeInt32
	case []float32:
		elem = TypeFloat32
	case []bool:
		elem = TypeBool
	case []string:
		elem = TypeString
	case []uint64:
		elem = TypeUint64
	case []int64:
		elem = TypeInt64
	case []float64:
		elem = TypeFloat64
	case []Array:
		a := Array{TypeArray, x}
		return a, Value{TypeArray, a}.check(depth)
	default:
		return Array{}, fmt.Errorf("weights: %T is not a GGUF metadata type (use sized scalars, their slices, or Array)", v)
	}
	return Array{elem, v}, nil
}

// maxArrayDepth bounds array nesting in files and in values written.
const maxArrayDepth = 8

// check verifies that V matches Type (recursively for arrays).
func (v Value) check(depth int) error {
	ok := false
	switch v.Type {
	case TypeUint8:
		_, ok = v.V.(uint8)
	case TypeInt8:
		_, ok = v.V.(int8)
	case TypeUint16:
		_, ok = v.V.(uint16)
	case TypeInt16:
		_, ok = v.V.(int16)
	case TypeUint32:
		_, ok = v.V.(uint32)
	case TypeInt32:
		_, ok = v.V.(int32)
	case TypeFloat32:
		_, ok = v.V.(float32)
	case TypeBool:
		_, ok = v.V.(bool)
	case TypeString:
		_, ok = v.V.(string)
	case TypeUint64:
		_, ok = v.V.(uint64)
	case TypeInt64:
		_, ok = v.V.(int64)
	case TypeFloat64:
		_, ok = v.V.(float64)
	case TypeArray:
		a, isArr := v.V.(Array)
		if !isArr {
			break
		}
		if depth >= maxArrayDepth {
			return fmt.Errorf("weights: arrays nested deeper than %d", maxArrayDepth)
		}
		if a.Elem == TypeArray {
			subs, isSubs := a.V.([]Array)
			if !isSubs {
				break
			}
			for _, s := range subs {
				if err := (Value{TypeArray, s}).check(depth + 1); err != nil {
					return err
				}
			}
			return nil
		}
		got, err := arrayOf(a.V, depth)
		ok = err == nil && got.Elem == a.Elem
	}
	if !ok {
		return fmt.Errorf("weights: metadata value %T does not match type %v", v.V, v.Type)
	}
	return nil
}

// asInt64 converts integer scalars; ok is false for other types or uint64 > MaxInt64.
func (v Value) asInt64() (int64, bool) {
	switch x := v.V.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= math.MaxInt64
	}
	return 0, false
}

func (v Value) isInteger() bool {
	switch v.Type {
	case TypeUint8, TypeInt8, TypeUint16, TypeInt16, TypeUint32, TypeInt32, TypeUint64, TypeInt64:
		return true
	}
	return false
}

// Keys lists the metadata keys in file order.
func (g *GGUF) Keys() []string { return slices.Clone(g.keys) }

// Value returns the raw metadata value of key.
func (g *GGUF) Value(key string) (Value, bool) {
	v, ok := g.meta[key]
	return v, ok
}

// String returns a string value.
func (g *GGUF) String(key string) (string, bool) {
	s, ok := g.meta[key].V.(string)
	return s, ok
}

// Uint returns any integer value; false if it is negative or not an integer.
func (g *GGUF) Uint(key string) (uint64, bool) {
	v := g.meta[key]
	if u, ok := v.V.(uint64); ok {
		return u, true
	}
	i, ok := v.asInt64()
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// Int returns any integer value that fits in an int64.
func (g *GGUF) Int(key string) (int64, bool) { return g.meta[key].asInt64() }

// Float returns a float or integer value as float64.
func (g *GGUF) Float(key string) (float64, bool) {
	v := g.meta[key]
	switch x := v.V.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case uint64:
		return float64(x), true
	}
	i, ok := v.asInt64()
	return float64(i), ok
}

// Bool returns a bool value.
func (g *GGUF) Bool(key string) (bool, bool) {
	b, ok := g.meta[key].V.(bool)
	return b, ok
}

func (g *GGUF) array(key string) (Array, bool) {
	a, ok := g.meta[key].V.(Array)
	return a, ok
}

// Strings returns a copy of a string array.
func (g *GGUF) Strings(key string) ([]string, bool) {
	a, _ := g.array(key)
	s, ok := a.V.([]string)
	return slices.Clone(s), ok
}

// Float32s returns a numeric array (float or integer elements) as float32.
func (g *GGUF) Float32s(key string) ([]float32, bool) {
	a, ok := g.array(key)
	if !ok {
		return nil, false
	}
	if f, ok := a.V.([]float32); ok {
		return slices.Clone(f), true
	}
	if f, ok := a.V.([]float64); ok {
		out := make([]float32, len(f))
		for i, x := range f {
			out[i] = float32(x)
		}
		return out, true
	}
	ints, ok := intsOf(a)
	if !ok {
		return nil, false
	}
	out := make([]float32, len(ints))
	for i, x := range ints {
		out[i] = float32(x)
	}
	return out, true
}

// Int32s returns an integer array of any element type; false if an element
// does not fit in an int32.
func (g *GGUF) Int32s(key string) ([]int32, bool) {
	a, ok := g.array(key)
	if !ok {
		return nil, false
	}
	if v, ok := a.V.([]int32); ok {
		return slices.Clone(v), true
	}
	ints, ok := intsOf(a)
	if !ok {
		return nil, false
	}
	out := make([]int32, len(ints))
	for i, x := range ints {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// intsOf widens an integer array; false for other element types or uint64 > MaxInt64.
func intsOf(a Array) ([]int64, bool) {
	if a.Elem == TypeUint64 {
		u, _ := a.V.([]uint64)
		out := make([]int64, len(u))
		for i, x := range u {
			if x > math.MaxInt64 {
				return nil, false
			}
			out[i] = int64(x)
		}
		return out, true
	}
	if a.Elem == TypeInt64 {
		v, _ := a.V.([]int64)
		return slices.Clone(v), true
	}
	out := make([]int64, 0, a.Len())
	switch v := a.V.(type) {
	case []uint8:
		for _, x := range v {
			out = append(out, int64(x))
		}
	case []int8:
		for _, x := range v {
			out = append(out, int64(x))
		}
	case []uint16:
		for _, x := range v {
			out = append(out, int64(x))
		}
	case []int16:
		for _, x := range v {
			out = append(out, int64(x))
		}
	case []uint32:
		for _, x := range v {
			out = append(out, int64(x))
		}
	case []int32:
		for _, x := range v {
			out = append(out, int64(x))
		}
	default:
		return nil, false
	}
	return out, true
}

// Version is the GGUF format version (2 or 3).
func (g *GGUF) Version() int { return int(g.version) }

// Arch is general.architecture ("" if absent).
func (g *GGUF) Arch() string {
	s, _ := g.String("general.architecture")
	return s
}
