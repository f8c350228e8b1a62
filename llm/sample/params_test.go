package sample

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, raw string, base Params) Params {
	t.Helper()
	p, err := ParseParams(json.RawMessage(raw), base)
	if err != nil {
		t.Fatalf("ParseParams(%s): %v", raw, err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	if d.MaxNewTokens == nil || *d.MaxNewTokens != 128 {
		t.Fatalf("max_new_tokens default = %v", d.MaxNewTokens)
	}
	if d.Temperature != 1 || d.TopP != 1 || d.TopK != -1 || d.MinP != 0 || d.RepetitionPenalty != 1 ||
		d.FrequencyPenalty != 0 || d.PresencePenalty != 0 || d.N != 1 || d.MinNewTokens != 0 ||
		!d.SkipSpecialTokens || !d.SpacesBetweenSpecialTokens || d.IgnoreEOS || d.NoStopTrim {
		t.Fatalf("defaults wrong: %+v", d)
	}
	if err := d.Validate(100); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"max_new_tokens":128,"min_new_tokens":0,"temperature":1,"top_p":1,"top_k":-1,"min_p":0,` +
		`"frequency_penalty":0,"presence_penalty":0,"repetition_penalty":1,"stop":null,"stop_token_ids":null,` +
		`"stop_regex":null,"n":1,"json_schema":null,"regex":null,"ebnf":null,"structural_tag":null,` +
		`"ignore_eos":false,"skip_special_tokens":true,"spaces_between_special_tokens":true,"no_stop_trim":false,` +
		`"custom_params":null,"stream_interval":null,"logit_bias":null,"sampling_seed":null,"beam_width":null}`
	if string(b) != want {
		t.Fatalf("wire form:\n got %s\nwant %s", b, want)
	}
}

func TestParseAbsentAndNull(t *testing.T) {
	base := Defaults()
	base.Temperature = 0.3
	base.TopK = 20
	base.Stop = []string{"x"}
	seed := int64(9)
	base.SamplingSeed = &seed

	// Absent keys keep base.
	p := mustParse(t, `{"top_p":0.5}`, base)
	if p.Temperature != 0.3 || p.TopK != 20 || p.TopP != 0.5 || !reflect.DeepEqual(p.Stop, []string{"x"}) || *p.SamplingSeed != 9 {
		t.Fatalf("absent: %+v", p)
	}
	// null keeps base with ParseParams ...
	p = mustParse(t, `{"temperature":null,"top_k":null,"stop":null,"sampling_seed":null}`, base)
	if p.Temperature != 0.3 || p.TopK != 20 || !reflect.DeepEqual(p.Stop, []string{"x"}) || *p.SamplingSeed != 9 {
		t.Fatalf("null (ParseParams): %+v", p)
	}
	// ... except max_new_tokens: null = no limit.
	p = mustParse(t, `{"max_new_tokens":null}`, base)
	if n, limited := p.MaxNew(); p.MaxNewTokens != nil || limited || n != 0 {
		t.Fatalf("max_new_tokens null = %v, want nil (no limit)", *p.MaxNewTokens)
	}
	if n, limited := base.MaxNew(); !limited || n != 128 {
		t.Fatal("MaxNew of the defaults")
	}
	// The result shares nothing with base.
	p = mustParse(t, `{}`, base)
	p.Stop[0] = "changed"
	*p.SamplingSeed = 1
	if base.Stop[0] != "x" || *base.SamplingSeed != 9 {
		t.Fatal("ParseParams result aliases base")
	}
	for _, raw := range []string{``, `  `, `null`} {
		if p := mustParse(t, raw, base); p.Temperature != 0.3 {
			t.Fatalf("%q: %+v", raw, p)
		}
	}
}

func TestParseGenerateParamsPrecedence(t *testing.T) {
	// --preferred-sampling-params fills absent keys; present null = built-in default.
	pref := mustParse(t, `{"temperature":0.5,"top_k":5,"max_new_tokens":7,"stop":"END"}`, Defaults())
	p, err := ParseGenerateParams(json.RawMessage(`{"temperature":null,"top_p":0.9,"max_new_tokens":null}`), pref)
	if err != nil {
		t.Fatal(err)
	}
	if p.Temperature != 1 {
		t.Errorf("temperature null → %v, want built-in 1", p.Temperature)
	}
	if p.TopK != 5 || !reflect.DeepEqual(p.Stop, []string{"END"}) {
		t.Errorf("absent keys must take preferred: %+v", p)
	}
	if p.TopP != 0.9 {
		t.Errorf("top_p = %v", p.TopP)
	}
	if p.MaxNewTokens != nil {
		t.Errorf("max_new_tokens null must mean no limit, got %d", *p.MaxNewTokens)
	}
}

func TestParseValues(t *testing.T) {
	p := mustParse(t, `{"max_new_tokens":5,"min_new_tokens":2,"temperature":0.7,"top_p":0.9,"top_k":40,"min_p":0.05,
		"frequency_penalty":-0.5,"presence_penalty":1.5,"repetition_penalty":1.1,"stop":"</s>","stop_token_ids":[2,null,7],
		"stop_regex":["a+b","\\d"],"n":3,"json_schema":"{}","structural_tag":"t","ignore_eos":true,"skip_special_tokens":false,
		"spaces_between_special_tokens":false,"no_stop_trim":true,"custom_params":{"token_id":5},"stream_interval":4,
		"logit_bias":{"12":-1.5,"3":2},"sampling_seed":-42,"beam_width":1}`, Defaults())
	if *p.MaxNewTokens != 5 || p.MinNewTokens != 2 || p.Temperature != 0.7 || p.TopP != 0.9 || p.TopK != 40 ||
		p.MinP != 0.05 || p.FrequencyPenalty != -0.5 || p.PresencePenalty != 1.5 || p.RepetitionPenalty != 1.1 || p.N != 3 {
		t.Fatalf("scalars: %+v", p)
	}
	if !reflect.DeepEqual(p.Stop, []string{"</s>"}) || !reflect.DeepEqual(p.StopTokenIDs, []int32{2, 7}) ||
		!reflect.DeepEqual(p.StopRegex, []string{"a+b", `\d`}) {
		t.Fatalf("lists: %q %v %q", p.Stop, p.StopTokenIDs, p.StopRegex)
	}
	if p.JSONSchema == nil || *p.JSONSchema != "{}" || p.Regex != nil || p.EBNF != nil || *p.StructuralTag != "t" {
		t.Fatal("grammar fields")
	}
	if !p.IgnoreEOS || p.SkipSpecialTokens || p.SpacesBetweenSpecialTokens || !p.NoStopTrim {
		t.Fatal("bools")
	}
	if string(p.CustomParams) != `{"token_id":5}` || *p.StreamInterval != 4 || *p.SamplingSeed != -42 || *p.BeamWidth != 1 {
		t.Fatal("custom_params / stream_interval / seed / beam_width")
	}
	if !reflect.DeepEqual(p.LogitBias, map[string]float64{"12": -1.5, "3": 2}) {
		t.Fatalf("logit_bias %v", p.LogitBias)
	}
	if err := p.Validate(100); err != nil {
		t.Fatal(err)
	}
	// An empty or all-null stop_token_ids list means none.
	if p := mustParse(t, `{"stop_token_ids":[null]}`, Defaults()); p.StopTokenIDs != nil {
		t.Fatalf("all-null ids: %v", p.StopTokenIDs)
	}
	// Integral floats are accepted for integer fields.
	if p := mustParse(t, `{"top_k":5.0,"max_new_tokens":1e2}`, Defaults()); p.TopK != 5 || *p.MaxNewTokens != 100 {
		t.Fatalf("integral floats: %d %d", p.TopK, *p.MaxNewTokens)
	}
	// Out-of-range float literals become inf, as in Python, and Validate rejects them.
	p = mustParse(t, `{"temperature":1e400}`, Defaults())
	if err := p.Validate(10); err == nil || !strings.HasSuffix(err.Error(), "temperature must be a non-negative finite number, got inf.") {
		t.Fatalf("1e400: %v", err)
	}
	// json.Unmarshal goes through ParseParams.
	var q Params
	if err := json.Unmarshal([]byte(`{"top_k":3}`), &q); err != nil || q.TopK != 3 || q.TopP != 1 {
		t.Fatalf("Unmarshal: %v %+v", err, q)
	}
	if err := json.Unmarshal([]byte(`{"topk":3}`), &q); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("Unmarshal unknown: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"temprature":1}`, `sampling_params: unknown field "temprature"`},
		{`{"Temperature":1}`, `unknown field "Temperature"`},
		{`{"zz":1,"aa":2}`, `unknown field "aa"`},
		{`[1,2]`, `sampling_params must be a JSON object, got array`},
		{`"x"`, `sampling_params must be a JSON object, got string`},
		{`{"temperature":`, `sampling_params:`},
		{`{"temperature":"hot"}`, `sampling_params.temperature: expected a number, got string`},
		{`{"top_p":true}`, `sampling_params.top_p: expected a number, got boolean`},
		{`{"top_k":1.5}`, `sampling_params.top_k: expected an integer, got 1.5`},
		{`{"top_k":"5"}`, `sampling_params.top_k: expected an integer, got string`},
		{`{"max_new_tokens":100000000000000000000}`, `sampling_params.max_new_tokens: integer 100000000000000000000 out of range`},
		{`{"max_new_tokens":4294967296}`, `sampling_params.max_new_tokens: integer 4294967296 out of range`},
		{`{"n":[1]}`, `sampling_params.n: expected an integer, got array`},
		{`{"stop":5}`, `sampling_params.stop: expected a string or a list of strings, got number`},
		{`{"stop":["a",1]}`, `sampling_params.stop: element 1: expected a string, got number`},
		{`{"stop_regex":{"a":1}}`, `sampling_params.stop_regex: expected a string or a list of strings, got object`},
		{`{"stop_token_ids":5}`, `sampling_params.stop_token_ids: expected a list of token ids, got number`},
		{`{"stop_token_ids":[-1]}`, `sampling_params.stop_token_ids: element 0: token id -1 is not a non-negative 32-bit integer`},
		{`{"stop_token_ids":[1,"2"]}`, `sampling_params.stop_token_ids: element 1: expected an integer, got string`},
		{`{"ignore_eos":1}`, `sampling_params.ignore_eos: expected a boolean, got number`},
		{`{"json_schema":{"type":"object"}}`, `sampling_params.json_schema: expected a string, got object`},
		{`{"custom_params":[1]}`, `sampling_params.custom_params: expected an object, got array`},
		{`{"logit_bias":[1]}`, `sampling_params.logit_bias: expected an object {"<token id>": float}, got array`},
		{`{"logit_bias":{"1":"x"}}`, `sampling_params.logit_bias: key "1": expected a number, got string`},
		{`{"sampling_seed":1.5}`, `sampling_params.sampling_seed: expected an integer, got 1.5`},
		{`{"stream_interval":"1"}`, `sampling_params.stream_interval: expected an integer, got string`},
	}
	for _, c := range cases {
		_, err := ParseParams(json.RawMessage(c.raw), Defaults())
		if err == nil {
			t.Errorf("%s: no error", c.raw)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", c.raw, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", c.raw, err, c.want)
		}
	}
}

