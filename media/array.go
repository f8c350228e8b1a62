package media

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// maxRank bounds the nesting depth of an array.
const maxRank = 8

// Len is the element count implied by the shape.
func (a Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// ParseArray decodes a numeric tensor from JSON: a number, a nested list of
// numbers with a rectangular shape (kept as Shape), or an object
// {"shape": [...], "data": "<base64 of little-endian float32>"}.
// maxElems bounds the element count (≤ 0: unbounded beyond the input size).
func ParseArray(raw []byte, maxElems int64) (Array, error) {
	p := arrayParser{buf: raw, max: maxElems}
	p.skipSpace()
	if p.pos < len(p.buf) && p.buf[p.pos] == '{' {
		return parseB64Object(raw, maxElems)
	}
	var a Array
	if err := p.value(0, &a); err != nil {
		return Array{}, err
	}
	p.skipSpace()
	if p.pos != len(p.buf) {
		return Array{}, fmt.Errorf("%w: trailing data after array at byte %d", ErrInvalid, p.pos)
	}
	if a.Shape == nil {
		a.Shape = []int{}
	}
	return a, nil
}

// arrayParser reads nested numeric lists without building a generic JSON tree.
// The shape is fixed by the first path to a leaf; every sibling must match it.
type arrayParser struct {
	buf   []byte
	pos   int
	max   int64
	shape []int // discovered shape; len == rank once a leaf was seen
	rank  int   // -1 until known
	known bool
}

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *arrayParser) fail(msg string) error {
	return fmt.Errorf("%w: array: %s at byte %d", ErrInvalid, msg, p.pos)
}

// value parses the value at nesting depth d, appending leaves to a.Data.
func (p *arrayParser) value(d int, a *Array) error {
	p.skipSpace()
	if p.pos >= len(p.buf) {
		return p.fail("unexpected end")
	}
	if p.buf[p.pos] != '[' {
		if p.known && d != len(p.shape) {
			return p.fail("ragged nesting")
		}
		if !p.known {
			p.known = true
			p.shape = p.shape[:d]
			a.Shape = p.shape
		}
		if p.max > 0 && int64(len(a.Data)) >= p.max {
			return fmt.Errorf("%w: array has more than %d elements", ErrTooLarge, p.max)
		}
		v, err := p.number()
		if err != nil {
			return err
		}
		a.Data = append(a.Data, v)
		return nil
	}
	if d >= maxRank {
		return p.fail(fmt.Sprintf("nesting deeper than %d", maxRank))
	}
	if p.known && d >= len(p.shape) {
		return p.fail("ragged nesting")
	}
	if !p.known && len(p.shape) == d {
		p.shape = append(p.shape, -1)
	}
	p.pos++ // '['
	n := 0
	p.skipSpace()
	if p.pos < len(p.buf) && p.buf[p.pos] == ']' {
		p.pos++
	} else {
		for {
			if err := p.value(d+1, a); err != nil {
				return err
			}
			n++
			p.skipSpace()
			if p.pos >= len(p.buf) {
				return p.fail("unterminated list")
			}
			c := p.buf[p.pos]
			p.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				return p.fail("expected ',' or ']'")
			}
		}
	}
	if n == 0 {
		// An empty list fixes the rank at d+1 with a zero extent.
		if p.known && d+1 != len(p.shape) {
			return p.fail("ragged nesting")
		}
		if !p.known {
			p.known = true
			p.shape = p.shape[:d+1]
			a.Shape = p.shape
		}
	}
	switch {
	case p.shape[d] == -1:
		p.shape[d] = n
	case p.shape[d] != n:
		return p.fail(fmt.Sprintf("ragged list: %d elements where %d expected", n, p.shape[d]))
	}
	return nil
}

func (p *arrayParser) number() (float32, error) {
	start := p.pos
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.pos++
			continue
		}
		break
	}
	s := p.buf[start:p.pos]
	if len(s) == 0 || !json.Valid(s) {
		p.pos = start
		return 0, p.fail("expected a number")
	}
	v, err := strconv.ParseFloat(string(s), 32)
	if err != nil {
		return 0, p.fail(fmt.Sprintf("number %s out of float32 range", s))
	}
	return float32(v), nil
}

// parseB64Object decodes {"shape":[...],"data":"<base64 f32le>"}.
func parseB64Object(raw []byte, maxElems int64) (Array, error) {
	var o struct {
		Shape []int  `json:"shape"`
		Data  string `json:"data"`
	}
	if err := strictUnmarshal(raw, &o); err != nil {
		return Array{}, fmt.Errorf("%w: array object: %v", ErrInvalid, err)
	}
	if o.Shape == nil {
		return Array{}, fmt.Errorf("%w: array object needs \"shape\"", ErrInvalid)
	}
	return decodeB64F32(o.Data, o.Shape, maxElems)
}

// decodeB64F32 decodes base64 little-endian float32 data of the given shape.
func decodeB64F32(s string, shape []int, maxElems int64) (Array, error) {
	if len(shape) > maxRank {
		return Array{}, fmt.Errorf("%w: shape rank %d > %d", ErrInvalid, len(shape), maxRank)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return Array{}, fmt.Errorf("%w: negative dimension in shape %v", ErrInvalid, shape)
		}
		if d > 0 && n > math.MaxInt32/int64(d) {
			return Array{}, fmt.Errorf("%w: shape %v too large", ErrTooLarge, shape)
		}
		n *= int64(d)
	}
	if maxElems > 0 && n > maxElems {
		return Array{}, fmt.Errorf("%w: shape %v has more than %d elements", ErrTooLarge, shape, maxElems)
	}
	b, err := decodeBase64(s)
	if err != nil {
		return Array{}, err
	}
	if int64(len(b)) != 4*n {
		return Array{}, fmt.Errorf("%w: %d data bytes for shape %v (want %d)", ErrInvalid, len(b), shape, 4*n)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return Array{Shape: append([]int{}, shape...), Data: data}, nil
}
