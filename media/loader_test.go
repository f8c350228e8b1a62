package media

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testPNG is a 3×2 RGB image with known pixels.
func testPNG(t testing.TB) ([]byte, []uint8) {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	var want []uint8
	for i := range 6 {
		c := color.NRGBA{uint8(40 * i), uint8(255 - 30*i), uint8(7 * i), 255}
		m.SetNRGBA(i%3, i/3, c)
		want = append(want, c.R, c.G, c.B)
	}
	return encodePNG(t, m), want
}

func newLoader(t *testing.T, c Config) *Loader {
	t.Helper()
	l, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLoadSources(t *testing.T) {
	pngBytes, want := testPNG(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a b.png"), pngBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "noext"), pngBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(pngBytes)
	}))
	defer srv.Close()
	l := newLoader(t, Config{AllowedDirs: []string{dir}, Fetcher: NewHTTPFetcher(HTTPOptions{AllowPrivate: true})})
	b64 := base64.StdEncoding.EncodeToString(pngBytes)
	sources := []string{
		filepath.Join(dir, "a b.png"),
		"file://" + filepath.Join(dir, "a b.png"),
		"file://" + strings.ReplaceAll(filepath.Join(dir, "a b.png"), " ", "%20"),
		"file://" + filepath.Join(dir, "noext"),
		srv.URL + "/x.png",
		"data:image/png;base64," + b64,
		"data:image/any;base64," + b64, // MIME type is not trusted
		"DATA:application/octet-stream;BASE64," + b64,
		b64,
		strings.TrimRight(b64, "="), // unpadded
	}
	var hash uint64
	for i, s := range sources {
		items, err := l.Load(context.Background(), []Ref{{Modality: Image, Src: s}})
		if err != nil {
			t.Fatalf("source %d (%.40q): %v", i, s, err)
		}
		it := items[0]
		if it.RGB == nil || it.RGB.W != 3 || it.RGB.H != 2 || string(it.RGB.Pix) != string(want) || it.Codec != "png" {
			t.Errorf("source %d: got %+v", i, it.RGB)
		}
		if i == 0 {
			hash = it.Hash
		} else if it.Hash != hash {
			t.Errorf("source %d: hash %x differs from %x for the same pixels", i, it.Hash, hash)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	pngBytes, _ := testPNG(t)
	dir := t.TempDir()
	okPath := filepath.Join(dir, "ok.png")
	os.WriteFile(okPath, pngBytes, 0o644)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.png")
	os.WriteFile(secret, pngBytes, 0o644)
	if err := os.Symlink(secret, filepath.Join(dir, "link.png")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "sub.png"), 0o755)
	big := strings.Repeat("A", 4008)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			http.NotFound(w, r)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://example.com/x", http.StatusFound)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
			w.Write(pngBytes)
		case "/big":
			w.Header().Set("Content-Length", "5000")
			w.Write([]byte(strings.Repeat("x", 5000)))
		case "/chunked":
			w.(http.Flusher).Flush() // no Content-Length
			for range 5 {
				w.Write([]byte(strings.Repeat("x", 1000)))
				w.(http.Flusher).Flush()
			}
		default:
			w.Write(pngBytes)
		}
	}))
	defer srv.Close()
	fetch := NewHTTPFetcher(HTTPOptions{Timeout: 100 * time.Millisecond, MaxRedirects: 2, MaxBytes: 3000, AllowPrivate: true})
	lim := Limits{MaxBytes: 3000, MaxItems: 3}
	withDir := newLoader(t, Config{AllowedDirs: []string{dir}, Fetcher: fetch, Limits: lim})
	noDir := newLoader(t, Config{Fetcher: fetch})
	noFetch := newLoader(t, Config{AllowedDirs: []string{dir}})

	tests := []struct {
		name string
		l    *Loader
		refs []Ref
		want error
		msg  string
	}{
		{"local disabled", noDir, []Ref{{Modality: Image, Src: okPath}}, ErrForbidden,
			"An exception occurred while loading IMAGE data at index 0: media source not allowed: reading local files is disabled"},
		{"outside", withDir, []Ref{{Modality: Image, Src: okPath}, {Modality: Image, Src: secret}}, ErrForbidden,
			"at index 1: media source not allowed: \"" + secret + "\" is outside the allowed media directories"},
		{"dotdot", withDir, []Ref{{Modality: Image, Src: dir + "/../" + filepath.Base(outside) + "/secret.png"}}, ErrForbidden, "outside the allowed"},
		{"symlink escape", withDir, []Ref{{Modality: Image, Src: filepath.Join(dir, "link.png")}}, ErrForbidden, "link.png"},
		{"missing", withDir, []Ref{{Modality: Image, Src: filepath.Join(dir, "nope.png")}}, ErrInvalid, "not found"},
		{"directory", withDir, []Ref{{Modality: Image, Src: filepath.Join(dir, "sub.png")}}, ErrInvalid, "not a regular file"},
		{"too many", withDir, make([]Ref, 4), ErrTooLarge, "4 media items exceed the limit of 3"},
		{"base64 too big", withDir, []Ref{{Modality: Image, Src: big}}, ErrTooLarge, "base64 payload of about 3006 bytes exceeds 3000"},
		{"data uri too big", withDir, []Ref{{Modality: Image, Src: "data:image/png;base64," + big}}, ErrTooLarge, "data URI payload"},
		{"bad base64", withDir, []Ref{{Modality: Image, Src: "abcde"}}, ErrInvalid, "bad base64"},
		{"not base64 data uri", withDir, []Ref{{Modality: Image, Src: "data:text/plain,hello"}}, ErrUnsupported, "must be base64"},
		{"scheme", withDir, []Ref{{Modality: Image, Src: "s3://bucket/key.png"}}, ErrForbidden, `URL scheme "s3"`},
		{"fetch disabled", noFetch, []Ref{{Modality: Image, Src: srv.URL + "/x.png"}}, ErrForbidden, "fetching URLs is disabled"},
		{"404", withDir, []Ref{{Modality: Audio, Src: srv.URL + "/404"}}, ErrFetch, "AUDIO data at index 0: media fetch failed: " + srv.URL + "/404: HTTP 404"},
		{"redirects", withDir, []Ref{{Modality: Image, Src: srv.URL + "/loop"}}, ErrFetch, "more than 2 redirects"},
		{"redirect scheme", withDir, []Ref{{Modality: Image, Src: srv.URL + "/ftp"}}, ErrForbidden, `redirect to scheme "ftp"`},
		{"timeout", withDir, []Ref{{Modality: Image, Src: srv.URL + "/slow"}}, ErrFetch, "timed out after 100ms"},
		{"content-length", withDir, []Ref{{Modality: Image, Src: srv.URL + "/big"}}, ErrTooLarge, "Content-Length 5000 exceeds 3000"},
		{"streamed too big", withDir, []Ref{{Modality: Image, Src: srv.URL + "/chunked"}}, ErrTooLarge, "more than 3000 bytes"},
		{"file too big", newLoader(t, Config{AllowedDirs: []string{dir}, Limits: Limits{MaxBytes: 10}}),
			[]Ref{{Modality: Image, Src: okPath}}, ErrTooLarge, "exceeds 10"},
		{"undecodable", withDir, []Ref{{Modality: Image, Src: "aGVsbG8gd29ybGQ="}}, ErrUnsupported, "not a recognised image format"},
		{"empty", withDir, []Ref{{Modality: Image}}, ErrInvalid, "empty source"},
		{"array limit", newLoader(t, Config{Limits: Limits{MaxArray: 3}}),
			[]Ref{{Modality: Image, Format: Precomputed, Arrays: map[string]Array{"feature": {Shape: []int{2, 2}, Data: make([]float32, 4)}}}},
			ErrTooLarge, "4 array elements exceed 3"},
		{"array shape", withDir,
			[]Ref{{Modality: Image, Format: Precomputed, Arrays: map[string]Array{"feature": {Shape: []int{2, 2}, Data: make([]float32, 3)}}}},
			ErrInvalid, "does not match"},
		{"audio index counts audio only", withDir, []Ref{{Modality: Image, Src: okPath}, {Modality: Audio, Src: "aGVsbG8gd29ybGQ="}},
			ErrUnsupported, "AUDIO data at index 0"},
	}
	for _, tt := range tests {
		_, err := tt.l.Load(context.Background(), tt.refs)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v\n\twant %v containing %q", tt.name, err, tt.want, tt.msg)
		}
	}
}

