package sample

// FinishType is finish_reason.type.
type FinishType string

// The finish_reason types of §3.5.
const (
	FinishStop   FinishType = "stop"
	FinishLength FinishType = "length"
	FinishAbort  FinishType = "abort"
)

// FinishReason says why a sequence ended (docs/api.md §3.5 has its wire
// form, written by the server).
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
	// Abort: Message says why; Failed marks a failure inside the engine
	// (an internal error) rather than an abort by the client or operator.
	Message string
	Failed  bool
}

// StopToken: finished on an EOS or stop_token_ids token.
func StopToken(id int32) FinishReason { return FinishReason{Type: FinishStop, Token: id} }

// StopText: finished on a stop string, or a stop_regex (pass the pattern).
func StopText(s string) FinishReason { return FinishReason{Type: FinishStop, Text: s, ByText: true} }

// LengthLimit: finished after n tokens.
func LengthLimit(n int) FinishReason { return FinishReason{Type: FinishLength, Length: n} }

// Abort: aborted by the client, an abort request or shutdown.
func Abort(message string) FinishReason { return FinishReason{Type: FinishAbort, Message: message} }

// Failure: the engine could not finish the sequence (an internal error).
func Failure(message string) FinishReason {
	return FinishReason{Type: FinishAbort, Message: message, Failed: true}
}
