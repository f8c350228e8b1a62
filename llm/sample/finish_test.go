package sample

import (
	"encoding/json"
	"testing"
)

func TestFinishReasonJSON(t *testing.T) {
	cases := []struct {
		f    FinishReason
		want string
	}{
		{StopToken(128009), `{"type":"stop","matched":128009}`},
		{StopToken(0), `{"type":"stop","matched":0}`},
		{StopText("</s>"), `{"type":"stop","matched":"\u003c/s\u003e"}`},
		{StopText(`\d+`), `{"type":"stop","matched":"\\d+"}`},
		{StopText(""), `{"type":"stop","matched":""}`},
		{LengthLimit(128), `{"type":"length","length":128}`},
		{LengthLimit(0), `{"type":"length","length":0}`},
		{Abort("", 0, ""), `{"type":"abort","message":null,"status_code":null,"err_type":null}`},
		{Abort("bad grammar", 400, "BadRequestError"), `{"type":"abort","message":"bad grammar","status_code":400,"err_type":"BadRequestError"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.f)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("got %s, want %s", b, c.want)
		}
		var back FinishReason
		if err := json.Unmarshal(b, &back); err != nil || back != c.f {
			t.Errorf("round trip %s: %+v %v", b, back, err)
		}
		// Embedded as a pointer in meta_info: null until finished.
		var meta struct {
			Finish *FinishReason `json:"finish_reason"`
		}
		meta.Finish = &c.f
		if b2, _ := json.Marshal(meta); string(b2) != `{"finish_reason":`+c.want+`}` {
			t.Errorf("embedded: %s", b2)
		}
	}
	if _, err := json.Marshal(FinishReason{}); err == nil {
		t.Fatal("zero FinishReason must not marshal")
	}
	var f FinishReason
	if err := json.Unmarshal([]byte(`{"type":"weird"}`), &f); err == nil {
		t.Fatal("unknown type")
	}
}
