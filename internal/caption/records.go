package caption

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
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
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		if err := w.Write([]string{r.Input, r.Caption, strconv.Itoa(r.PromptTokens), strconv.Itoa(r.CompletionTokens),
			strconv.FormatFloat(r.LatencyS, 'f', 3, 64), r.Error}); err != nil {
			return nil, err
		}
		w.Flush()
		return b.Bytes(), w.Error()
	}
	b, err := json.Marshal(r)
	return append(b, '\n'), err
}

// Output appends records to a file. Each record is written with a single
// write of a whole line and synced, so an interrupted run leaves at most one
// torn last line, which Open cuts off.
type Output struct {
	mu  sync.Mutex
	f   *os.File
	fmt Format
	w   io.Writer // os.Stdout when no file
}

// Open prepares path for appending and returns the inputs it already
// records (resume). A torn last record is truncated away. path "" writes to
// stdout and resumes nothing.
func Open(path string, f Format, stdout io.Writer) (*Output, map[string]Record, error) {
	if path == "" {
		if f == CSV {
			line, _ := csvLine(csvHeader)
			if _, err := stdout.Write(line); err != nil {
				return nil, nil, err
			}
		}
		return &Output{fmt: f, w: stdout}, map[string]Record{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	done, good, err := parse(data, f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := file.Truncate(int64(good)); err != nil {
		file.Close()
		return nil, nil, err
	}
	if _, err := file.Seek(0, io.SeekEnd); err != nil {
		file.Close()
		return nil, nil, err
	}
	o := &Output{f: file, fmt: f, w: file}
	if good == 0 && f == CSV {
		line, _ := csvLine(csvHeader)
		if err := o.write(line); err != nil {
			file.Close()
			return nil, nil, err
		}
	}
	return o, done, nil
}

func csvLine(fields []string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(fields); err != nil {
		return nil, err
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// parse reads existing records and returns them with the byte length of the
// well-formed prefix of data.
func parse(data []byte, f Format) (map[string]Record, int, error) {
	done := map[string]Record{}
	good := 0
	if f == CSV {
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = len(csvHeader)
		header := true
		for {
			fields, err := r.Read()
			if err != nil {
				break // EOF or a torn record: keep what parsed
			}
			off := int(r.InputOffset())
			if off > len(data) || (off > 0 && data[off-1] != '\n') {
				break
			}
			good = off
			if header {
				header = false
				continue
			}
			pt, _ := strconv.Atoi(fields[2])
			ct, _ := strconv.Atoi(fields[3])
			lat, _ := strconv.ParseFloat(fields[4], 64)
			done[fields[0]] = Record{Input: fields[0], Caption: fields[1], PromptTokens: pt, CompletionTokens: ct, LatencyS: lat, Error: fields[5]}
		}
		return done, good, nil
	}
	for good < len(data) {
		nl := bytes.IndexByte(data[good:], '\n')
		if nl < 0 {
			break // torn last line
		}
		var rec Record
		if err := json.Unmarshal(data[good:good+nl], &rec); err != nil || rec.Input == "" {
			break
		}
		done[rec.Input] = rec
		good += nl + 1
	}
	return done, good, nil
}

func (o *Output) write(line []byte) error {
	if _, err := o.w.Write(line); err != nil {
		return err
	}
	if o.f != nil {
		return o.f.Sync()
	}
	return nil
}

// Append writes one record.
func (o *Output) Append(r Record) error {
	line, err := o.fmt.encode(r)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.write(line)
}

// Close closes the file.
func (o *Output) Close() error {
	if o.f == nil {
		return nil
	}
	return o.f.Close()
}
