// Package reasoning implements SGLang's --reasoning-parser: it separates a
// reasoning model's thinking (<think>…</think>) from its answer, for
// message.reasoning_content / delta.reasoning_content and content.
//
// A parser is either forced or not. A forced parser treats the output as
// already inside the think block (the chat template opened it in the prompt):
// any <think> tags at the very start are dropped, reasoning runs to the first
// </think>, and the rest is content. An unforced parser treats output as
// content until the first <think>, which opens the block. Either way an
// unclosed block is reasoning to the end (the output was cut short), only the
// first block is parsed (later tags are content), and whitespace is kept as
// generated, so an answer usually begins with the "\n\n" after </think>.
//
//   - deepseek-r1 is always forced, whatever the request says.
//   - qwen3 is forced while thinking is on and unforced when the request turns
//     it off. Qwen3 may start a tool call without closing the think block, so
//     a <tool_call> also ends reasoning; the tag itself stays in content.
//
// Split and a Stream fed the same text in any pieces give the same result.
package reasoning

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	thinkStart = "<think>"
	thinkEnd   = "</think>"
	toolStart  = "<tool_call>"
)

// Parser splits a model's reasoning from its answer.
type Parser interface {
	// Split separates a whole completion.
	Split(text string) (reasoning, content string)
	// NewStream starts incremental splitting of one streamed completion.
	NewStream() Stream
}

// Stream splits one streamed completion incrementally.
type Stream interface {
	// Feed takes the next piece of output and returns what is now certain;
	// text that may be the start of a tag is held back, as is an incomplete
	// UTF-8 sequence at the end.
	Feed(text string) (reasoning, content string)
	// Flush releases what is held back at the end.
	Flush() (reasoning, content string)
}

// spec describes one parser variant.
type spec struct {
	forced bool // output starts inside the think block
	tool   bool // <tool_call> also ends the think block
}

type factory func(thinking bool) spec

var parsers = map[string]factory{
	// DeepSeek-R1's template opens <think> in the prompt (R1-0528 may repeat
	// it in the output); SGLang forces this parser regardless of the request.
	"deepseek-r1": func(bool) spec { return spec{forced: true} },
	// SGLang forces qwen3 whenever the request leaves thinking on.
	"qwen3": func(thinking bool) spec { return spec{forced: thinking, tool: true} },
}

// Names lists the parser names New accepts, sorted.
func Names() []string {
	names := make([]string, 0, len(parsers))
	for n := range parsers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the named parser ("qwen3", "deepseek-r1"; case-insensitive).
// thinking reports whether the request leaves thinking on (false when its
// chat_template_kwargs set enable_thinking or thinking to false). For qwen3,
// thinking off means the output is content unless the model itself opens a
// <think> block; deepseek-r1 ignores it, as SGLang does, since its template
// always opens the block.
func New(name string, thinking bool) (Parser, error) {
	f, ok := parsers[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown reasoning parser %q (supported: %s)", name, strings.Join(Names(), ", "))
	}
	return parser{f(thinking)}, nil
}

type parser struct{ spec }

func (p parser) Split(text string) (reasoning, content string) {
	var pre string
	if !p.forced {
		i := strings.Index(text, thinkStart)
		if i < 0 {
			return "", text
		}
		pre, text = text[:i], text[i+len(thinkStart):]
	}
	for strings.HasPrefix(text, thinkStart) {
		text = text[len(thinkStart):]
	}
	end, skip := strings.Index(text, thinkEnd), len(thinkEnd)
	if p.tool {
		if i := strings.Index(text, toolStart); i >= 0 && (end < 0 || i < end) {
			end, skip = i, 0
		}
	}
	if end < 0 {
		return text, pre
	}
	return text[:end], pre + text[end+skip:]
}

func (p parser) NewStream() Stream {
	s := &stream{spec: p.spec, state: stPre}
	if p.forced {
		s.state = stOpen
	}
	return s
}

type state int

const (
	stPre    state = iota // content before the think block
	stOpen                // block just opened: dropping repeated <think>
	stReason              // inside the block
	stPost                // content after the block
)

type stream struct {
	spec
	state state
	buf   string // held back: a possible tag start or incomplete UTF-8
}

func (s *stream) Feed(text string) (reasoning, content string) {
	buf := s.buf + text
	var r, c strings.Builder
	for {
		switch s.state {
		case stPre:
			if i := strings.Index(buf, thinkStart); i >= 0 {
				c.WriteString(buf[:i])
				buf = buf[i+len(thinkStart):]
				s.state = stOpen
				continue
			}
			n := certain(buf, thinkStart)
			c.WriteString(buf[:n])
			buf = buf[n:]
		case stOpen:
			if strings.HasPrefix(buf, thinkStart) {
				buf = buf[len(thinkStart):]
				continue
			}
			if len(buf) < len(thinkStart) && strings.HasPrefix(thinkStart, buf) {
				break // empty, or maybe another <think>
			}
			s.state = stReason
			continue
		case stReason:
			end, skip := strings.Index(buf, thinkEnd), len(thinkEnd)
			if s.tool {
				if i := strings.Index(buf, toolStart); i >= 0 && (end < 0 || i < end) {
					end, skip = i, 0
				}
			}
			if end >= 0 {
				r.WriteString(buf[:end])
				buf = buf[end+skip:]
				s.state = stPost
				continue
			}
			n := certain(buf, thinkEnd)
			if s.tool {
				n = min(n, certain(buf, toolStart))
			}
			r.WriteString(buf[:n])
			buf = buf[n:]
		case stPost:
			n := completeUTF8(buf)
			c.WriteString(buf[:n])
			buf = buf[n:]
		}
		break
	}
	s.buf = buf
	return r.String(), c.String()
}

func (s *stream) Flush() (reasoning, content string) {
	buf := s.buf
	s.buf = ""
	switch s.state {
	case stOpen, stReason:
		return buf, ""
	default:
		return "", buf
	}
}

// certain returns how much of buf can be released now: all but a suffix
// that is a proper prefix of tag (which more text may complete) or an
// incomplete UTF-8 sequence.
func certain(buf, tag string) int {
	for i := max(0, len(buf)-len(tag)+1); i < len(buf); i++ {
		if strings.HasPrefix(tag, buf[i:]) {
			return i
		}
	}
	return completeUTF8(buf)
}

// completeUTF8 returns len(b) less any incomplete UTF-8 sequence at its end.
func completeUTF8(b string) int {
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRuneInString(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
