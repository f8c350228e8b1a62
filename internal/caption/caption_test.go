package caption

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCollect(t *testing.T) {
	d := t.TempDir()
	for _, p := range []string{"a.png", "sub/b.JPG", "sub/deep/c.webp", "notes.txt", "glob1.gif", "glob2.gif"} {
		touch(t, filepath.Join(d, p))
	}
	list := filepath.Join(d, "list.txt")
	os.WriteFile(list, []byte("# comment\nhttps://example.com/x.png\n\n"+filepath.Join(d, "a.png")+"\n"), 0o644)
	in, err := Collect([]string{filepath.Join(d, "sub"), filepath.Join(d, "glob*.gif"), filepath.Join(d, "missing.png"), "-"},
		list, strings.NewReader("http://h/y.jpg\n"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var failed []string
	for _, i := range in {
		keys = append(keys, strings.TrimPrefix(i.Key, d+"/"))
		if i.Err != nil {
			failed = append(failed, strings.TrimPrefix(i.Key, d+"/"))
		}
	}
	want := []string{"https://example.com/x.png", "a.png", "sub/b.JPG", "sub/deep/c.webp", "glob1.gif", "glob2.gif", "missing.png", "http://h/y.jpg"}
	if fmt.Sprint(keys) != fmt.Sprint(want) || fmt.Sprint(failed) != "[missing.png]" {
		t.Fatalf("inputs %v (failed %v), want %v", keys, failed, want)
	}
}

func TestOutputResumeAndTornLines(t *testing.T) {
	for _, f := range []Format{JSONL, CSV} {
		path := filepath.Join(t.TempDir(), "out."+string(f))
		o, done, err := Open(path, f, nil)
		if err != nil || len(done) != 0 {
			t.Fatal(err, done)
		}
		tricky := "a caption, with \"quotes\",\nand a newline"
		o.Append(Record{Input: "one.png", Caption: tricky, PromptTokens: 3, CompletionTokens: 4, LatencyS: 0.5})
		o.Append(Record{Input: "two.png", Error: "cannot decode"})
		o.Close()
		// simulate a crash mid-write: a torn third record
		fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		fh.WriteString(`{"input":"three.png","capt`)
		if f == CSV {
			fh.WriteString("\nthree.png,\"unterminated")
		}
		fh.Close()
		o, done, err = Open(path, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(done) != 2 || done["one.png"].Caption != tricky || done["two.png"].Error != "cannot decode" || done["one.png"].CompletionTokens != 4 {
			t.Fatalf("%s resume: %+v", f, done)
		}
		o.Append(Record{Input: "three.png", Caption: "ok"})
		o.Close()
		data, _ := os.ReadFile(path)
		if f == JSONL {
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) != 3 {
				t.Fatalf("jsonl lines: %q", data)
			}
			for _, l := range lines {
				var r Record
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
			}
		} else {
			recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil || len(recs) != 4 || recs[0][0] != "input" || recs[1][1] != tricky || recs[3][0] != "three.png" {
				t.Fatalf("csv: %v %q", err, data)
			}
		}
	}
}

// fakeCaptioner captions by name; names containing "bad" fail.
type fakeCaptioner struct {
	calls    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
	block    chan struct{} // when set, each call waits on it
}

func (f *fakeCaptioner) Caption(ctx context.Context, in string) (Record, error) {
	f.calls.Add(1)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
	if strings.Contains(in, "bad") {
		return Record{}, errors.New("unsupported format")
	}
	return Record{Caption: "a picture of " + in, CompletionTokens: 2}, nil
}

func inputs(n int) []Input {
	var in []Input
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("img%03d.png", i)
		if i%10 == 7 {
			name = fmt.Sprintf("bad%03d.png", i)
		}
		in = append(in, Input{Key: name})
	}
	return append(in, Input{Key: "gone.png", Err: os.ErrNotExist})
}

func TestRunRecordsEveryInputOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	in := inputs(40)
	// first run: interrupted after 15 records
	out, done, _ := Open(path, JSONL, nil)
	fc := &fakeCaptioner{block: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	var released atomic.Int64
	go func() {
		for released.Load() < 15 {
			fc.block <- struct{}{}
			released.Add(1)
		}
		cancel()
	}()
	sum, err := Run(ctx, in, done, fc, out, Options{Concurrency: 4})
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done+sum.Failed > 16 || fc.peak.Load() > 4 {
		t.Fatalf("first run recorded %d, peak concurrency %d", sum.Done+sum.Failed, fc.peak.Load())
	}
	// resume: everything else, each input exactly once overall
	out, done, _ = Open(path, JSONL, nil)
	first := len(done)
	fc2 := &fakeCaptioner{}
	var buf bytes.Buffer
	sum, err = Run(context.Background(), in, done, fc2, out, Options{Concurrency: 8, Progress: &buf})
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != first || int(fc2.calls.Load()) != len(in)-first-1 /* gone.png needs no call */ {
		t.Fatalf("resume skipped %d (had %d), called %d", sum.Skipped, first, fc2.calls.Load())
	}
	data, _ := os.ReadFile(path)
	count := map[string]int{}
	var failures int
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		count[r.Input]++
		if r.Error != "" {
			failures++
		}
	}
	for _, i := range in {
		if count[i.Key] != 1 {
			t.Fatalf("%s recorded %d times", i.Key, count[i.Key])
		}
	}
	if failures != 5 || !strings.Contains(buf.String(), "images/s") {
		t.Fatalf("%d failure records; summary %q", failures, buf.String())
	}
}

func TestFailFast(t *testing.T) {
	out, done, _ := Open("", JSONL, &bytes.Buffer{})
	fc := &fakeCaptioner{}
	sum, err := Run(context.Background(), inputs(100), done, fc, out, Options{Concurrency: 1, FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 1 || sum.Done != 7 {
		t.Fatalf("fail-fast: %+v", sum)
	}
}
