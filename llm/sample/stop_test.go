package sample

import (
	"errors"
	"strings"
	"testing"
)

func feedAll(t *testing.T, c *StopChecker, chunks ...string) (StopMatch, bool, int) {
	t.Helper()
	for i, ch := range chunks {
		if m, ok := c.Feed(ch, true); ok {
			return m, true, i
		}
	}
	return StopMatch{}, false, -1
}

func TestStopStringAcrossChunks(t *testing.T) {
	c, err := NewStopChecker([]string{"STOP"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, at := feedAll(t, c, "abc S", "T", "O", "P and more", "never fed")
	if !ok || at != 3 {
		t.Fatalf("match %v at chunk %d", ok, at)
	}
	if m.Matched != "STOP" || m.Regex || m.Start != 4 || m.End != 8 {
		t.Fatalf("match %+v", m)
	}
	if c.Text() != "abc " {
		t.Fatalf("trimmed text %q", c.Text())
	}
	// Later feeds are ignored.
	if m2, ok := c.Feed("xx", true); !ok || m2 != m || c.Text() != "abc " {
		t.Fatal("feed after stop")
	}
	if got, _ := c.Stopped(); got != m {
		t.Fatal("Stopped")
	}
	if r := m.Reason(); r.Type != FinishStop || !r.ByText || r.Text != "STOP" {
		t.Fatalf("reason %+v", r)
	}
}

func TestStopNoTrim(t *testing.T) {
	c, _ := NewStopChecker([]string{"\n\n"}, nil, true)
	m, ok, _ := feedAll(t, c, "line\n", "\nrest")
	if !ok || m.Start != 4 {
		t.Fatalf("%+v %v", m, ok)
	}
	if c.Text() != "line\n\nrest" {
		t.Fatalf("no_stop_trim text %q", c.Text())
	}
}

func TestStopOverlapping(t *testing.T) {
	// Earliest start wins, whatever the list order.
	for _, stops := range [][]string{{"abc", "bc"}, {"bc", "abc"}} {
		c, _ := NewStopChecker(stops, nil, false)
		m, ok, _ := feedAll(t, c, "xab", "c")
		if !ok || m.Matched != "abc" || c.Text() != "x" {
			t.Fatalf("%q: %+v %q", stops, m, c.Text())
		}
	}
	// Same start: the earlier list entry wins.
	c, _ := NewStopChecker([]string{"ab", "abc"}, nil, false)
	if m, _, _ := feedAll(t, c, "zabc"); m.Matched != "ab" {
		t.Fatalf("%+v", m)
	}
	// A stop string that is a prefix of itself repeated.
	c, _ = NewStopChecker([]string{"aab"}, nil, false)
	if m, ok, _ := feedAll(t, c, "a", "a", "a", "b"); !ok || m.Start != 1 || c.Text() != "a" {
		t.Fatalf("%+v %q", m, c.Text())
	}
	// The earliest occurrence inside one large delta.
	c, _ = NewStopChecker([]string{"x"}, nil, false)
	if m, _, _ := feedAll(t, c, "12x45x"); m.Start != 2 {
		t.Fatalf("%+v", m)
	}
}

func TestStopRegex(t *testing.T) {
	c, err := NewStopChecker(nil, []string{`\d{3}`}, false)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, _ := feedAll(t, c, "ab1", "2", "3x")
	if !ok || !m.Regex || m.Matched != `\d{3}` || m.Start != 2 || m.End != 5 || c.Text() != "ab" {
		t.Fatalf("%+v %q", m, c.Text())
	}
	if r := m.Reason(); !r.ByText || r.Text != `\d{3}` {
		t.Fatal("matched must be the pattern")
	}
	// Python's \Z means end of text.
	c, _ = NewStopChecker(nil, []string{`end\Z`}, false)
	if _, ok, _ := feedAll(t, c, "the en", "d"); !ok {
		t.Fatal(`\Z`)
	}
	// Anchors refer to the output start, even after the lookback window moves.
	c, _ = NewStopChecker(nil, []string{`^x`}, false)
	if _, ok, _ := feedAll(t, c, strings.Repeat("y", 3000), "x", "x"); ok {
		t.Fatal("^ matched inside the text")
	}
	// String and regex in the same delta: earliest start wins; tie → string.
	c, _ = NewStopChecker([]string{"bc"}, []string{"a.", "b."}, false)
	if m, _, _ := feedAll(t, c, "_abc"); m.Matched != "a." || !m.Regex {
		t.Fatalf("%+v", m)
	}
	c, _ = NewStopChecker([]string{"bc"}, []string{"b."}, false)
	if m, _, _ := feedAll(t, c, "_bc"); m.Matched != "bc" || m.Regex {
		t.Fatalf("%+v", m)
	}
	for _, bad := range []string{`(?=a)`, `(?<!a)b`, `(a)\1`, `(?P=x)`, `a++`, `(`} {
		_, err := NewStopChecker(nil, []string{bad}, false)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "stop_regex pattern") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestStopArming(t *testing.T) {
	// Before min_new_tokens nothing matches, and old text never matches later.
	c, _ := NewStopChecker([]string{"STOP"}, nil, false)
	if _, ok := c.Feed("xSTOP", false); ok {
		t.Fatal("matched while disarmed")
	}
	if _, ok := c.Feed("y", true); ok {
		t.Fatal("old text matched after arming")
	}
	// A match may start in disarmed text and end in armed text.
	c, _ = NewStopChecker([]string{"STOP"}, []string{"AB"}, false)
	c.Feed("..ST", false)
	m, ok := c.Feed("OP", true)
	if !ok || m.Start != 2 || c.Text() != ".." {
		t.Fatalf("%+v %q", m, c.Text())
	}
	// An empty delta checks nothing new.
	c, _ = NewStopChecker([]string{"S"}, nil, false)
	c.Feed("S", false)
	if _, ok := c.Feed("", true); ok {
		t.Fatal("empty delta")
	}
}

func TestStopEmptyAndInactive(t *testing.T) {
	c, _ := NewStopChecker([]string{""}, nil, false)
	if c.Active() {
		t.Fatal("empty stop string must be ignored")
	}
	if _, ok, _ := feedAll(t, c, "abc", ""); ok || c.Text() != "abc" {
		t.Fatal("inactive checker matched")
	}
}

func TestStopStable(t *testing.T) {
	c, _ := NewStopChecker([]string{"STOP", "é!"}, nil, false)
	c.Feed("hello S", true)
	if c.Stable() != 6 {
		t.Fatalf("stable %d", c.Stable())
	}
	c.Feed("T", true)
	if c.Stable() != 6 {
		t.Fatalf("stable %d", c.Stable())
	}
	c.Feed("x", true)
	if c.Stable() != len("hello STx") {
		t.Fatalf("stable %d", c.Stable())
	}
	c.Feed("é", true)
	if s := c.Stable(); s != len("hello STx") {
		t.Fatalf("stable %d", s)
	}
	c.Feed("!", true)
	if c.Stable() != len("hello STx") || c.Text() != "hello STx" {
		t.Fatalf("after stop: %d %q", c.Stable(), c.Text())
	}
}
