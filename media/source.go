package media

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// srcKind is how a source string is resolved (docs/api.md §4.2, in this order).
type srcKind int

const (
	srcURL    srcKind = iota // http:// or https://
	srcData                  // data:<mime>;base64,<payload>
	srcFile                  // file:// prefix, or a string that cannot be base64
	srcBase64                // anything else
)

func (k srcKind) String() string {
	return [...]string{"url", "data URI", "local file", "base64"}[k]
}

// classify decides how to resolve s and returns the part to resolve: the URL,
// the base64 payload, or the file path.
func classify(s string) (srcKind, string, error) {
	lower := strings.ToLower(s[:min(len(s), 8)])
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return srcURL, s, nil
	case strings.HasPrefix(lower, "data:"):
		header, payload, ok := strings.Cut(s[len("data:"):], ",")
		if !ok {
			return 0, "", fmt.Errorf("%w: data URI has no ','", ErrInvalid)
		}
		if !strings.HasSuffix(strings.ToLower(header), ";base64") {
			return 0, "", fmt.Errorf("%w: data URI must be base64 (data:<mime>;base64,...)", ErrUnsupported)
		}
		return srcData, payload, nil
	case strings.HasPrefix(lower, "file://"):
		return srcFile, filePath(s[len("file://"):]), nil
	}
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		return 0, "", fmt.Errorf("%w: URL scheme %q (only http, https, data and file)", ErrForbidden, s[:i])
	}
	for i := 0; i < len(s); i++ {
		if !isBase64Char(s[i]) {
			return srcFile, s, nil
		}
	}
	return srcBase64, s, nil
}

// filePath turns the part after "file://" into a path: "localhost/" is
// dropped and percent-escapes are decoded.
func filePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "localhost/"); ok {
		p = "/" + rest
	}
	if strings.Contains(p, "%") {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
	}
	return p
}

func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isBase64Char(c byte) bool {
	return isAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r'
}

// decodeBase64 decodes standard base64, padded or not. Line breaks are ignored.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		var err2 error
		if b, err2 = base64.RawStdEncoding.DecodeString(s); err2 != nil {
			return nil, fmt.Errorf("%w: bad base64: %v", ErrInvalid, err)
		}
	}
	return b, nil
}

// readSource returns the encoded bytes of a source string, enforcing the byte
// limit before allocating and the local-file policy.
func (l *Loader) readSource(ctx context.Context, s string) ([]byte, srcKind, error) {
	kind, arg, err := classify(s)
	if err != nil {
		return nil, 0, err
	}
	switch kind {
	case srcURL:
		b, err := l.fetch(ctx, arg)
		return b, kind, err
	case srcData, srcBase64:
		if int64(len(arg))/4*3 > l.limits.MaxBytes+3 {
			return nil, kind, fmt.Errorf("%w: %s payload of about %d bytes exceeds %d", ErrTooLarge, kind, int64(len(arg))/4*3, l.limits.MaxBytes)
		}
		b, err := decodeBase64(arg)
		if err != nil {
			return nil, kind, err
		}
		if int64(len(b)) > l.limits.MaxBytes {
			return nil, kind, fmt.Errorf("%w: %d bytes exceeds %d", ErrTooLarge, len(b), l.limits.MaxBytes)
		}
		return b, kind, nil
	default:
		b, err := l.readFile(arg)
		return b, kind, err
	}
}

func (l *Loader) fetch(ctx context.Context, u string) ([]byte, error) {
	if l.fetcher == nil {
		return nil, fmt.Errorf("%w: fetching URLs is disabled", ErrForbidden)
	}
	rc, err := l.fetcher.Fetch(ctx, u)
	if err != nil {
		if errors.Is(err, ErrFetch) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrForbidden) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer rc.Close()
	b, err := readLimited(rc, l.limits.MaxBytes)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrFetch, redactURL(u), err)
	}
	return b, err
}

// readLimited reads all of r, failing with ErrTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// readFile reads a local file that lies under one of the allowed directories.
// Symbolic links may not leave the directory (os.Root semantics).
func (l *Loader) readFile(p string) ([]byte, error) {
	if len(l.allowed) == 0 {
		return nil, fmt.Errorf("%w: reading local files is disabled (allow a directory with --allowed-local-media-path)", ErrForbidden)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("%w: bad path %q: %v", ErrInvalid, p, err)
	}
	for _, dir := range l.allowed {
		rel, err := filepath.Rel(dir, abs)
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		f, err := os.OpenInRoot(dir, rel)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: file %q not found", ErrInvalid, p)
			}
			return nil, fmt.Errorf("%w: file %q: %v", ErrForbidden, p, err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("%w: file %q: %v", ErrInvalid, p, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %q is not a regular file", ErrInvalid, p)
		}
		if st.Size() > l.limits.MaxBytes {
			return nil, fmt.Errorf("%w: file of %d bytes exceeds %d", ErrTooLarge, st.Size(), l.limits.MaxBytes)
		}
		b, err := readLimited(f, l.limits.MaxBytes)
		if err != nil && !errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%w: file %q: %v", ErrInvalid, p, err)
		}
		return b, err
	}
	return nil, fmt.Errorf("%w: %q is outside the allowed media directories", ErrForbidden, p)
}

// redactURL drops the query and credentials from a URL for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<url>"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
