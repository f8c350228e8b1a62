package chat

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	small := WithLimits(Limits{MaxSteps: 20000})
	for _, c := range []struct {
		name string
		tpl  string
		opts []Option
	}{
		{"output", `{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}`, nil},
		{"doubling string", `{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}`, nil},
		{"cumulative allocation", `{% for i in range(100000) %}{% set s = 'x' * 1000000 %}{% endfor %}`, nil},
		{"repeat", `{{ 'x' * 10 ** 12 }}`, nil},
		{"list repeat", `{{ ([0] * 10 ** 9)|length }}`, nil},
		{"center", `{{ 'x'.center(10 ** 9) }}`, nil},
		{"format width", `{{ '%1000000000s'|format('x') }}`, nil},
		{"str.format width", `{{ '{:>1000000000}'.format('x') }}`, nil},
		{"indent", `{{ 'a\nb'|indent(10 ** 9) }}`, nil},
		{"replace growth", `{{ ('x' * 1000000).replace('x', 'yyyyyyyyyy') }}`, nil},
		{"join growth", `{{ (['x' * 100000] * 100)|join('-') }}`, nil},
		{"repr size", `{{ (['x' * 1000000] * 100000) }}`, nil},
		{"slice columns", `{{ [1]|slice(10 ** 9) }}`, nil},
		{"batch fill", `{{ [1]|batch(10 ** 9, 0)|list }}`, nil},
		{"percent format count", `{{ ('%9999s' * 100000) % ((1,) * 100000) }}`, nil},
		{"steps", `{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}`, []Option{small}},
		{"recursion", `{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}`, nil},
		{"set block output", `{% set x %}{% for i in range(100000) %}{{ 'y' * 100 }}{% endfor %}{% endset %}`, nil},
		{"macro output", `{% macro m() %}{% for i in range(100000) %}{{ 'y' * 100 }}{% endfor %}{% endmacro %}{{ m()|length }}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := Parse(c.tpl, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = tpl.Render(context.Background(), RenderContext{})
			if !errors.Is(err, ErrLimit) || !errors.Is(err, ErrTemplate) {
				t.Fatalf("error %v, want ErrLimit and ErrTemplate", err)
			}
			if d := time.Since(start); d > 30*time.Second { // a hang guard, generous for -race on a loaded machine
				t.Errorf("took %v to hit the limit", d)
			}
		})
	}
	// jinja2's sandbox refuses ranges over MAX_RANGE.
	if err := renderErr(t, `{{ range(100001)|length }}`, RenderContext{}); !errors.Is(err, ErrTemplate) {
		t.Errorf("range: %v", err)
	}
}

func TestExplicitOutputLimit(t *testing.T) {
	tpl, err := Parse(`{{ 'x' * n }}`, WithLimits(Limits{MaxOutputBytes: 100}))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := tpl.Render(context.Background(), RenderContext{Extra: []byte(`{"n": 100}`)}); err != nil || len(out) != 100 {
		t.Errorf("at the limit: %d bytes, %v", len(out), err)
	}
	if _, err := tpl.Render(context.Background(), RenderContext{Extra: []byte(`{"n": 101}`)}); !errors.Is(err, ErrLimit) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestContextEnds(t *testing.T) {
	tpl, err := Parse(`{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}`,
		WithLimits(Limits{MaxSteps: 1 << 40}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tpl.Render(ctx, RenderContext{})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTemplate) {
		t.Fatalf("error %v, want DeadlineExceeded and ErrTemplate", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopped after %v", d)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := tpl.Render(cctx, RenderContext{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// TestConcurrentRender renders every golden from several goroutines at
// once through shared Templates (run with -race).
func TestConcurrentRender(t *testing.T) {
	type job struct {
		tpl  *Template
		rc   RenderContext
		want string
	}
	var jobs []job
	for _, tok := range []string{"qwen3", "llama3", "mistral"} {
		sources, cases := loadGoldens(t, tok)
		parsed := map[string]*Template{}
		for name, src := range sources {
			p, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			parsed[name] = p
		}
		for _, g := range cases {
			if want, fails := g.want(); !fails {
				jobs = append(jobs, job{parsed[g.Template], g.renderContext(t), want})
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * len(jobs) {
				j := jobs[(i+w*7)%len(jobs)]
				got, err := j.tpl.Render(context.Background(), j.rc)
				if err == nil && got != j.want {
					err = errors.New("concurrent render differs: " + got)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