func TestParamsMarshalRoundTrip(t *testing.T) {
	raw := `{"max_new_tokens":null,"temperature":0.25,"top_k":7,"stop":["a","b"],"stop_token_ids":[3],
		"regex":"[a-z]+","custom_params":{"x":[1,2]},"logit_bias":{"5":0.5},"sampling_seed":123,"stream_interval":2}`
	p := mustParse(t, raw, Defaults())
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q := mustParse(t, string(b), Defaults())
	p.intLit, q.intLit = 0, 0
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip:\n%+v\n%+v", p, q)
	}
}

func TestGenerationDefaults(t *testing.T) {
	cfg := map[string]json.RawMessage{
		"temperature": json.RawMessage(`0.6`), "top_p": json.RawMessage(`0.95`), "top_k": json.RawMessage(`20`),
		"min_p": json.RawMessage(`0.01`), "repetition_penalty": json.RawMessage(`1.05`),
		"max_new_tokens": json.RawMessage(`7`), "do_sample": json.RawMessage(`true`), "eos_token_id": json.RawMessage(`[1,2]`),
	}
	p, err := GenerationDefaults(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Temperature != 0.6 || p.TopP != 0.95 || p.TopK != 20 || p.MinP != 0.01 || p.RepetitionPenalty != 1.05 {
		t.Fatalf("applied: %+v", p)
	}
	if *p.MaxNewTokens != 128 {
		t.Fatal("max_new_tokens is not a generation default key (§6)")
	}
	// HF top_k 0 = off; bad keys are skipped and reported.
	p, err = GenerationDefaults(map[string]json.RawMessage{
		"top_k": json.RawMessage(`0`), "top_p": json.RawMessage(`"x"`), "temperature": json.RawMessage(`-1`),
		"min_p": json.RawMessage(`null`),
	})
	if p.TopK != -1 || p.TopP != 1 || p.Temperature != 1 || p.MinP != 0 {
		t.Fatalf("fallbacks: %+v", p)
	}
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "top_p") ||
		!strings.Contains(err.Error(), "temperature must be a non-negative finite number, got -1.") {
		t.Fatalf("error: %v", err)
	}
	if p, err := GenerationDefaults(nil); err != nil || !reflect.DeepEqual(p, Defaults()) {
		t.Fatalf("nil config: %v %+v", err, p)
	}
}

func TestPyFloat(t *testing.T) {
	cases := []struct {
		v    float64
		lit  bool
		want string
	}{
		{1, false, "1.0"}, {-0.5, false, "-0.5"}, {2.5, false, "2.5"}, {1e-7, false, "1e-07"},
		{0.0001, false, "0.0001"}, {1.5e16, false, "1.5e+16"}, {1e15, false, "1000000000000000.0"},
		{3, true, "3"}, {-2, true, "-2"}, {0.1, false, "0.1"}, {-0.0, false, "0.0"},
	}
	for _, c := range cases {
		if got := pyFloat(c.v, c.lit); got != c.want {
			t.Errorf("pyFloat(%v,%v) = %q, want %q", c.v, c.lit, got, c.want)
		}
	}
}
