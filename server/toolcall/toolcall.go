// Package toolcall finds the tool calls a model writes in its output, as
// SGLang's --tool-call-parser does, for whole completions and for streams.
//
// The formats, by parser name:
//
//	qwen25    <tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>
//	          One JSON object per block, anywhere in the output; blocks may repeat.
//	llama3    {"name": "f", "parameters": {"a": 1}}; {"name": "g", "parameters": {}}
//	          JSON objects ("arguments" is accepted too) at the very start of the
//	          output or after <|python_tag|>, separated by ';' or whitespace; a JSON
//	          array of such objects is accepted in the same places.
//	mistral   [TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}}, ...]
//	          or the newer [TOOL_CALLS]f[ARGS]{"a": 1}, one marker per call.
//	pythonic  [f(a=1, b="x"), g()]
//	          A Python list of calls with keyword arguments whose values are
//	          literals (str, int, float, True/False/None, lists, tuples, dicts),
//	          optionally wrapped in <|python_start|> ... <|python_end|>.
//
// Arguments come out as compact JSON re-encoded from the parsed value, with
// object keys in the order the model wrote them, so Parse and a Stream give
// byte-identical arguments. Text that looks like a call but does not parse,
// or names a tool that is not offered, stays in the content unchanged; a
// JSON array or Python list of calls is taken whole or not at all. A Stream
// sends each call as one delta (name and whole arguments) once it is
// complete, and holds back text that may still become a call. When
// at least one call was found, whitespace right after each call and at the
// very end of the content is dropped; without calls the content is the
// output, byte for byte.
package toolcall

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Tool is one function the request offers (OpenAI tools[i].function).
type Tool struct {
	Name       string
	Parameters json.RawMessage // JSON Schema, may be nil
}

// Call is one parsed call.
type Call struct {
	Name      string
	Arguments string // a JSON object, compact, as OpenAI's function.arguments
}

// Parser recognises one family's syntax.
type Parser interface {
	// Parse splits a whole completion into the text outside calls and the
	// calls, in order. Text that looks like a call but does not parse, or that
	// names a tool not in tools, stays in content unchanged. Never panics.
	Parse(text string, tools []Tool) (content string, calls []Call)
	// NewStream starts incremental parsing of one streamed completion.
	NewStream(tools []Tool) Stream
}

// Stream parses a completion as it arrives. Feeding a completion in any
// pieces and then calling Flush yields content and calls identical to Parse.
type Stream interface {
	// Feed takes the next piece of output text and returns the deltas that
	// are now certain. Text that might be the start of a call is held back
	// until it is known, as is an incomplete UTF-8 sequence at the end.
	Feed(text string) []Delta
	// Flush ends the completion: held-back text and unfinished call text are
	// released as content.
	Flush() []Delta
}

// Delta is one step of OpenAI's streaming delta format.
type Delta struct {
	Content string // text outside calls ("" when this is a call delta)
	Call    bool   // a tool-call delta
	Index   int    // the call's index in this completion
	Name    string // set on the first delta of a call only
	Args    string // a fragment of the call's arguments JSON
}

// names lists the parsers in the order Names reports them.
var names = []string{"qwen25", "llama3", "mistral", "pythonic"}

// Names returns the names New accepts (aliases aside).
func Names() []string { return append([]string(nil), names...) }

// New returns the named parser: "qwen25" (alias "qwen"), "llama3", "mistral"
// or "pythonic".
func New(name string) (Parser, error) {
	var s syntax
	switch name {
	case "qwen25", "qwen":
		s = qwen25{}
	case "llama3":
		s = llama3{}
	case "mistral":
		s = mistral{}
	case "pythonic":
		s = pythonic{}
	default:
		return nil, fmt.Errorf("toolcall: unknown tool-call parser %q (known: %s)", name, strings.Join(names, ", "))
	}
	return parser{s}, nil
}

type parser struct{ syn syntax }

func (p parser) NewStream(tools []Tool) Stream {
	set := make(map[string]bool, len(tools))
	for _, t := range tools {
		if t.Name != "" {
			set[t.Name] = true
		}
	}
	return &engine{syn: p.syn, ctx: ctx{tools: set, memo: memo{at: -1}}, clean: true}
}

// Parse runs the stream over the whole text, so that the two agree by
// construction.
func (p parser) Parse(text string, tools []Tool) (string, []Call) {
	s := p.NewStream(tools)
	ds := append(s.Feed(text), s.Flush()...)
	var b strings.Builder
	var calls []Call
	for _, d := range ds {
		if !d.Call {
			b.WriteString(d.Content)
			continue
		}
		for len(calls) <= d.Index {
			calls = append(calls, Call{})
		}
		if d.Name != "" {
			calls[d.Index].Name = d.Name
		}
		calls[d.Index].Arguments += d.Args
	}
	return b.String(), calls
}
