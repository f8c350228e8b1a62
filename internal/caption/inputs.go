// Package caption captions many images through a Sightline/SGLang/OpenAI
// server (local or in-process): input discovery, bounded concurrency,
// resumable append-only JSONL/CSV records and progress reporting. The
// `sightline caption` command is its CLI.
package caption

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// imageExts are the extensions collected from directories.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true, ".gif": true,
	".bmp": true, ".tif": true, ".tiff": true}

// Input is one thing to caption: a local path or an http(s) URL. Err is set
// when the input could not even be resolved (it is recorded as failed).
type Input struct {
	Key string // what the record names: the path as found, or the URL
	Err error
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// Collect expands the command-line inputs: files, directories (recursive,
// image extensions), globs, URLs, "-" (one input per line on stdin) and the
// lines of listFile. Duplicates are dropped; order is stable.
func Collect(args []string, listFile string, stdin io.Reader) ([]Input, error) {
	var out []Input
	seen := map[string]bool{}
	add := func(in Input) {
		if !seen[in.Key] {
			seen[in.Key] = true
			out = append(out, in)
		}
	}
	var lines []string
	if listFile != "" {
		f, err := os.Open(listFile)
		if err != nil {
			return nil, fmt.Errorf("--list: %w", err)
		}
		l, err := readLines(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--list %s: %w", listFile, err)
		}
		lines = append(lines, l...)
	}
	for _, a := range args {
		if a == "-" {
			l, err := readLines(stdin)
			if err != nil {
				return nil, fmt.Errorf("stdin: %w", err)
			}
			lines = append(lines, l...)
			continue
		}
		lines = append(lines, a)
	}
	for _, a := range lines {
		switch {
		case isURL(a):
			add(Input{Key: a})
		case strings.ContainsAny(a, "*?["):
			matches, err := filepath.Glob(a)
			if err != nil {
				add(Input{Key: a, Err: fmt.Errorf("bad glob: %w", err)})
				continue
			}
			if len(matches) == 0 {
				add(Input{Key: a, Err: fmt.Errorf("glob matches no file")})
			}
			for _, m := range matches {
				for _, in := range expand(m) {
					add(in)
				}
			}
		default:
			for _, in := range expand(a) {
				add(in)
			}
		}
	}
	return out, nil
}

// expand turns a path into inputs: a directory's images, or the file itself.
func expand(p string) []Input {
	st, err := os.Stat(p)
	if err != nil {
		return []Input{{Key: p, Err: err}}
	}
	if !st.IsDir() {
		return []Input{{Key: p}}
	}
	var out []Input
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			out = append(out, Input{Key: path, Err: err})
			return nil
		}
		if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(path))] {
			out = append(out, Input{Key: path})
		}
		return nil
	})
	if err != nil {
		out = append(out, Input{Key: p, Err: err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func readLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
