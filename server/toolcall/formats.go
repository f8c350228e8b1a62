package toolcall

import "strings"

// qwen25: <tool_call> JSON-object </tool_call>, anywhere, any number of times.
type qwen25 struct{}

const (
	qwenOpen  = "<tool_call>"
	qwenClose = "</tool_call>"
)

func (qwen25) find(s string, _ state) int { return findMarker(s, qwenOpen) }

func (qwen25) try(s string, eof bool, _ state, x *ctx) (outcome, int, []Call) {
	switch prefix(s, qwenOpen) {
	case 0:
		return noMatch, 1, nil
	case 1:
		return undecided(eof, 1)
	}
	fail := len(qwenOpen)
	i := skipSpace(s, fail)
	if i == len(s) {
		return undecided(eof, fail)
	}
	if s[i] != '{' {
		return noMatch, fail, nil
	}
	r, n, calls := jsonCalls(s[i:], eof, false, x, x.base+i)
	if r != match {
		return r, fail, nil
	}
	j := skipSpace(s, i+n)
	switch prefix(s[j:], qwenClose) {
	case 2:
		return match, j + len(qwenClose), calls
	case 1:
		return undecided(eof, fail)
	}
	return noMatch, fail, nil
}

// llama3: JSON call objects at the start of the output (after whitespace) or
// after <|python_tag|>; after a call, more may follow, separated by ';' or
// whitespace.
type llama3 struct{}

const pythonTag = "<|python_tag|>"

func (llama3) find(s string, st state) int {
	if st.afterCall && (s[0] == ';' || s[0] == '{' || s[0] == '[') {
		return 0
	}
	if st.clean {
		if i := skipSpace(s, 0); i == len(s) || s[i] == '{' || s[i] == '[' {
			return i
		}
	}
	return findMarker(s, pythonTag)
}

func (llama3) try(s string, eof bool, st state, x *ctx) (outcome, int, []Call) {
	switch {
	case s[0] == '<':
		switch prefix(s, pythonTag) {
		case 0:
			return noMatch, 1, nil
		case 1:
			return undecided(eof, 1)
		}
		fail := len(pythonTag)
		i := skipSpace(s, fail)
		if i == len(s) {
			return undecided(eof, fail)
		}
		if s[i] != '{' && s[i] != '[' {
			return noMatch, fail, nil
		}
		r, n, calls := jsonCalls(s[i:], eof, true, x, x.base+i)
		if r != match {
			return r, fail, nil
		}
		return match, i + n, calls
	case s[0] == ';' && st.afterCall:
		i := skipSpace(s, 1)
		if i == len(s) {
			if eof { // a trailing separator belongs to the calls
				return match, len(s), nil
			}
			return needMore, 0, nil
		}
		if s[i] != '{' {
			return noMatch, 1, nil
		}
		r, n, calls := jsonCalls(s[i:], eof, false, x, x.base+i)
		if r != match {
			return r, 1, nil
		}
		return match, i + n, calls
	case (s[0] == '{' || s[0] == '[') && (st.clean || st.afterCall):
		r, n, calls := jsonCalls(s, eof, true, x, x.base)
		if r != match {
			return r, 1, nil
		}
		return match, n, calls
	}
	return noMatch, 1, nil
}

// mistral: [TOOL_CALLS] followed by a JSON array of call objects (or one
// object), or by name[ARGS]{...}.
type mistral struct{}

const (
	mistralCalls = "[TOOL_CALLS]"
	mistralArgs  = "[ARGS]"
	maxNameLen   = 256
)

func (mistral) find(s string, _ state) int { return findMarker(s, mistralCalls) }

func (mistral) try(s string, eof bool, _ state, x *ctx) (outcome, int, []Call) {
	switch prefix(s, mistralCalls) {
	case 0:
		return noMatch, 1, nil
	case 1:
		return undecided(eof, 1)
	}
	fail := len(mistralCalls)
	i := skipSpace(s, fail)
	if i == len(s) {
		return undecided(eof, fail)
	}
	if s[i] == '[' || s[i] == '{' {
		r, n, calls := jsonCalls(s[i:], eof, true, x, x.base+i)
		if r != match {
			return r, fail, nil
		}
		return match, i + n, calls
	}
	// Compact form: name[ARGS]{...}.
	j := i
	for j < len(s) && j-i <= maxNameLen && isNameByte(s[j]) {
		j++
	}
	if j-i > maxNameLen {
		return noMatch, fail, nil
	}
	if j == len(s) {
		return undecided(eof, fail)
	}
	name := s[i:j]
	if name == "" {
		return noMatch, fail, nil
	}
	j = skipSpace(s, j)
	switch prefix(s[j:], mistralArgs) {
	case 0:
		return noMatch, fail, nil
	case 1:
		return undecided(eof, fail)
	}
	j = skipSpace(s, j+len(mistralArgs))
	if j == len(s) {
		return undecided(eof, fail)
	}
	if s[j] != '{' {
		return noMatch, fail, nil
	}
	r, n := jsonValue(s[j:], eof, x, x.base+j)
	if r != match {
		return r, fail, nil
	}
	if !x.tools[name] {
		return noMatch, fail, nil
	}
	args, err := canonJSON([]byte(s[j : j+n]))
	if err != nil {
		return noMatch, fail, nil
	}
	return match, j + n, []Call{{Name: name, Arguments: args}}
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pythonic: [f(a=1), g()] anywhere, optionally inside
// <|python_start|> ... <|python_end|>.
type pythonic struct{}

const (
	pyStart = "<|python_start|>"
	pyEnd   = "<|python_end|>"
)

func (pythonic) find(s string, _ state) int {
	j := strings.IndexByte(s, '[')
	if j < 0 {
		return findMarker(s, pyStart)
	}
	// The marker has no '[', so one before j ends before j.
	if k := strings.Index(s[:j], pyStart); k >= 0 {
		return k
	}
	return j
}

func (pythonic) try(s string, eof bool, _ state, x *ctx) (outcome, int, []Call) {
	if s[0] == '[' {
		r, n, calls := pyCalls(s, eof, x, x.base)
		if r != match {
			return r, 1, nil
		}
		return r, n, calls
	}
	switch prefix(s, pyStart) {
	case 0:
		return noMatch, 1, nil
	case 1:
		return undecided(eof, 1)
	}
	fail := len(pyStart)
	i := skipSpace(s, fail)
	if i == len(s) {
		return undecided(eof, fail)
	}
	if s[i] != '[' {
		return noMatch, fail, nil
	}
	r, n, calls := pyCalls(s[i:], eof, x, x.base+i)
	if r != match {
		return r, fail, nil
	}
	end := i + n
	j := skipSpace(s, end)
	switch prefix(s[j:], pyEnd) {
	case 2:
		end = j + len(pyEnd)
	case 1:
		if !eof {
			return needMore, 0, nil
		}
	default:
		if j == len(s) && !eof {
			return needMore, 0, nil
		}
	}
	return match, end, calls
}
