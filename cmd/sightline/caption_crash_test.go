package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "SIGHTLINE_CAPTION_CRASH_CHILD"

// TestCaptionCrashChild is `sightline` itself when re-executed by
// TestCaptionKill9 (the arguments follow "--"); otherwise it does nothing.
func TestCaptionCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("re-executed by TestCaptionKill9 only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, flag.Args(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// tinyImages writes n distinct small PNGs.
func tinyImages(t *testing.T, n int) (dir string, paths []string) {
	t.Helper()
	dir = t.TempDir()
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 28, 28))
		for y := 0; y < 28; y++ {
			for x := 0; x < 28; x++ {
				img.Set(x, y, color.RGBA{uint8(i * 6), uint8(x * 9), uint8(y*9) ^ uint8(i), 255})
			}
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		p := filepath.Join(dir, fmt.Sprintf("img%02d.png", i))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return dir, paths
}

// TestCaptionKill9 runs `sightline caption` (in-process tiny VLM) in a child
// process, SIGKILLs it at random moments (fixed seed, logged), resumes until
// a run finishes, and checks the records: every input exactly once, every
// line valid, nothing torn. After some kills it also appends a torn record
// (what a crash inside write(2) or a power loss leaves) that the next run
// must cut off and redo.
func TestCaptionKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	model := tinyVLM(t)
	dir, paths := tinyImages(t, 40)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "captions."+format)
			args := []string{"-test.run=^TestCaptionCrashChild$", "--", "caption", "--model-path", model, "--output", out,
				"--format", format, "--concurrency", "2", "--max-new-tokens", "24", dir}
			rng := rand.New(rand.NewSource(19))
			start := time.Now()
			kills, injected, runs, repaired := 0, 0, 0, 0
			var delays []string
			for {
				if time.Since(start) > 40*time.Second {
					t.Fatalf("not done after %d runs (%d kills)", runs, kills)
				}
				// one kill in five lands at a random moment of start-up (the
				// file is open, maybe truncated, nothing captioned yet); the
				// others a random 0-20 ms after the run's first new record,
				// so every such run makes progress and the loop ends
				startup := rng.Intn(5) == 0
				delay := time.Duration(rng.Int63n(int64(20 * time.Millisecond)))
				if startup {
					delay = time.Duration(rng.Int63n(int64(80 * time.Millisecond)))
				}
				cmd := exec.Command(exe, args...)
				cmd.Env = append(os.Environ(), crashChildEnv+"=1")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				runs++
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				werr, killed := waitOrKill(out, exited, startup, delay)
				if killed {
					cmd.Process.Signal(syscall.SIGKILL)
					werr = <-exited
					killed = werr != nil && strings.Contains(werr.Error(), "killed")
				}
				log := stderr.String()
				if strings.Contains(log, "malformed") {
					t.Fatalf("run %d found middle damage:\n%s", runs, log)
				}
				if strings.Contains(log, "removed a torn last record") {
					repaired++
				}
				if !killed {
					if werr != nil {
						t.Fatalf("run %d: %v\n%s", runs, werr, log)
					}
					if !strings.Contains(log, "0 failed") {
						t.Fatalf("run %d: %s", runs, log)
					}
					break
				}
				kills++
				n := countRecords(t, out, format)
				when := "+" + delay.Round(time.Millisecond).String()
				if startup {
					when = "start+" + delay.Round(time.Millisecond).String()
				}
				delays = append(delays, fmt.Sprintf("%s:%d", when, n))
				// every other kill, leave a torn record (a later run, or the
				// final checks, prove it was cut off)
				if kills%2 == 0 {
					torn := fmt.Sprintf(`{"input":%q,"caption":"half a capt`, paths[len(paths)-1])
					if format == "csv" {
						torn = fmt.Sprintf("%s,\"half a caption\nover two lines", paths[len(paths)-1])
					}
					f, _ := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
					f.WriteString(torn[:len(torn)-rng.Intn(8)])
					f.Close()
					injected++
				}
			}
			t.Logf("%s: %d kills (delay:records %s), %d torn records injected, %d reported removed, %d runs, %v",
				format, kills, strings.Join(delays, " "), injected, repaired, runs, time.Since(start).Round(time.Millisecond))
			if kills < 3 {
				t.Fatalf("only %d kills landed", kills)
			}
			// the final file: every input exactly once, every line valid
			data, _ := os.ReadFile(out)
			if len(data) == 0 || data[len(data)-1] != '\n' {
				t.Fatalf("file does not end with a newline: %q", data)
			}
			seen := map[string]int{}
			if format == "jsonl" {
				for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
					var r rec
					if err := json.Unmarshal([]byte(l), &r); err != nil || r.Input == "" || r.Error != "" || r.CompletionTokens == 0 {
						t.Fatalf("line %d %q: %v", i+1, l, err)
					}
					seen[r.Input]++
				}
			} else {
				rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
				if err != nil || len(rows) == 0 || rows[0][0] != "input" {
					t.Fatalf("csv: %v", err)
				}
				for _, r := range rows[1:] {
					if r[0] == "" || r[5] != "" || r[3] == "0" {
						t.Fatalf("row %q", r)
					}
					seen[r[0]]++
				}
			}
			for _, p := range paths {
				if seen[p] != 1 {
					t.Fatalf("%s recorded %d times", p, seen[p])
				}
			}
			if len(seen) != len(paths) {
				t.Fatalf("%d inputs recorded, want %d", len(seen), len(paths))
			}
		})
	}
}

// waitOrKill waits for the child to exit (false) or for the moment to kill
// it (true): delay after start, or delay after the output file first grows
// past its smallest size in this run (a resumed run first truncates a torn
// tail).
func waitOrKill(out string, exited chan error, startup bool, delay time.Duration) (error, bool) {
	if startup {
		select {
		case err := <-exited:
			return err, false
		case <-time.After(delay):
			return nil, true
		}
	}
	minSize := int64(-1)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return err, false
		case <-tick.C:
		}
		st, err := os.Stat(out)
		if err != nil {
			continue
		}
		if minSize < 0 || st.Size() < minSize {
			minSize = st.Size()
		} else if st.Size() > minSize && minSize >= 0 {
			break
		}
	}
	select {
	case err := <-exited:
		return err, false
	case <-time.After(delay):
		return nil, true
	}
}

// countRecords counts the complete records in a file being written.
func countRecords(t *testing.T, path, format string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := bytes.Count(data, []byte("\n"))
	if format == "csv" {
		r := csv.NewReader(bytes.NewReader(data))
		n = 0
		for {
			if _, err := r.Read(); err != nil {
				break
			}
			n++
		}
		n = max(0, n-1)
	}
	return n
}
