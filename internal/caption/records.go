package caption

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Record is the outcome of one input.
type Record struct {
	Input            string  `json:"input"`
	Caption          string  `json:"caption"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	LatencyS         float64 `json:"latency_s"`
	Error            string  `json:"error,omitempty"`
}

var csvHeader = []string{"input", "caption", "prompt_tokens", "completion_tokens", "latency_s", "error"}

// Format is the output encoding.
type Format string

const (
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// encode renders one record as a complete line (CSV quoting included).
func (f Format) encode(r Record) ([]byte, error) {
	if f == CSV {
		return csvLine([]string{r.Input, r.Caption, strconv.Itoa(r.PromptTokens), strconv.Itoa(r.CompletionTokens),
			strconv.FormatFloat(r.LatencyS, 'f', 3, 64), r.Error})
	}
	b, err := json.Marshal(r) // escapes newlines: one record, one line
	return append(b, '\n'), err
}

// Durability policy of a records file.
//
// Each record is encoded first and then written with one write(2) of the
// whole line on a file opened O_APPEND, so a process that dies at any
// moment (kill -9, OOM, panic) leaves every earlier record intact and at
// most one torn last line, which the next Open cuts off. Data handed to
// write(2) survives the death of the process without fsync (it is in the
// page cache); fsync only matters when the machine itself goes down. The
// file is therefore fsynced every syncEvery records, whenever syncInterval
// has passed since the last fsync when a record is written, after Open's
// truncation and header, and at Close. A power loss may lose the records of
// the last second (or syncEvery records): they are simply not done, and the
// resumed run captions them again; a tail of garbage or NUL bytes left by
// the file system is handled like a torn line.
const (
	syncEvery    = 32
	syncInterval = time.Second
)

// maxWarnings bounds how many malformed-line warnings Open keeps.
const maxWarnings = 20

// Output appends records to a file (or writes them to stdout).
type Output struct {
	mu       sync.Mutex
	f        *os.File
	path     string
	fmt      Format
	w        io.Writer // os.Stdout when no file
	size     int64     // length of the file's complete records
	seen     map[string]bool
	unsynced int
	lastSync time.Time
	broken   error // a failed write: nothing more is appended
	warnings []string
	unlock   func()
}

// ErrDuplicate is returned by Append for an input already recorded in the
// file: a run never writes the same input twice.
var ErrDuplicate = errors.New("input already recorded")

// Open prepares path for appending and returns the inputs it already
// records (resume). Malformed lines in the middle of the file are skipped
// (their inputs are not done) and reported by Warnings; anything after the
// last complete record (a line torn by a crash, with or without its
// newline) is truncated away so the next record starts on a clean line.
// A file whose complete lines hold no record of format f at all (records
// of the other format, or not a records file) is refused and left as it is.
// The file is locked against a second concurrent writer where the platform
// allows. path "" writes to stdout and resumes nothing.
func Open(path string, f Format, stdout io.Writer) (*Output, map[string]Record, error) {
	if path == "" {
		if f == CSV {
			line, _ := csvLine(csvHeader)
			if _, err := stdout.Write(line); err != nil {
				return nil, nil, err
			}
		}
		return &Output{fmt: f, w: stdout, seen: map[string]bool{}}, map[string]Record{}, nil
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := lockFile(file)
	if err != nil {
		file.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	fail := func(err error) (*Output, map[string]Record, error) {
		unlock()
		file.Close()
		return nil, nil, err
	}
	data, err := io.ReadAll(file) // read under the lock: no other writer can be mid-record
	if err != nil {
		return fail(err)
	}
	p := parse(data, f)
	if b := p.foreign; b != nil {
		return fail(fmt.Errorf("%s holds no %s records (line %d: %s: %s); not resuming into it: check --format, or choose another --output",
			path, f, b.line, b.why, excerpt(data[b.start:b.end])))
	}
	o := &Output{f: file, path: path, fmt: f, w: file, size: int64(p.good), seen: map[string]bool{}, unlock: unlock,
		lastSync: time.Now()}
	for _, w := range p.warnings {
		o.warnings = append(o.warnings, path+": "+w)
	}
	for k := range p.done {
		o.seen[k] = true
	}
	if p.good < len(data) {
		if err := file.Truncate(int64(p.good)); err != nil {
			return fail(err)
		}
	}
	if p.good == 0 && f == CSV {
		line, _ := csvLine(csvHeader)
		if _, err := file.Write(line); err != nil {
			return fail(err)
		}
		o.size = int64(len(line))
	}
	if p.good < len(data) || p.good == 0 {
		if err := file.Sync(); err != nil {
			return fail(err)
		}
	}
	if created {
		syncDir(filepath.Dir(path))
	}
	return o, p.done, nil
}

// syncDir makes a new file's directory entry durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Warnings are Open's reports of malformed and torn lines (for the log).
func (o *Output) Warnings() []string { return o.warnings }

func csvLine(fields []string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(fields); err != nil {
		return nil, err
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// parsed is what a records file holds.
type parsed struct {
	done     map[string]Record
	good     int // bytes up to the end of the last complete record (or CSV header)
	warnings []string
	// foreign is the first complete line that holds no record, when the
	// file holds no record (nor CSV header) at all: not a records file of
	// this format, since a crash leaves no complete line behind.
	foreign *badRow
}

// badRow is a line that holds no record.
type badRow struct {
	line, start, end int
	why              string
	complete         bool // the row ended with its newline
}

// parse reads existing records. A line counts when it ends with a newline
// and decodes to a record naming its input; malformed lines before the last
// good record are reported and skipped, lines after it are the torn tail.
func parse(data []byte, f Format) parsed {
	p := parsed{done: map[string]Record{}}
	var bad, tail []badRow // tail: bad rows since the last good one
	keep := func(r Record, end int) {
		p.done[r.Input] = r
		p.good = end
		bad, tail = append(bad, tail...), nil
	}
	if f == CSV {
		parseCSV(data, &p, keep, &tail)
	} else {
		line := 1
		for off := 0; off < len(data); line++ {
			end, complete := len(data), false
			if nl := bytes.IndexByte(data[off:], '\n'); nl >= 0 {
				end, complete = off+nl+1, true
			}
			body := bytes.TrimRight(data[off:end], "\r\n")
			switch r, err := decodeJSONL(body); {
			case complete && err == nil:
				keep(r, end)
			case complete && len(bytes.TrimSpace(body)) == 0: // a blank line: nothing to report
			case !complete:
				tail = append(tail, badRow{line, off, end, "no newline", false})
			default:
				tail = append(tail, badRow{line, off, end, err.Error(), true})
			}
			off = end
		}
	}
	for i, b := range bad {
		if i == maxWarnings {
			p.warnings = append(p.warnings, fmt.Sprintf("%d more malformed lines skipped", len(bad)-i))
			break
		}
		p.warnings = append(p.warnings, fmt.Sprintf("line %d: malformed record skipped (%s): %s", b.line, b.why, excerpt(data[b.start:b.end])))
	}
	if p.good == 0 {
		for i := range tail {
			if tail[i].complete {
				p.foreign = &tail[i]
				break
			}
		}
	}
	if len(tail) > 0 && p.good < len(data) {
		p.warnings = append(p.warnings, fmt.Sprintf("line %d: removed a torn last record (%d bytes, %s): %s; its input is captioned again",
			tail[0].line, len(data)-p.good, tail[0].why, excerpt(data[p.good:])))
	}
	return p
}

func decodeJSONL(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return r, err
	}
	if r.Input == "" {
		return r, errors.New(`no "input"`)
	}
	return r, nil
}

func excerpt(b []byte) string {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) > 60 {
		return strconv.Quote(string(b[:60])) + "..."
	}
	return strconv.Quote(string(b))
}

// parseCSV splits data into rows the way encoding/csv does (a newline inside
// a quoted field does not end the row) and decodes each on its own, so a
// malformed row costs only itself. A row that fails and spans several lines
// (an unbalanced quote swallowing what follows) is taken to be its first
// line only, and splitting resumes on the next line.
func parseCSV(data []byte, p *parsed, keep func(Record, int), tail *[]badRow) {
	line, first := 1, true
	for off := 0; off < len(data); {
		end, complete := csvRowEnd(data, off)
		fields, err := decodeCSVRow(data[off:end])
		if complete && err == nil && first && slices.Equal(fields, csvHeader) {
			first = false
			p.good = end
			line += bytes.Count(data[off:end], []byte{'\n'})
			off = end
			continue
		}
		var r Record
		if err == nil && fields != nil {
			r, err = csvRecord(fields)
		}
		switch {
		case complete && err == nil && fields == nil: // blank line
		case complete && err == nil:
			first = false
			keep(r, end)
		default:
			first = false
			why := "no newline"
			if err != nil {
				why = err.Error()
			}
			if nl := bytes.IndexByte(data[off:end], '\n'); nl >= 0 && nl+off+1 < end {
				end = off + nl + 1 // resynchronise on the next line
				if !complete {
					why = "unterminated quoted field"
				}
			}
			*tail = append(*tail, badRow{line, off, end, why, complete})
		}
		line += bytes.Count(data[off:end], []byte{'\n'})
		off = end
	}
}

// csvRowEnd returns the end of the row starting at off (just past its
// newline) and whether the row is complete (it ends with a newline outside
// quotes).
func csvRowEnd(data []byte, off int) (int, bool) {
	inQuotes, fieldStart := false, true
	for i := off; i < len(data); i++ {
		c := data[i]
		if inQuotes {
			if c == '"' {
				if i+1 < len(data) && data[i+1] == '"' {
					i++
				} else {
					inQuotes = false
				}
			}
			continue
		}
		switch c {
		case '\n':
			return i + 1, true
		case ',':
			fieldStart = true
		case '"':
			inQuotes = fieldStart
			fieldStart = false
		default:
			fieldStart = false
		}
	}
	return len(data), false
}

// decodeCSVRow decodes exactly one row (nil fields: a blank line).
func decodeCSVRow(b []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.Read(); err != io.EOF {
		return nil, errors.New("more than one row")
	}
	return fields, nil
}

func csvRecord(f []string) (Record, error) {
	if len(f) != len(csvHeader) {
		return Record{}, fmt.Errorf("%d fields, want %d", len(f), len(csvHeader))
	}
	if f[0] == "" {
		return Record{}, errors.New("no input")
	}
	pt, err1 := strconv.Atoi(f[2])
	ct, err2 := strconv.Atoi(f[3])
	lat, err3 := strconv.ParseFloat(f[4], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Record{}, errors.New("bad number")
	}
	return Record{Input: f[0], Caption: f[1], PromptTokens: pt, CompletionTokens: ct, LatencyS: lat, Error: f[5]}, nil
}

// Append writes one record: one write of one complete line. An input
// already recorded is refused with ErrDuplicate. After a failed write the
// partial line is cut off and every later Append fails.
func (o *Output) Append(r Record) error {
	line, err := o.fmt.encode(r)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.broken != nil {
		return o.broken
	}
	if o.seen[r.Input] {
		return fmt.Errorf("%w: %s", ErrDuplicate, r.Input)
	}
	if _, err := o.w.Write(line); err != nil {
		if o.f != nil {
			_ = o.f.Truncate(o.size) // do not leave a torn line behind
		}
		o.broken = err
		return err
	}
	o.seen[r.Input] = true
	o.size += int64(len(line))
	if o.f == nil {
		return nil
	}
	o.unsynced++
	if o.unsynced >= syncEvery || time.Since(o.lastSync) >= syncInterval {
		return o.syncLocked()
	}
	return nil
}

func (o *Output) syncLocked() error {
	if err := o.f.Sync(); err != nil {
		o.broken = err
		return err
	}
	o.unsynced, o.lastSync = 0, time.Now()
	return nil
}

// Close syncs and closes the file.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	var err error
	if o.unsynced > 0 && o.broken == nil {
		err = o.syncLocked()
	}
	if o.unlock != nil {
		o.unlock()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	return err
}
