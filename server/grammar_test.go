package server

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestConstrainedGeneration: the seed's json_schema, regex and EBNF examples
// on a random-weight model (which "wants" garbage) produce conforming output.
func TestConstrainedGeneration(t *testing.T) {
	ts := start(t, opts{})
	schema := `{"type": "object", "properties": {"name": {"type": "string", "pattern": "^[\\w]+$"}, "population": {"type": "integer"}}, "required": ["name", "population"]}`
	sj, _ := json.Marshal(schema)
	for seed := 1; seed <= 4; seed++ {
		code, b := ts.post(t, "/generate", fmt.Sprintf(`{"text": "Here is the information of the capital of France in the JSON format.\n",
			"sampling_params": {"temperature": 0.8, "sampling_seed": %d, "max_new_tokens": 96, "json_schema": %s}}`, seed, sj))
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		r := decode[genResult](t, b)
		if fr := r.Meta["finish_reason"].(map[string]any); fr["type"] == "stop" {
			var v struct {
				Name       *string `json:"name"`
				Population *int64  `json:"population"`
			}
			if err := json.Unmarshal([]byte(r.Text), &v); err != nil || v.Name == nil || v.Population == nil {
				t.Fatalf("seed %d: %q is not the schema's object: %v", seed, r.Text, err)
			}
		}
	}
	code, b := ts.post(t, "/generate", `{"text": "Paris is the capital of", "sampling_params": {"temperature": 0, "max_new_tokens": 64, "regex": "(France|England)"}}`)
	if r := decode[genResult](t, b); code != 200 || !regexp.MustCompile(`^(France|England)$`).MatchString(r.Text) {
		t.Fatalf("regex: %d %s", code, b)
	}
	code, b = ts.post(t, "/generate", `{"text": "Write a greeting.", "sampling_params": {"temperature": 0, "max_new_tokens": 64, "ebnf": "root ::= \"Hello\" | \"Hi\" | \"Hey\""}}`)
	if r := decode[genResult](t, b); code != 200 || (r.Text != "Hello" && r.Text != "Hi" && r.Text != "Hey") {
		t.Fatalf("ebnf: %d %s", code, b)
	}
	// errors: invalid schema, regex, grammar; two constraints
	for _, c := range []struct{ params, msg string }{
		{`"json_schema": "INVALID"`, "invalid"},
		{`"regex": "(unclosed"`, "invalid"},
		{`"ebnf": "root ::= \"unterminated"`, "invalid"},
		{`"ebnf": "start ::= \"a\""`, "root"},
		{`"regex": "a", "json_schema": "{}"`, "Only one of regex, json_schema, or ebnf can be set."},
	} {
		code, b := ts.post(t, "/generate", `{"text": "x", "sampling_params": {`+c.params+`}}`)
		if code != 400 || !strings.Contains(strings.ToLower(string(b)), strings.ToLower(c.msg)) {
			t.Errorf("%s: %d %s", c.params, code, b)
		}
	}
	// OpenAI response_format
	code, b = ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "give me json"}], "max_tokens": 96, "temperature": 0,
		"response_format": {"type": "json_object"}}`)
	if code != 200 {
		t.Fatalf("json_object: %d %s", code, b)
	}
	ch := decode[map[string]any](t, b)["choices"].([]any)[0].(map[string]any)
	if ch["finish_reason"] == "stop" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(ch["message"].(map[string]any)["content"].(string)), &obj); err != nil {
			t.Fatalf("json_object output %q: %v", ch["message"], err)
		}
	}
	code, b = ts.post(t, "/v1/chat/completions", `{"messages": [{"role": "user", "content": "x"}], "max_tokens": 32,
		"response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": false}}}}`)
	if code != 200 {
		t.Fatalf("json_schema: %d %s", code, b)
	}
	ts.idle(t)
}
