package api

import (
	"encoding/json"
	"testing"
)

func TestFinishReasonJSON(t *testing.T) {
	cases := []struct {
		f    FinishReason
		want string
	}{
		{FinishReason{Type: "stop", MatchedToken: 128009}, `{"type":"stop","matched":128009}`},
		{FinishReason{Type: "stop"}, `{"type":"stop","matched":0}`},
		{FinishReason{Type: "stop", MatchedText: "</s>", ByText: true}, `{"type":"stop","matched":"\u003c/s\u003e"}`},
		{FinishReason{Type: "stop", MatchedText: `\d+`, ByText: true}, `{"type":"stop","matched":"\\d+"}`},
		{FinishReason{Type: "stop", ByText: true}, `{"type":"stop","matched":""}`},
		{FinishReason{Type: "length", Length: 128}, `{"type":"length","length":128}`},
		{FinishReason{Type: "length"}, `{"type":"length","length":0}`},
		{FinishReason{Type: "abort"}, `{"type":"abort","message":null,"status_code":null,"err_type":null}`},
		{FinishReason{Type: "abort", Message: "boom", StatusCode: 500, ErrType: "InternalServerError"},
			`{"type":"abort","message":"boom","status_code":500,"err_type":"InternalServerError"}`},
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
		var meta struct { // embedded as a pointer in meta_info: null until finished
			Finish *FinishReason `json:"finish_reason"`
		}
		meta.Finish = &c.f
		if b2, _ := json.Marshal(meta); string(b2) != `{"finish_reason":`+c.want+`}` {
			t.Errorf("embedded: %s", b2)
		}
	}
	if _, err := json.Marshal(FinishReason{}); err == nil {
		t.Fatal("a zero FinishReason must not marshal")
	}
	var f FinishReason
	if err := json.Unmarshal([]byte(`{"type":"weird"}`), &f); err == nil {
		t.Fatal("unknown type")
	}
}
