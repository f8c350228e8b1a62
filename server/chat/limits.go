package chat

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Limits bound one Render. Zero fields take the defaults.
type Limits struct {
	// MaxOutputBytes caps the rendered prompt and every intermediate string
	// or buffer. Default: 4 MiB plus 4× the size of the JSON input.
	MaxOutputBytes int
	// MaxAllocBytes caps the bytes of all strings and lists built while
	// rendering. Default: 32× MaxOutputBytes.
	MaxAllocBytes int
	// MaxSteps caps loop iterations plus macro calls. Default: 1<<20.
	MaxSteps int
	// MaxDepth caps macro and caller nesting. Default: 64.
	MaxDepth int
}

func (t *Template) limitsFor(inputBytes int) Limits {
	l := t.limits
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = 4<<20 + 4*inputBytes
	}
	if l.MaxAllocBytes <= 0 {
		l.MaxAllocBytes = 32 * l.MaxOutputBytes
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = 1 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	return l
}

// renderState is the per-render budget and clock.
type renderState struct {
	ctx   context.Context
	lim   Limits
	steps int
	depth int
	alloc int
	now   func() time.Time
}

func (st *renderState) step() error {
	st.steps++
	if st.steps > st.lim.MaxSteps {
		return &limitError{msg: fmt.Sprintf("more than %d loop iterations and macro calls", st.lim.MaxSteps)}
	}
	if err := st.ctx.Err(); err != nil {
		return fmt.Errorf("render stopped: %w", err)
	}
	return nil
}

func (st *renderState) enter() error {
	st.depth++
	if st.depth > st.lim.MaxDepth {
		return &limitError{msg: fmt.Sprintf("macro calls nested deeper than %d", st.lim.MaxDepth)}
	}
	return st.step()
}

func (st *renderState) leave() { st.depth-- }

// charge accounts for a new string or list of about n bytes.
func (st *renderState) charge(n int) error {
	if n > st.lim.MaxOutputBytes {
		return st.tooBig()
	}
	st.alloc += n
	if st.alloc > st.lim.MaxAllocBytes {
		return &limitError{msg: fmt.Sprintf("rendering built more than %d bytes of values", st.lim.MaxAllocBytes)}
	}
	return nil
}

// chargeValue charges a string or list a filter returned.
func (st *renderState) chargeValue(v any) error {
	switch x := v.(type) {
	case string:
		return st.charge(len(x))
	case []any:
		return st.charge(16 * len(x))
	case tuple:
		return st.charge(16 * len(x))
	}
	return nil
}

func (st *renderState) tooBig() error {
	return &limitError{msg: fmt.Sprintf("a value or output exceeds %d bytes", st.lim.MaxOutputBytes)}
}

// boundedBuffer is an output buffer capped at MaxOutputBytes.
type boundedBuffer struct {
	b  strings.Builder
	st *renderState
}

func (st *renderState) newBuffer() *boundedBuffer { return &boundedBuffer{st: st} }

func (w *boundedBuffer) WriteString(s string) (int, error) {
	if w.b.Len()+len(s) > w.st.lim.MaxOutputBytes {
		return 0, w.st.tooBig()
	}
	return w.b.WriteString(s)
}

func (w *boundedBuffer) String() string { return w.b.String() }
