package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// FinishReason is meta_info.finish_reason (docs/api.md §3.5):
//
//	{"type":"stop","matched":128009}          EOS or stop token
//	{"type":"stop","matched":"</s>"}          stop string or regex pattern
//	{"type":"length","length":128}
//	{"type":"abort","message":…,"status_code":…,"err_type":…}  null when zero
type FinishReason struct {
	Type string // "stop", "length" or "abort"
	// Stop: MatchedText when ByText, else MatchedToken.
	MatchedToken int32
	MatchedText  string
	ByText       bool
	Length       int // length: the token limit reached
	// Abort: empty Message/ErrType and zero StatusCode are null.
	Message    string
	StatusCode int
	ErrType    string
}

type finishWire struct {
	Type    string          `json:"type"`
	Matched json.RawMessage `json:"matched,omitempty"`
	Length  *int            `json:"length,omitempty"`
	Message *string         `json:"message,omitempty"`
	Status  *int            `json:"status_code,omitempty"`
	ErrType *string         `json:"err_type,omitempty"`
}

// MarshalJSON writes the §3.5 shape; an unknown type is an error.
func (f FinishReason) MarshalJSON() ([]byte, error) {
	switch f.Type {
	case "stop":
		var m []byte
		var err error
		if f.ByText {
			m, err = json.Marshal(f.MatchedText)
		} else {
			m, err = json.Marshal(f.MatchedToken)
		}
		if err != nil {
			return nil, err
		}
		return json.Marshal(finishWire{Type: f.Type, Matched: m})
	case "length":
		return json.Marshal(finishWire{Type: f.Type, Length: &f.Length})
	case "abort":
		var b bytes.Buffer
		b.WriteString(`{"type":"abort","message":`)
		writeNullable(&b, f.Message)
		b.WriteString(`,"status_code":`)
		if f.StatusCode != 0 {
			fmt.Fprintf(&b, "%d", f.StatusCode)
		} else {
			b.WriteString("null")
		}
		b.WriteString(`,"err_type":`)
		writeNullable(&b, f.ErrType)
		b.WriteByte('}')
		return b.Bytes(), nil
	}
	return nil, fmt.Errorf("api: finish reason with unknown type %q", f.Type)
}

func writeNullable(b *bytes.Buffer, s string) {
	if s == "" {
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
	case "stop":
		m := bytes.TrimSpace(w.Matched)
		if len(m) > 0 && m[0] == '"' {
			f.ByText = true
			return json.Unmarshal(m, &f.MatchedText)
		}
		if len(m) > 0 {
			return json.Unmarshal(m, &f.MatchedToken)
		}
	case "length":
		if w.Length != nil {
			f.Length = *w.Length
		}
	case "abort":
		if w.Message != nil {
			f.Message = *w.Message
		}
		if w.Status != nil {
			f.StatusCode = *w.Status
		}
		if w.ErrType != nil {
			f.ErrType = *w.ErrType
		}
	default:
		return fmt.Errorf("api: unknown finish reason type %q", w.Type)
	}
	return nil
}