func TestHTTPFetcherRefusesLoopbackByDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	l := newLoader(t, Config{Fetcher: NewHTTPFetcher(HTTPOptions{})})
	_, err := l.Load(context.Background(), []Ref{{Modality: Image, Src: srv.URL}})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "127.0.0.1 is not public (loopback)") {
		t.Errorf("got %v", err)
	}
}

// fakeFetcher serves fixed bytes and counts concurrent fetches.
type fakeFetcher struct {
	data         map[string][]byte
	active, peak atomic.Int32
}

func (f *fakeFetcher) Fetch(ctx context.Context, url string) (io.ReadCloser, error) {
	n := f.active.Add(1)
	defer f.active.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	b, ok := f.data[url]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrFetch, url)
	}
	return io.NopCloser(strings.NewReader(string(b))), nil
}

func TestLoadConcurrentOrderAndFirstError(t *testing.T) {
	f := &fakeFetcher{data: map[string][]byte{}}
	var refs []Ref
	for i := range 12 {
		m := image.NewGray(image.Rect(0, 0, i+1, 1))
		url := fmt.Sprintf("http://h/%d.png", i)
		f.data[url] = encodePNG(t, m)
		refs = append(refs, Ref{Modality: Image, Src: url})
	}
	l := newLoader(t, Config{Fetcher: f, Workers: 2})
	items, err := l.Load(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if it.RGB.W != i+1 {
			t.Errorf("item %d has width %d", i, it.RGB.W)
		}
	}
	if f.peak.Load() < 2 {
		t.Errorf("fetches did not overlap (peak %d)", f.peak.Load())
	}
	refs[7].Src, refs[9].Src = "http://h/missing7", "http://h/missing9"
	_, err = l.Load(context.Background(), refs)
	var ie *ItemError
	if !errors.As(err, &ie) || ie.Index != 7 || !errors.Is(err, ErrFetch) {
		t.Errorf("got %v, want the error of index 7", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Load(ctx, refs[:3]); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestItemHash(t *testing.T) {
	l := newLoader(t, Config{})
	load := func(r Ref) Item {
		t.Helper()
		items, err := l.Load(context.Background(), []Ref{r})
		if err != nil {
			t.Fatal(err)
		}
		return items[0]
	}
	img := func(w, h int, v uint8) Ref {
		m := image.NewGray(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = v
		}
		return Ref{Modality: Image, Src: base64.StdEncoding.EncodeToString(encodePNG(t, m))}
	}
	a := load(img(4, 2, 9))
	// Golden: the hash must not change across runs or releases (prefix-cache keys).
	if a.Hash != 0x8c2c87b8f1452ca0 {
		t.Errorf("hash of the 4×2 grey-9 image = %#x", a.Hash)
	}
	distinct := map[uint64]string{a.Hash: "4x2/9"}
	for name, r := range map[string]Ref{
		"2x4/9": img(2, 4, 9), // same bytes, other shape
		"4x2/8": img(4, 2, 8),
		"pre":   {Modality: Image, Format: Precomputed, Arrays: map[string]Array{"feature": {Shape: []int{1, 24}, Data: make([]float32, 24)}}},
		"po":    {Modality: Image, Format: ProcessorOutput, Arrays: map[string]Array{"feature": {Shape: []int{1, 24}, Data: make([]float32, 24)}}},
		"pre2":  {Modality: Image, Format: Precomputed, Arrays: map[string]Array{"feature": {Shape: []int{2, 12}, Data: make([]float32, 24)}}},
	} {
		h := load(r).Hash
		if prev, dup := distinct[h]; dup {
			t.Errorf("%s and %s share hash %x", name, prev, h)
		}
		distinct[h] = name
	}
	withID := img(4, 2, 9)
	withID.ID = "sha256:" + strings.Repeat("ab", 32)
	other := img(4, 2, 7)
	other.ID = withID.ID
	if h1, h2 := load(withID).Hash, load(other).Hash; h1 != h2 || h1 == a.Hash {
		t.Errorf("caller identity: %x %x (content hash %x)", h1, h2, a.Hash)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{TargetRate: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative rate: %v", err)
	}
	l := newLoader(t, Config{})
	if got := l.Limits(); got != DefaultLimits() {
		t.Errorf("defaults: %+v", got)
	}
}
