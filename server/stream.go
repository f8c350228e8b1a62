package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/sightline/sightline/llm/engine"
)

// sse writes server-sent events: "data: <json>\n\n", flushed per event.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newSSE(w http.ResponseWriter) *sse { return &sse{w: w, rc: http.NewResponseController(w)} }

func (e *sse) start() {
	if e.started {
		return
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	e.w.WriteHeader(http.StatusOK)
}

func (e *sse) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.raw(b)
}

func (e *sse) raw(b []byte) error {
	e.start()
	if _, err := e.w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
		return err
	}
	return e.rc.Flush()
}

func (e *sse) done() error { return e.raw([]byte("[DONE]")) }

// tagged is one job's event in a fan-in stream.
type tagged struct {
	j   *job
	ev  engine.Event
	end bool // the job's channel closed
}

// fanIn merges every job's events into one channel that closes after all jobs end.
func fanIn(jobs []*job) <-chan tagged {
	out := make(chan tagged, 16)
	remaining := make(chan struct{}, len(jobs))
	for _, j := range jobs {
		go func() {
			for ev := range j.ch {
				out <- tagged{j: j, ev: ev}
			}
			out <- tagged{j: j, end: true}
			remaining <- struct{}{}
		}()
	}
	go func() {
		for range jobs {
			<-remaining
		}
		close(out)
	}()
	return out
}

// interval is a job's stream cadence in tokens.
func (s *Server) interval(j *job) int {
	if si := j.req.Params.StreamInterval; si != nil && *si > 0 {
		return *si
	}
	return s.cfg.StreamInterval
}

// streamGenerate sends /generate frames as events arrive (docs/api.md §3.9).
func (s *Server) streamGenerate(w http.ResponseWriter, r *http.Request, jobs []*job, batch, lpText, promptIDs bool) {
	out := newSSE(w)
	for _, j := range jobs {
		j.batch = batch
	}
	lastFrame := map[*job]int{}
	var failed bool
	for t := range fanIn(jobs) {
		j := t.j
		if t.end {
			j.trk.done()
			continue
		}
		j.trk.tokens(len(t.ev.Tokens))
		s.lastOut.Store(time.Now().UnixNano())
		j.out.add(t.ev)
		if failed || r.Context().Err() != nil {
			continue // keep draining so the fan-in goroutines end
		}
		if err := abortError(j.out.finish, j.out.err); err != nil {
			code := statusOf(err)
			frame := map[string]any{"error": map[string]any{"message": message(err), "code": code}}
			if batch {
				frame["index"] = j.item.Index
			}
			if out.send(frame) != nil {
				failed = true
			}
			continue
		}
		if !j.out.done && len(j.out.tokens)-lastFrame[j] < s.interval(j) {
			continue
		}
		lastFrame[j] = len(j.out.tokens)
		frame := s.generateItem(j, true, lpText, promptIDs, s.cfg.IncrementalStreaming)
		j.sentText, j.sentTokens, j.sentLPs = len(j.out.text), len(j.out.tokens), len(j.out.lps)
		if out.send(frame) != nil {
			failed = true
		}
	}
	if !failed && r.Context().Err() == nil {
		_ = out.done()
	}
}
