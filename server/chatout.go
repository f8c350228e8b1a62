package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/server/api"
	"github.com/sightline/sightline/server/reasoning"
	"github.com/sightline/sightline/server/toolcall"
)

// Chat output shaping (docs/api.md §7.6, §7.7, §7.10): a choice's generated
// text becomes reasoning_content (--reasoning-parser), content and
// tool_calls (--tool-call-parser, or the tool_choice constraint).

// toolMode is what tool_choice asks of a turn.
type toolMode uint8

const (
	toolsNone     toolMode = iota // no tools, or tool_choice "none"
	toolsAuto                     // the model may call; the parser finds calls
	toolsRequired                 // constrained: a JSON array of {name, parameters}
	toolsNamed                    // constrained: the named tool's arguments object
)

// chatTools is a request's tools and tool_choice.
type chatTools struct {
	mode     toolMode
	named    string
	tools    []toolcall.Tool
	parallel bool // parallel_tool_calls: a required turn may hold several calls
}

// parseTools reads tools and tool_choice (docs/api.md §7.10).
func parseTools(req *api.ChatRequest) (*chatTools, error) {
	ct := &chatTools{parallel: req.ParallelToolCalls == nil || *req.ParallelToolCalls}
	if rawSet(req.Tools) {
		var tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		}
		if err := json.Unmarshal(req.Tools, &tools); err != nil {
			return nil, badf("tools must be a list of {\"type\": \"function\", \"function\": {...}} objects.")
		}
		for i, t := range tools {
			if t.Function.Name == "" {
				return nil, badf("Tool %d function has no name.", i)
			}
			if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && !bytes.Equal(p, []byte("null")) && p[0] != '{' {
				return nil, badf("Tool %d function has invalid 'parameters' schema: it must be a JSON object.", i)
			}
			ct.tools = append(ct.tools, toolcall.Tool{Name: t.Function.Name, Parameters: t.Function.Parameters})
		}
	}
	var choice string
	switch {
	case !rawSet(req.ToolChoice):
		if len(ct.tools) > 0 {
			ct.mode = toolsAuto
		}
		return ct, nil
	case json.Unmarshal(req.ToolChoice, &choice) == nil:
		switch choice {
		case "none":
			ct.mode = toolsNone
		case "auto":
			ct.mode = toolsAuto
		case "required":
			if len(ct.tools) == 0 {
				return nil, badf("Tools cannot be empty if tool choice is set to required.")
			}
			ct.mode = toolsRequired
		default:
			return nil, badf("tool_choice must be \"none\", \"auto\", \"required\" or a function, got %q.", choice)
		}
	default:
		var named struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := json.Unmarshal(req.ToolChoice, &named); err != nil || named.Function.Name == "" {
			return nil, badf("tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}.")
		}
		if ct.tool(named.Function.Name) == nil {
			return nil, badf("Tool '%s' not found in tools list.", named.Function.Name)
		}
		ct.mode, ct.named = toolsNamed, named.Function.Name
	}
	if len(ct.tools) == 0 {
		ct.mode = toolsNone
	}
	return ct, nil
}

func (c *chatTools) tool(name string) *toolcall.Tool {
	for i := range c.tools {
		if c.tools[i].Name == name {
			return &c.tools[i]
		}
	}
	return nil
}

// schema is the JSON Schema that constrains a required or named turn ("" otherwise).
func (c *chatTools) schema() string {
	params := func(t *toolcall.Tool) json.RawMessage {
		if p := bytes.TrimSpace(t.Parameters); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
			return p
		}
		return json.RawMessage(`{"type":"object"}`)
	}
	switch c.mode {
	case toolsNamed:
		return string(params(c.tool(c.named)))
	case toolsRequired:
		var alts []map[string]any
		for i := range c.tools {
			t := &c.tools[i]
			alts = append(alts, map[string]any{"type": "object", "properties": map[string]any{
				"name": map[string]any{"type": "string", "enum": []string{t.Name}}, "parameters": params(t)},
				"required": []string{"name", "parameters"}})
		}
		arr := map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"anyOf": alts}}
		if !c.parallel {
			arr["maxItems"] = 1
		}
		b, _ := json.Marshal(arr)
		return string(b)
	}
	return ""
}

// chatOutput shapes one choice's text, as a whole (message) or streamed
// (feed, then flush).
type chatOutput struct {
	tools    *chatTools
	reasoner reasoning.Parser // nil: no reasoning parser
	parser   toolcall.Parser  // nil: no tool-call parser in this turn
	reason   reasoning.Stream // streams, made on the first feed
	calls    toolcall.Stream
	whole    strings.Builder // constrained turns: the output, parsed at the end
	think    strings.Builder // reasoning text so far (usage)
	nCalls   int
}

// newChatOutput prepares the shaping of one choice: thinking says whether
// the request leaves the model's thinking on, separate whether reasoning is
// split from the answer (separate_reasoning).
func (s *Server) newChatOutput(ct *chatTools, thinking, separate bool) (*chatOutput, error) {
	o := &chatOutput{tools: ct}
	var err error
	constrained := ct.mode == toolsRequired || ct.mode == toolsNamed // the grammar starts the output with the call JSON
	if s.cfg.ReasoningParser != "" && separate && !constrained {
		if o.reasoner, err = reasoning.New(s.cfg.ReasoningParser, thinking); err != nil {
			return nil, err
		}
		o.reason = o.reasoner.NewStream()
	}
	if ct.mode == toolsAuto && s.cfg.ToolCallParser != "" {
		if o.parser, err = toolcall.New(s.cfg.ToolCallParser); err != nil {
			return nil, err
		}
		o.calls = o.parser.NewStream(ct.tools)
	}
	return o, nil
}

