package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// FinishType is finish_reason.type.
type FinishType string

// The finish_reason types of §3.5.
const (
	FinishStop   FinishType = "stop"
	FinishLength FinishType = "length"
	FinishAbort  FinishType = "abort"
)

// FinishReason is meta_info.finish_reason (API.md §3.5). Its JSON is
//
//	{"type":"stop","matched":128009}          EOS or stop token
//	{"type":"stop","matched":"</s>"}          stop string or regex pattern
//	{"type":"length","length":128}
//	{"type":"abort","message":…,"status_code":…,"err_type":…}  null when zero
type FinishReason struct {
	Type FinishType
	// Stop: Text is the matched stop string (or regex pattern) when ByText,
	// else Token is the EOS/stop token id.
	Token  int32
	Text   string
	ByText bool
	// Length: max_new_tokens (or the tokens generated when the context
	// window filled).
	Length int
	// Abort: empty Message/ErrType and zero StatusCode marshal as null.
	Message    string
	StatusCode int
	ErrType    string
}

// StopToken: finished on an EOS or stop_token_ids token.
func StopToken(id int32) FinishReason { return FinishReason{Type: FinishStop, Token: id} }

// StopText: finished on a stop string, or a stop_regex (pass the pattern).
func StopText(s string) FinishReason { return FinishReason{Type: FinishStop, Text: s, ByText: true} }

// LengthLimit: finished after n tokens.
func LengthLimit(n int) FinishReason { return FinishReason{Type: FinishLength, Length: n} }

// Abort: aborted; status 0 = a plain abort (200, §3.5).
func Abort(message string, status int, errType string) FinishReason {
	return FinishReason{Type: FinishAbort, Message: message, StatusCode: status, ErrType: errType}
}

type finishWire struct {
	Type       FinishType      `json:"type"`
	Matched    json.RawMessage `json:"matched,omitempty"`
	Length     *int            `json:"length,omitempty"`
	Message    *string         `json:"message,omitempty"`
	StatusCode *int            `json:"status_code,omitempty"`
	ErrType    *string         `json:"err_type,omitempty"`
}

// MarshalJSON writes the §3.5 shape; a zero FinishReason is an error.
func (f FinishReason) MarshalJSON() ([]byte, error) {
	switch f.Type {
	case FinishStop:
		var m []byte
		var err error
		if f.ByText {
			m, err = json.Marshal(f.Text)
		} else {
			m, err = json.Marshal(f.Token)
		}
		if err != nil {
			return nil, err
		}
		return json.Marshal(finishWire{Type: f.Type, Matched: m})
	case FinishLength:
		return json.Marshal(finishWire{Type: f.Type, Length: &f.Length})
	case FinishAbort:
		var b bytes.Buffer
		b.WriteString(`{"type":"abort","message":`)
		writeNullable(&b, f.Message, f.Message != "")
		b.WriteString(`,"status_code":`)
		if f.StatusCode != 0 {
			fmt.Fprintf(&b, "%d", f.StatusCode)
		} else {
			b.WriteString("null")
		}
		b.WriteString(`,"err_type":`)
		writeNullable(&b, f.ErrType, f.ErrType != "")
		b.WriteByte('}')
		return b.Bytes(), nil
	}
	return nil, fmt.Errorf("sample: finish reason with unknown type %q", f.Type)
}

func writeNullable(b *bytes.Buffer, s string, ok bool) {
	if !ok {
		b.WriteString("null")
		return
	}
	j, _ := json.Marshal(s)
	b.Write(j)
}

// UnmarshalJSON reads the §3.5 shape.
func (f *FinishReason) UnmarshalJSON(data []byte) error {
	var w finishWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*f = FinishReason{Type: w.Type}
	switch w.Type {
	case FinishStop:
		if kindOf(bytes.TrimSpace(w.Matched)) == "string" {
			f.ByText = true
			return json.Unmarshal(w.Matched, &f.Text)
		}
		if len(w.Matched) > 0 {
			return json.Unmarshal(w.Matched, &f.Token)
		}
	case FinishLength:
		if w.Length != nil {
			f.Length = *w.Length
		}
	case FinishAbort:
		if w.Message != nil {
			f.Message = *w.Message
		}
		if w.StatusCode != nil {
			f.StatusCode = *w.StatusCode
		}
		if w.ErrType != nil {
			f.ErrType = *w.ErrType
		}
	default:
		return fmt.Errorf("sample: unknown finish reason type %q", w.Type)
	}
	return nil
}
