package chat

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

// probeClock is the fixed "now" the Python generator uses for strftime_now.
func probeClock() time.Time { return time.Date(2024, 7, 26, 13, 5, 9, 0, time.Local) }

// TestPythonProbes renders the one-line feature probes of
// testdata/python_probes.jsonl and compares them with Python jinja2's
// output (made by testdata/gen_python_probes.py): the rendered text
// byte for byte, or the fact that rendering fails.
func TestPythonProbes(t *testing.T) {
	n, fails := 0, 0
	probes, vars := readProbes(t)
	for _, p := range probes {
		n++
		got, err := renderProbe(p.Template, vars)
		switch {
		case p.Error != nil:
			fails++
			if err == nil {
				t.Errorf("%s %q: rendered %q, Python fails with %s", p.Name, p.Template, got, *p.Error)
			} else if !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrSyntax) {
				t.Errorf("%s %q: error %v wraps neither ErrTemplate nor ErrSyntax", p.Name, p.Template, err)
			}
		case err != nil:
			t.Errorf("%s %q: %v (Python renders %q)", p.Name, p.Template, err, *p.Rendered)
		case got != *p.Rendered:
			t.Errorf("%s %q:\n got %q\nwant %q", p.Name, p.Template, got, *p.Rendered)
		}
	}
	if n < 150 {
		t.Fatalf("only %d probes read", n)
	}
	t.Logf("%d probes, %d of them expected to fail", n, fails)
}

type probe struct {
	Name     string  `json:"name"`
	Template string  `json:"template"`
	Rendered *string `json:"rendered"`
	Error    *string `json:"error"`
}

// readProbes returns the probes and the variables they are rendered with.
func readProbes(tb testing.TB) ([]probe, json.RawMessage) {
	tb.Helper()
	f, err := os.Open("testdata/python_probes.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []probe
	var head struct {
		Context json.RawMessage `json:"context"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &head) != nil || len(head.Context) == 0 {
		tb.Fatal("python_probes.jsonl: first line must hold the context")
	}
	for sc.Scan() {
		var p probe
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out, head.Context
}

func renderProbe(src string, vars json.RawMessage) (string, error) {
	tpl, err := Parse(src, WithClock(probeClock))
	if err != nil {
		return "", err
	}
	return tpl.Render(context.Background(), RenderContext{Extra: vars})
}