// feed turns new output text into stream deltas.
func (o *chatOutput) feed(text string) []map[string]any {
	var out []map[string]any
	content := text
	if o.reason != nil {
		var r string
		r, content = o.reason.Feed(text)
		if r != "" {
			o.think.WriteString(r)
			out = append(out, map[string]any{"reasoning_content": r})
		}
	}
	return append(out, o.content(content)...)
}

// flush ends the stream.
func (o *chatOutput) flush() []map[string]any {
	var out []map[string]any
	content := ""
	if o.reason != nil {
		var r string
		r, content = o.reason.Flush()
		if r != "" {
			o.think.WriteString(r)
			out = append(out, map[string]any{"reasoning_content": r})
		}
	}
	out = append(out, o.content(content)...)
	switch {
	case o.calls != nil:
		out = append(out, o.deltas(o.calls.Flush())...)
	case o.tools.mode == toolsRequired || o.tools.mode == toolsNamed:
		content, calls := o.constrained(o.whole.String())
		if content != "" {
			out = append(out, map[string]any{"content": content})
		}
		for _, c := range calls {
			out = append(out, o.deltas([]toolcall.Delta{{Call: true, Index: o.nCalls, Name: c.Name}, {Call: true, Index: o.nCalls, Args: c.Arguments}})...)
			o.nCalls++
		}
	}
	return out
}

// content routes answer text through the tool-call parser (if any).
func (o *chatOutput) content(text string) []map[string]any {
	if text == "" {
		return nil
	}
	switch {
	case o.calls != nil:
		return o.deltas(o.calls.Feed(text))
	case o.tools.mode == toolsRequired || o.tools.mode == toolsNamed:
		o.whole.WriteString(text)
		return nil
	}
	return []map[string]any{{"content": text}}
}

// deltas renders parser deltas in OpenAI's delta format.
func (o *chatOutput) deltas(ds []toolcall.Delta) []map[string]any {
	var out []map[string]any
	for _, d := range ds {
		if !d.Call {
			if d.Content != "" {
				out = append(out, map[string]any{"content": d.Content})
			}
			continue
		}
		tc := map[string]any{"index": d.Index}
		fn := map[string]any{}
		if d.Name != "" {
			tc["id"], tc["type"] = callID(), "function"
			fn["name"] = d.Name
			o.nCalls = max(o.nCalls, d.Index+1)
		}
		if d.Args != "" || d.Name != "" {
			fn["arguments"] = d.Args
		}
		tc["function"] = fn
		out = append(out, map[string]any{"tool_calls": []any{tc}})
	}
	return out
}

// message shapes a whole output: content (nil when empty and there are
// calls), reasoning_content (nil without a parser) and tool_calls (nil when none).
func (o *chatOutput) message(text string) (content, reasoningContent any, calls []any) {
	answer := text
	if o.reasoner != nil {
		var r string
		r, answer = o.reasoner.Split(text)
		o.think.WriteString(r)
		if r != "" {
			reasoningContent = r // null when the model did not reason, as SGLang
		}
	}
	var parsed []toolcall.Call
	switch {
	case o.parser != nil:
		answer, parsed = o.parser.Parse(answer, o.tools.tools)
	case o.tools.mode == toolsRequired || o.tools.mode == toolsNamed:
		answer, parsed = o.constrained(answer)
	}
	for i, c := range parsed {
		calls = append(calls, map[string]any{"id": callID(), "index": i, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": c.Arguments}})
	}
	o.nCalls = len(calls)
	content = answer
	if answer == "" && len(calls) > 0 {
		content = nil
	}
	return content, reasoningContent, calls
}

// constrained reads the output of a required (a JSON array of
// {name, parameters}) or named (the arguments object) turn. Output that does
// not parse stays content.
func (o *chatOutput) constrained(text string) (string, []toolcall.Call) {
	if o.tools.mode == toolsNamed {
		var args json.RawMessage
		if json.Unmarshal([]byte(text), &args) != nil {
			return text, nil
		}
		return "", []toolcall.Call{{Name: o.tools.named, Arguments: compactJSON(args)}}
	}
	var list []struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if json.Unmarshal([]byte(text), &list) != nil || len(list) == 0 {
		return text, nil
	}
	var calls []toolcall.Call
	for _, c := range list {
		if o.tools.tool(c.Name) == nil {
			return text, nil
		}
		calls = append(calls, toolcall.Call{Name: c.Name, Arguments: compactJSON(c.Parameters)})
	}
	return "", calls
}

// finish is the OpenAI finish_reason: tool_calls when the turn stopped
// after calls.
func (o *chatOutput) finish(fr *sample.FinishReason) any {
	if fr != nil && fr.Type == sample.FinishStop && o.nCalls > 0 {
		return "tool_calls"
	}
	return finishName(fr)
}

// reasoningTokens counts the reasoning text's tokens (usage).
func (o *chatOutput) reasoningTokens(tok *tokenizer.Tokenizer) int {
	if o.think.Len() == 0 || tok == nil {
		return 0
	}
	return len(tok.EncodeOpts(o.think.String(), tokenizer.EncodeOptions{}))
}

func compactJSON(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// callID is OpenAI's call_<24 hex>.
func callID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "call_" + hex.EncodeToString(b[:])
}
