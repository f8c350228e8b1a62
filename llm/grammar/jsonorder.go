package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The JSON Schema library decodes objects into maps; property order comes
// from this order-preserving view of the same document.

const maxJSONDepth = 512

// jtree is a decoded JSON value that keeps object key order.
type jtree struct {
	str  *string // string values
	keys []string
	obj  map[string]*jtree
	arr  []*jtree
}

func parseOrdered(src []byte) (*jtree, error) {
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	t, err := parseTree(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the top-level value")
	}
	return t, nil
}

func parseTree(d *json.Decoder, depth int) (*jtree, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nesting deeper than %d", maxJSONDepth)
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		t := &jtree{obj: map[string]*jtree{}}
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := parseTree(d, depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := t.obj[k]; !dup {
				t.keys = append(t.keys, k)
			}
			t.obj[k] = v
		}
		_, err := d.Token()
		return t, err
	case json.Delim('['):
		t := &jtree{arr: []*jtree{}}
		for d.More() {
			v, err := parseTree(d, depth+1)
			if err != nil {
				return nil, err
			}
			t.arr = append(t.arr, v)
		}
		_, err := d.Token()
		return t, err
	}
	if s, ok := tok.(string); ok {
		return &jtree{str: &s}, nil
	}
	return &jtree{}, nil
}

// at resolves a JSON pointer ("" or "/a/0/b~1c").
func (t *jtree) at(ptr string) *jtree {
	if ptr == "" {
		return t
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	cur := t
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch {
		case cur == nil:
			return nil
		case cur.obj != nil:
			cur = cur.obj[tok]
		case cur.arr != nil:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(cur.arr) {
				return nil
			}
			cur = cur.arr[i]
		default:
			return nil
		}
	}
	return cur
}
