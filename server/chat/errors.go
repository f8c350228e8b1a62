package chat

import (
	"errors"
	"fmt"
)

var (
	// ErrNoTemplate: a model directory or file holds no chat template.
	ErrNoTemplate = errors.New("chat: no chat template")
	// ErrSyntax: the template source does not parse.
	ErrSyntax = errors.New("chat: template syntax error")
	// ErrTemplate: rendering failed (raise_exception, a runtime error, or a limit).
	ErrTemplate = errors.New("chat: template error")
	// ErrLimit: rendering exceeded a Limits bound; always wrapped together with ErrTemplate.
	ErrLimit = errors.New("chat: template limit exceeded")
	// ErrInput: the render input (messages, tools, extra kwargs) is malformed.
	ErrInput = errors.New("chat: bad render input")
)

// evalError is a runtime error raised while evaluating an expression; kind
// names the Python exception it stands for.
type evalError struct {
	kind string
	msg  string
	line int
}

func (e *evalError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.line, e.kind, e.msg)
	}
	return e.kind + ": " + e.msg
}

func typeErrorf(format string, args ...any) *evalError {
	return &evalError{kind: "TypeError", msg: fmt.Sprintf(format, args...)}
}

func valueErrorf(format string, args ...any) *evalError {
	return &evalError{kind: "ValueError", msg: fmt.Sprintf(format, args...)}
}

func undefinedError(u undefined) *evalError {
	if u.msg == "" {
		return &evalError{kind: "UndefinedError", msg: "value is undefined"}
	}
	return &evalError{kind: "UndefinedError", msg: u.msg}
}

func securityErrorf(format string, args ...any) *evalError {
	return &evalError{kind: "SecurityError", msg: fmt.Sprintf(format, args...)}
}

var errZeroDivision = &evalError{kind: "ZeroDivisionError", msg: "division by zero"}

// raisedError carries the message of raise_exception(msg).
type raisedError struct{ msg string }

func (e *raisedError) Error() string { return e.msg }

// limitError reports an exceeded Limits bound.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// syntaxError is a parse error with its template line.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return e.msg
}

// withLine attaches a template line to an evalError that has none.
func withLine(err error, line int) error {
	if ee, ok := err.(*evalError); ok && ee.line == 0 {
		cp := *ee
		cp.line = line
		return &cp
	}
	return err
}
