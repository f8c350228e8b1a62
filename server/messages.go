package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
)

// member is one key of a JSON object, in document order.
type member struct {
	key string
	val json.RawMessage
}

// object decodes a JSON object keeping key order (chat templates print
// dicts in the order the client sent them).
func object(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := k.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key, v})
	}
	return out, nil
}

func encodeObject(ms []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func get(ms []member, key string) (json.RawMessage, int) {
	for i, m := range ms {
		if m.key == key {
			return m.val, i
		}
	}
	return nil, -1
}

func set(ms []member, key string, val json.RawMessage) []member {
	if _, i := get(ms, key); i >= 0 {
		ms[i].val = val
		return ms
	}
	return append(ms, member{key, val})
}

var validRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true, "function": true}

// structuredTemplate reports whether a chat template renders content parts
// itself (docs/api.md §7.4): it iterates over message content or mentions media.
var structuredRE = regexp.MustCompile(`for\s+\w+\s+in\s+[\w.\[\]'"]*content|image|audio|video|vision`)

// chatPrompt is a conversation prepared for the template.
type chatPrompt struct {
	messages json.RawMessage
	images   []media.Ref
	audios   []media.Ref
	suffix   string // continue_final_message: text appended after the generation prompt
}

// prepareMessages validates the messages, collects media parts in order and
// rewrites them for the template: media parts become {"type":"image"} /
// {"type":"audio"} markers for templates that render parts, or the generic
// media marker inside the text for those that take plain strings.
func prepareMessages(raw json.RawMessage, structured, continueFinal bool) (*chatPrompt, error) {
	var msgs []json.RawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, badf("messages must be a list of message objects.")
	}
	if len(msgs) == 0 {
		return nil, badf("Messages cannot be empty.")
	}
	cp := &chatPrompt{}
	out := make([]json.RawMessage, 0, len(msgs))
	for i, m := range msgs {
		ms, err := object(m)
		if err != nil {
			return nil, badf("messages[%d] must be an object.", i)
		}
		var role string
		rr, _ := get(ms, "role")
		if json.Unmarshal(rr, &role) != nil || !validRoles[strings.ToLower(role)] {
			return nil, badf("messages[%d].role must be one of system, developer, user, assistant, tool, function.", i)
		}
		role = strings.ToLower(role)
		ms = set(ms, "role", mustJSON(role))
		content, _ := get(ms, "content")
		last := i == len(msgs)-1
		if last && role == "assistant" && isJSONString(content) {
			if continueFinal {
				json.Unmarshal(content, &cp.suffix)
				break
			}
			ms = set(ms, "role", mustJSON("user"))
		}
		if len(bytes.TrimSpace(content)) > 0 && bytes.TrimSpace(content)[0] == '[' {
			c, err := cp.parts(content, i, role, structured)
			if err != nil {
				return nil, err
			}
			ms = set(ms, "content", c)
		} else if len(content) > 0 && !isJSONString(content) && string(bytes.TrimSpace(content)) != "null" {
			return nil, badf("messages[%d].content must be a string, a list of parts or null.", i)
		}
		if tc, _ := get(ms, "tool_calls"); len(tc) > 0 && string(tc) != "null" {
			fixed, err := toolCalls(tc, i)
			if err != nil {
				return nil, err
			}
			ms = set(ms, "tool_calls", fixed)
		}
		out = append(out, encodeObject(ms))
	}
	b, _ := json.Marshal(out)
	cp.messages = b
	return cp, nil
}

func isJSONString(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '"'
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// parts rewrites a content list and collects its media.
func (cp *chatPrompt) parts(raw json.RawMessage, i int, role string, structured bool) (json.RawMessage, error) {
	var ps []json.RawMessage
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, badf("messages[%d].content must be a list of parts.", i)
	}
	var kept []json.RawMessage
	var texts []string
	for k, p := range ps {
		ms, err := object(p)
		if err != nil {
			return nil, badf("messages[%d].content[%d] must be an object.", i, k)
		}
		var typ string
		tr, _ := get(ms, "type")
		_ = json.Unmarshal(tr, &typ)
		switch typ {
		case "text", "thinking", "reasoning":
			var t string
			v, _ := get(ms, "text")
			if typ != "text" && len(v) == 0 {
				v, _ = get(ms, typ)
			}
			if err := json.Unmarshal(v, &t); err != nil {
				return nil, badf("messages[%d].content[%d].text must be a string.", i, k)
			}
			kept = append(kept, p)
			texts = append(texts, t)
		case "image_url", "audio_url", "input_audio":
			ref, mod, err := mediaPart(ms, typ, i, k)
			if err != nil {
				return nil, err
			}
			marker := `{"type":"image"}`
			if mod == media.Audio {
				cp.audios = append(cp.audios, ref)
				marker = `{"type":"audio"}`
			} else {
				cp.images = append(cp.images, ref)
			}
			kept = append(kept, json.RawMessage(marker))
			texts = append(texts, processors.Marker)
		case "video_url":
			return nil, badf("video content is not supported by this server.")
		default:
			return nil, badf("messages[%d].content[%d] has unsupported type %q.", i, k, typ)
		}
	}
	if structured && role != "tool" {
		b, _ := json.Marshal(kept)
		return b, nil
	}
	return mustJSON(strings.Join(texts, " ")), nil
}

// mediaPart turns an image_url / audio_url / input_audio part into a ref.
func mediaPart(ms []member, typ string, i, k int) (media.Ref, media.Modality, error) {
	body, _ := get(ms, typ)
	if typ == "input_audio" {
		var ia struct {
			Data   string `json:"data"`
			Format string `json:"format"`
		}
		if err := json.Unmarshal(body, &ia); err != nil || ia.Data == "" {
			return media.Ref{}, 0, badf("messages[%d].content[%d].input_audio needs data and format.", i, k)
		}
		return media.Ref{Modality: media.Audio, Src: "data:audio/" + ia.Format + ";base64," + ia.Data}, media.Audio, nil
	}
	m := media.Image
	if typ == "audio_url" {
		m = media.Audio
	}
	ref, err := media.ParseItem(body, m)
	if err != nil {
		return media.Ref{}, 0, err
	}
	return ref, m, nil
}

// toolCalls checks that every function.arguments is a JSON-object string and
// hands templates the object (as transformers does).
func toolCalls(raw json.RawMessage, i int) (json.RawMessage, error) {
	var calls []json.RawMessage
	if err := json.Unmarshal(raw, &calls); err != nil {
		return nil, badf("messages[%d].tool_calls must be a list.", i)
	}
	for k, c := range calls {
		ms, err := object(c)
		if err != nil {
			return nil, badf("messages[%d].tool_calls[%d] must be an object.", i, k)
		}
		fn, fi := get(ms, "function")
		fms, err := object(fn)
		if fi < 0 || err != nil {
			continue
		}
		args, ai := get(fms, "arguments")
		if ai < 0 || !isJSONString(args) {
			continue
		}
		var s string
		_ = json.Unmarshal(args, &s)
		var obj json.RawMessage
		if json.Unmarshal([]byte(s), &obj) != nil {
			return nil, badf("Assistant tool call function.arguments must be valid JSON.")
		}
		if t := bytes.TrimSpace(obj); len(t) == 0 || t[0] != '{' {
			return nil, badf("Assistant tool call function.arguments must be a JSON object.")
		}
		fms[ai].val = obj
		ms[fi].val = encodeObject(fms)
		calls[k] = encodeObject(ms)
	}
	return mustJSON(calls), nil
}
