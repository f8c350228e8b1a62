package toolcall

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/sightline/sightline/server/chat"
)

// scanAhead is how long a value may grow before jsonValue and pyCalls stop
// re-reading it on every Feed and wait for its closing bracket instead.
const scanAhead = 2048

// memo remembers, for the value at one output position, how far the search
// for its closing bracket got and, once known, the final answer about it.
type memo struct {
	at    int // output position of the value; -1: none
	pos   int // bytes scanned
	depth int
	quote byte // the open string's quote, or 0
	long  bool // the open string is triple-quoted (Python)
	esc   bool
	end   int // the value's length, once its closing bracket is found

	done  bool // r, n and calls are final
	r     outcome
	n     int
	calls []Call
}

func (x *ctx) memoAt(at int) *memo {
	if x.memo.at != at {
		x.memo = memo{at: at}
	}
	return &x.memo
}

// scan continues the search for the bracket that closes the value at the
// start of s, counting brackets outside strings (Python strings too when
// python is set). It never needs to look back: s only grows.
func (m *memo) scan(s string, python bool) {
	for ; m.end == 0 && m.pos < len(s); m.pos++ {
		c := s[m.pos]
		switch {
		case m.esc:
			m.esc = false
		case m.quote != 0:
			switch {
			case c == '\\':
				m.esc = true
			case c == m.quote && !m.long:
				m.quote = 0
			case c == m.quote:
				switch tripleAt(s[m.pos:], c) {
				case -1:
					return // resume here when more has arrived
				case 1:
					m.quote, m.long = 0, false
					m.pos += 2
				}
			}
		case c == '"' || python && c == '\'':
			if python {
				switch tripleAt(s[m.pos:], c) {
				case -1:
					return
				case 1:
					m.long = true
					m.pos += 2
				}
			}
			m.quote = c
		case c == '[' || c == '{' || python && c == '(':
			m.depth++
		case c == ']' || c == '}' || python && c == ')':
			if m.depth--; m.depth <= 0 {
				m.end = m.pos + 1
			}
		}
	}
}

// tripleAt reports whether s, which starts with the quote c, starts with
// three of them: 1 yes, 0 no, -1 not known yet.
func tripleAt(s string, c byte) int {
	for k := 1; k < 3; k++ {
		if k >= len(s) {
			return -1
		}
		if s[k] != c {
			return 0
		}
	}
	return 1
}

// jsonValue finds the JSON value at the start of s, which is at output
// position at. It answers match with the value's length, needMore while s
// may be the start of one, and noMatch once s cannot be.
func jsonValue(s string, eof bool, x *ctx, at int) (outcome, int) {
	m := x.memoAt(at)
	if m.done {
		return m.r, m.n
	}
	if !eof && len(s) > scanAhead {
		if m.scan(s, false); m.end == 0 {
			return needMore, 0
		}
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var raw json.RawMessage
	switch err := dec.Decode(&raw); {
	case err == nil:
		m.done, m.r, m.n = true, match, int(dec.InputOffset())
		return match, m.n
	case errors.Is(err, io.ErrUnexpectedEOF):
		if !eof {
			return needMore, 0
		}
		return noMatch, 0
	default:
		m.done, m.r, m.n = true, noMatch, 0
		return noMatch, 0
	}
}

// jsonCalls reads the JSON value at the start of s (s[0] is '{' or '[') as
// one call object or, when arrays is set, as a non-empty array of them.
// Every call must name a tool; otherwise it is no match at all.
func jsonCalls(s string, eof, arrays bool, x *ctx, at int) (outcome, int, []Call) {
	r, n := jsonValue(s, eof, x, at)
	if r != match {
		return r, 0, nil
	}
	tools := x.tools
	raw := []byte(s[:n])
	if raw[0] == '{' {
		c, ok := objectCall(raw, tools)
		if !ok {
			return noMatch, 0, nil
		}
		return match, n, []Call{c}
	}
	var elems []json.RawMessage
	if !arrays || json.Unmarshal(raw, &elems) != nil || len(elems) == 0 {
		return noMatch, 0, nil
	}
	calls := make([]Call, 0, len(elems))
	for _, el := range elems {
		c, ok := objectCall(el, tools)
		if !ok {
			return noMatch, 0, nil
		}
		calls = append(calls, c)
	}
	return match, n, calls
}

// objectCall reads {"name": ..., "parameters"|"arguments": {...}}. The
// arguments may be missing or null (no arguments) or a string holding a
// JSON object.
func objectCall(raw []byte, tools map[string]bool) (Call, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return Call{}, false
	}
	var name string
	if json.Unmarshal(obj["name"], &name) != nil || !tools[name] {
		return Call{}, false
	}
	args, ok := obj["parameters"] // preferred, as SGLang does
	if !ok || isNull(args) {
		args = obj["arguments"]
	}
	if len(args) == 0 || isNull(args) {
		return Call{Name: name, Arguments: "{}"}, true
	}
	if args[0] == '"' {
		var inner string
		if json.Unmarshal(args, &inner) != nil {
			return Call{}, false
		}
		inner = strings.TrimSpace(inner)
		if !strings.HasPrefix(inner, "{") || !json.Valid([]byte(inner)) {
			return Call{}, false
		}
		args = json.RawMessage(inner)
	}
	if args[0] != '{' {
		return Call{}, false
	}
	c, err := canonJSON(args)
	if err != nil {
		return Call{}, false
	}
	return Call{Name: name, Arguments: c}, true
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// canonJSON re-encodes one valid JSON value compactly: no insignificant
// whitespace, keys in their original order, numbers as written, and strings
// escaped by writeJSONString.
func canonJSON(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		obj bool
		n   int // tokens so far: keys and values alike in an object
	}
	var stack []frame
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		d, isDelim := tok.(json.Delim)
		closing := isDelim && (d == '}' || d == ']')
		if len(stack) > 0 && !closing {
			top := &stack[len(stack)-1]
			switch {
			case top.obj && top.n%2 == 1:
				b.WriteByte(':')
			case top.n > 0:
				b.WriteByte(',')
			}
			top.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			b.WriteByte(byte(v))
			if closing {
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, frame{obj: v == '{'})
			}
		case string:
			writeJSONString(&b, v)
		case json.Number:
			b.WriteString(string(v))
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case nil:
			b.WriteString("null")
		}
	}
}

// writeJSONString writes s as a JSON string the way Python's json.dumps
// with ensure_ascii=False does (the arguments string SGLang returns).
func writeJSONString(b *strings.Builder, s string) { chat.WritePyJSONString(b, s, false) }
