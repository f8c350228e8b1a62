package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/sample"
	"github.com/sightline/sightline/llm/tokenizer"
	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/server/api"
	"github.com/sightline/sightline/server/chat"
)

// errBadRequest marks this package's own client errors.
var errBadRequest = errors.New("bad request")

// ErrGrammar marks a json_schema/regex/ebnf/structural_tag that does not
// compile: GrammarCompiler implementations wrap their errors with it (400).
var ErrGrammar = errors.New("invalid grammar")

// clientErrors are the sentinels that mean "the request is wrong" (400).
var clientErrors = []error{
	errBadRequest, ErrGrammar, api.ErrBadRequest, sample.ErrInvalid, engine.ErrInvalid, engine.ErrTooLong,
	media.ErrInvalid, media.ErrUnsupported, media.ErrTooLarge, media.ErrFetch, media.ErrForbidden, media.ErrDecode,
	processors.ErrMediaCount, processors.ErrBadMedia, processors.ErrBadFeatures,
	chat.ErrTemplate, chat.ErrSyntax, chat.ErrInput, tokenizer.ErrInvalid,
}

// statusOf maps an error to its HTTP status: the one table of the server (rule 11).
func statusOf(err error) int {
	switch {
	case errors.Is(err, engine.ErrQueueFull), errors.Is(err, engine.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499 // client went away; the status is never seen by it
	}
	var se *statusErr
	if errors.As(err, &se) {
		return se.code
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	for _, c := range clientErrors {
		if errors.Is(err, c) {
			return http.StatusBadRequest
		}
	}
	return http.StatusInternalServerError
}

// message is the client-facing text of an error: sentinel prefixes that
// only help Go callers are dropped.
func message(err error) string {
	msg := err.Error()
	for _, p := range []string{"bad request: ", "engine: invalid request: ", "engine: prompt too long: ", "invalid sampling parameters: "} {
		if len(msg) > len(p) && msg[:len(p)] == p {
			msg = msg[len(p):]
		}
	}
	return msg
}

// errNative is SGLang's E1 body.
func errNative(code int, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"message": msg, "code": code}}
}

// errOpenAI is the E2 body.
func errOpenAI(code int, msg, typ string) map[string]any {
	return map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": code}
}

// openAIType is E2's type: BadRequestError, InternalServerError, or the
// status code as a string for HTTP exceptions ("503"), as SGLang does.
func openAIType(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "BadRequestError"
	case http.StatusInternalServerError:
		return "InternalServerError"
	}
	return strconv.Itoa(code)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// failNative answers a /generate error.
func (s *Server) failNative(w http.ResponseWriter, err error) {
	code := statusOf(err)
	if code == 499 {
		return
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if code >= 500 {
		s.cfg.Logger.Error("generate failed", "err", err)
		writeJSON(w, code, errOpenAI(code, message(err), openAIType(code)))
		return
	}
	writeJSON(w, code, errNative(code, message(err)))
}

// failOpenAI answers an OpenAI-route error.
func (s *Server) failOpenAI(w http.ResponseWriter, err error) {
	code := statusOf(err)
	if code == 499 {
		return
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if code >= 500 {
		s.cfg.Logger.Error("request failed", "err", err)
	}
	writeJSON(w, code, errOpenAI(code, message(err), openAIType(code)))
}

func badf(format string, args ...any) error {
	return &wrapErr{kind: errBadRequest, msg: fmt.Sprintf(format, args...)}
}

type wrapErr struct {
	kind error
	msg  string
}

func (e *wrapErr) Error() string { return e.msg }
func (e *wrapErr) Unwrap() error { return e.kind }
