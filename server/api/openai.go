package api

import (
	"bytes"
	"encoding/json"
)

// ChatRequest is POST /v1/chat/completions (docs/api.md §7.2). Unknown keys are ignored.
type ChatRequest struct {
	Messages            json.RawMessage `json:"messages"`
	Model               string          `json:"model"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	MaxTokens           *int            `json:"max_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int            `json:"top_k"`
	MinP                *float64        `json:"min_p"`
	RepetitionPenalty   *float64        `json:"repetition_penalty"`
	N                   *int            `json:"n"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *StreamOptions  `json:"stream_options"`
	Logprobs            bool            `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	LogitBias           json.RawMessage `json:"logit_bias"`
	Seed                *int64          `json:"seed"`
	ResponseFormat      json.RawMessage `json:"response_format"`
	Tools               json.RawMessage `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	User                string          `json:"user"`
	MinTokens           *int            `json:"min_tokens"`
	Regex               *string         `json:"regex"`
	EBNF                *string         `json:"ebnf"`
	StopTokenIDs        json.RawMessage `json:"stop_token_ids"`
	StopRegex           json.RawMessage `json:"stop_regex"`
	NoStopTrim          bool            `json:"no_stop_trim"`
	IgnoreEOS           bool            `json:"ignore_eos"`
	SkipSpecialTokens   *bool           `json:"skip_special_tokens"`
	ContinueFinal       bool            `json:"continue_final_message"`
	ChatTemplateKwargs  json.RawMessage `json:"chat_template_kwargs"`
	ReasoningEffort     json.RawMessage `json:"reasoning_effort"`
	CustomLogitProc     *string         `json:"custom_logit_processor"`
	CustomParams        json.RawMessage `json:"custom_params"`
	RID                 *string         `json:"rid"`
	LoraPath            *string         `json:"lora_path"`
	InputIDs            []int32         `json:"input_ids"`
	ReturnHiddenStates  bool            `json:"return_hidden_states"`
	ReturnPromptIDs     bool            `json:"return_prompt_token_ids"`
	ReturnMetaInfo      bool            `json:"return_meta_info"`
	ReturnCachedDetails bool            `json:"return_cached_tokens_details"`
	CacheSalt           string          `json:"cache_salt"`
	ExtraKey            string          `json:"extra_key"`
	SeparateReasoning   *bool           `json:"separate_reasoning"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls"`
}

// StreamOptions is OpenAI stream_options.
type StreamOptions struct {
	IncludeUsage         bool `json:"include_usage"`
	ContinuousUsageStats bool `json:"continuous_usage_stats"`
}

// CompletionRequest is POST /v1/completions (docs/api.md §7.11).
type CompletionRequest struct {
	Prompt            json.RawMessage `json:"prompt"`
	Model             string          `json:"model"`
	MaxTokens         *int            `json:"max_tokens"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	TopK              *int            `json:"top_k"`
	MinP              *float64        `json:"min_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	N                 *int            `json:"n"`
	Stop              json.RawMessage `json:"stop"`
	Stream            bool            `json:"stream"`
	StreamOptions     *StreamOptions  `json:"stream_options"`
	Echo              bool            `json:"echo"`
	Logprobs          *int            `json:"logprobs"`
	PresencePenalty   *float64        `json:"presence_penalty"`
	FrequencyPenalty  *float64        `json:"frequency_penalty"`
	LogitBias         json.RawMessage `json:"logit_bias"`
	Seed              *int64          `json:"seed"`
	ResponseFormat    json.RawMessage `json:"response_format"`
	Suffix            *string         `json:"suffix"`
	MinTokens         *int            `json:"min_tokens"`
	Regex             *string         `json:"regex"`
	EBNF              *string         `json:"ebnf"`
	StopTokenIDs      json.RawMessage `json:"stop_token_ids"`
	StopRegex         json.RawMessage `json:"stop_regex"`
	NoStopTrim        bool            `json:"no_stop_trim"`
	IgnoreEOS         bool            `json:"ignore_eos"`
	SkipSpecialTokens *bool           `json:"skip_special_tokens"`
	CustomLogitProc   *string         `json:"custom_logit_processor"`
	CustomParams      json.RawMessage `json:"custom_params"`
	RID               *string         `json:"rid"`
	LoraPath          *string         `json:"lora_path"`
	User              string          `json:"user"`
	CacheSalt         string          `json:"cache_salt"`
	ExtraKey          string          `json:"extra_key"`
}

// DecodeOpenAI parses an OpenAI body into v (a *ChatRequest or *CompletionRequest).
func DecodeOpenAI(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return badf("request body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badf("invalid JSON body: %v", jsonMessage(err))
	}
	return nil
}
