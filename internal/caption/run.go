package caption

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Captioner captions one input (Client implements it).
type Captioner interface {
	Caption(ctx context.Context, input string) (Record, error)
}

// Options tune a run.
type Options struct {
	Concurrency int
	FailFast    bool
	Progress    io.Writer     // where progress goes (nil: nowhere)
	Terminal    bool          // Progress is a terminal: draw a bar; else log lines
	LogEvery    time.Duration // plain progress line interval (default 10 s)
}

// Summary totals a run.
type Summary struct {
	Total, Skipped, Done, Failed int
	Tokens                       int
	Elapsed                      time.Duration
}

// ImagesPerSecond and TokensPerSecond are throughput over the run.
func (s Summary) ImagesPerSecond() float64 {
	return float64(s.Done+s.Failed) / max(s.Elapsed.Seconds(), 1e-9)
}
func (s Summary) TokensPerSecond() float64 { return float64(s.Tokens) / max(s.Elapsed.Seconds(), 1e-9) }

func (s Summary) String() string {
	return fmt.Sprintf("%d inputs: %d captioned, %d failed, %d already done; %.2f images/s, %.1f tokens/s in %s",
		s.Total, s.Done, s.Failed, s.Skipped, s.ImagesPerSecond(), s.TokensPerSecond(), s.Elapsed.Round(time.Millisecond))
}

// Run captions every input not already in done, Concurrency at a time,
// appending one record per input to out (an input listed twice is done
// once). Cancelling ctx stops it: inputs in flight are not recorded (a
// resumed run does them). With FailFast the first failure stops the run.
// out's Warnings (malformed or torn lines found on resume) go to Progress
// first.
func Run(ctx context.Context, inputs []Input, done map[string]Record, c Captioner, out *Output, o Options) (Summary, error) {
	if o.Progress != nil {
		for _, w := range out.Warnings() {
			fmt.Fprintln(o.Progress, "caption: warning:", w)
		}
	}
	sum := Summary{Total: len(inputs)}
	var todo []Input
	queued := map[string]bool{}
	for _, in := range inputs {
		if _, ok := done[in.Key]; ok {
			sum.Skipped++
			continue
		}
		if queued[in.Key] {
			sum.Total--
			continue
		}
		queued[in.Key] = true
		todo = append(todo, in)
	}
	conc := max(1, o.Concurrency)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan Input)
	results := make(chan Record)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range jobs {
				start := time.Now()
				var rec Record
				var err error
				if in.Err != nil {
					rec, err = Record{Input: in.Key}, in.Err
				} else {
					rec, err = c.Caption(ctx, in.Key)
				}
				if ctx.Err() != nil {
					return // interrupted: not recorded
				}
				rec.Input, rec.LatencyS = in.Key, time.Since(start).Seconds()
				if err != nil {
					rec.Error = err.Error()
				}
				select {
				case results <- rec:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, in := range todo {
			select {
			case jobs <- in:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	prog := newProgress(o, len(todo))
	start := time.Now()
	var werr error
	for rec := range results {
		if werr != nil {
			continue // draining after a failed write
		}
		if err := out.Append(rec); err != nil {
			werr = err
			cancel()
			continue
		}
		if rec.Error != "" {
			sum.Failed++
			if o.FailFast {
				cancel()
			}
		} else {
			sum.Done++
			sum.Tokens += rec.CompletionTokens
		}
		sum.Elapsed = time.Since(start)
		prog.update(sum)
	}
	sum.Elapsed = time.Since(start)
	prog.finish(sum)
	if werr != nil {
		return sum, werr
	}
	return sum, nil
}

// progress is a bar on terminals and periodic lines elsewhere.
type progress struct {
	o    Options
	bar  *progressbar.ProgressBar
	last time.Time
}

func newProgress(o Options, total int) *progress {
	p := &progress{o: o, last: time.Now()}
	if o.Progress != nil && o.Terminal {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(o.Progress), progressbar.OptionSetDescription("captioning"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("img"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
	}
	if p.o.LogEvery <= 0 {
		p.o.LogEvery = 10 * time.Second
	}
	return p
}

func (p *progress) update(s Summary) {
	switch {
	case p.bar != nil:
		_ = p.bar.Add(1)
	case p.o.Progress != nil && time.Since(p.last) >= p.o.LogEvery:
		p.last = time.Now()
		fmt.Fprintf(p.o.Progress, "caption: %d done, %d failed, %.2f images/s\n", s.Done, s.Failed, s.ImagesPerSecond())
	}
}

func (p *progress) finish(s Summary) {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.o.Progress)
	}
	if p.o.Progress != nil {
		fmt.Fprintln(p.o.Progress, "caption:", s)
	}
}
