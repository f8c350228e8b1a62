package caption

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func keys(m map[string]Record) string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

func jsonl(t *testing.T, recs ...Record) string {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		line, err := JSONL.encode(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
	}
	return b.String()
}

func csvFile(t *testing.T, recs ...Record) string {
	t.Helper()
	h, _ := csvLine(csvHeader)
	b := strings.Builder{}
	b.Write(h)
	for _, r := range recs {
		line, err := CSV.encode(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
	}
	return b.String()
}

// reopen writes data to a file, opens it for resume and returns what Open
// found and the file afterwards.
func reopen(t *testing.T, data string, f Format) (map[string]Record, []string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out."+string(f))
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	o, done, err := Open(path, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	warn := o.Warnings()
	o.Close()
	after, _ := os.ReadFile(path)
	return done, warn, string(after)
}

func hasWarning(warn []string, sub ...string) bool {
next:
	for _, w := range warn {
		for _, s := range sub {
			if !strings.Contains(w, s) {
				continue next
			}
		}
		return true
	}
	return false
}

// TestRecordsJSONLMalformedMiddle: malformed lines between records are
// reported by line number and skipped; the records after them count.
func TestRecordsJSONLMalformedMiddle(t *testing.T) {
	a, b, c := Record{Input: "a.png", Caption: "x"}, Record{Input: "b.png"}, Record{Input: "c.png", Error: "boom"}
	data := jsonl(t, a) + "not json\n" + jsonl(t, b) + "{\"caption\":\"no input\"}\n\n" + jsonl(t, c)
	done, warn, after := reopen(t, data, JSONL)
	if keys(done) != "a.png,b.png,c.png" || done["c.png"].Error != "boom" {
		t.Fatalf("done %v", done)
	}
	if after != data {
		t.Fatalf("a file with only middle damage must be left as is:\n%q", after)
	}
	if len(warn) != 2 || !hasWarning(warn, "line 2", "malformed") || !hasWarning(warn, "line 4", "malformed") {
		t.Fatalf("warnings %q", warn)
	}
}

// TestRecordsJSONLTornLast: whatever follows the last complete record (a
// line without its newline, valid JSON or not, or an invalid line with one)
// is cut off, and its input is not done.
func TestRecordsJSONLTornLast(t *testing.T) {
	good := jsonl(t, Record{Input: "a.png"}, Record{Input: "b.png"})
	for name, tail := range map[string]string{
		"no newline, invalid":   `{"input":"c.png","capt`,
		"no newline, valid":     `{"input":"c.png","caption":"ok"}`,
		"newline, invalid":      "{\"input\":\"c.png\",\"capt\n",
		"NUL bytes":             "\x00\x00\x00\x00",
		"two lines of garbage":  "garbage\n{\"input\":\"c.pn",
		"middle and torn last":  "junk\n" + jsonl(t, Record{Input: "d.png"}) + `{"input":"c.png"`,
		"only a newline at end": "\n",
	} {
		t.Run(name, func(t *testing.T) {
			done, warn, after := reopen(t, good+tail, JSONL)
			wantKeys, wantFile := "a.png,b.png", good
			if strings.HasPrefix(name, "middle") {
				wantKeys, wantFile = "a.png,b.png,d.png", good+"junk\n"+jsonl(t, Record{Input: "d.png"})
			}
			if keys(done) != wantKeys || after != wantFile {
				t.Fatalf("done %s, file after %q", keys(done), after)
			}
			if name != "only a newline at end" && !hasWarning(warn, "torn") {
				t.Fatalf("warnings %q", warn)
			}
		})
	}
}

func TestRecordsEmptyFile(t *testing.T) {
	for _, f := range []Format{JSONL, CSV} {
		for _, create := range []bool{true, false} {
			path := filepath.Join(t.TempDir(), "out")
			if create {
				os.WriteFile(path, nil, 0o644)
			}
			o, done, err := Open(path, f, nil)
			if err != nil || len(done) != 0 || len(o.Warnings()) != 0 {
				t.Fatalf("%s: %v %v %q", f, err, done, o.Warnings())
			}
			o.Close()
			b, _ := os.ReadFile(path)
			want := ""
			if f == CSV {
				want = "input,caption,prompt_tokens,completion_tokens,latency_s,error\n"
			}
			if string(b) != want {
				t.Fatalf("%s: file %q", f, b)
			}
		}
	}
}

var tricky = []Record{
	{Input: "one.png", Caption: "a caption, with \"quotes\",\nand a newline", PromptTokens: 3, CompletionTokens: 4, LatencyS: 0.5},
	{Input: "two.png", Error: "cannot decode"},
	{Input: "dir, with comma/three \"q\".png", Caption: "line one\rline two\n\nline four\n", CompletionTokens: 1},
	{Input: "four.png", Caption: "\"", CompletionTokens: 2},
}

// TestRecordsCSVQuoting: quoted fields spanning lines, malformed middle
// rows (wrong field count, an unbalanced quote) and torn quoted fields.
func TestRecordsCSVQuoting(t *testing.T) {
	full := csvFile(t, tricky...)
	done, warn, after := reopen(t, full, CSV)
	if len(done) != 4 || len(warn) != 0 || after != full {
		t.Fatalf("clean file: %v %q", keys(done), warn)
	}
	for i, r := range tricky {
		if got := done[r.Input]; got != r {
			t.Fatalf("record %d: %+v, want %+v", i, got, r)
		}
	}
	// malformed middle rows: wrong field count, then an unbalanced quote that
	// would swallow the next rows if the splitter did not resynchronise
	head := csvFile(t, tricky[0])
	rest := strings.TrimPrefix(csvFile(t, tricky[1:]...), "input,caption,prompt_tokens,completion_tokens,latency_s,error\n")
	damaged := head + "x.png,only three,1\n" + "y.png,\"unbalanced,1,2,0.1,\n" + rest
	done, warn, after = reopen(t, damaged, CSV)
	if len(done) != 4 || after != damaged {
		t.Fatalf("damaged middle: %s\n%q", keys(done), after)
	}
	if !hasWarning(warn, "line 4", "malformed") || !hasWarning(warn, "line 5", "malformed") {
		t.Fatalf("warnings %q", warn)
	}
	// torn endings
	for name, tail := range map[string]string{
		"torn quoted field":       "five.png,\"a caption that\nspans lines and is cu",
		"torn after quote":        "five.png,\"done\",1,2",
		"complete but no newline": "five.png,ok,1,2,0.100,",
		"torn header-like":        "five.png,\"x\"\"",
	} {
		t.Run(name, func(t *testing.T) {
			done, warn, after := reopen(t, full+tail, CSV)
			if len(done) != 4 || after != full || !hasWarning(warn, "torn") {
				t.Fatalf("done %s warn %q after %q", keys(done), warn, after)
			}
		})
	}
	// a torn header is rewritten
	done, _, after = reopen(t, "input,capt", CSV)
	if len(done) != 0 || after != "input,caption,prompt_tokens,completion_tokens,latency_s,error\n" {
		t.Fatalf("torn header: %q", after)
	}
}

// TestRecordsTornAnywhere cuts a records file at every byte: Open keeps
// exactly the complete records before the cut, and appending the rest gives
// a file that decodes cleanly with every input once.
func TestRecordsTornAnywhere(t *testing.T) {
	for _, f := range []Format{JSONL, CSV} {
		full, ends := "", []int{}
		if f == CSV {
			h, _ := csvLine(csvHeader)
			full = string(h)
		}
		for _, r := range tricky {
			line, _ := f.encode(r)
			full += string(line)
			ends = append(ends, len(full))
		}
		for cut := 0; cut <= len(full); cut++ {
			p := parse([]byte(full[:cut]), f)
			n := 0
			for n < len(ends) && ends[n] <= cut {
				n++
			}
			if len(p.done) != n {
				t.Fatalf("%s cut %d: %d records, want %d (%q)", f, cut, len(p.done), n, full[:cut])
			}
			for _, w := range p.warnings {
				if !strings.Contains(w, "torn") {
					t.Fatalf("%s cut %d: warning %q", f, cut, w)
				}
			}
			if cut%7 != 0 && cut != len(full) {
				continue // the full Open/append cycle on a sample of cuts
			}
			path := filepath.Join(t.TempDir(), "out")
			os.WriteFile(path, []byte(full[:cut]), 0o644)
			o, done, err := Open(path, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tricky {
				if _, ok := done[r.Input]; !ok {
					if err := o.Append(r); err != nil {
						t.Fatal(err)
					}
				}
			}
			o.Close()
			b, _ := os.ReadFile(path)
			if string(b) != full {
				t.Fatalf("%s cut %d: after resume\n%q\nwant\n%q", f, cut, b, full)
			}
		}
	}
}

// TestRecordsNoDuplicates: an input is appended at most once per file, and
// a second writer cannot open a file that is being written.
func TestRecordsNoDuplicates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	os.WriteFile(path, []byte(jsonl(t, Record{Input: "a.png"})), 0o644)
	o, _, err := Open(path, JSONL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Append(Record{Input: "a.png"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("append of a recorded input: %v", err)
	}
	if err := o.Append(Record{Input: "b.png"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Append(Record{Input: "b.png"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second append: %v", err)
	}
	if _, _, err := Open(path, JSONL, nil); err == nil || !strings.Contains(err.Error(), "another caption run") {
		t.Fatalf("second writer: %v", err)
	}
	o.Close()
	o2, done, err := Open(path, JSONL, nil)
	if err != nil || len(done) != 2 {
		t.Fatalf("after close: %v %v", err, done)
	}
	o2.Close()
	// Run does an input listed twice once
	in := []Input{{Key: "c.png"}, {Key: "c.png"}, {Key: "a.png"}}
	o3, done, _ := Open(path, JSONL, nil)
	var buf bytes.Buffer
	sum, err := Run(context.Background(), in, done, &fakeCaptioner{}, o3, Options{Concurrency: 2, Progress: &buf})
	o3.Close()
	if err != nil || sum.Done != 1 || sum.Skipped != 1 {
		t.Fatalf("run: %v %+v", err, sum)
	}
}

// TestRunReportsDamage: Open's warnings reach the progress writer.
func TestRunReportsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	os.WriteFile(path, []byte(jsonl(t, Record{Input: "img000.png"})+"oops\n"+jsonl(t, Record{Input: "img001.png"})+`{"inp`), 0o644)
	o, done, err := Open(path, JSONL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	in := inputs(3)[:3]
	sum, err := Run(context.Background(), in, done, &fakeCaptioner{}, o, Options{Concurrency: 1, Progress: &buf})
	o.Close()
	if err != nil || sum.Skipped != 2 || sum.Done != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
	log := buf.String()
	if !strings.Contains(log, "line 2: malformed record skipped") || !strings.Contains(log, "line 4: removed a torn last record") {
		t.Fatalf("log %q", log)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[1] != "oops" {
		t.Fatalf("file %q", b)
	}
	var r Record
	if err := json.Unmarshal([]byte(lines[3]), &r); err != nil || r.Input != "img002.png" {
		t.Fatalf("last line %q: %v", lines[3], err)
	}
}

// TestRecordsForeignFile: a file with lines but no record of the format
// (records of the other format, after a run without its --format flag, or a
// file that is not a records file at all) is refused and left untouched: a
// crash never leaves a complete line that is not a record, so cutting such
// lines off as a torn tail would destroy someone's data.
func TestRecordsForeignFile(t *testing.T) {
	for name, c := range map[string]struct {
		data string
		f    Format
	}{
		"csv records read as jsonl": {csvFile(t, tricky...), JSONL},
		"jsonl records read as csv": {jsonl(t, tricky...), CSV},
		"an input list":             {"a.png\nb.png\n", JSONL},
		"an input list as csv":      {"a.png\nb.png\n", CSV},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			o, _, err := Open(path, c.f, nil)
			if err == nil {
				o.Close()
				t.Errorf("Open accepted a file with no %s record", c.f)
			}
			if after, _ := os.ReadFile(path); string(after) != c.data {
				t.Fatalf("file changed to %q", after)
			}
		})
	}
}
