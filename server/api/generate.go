// Package api holds the wire types of Sightline's HTTP surface — SGLang's
// native /generate and the OpenAI routes — and the request normalisation of
// docs/api.md §3.2: single vs batch, per-item broadcast of scalar-or-list fields,
// rid rules and n fan-out. It decodes and validates shapes only; sampling
// values are validated by llm/sample and media by media/processors.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadRequest wraps every client error of this package (HTTP 400).
var ErrBadRequest = errors.New("bad request")

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// GenerateRequest is POST /generate's body. Fields that may be a scalar or a
// list keep their raw JSON until Normalize resolves them per item.
type GenerateRequest struct {
	Text                 json.RawMessage `json:"text"`
	InputIDs             json.RawMessage `json:"input_ids"`
	InputEmbeds          json.RawMessage `json:"input_embeds"`
	InputEmbedsBytes     json.RawMessage `json:"input_embeds_bytes"`
	InputEmbedsShape     json.RawMessage `json:"input_embeds_shape"`
	ImageData            json.RawMessage `json:"image_data"`
	AudioData            json.RawMessage `json:"audio_data"`
	VideoData            json.RawMessage `json:"video_data"`
	Modalities           json.RawMessage `json:"modalities"`
	SamplingParams       json.RawMessage `json:"sampling_params"`
	RID                  json.RawMessage `json:"rid"`
	Stream               bool            `json:"stream"`
	ReturnLogprob        json.RawMessage `json:"return_logprob"`
	LogprobStartLen      json.RawMessage `json:"logprob_start_len"`
	TopLogprobsNum       json.RawMessage `json:"top_logprobs_num"`
	TokenIDsLogprob      json.RawMessage `json:"token_ids_logprob"`
	ReturnTextInLogprobs bool            `json:"return_text_in_logprobs"`
	ReturnHiddenStates   json.RawMessage `json:"return_hidden_states"`
	ReturnPromptTokenIDs bool            `json:"return_prompt_token_ids"`
	CustomLogitProcessor json.RawMessage `json:"custom_logit_processor"`
	LoraPath             json.RawMessage `json:"lora_path"`
	Priority             json.RawMessage `json:"priority"`
	SessionParams        json.RawMessage `json:"session_params"`
	SessionID            json.RawMessage `json:"session_id"`
	ExtraKey             json.RawMessage `json:"extra_key"`
	CacheSalt            json.RawMessage `json:"cache_salt"`
	RequireReasoning     bool            `json:"require_reasoning"`
}

// DecodeGenerate parses a /generate body. Unknown top-level keys are ignored
// (docs/api.md §0); a body that is not a JSON object, or a field of the wrong
// JSON type, is a 400.
func DecodeGenerate(body []byte) (*GenerateRequest, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, badf("request body must be a JSON object")
	}
	var r GenerateRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badf("invalid JSON body: %v", jsonMessage(err))
	}
	return &r, nil
}

// jsonMessage makes encoding/json errors read well in a 400.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("expected %s, got JSON %s", te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// present reports whether a raw field was given and is not null.
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// isList reports whether raw is a JSON array.
func isList(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '['
}
