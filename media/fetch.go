package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Fetcher downloads a URL. Implementations honour ctx; the caller closes the
// body and enforces the byte limit while reading.
type Fetcher interface {
	Fetch(ctx context.Context, url string) (io.ReadCloser, error)
}

// HTTPFetcher fetches http(s) URLs with a whole-request timeout (connect,
// redirects and body), a redirect limit and an early Content-Length check.
type HTTPFetcher struct {
	client       *http.Client
	timeout      time.Duration
	maxBytes     int64
	maxRedirects int
}

// HTTPOptions configure NewHTTPFetcher. Zero fields take the defaults.
type HTTPOptions struct {
	Timeout      time.Duration // whole request including the body (default 3 s, SGLang's REQUEST_TIMEOUT)
	MaxRedirects int           // default 5; negative: none followed
	MaxBytes     int64         // reject a larger Content-Length up front (default DefaultLimits().MaxBytes)
	// BlockPrivate refuses to connect to loopback, private, link-local and
	// unspecified addresses (checked on the resolved IP, so DNS cannot evade it).
	BlockPrivate bool
	Transport    http.RoundTripper // nil: a clone of http.DefaultTransport
	UserAgent    string
}

// NewHTTPFetcher returns a Fetcher for http and https URLs.
func NewHTTPFetcher(o HTTPOptions) *HTTPFetcher {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 5
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultLimits().MaxBytes
	}
	rt := o.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if o.BlockPrivate {
			d := &net.Dialer{Timeout: o.Timeout, Control: denyPrivate}
			t.DialContext = d.DialContext
			t.Proxy = nil // a proxy would hide the destination address
		}
		rt = t
	}
	if o.UserAgent != "" {
		rt = userAgent{rt, o.UserAgent}
	}
	maxRedirects := max(o.MaxRedirects, 0)
	return &HTTPFetcher{
		timeout:      o.Timeout,
		maxBytes:     o.MaxBytes,
		maxRedirects: maxRedirects,
		client: &http.Client{
			Transport: rt,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > maxRedirects {
					return fmt.Errorf("%w: more than %d redirects", ErrFetch, maxRedirects)
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return fmt.Errorf("%w: redirect to scheme %q", ErrForbidden, req.URL.Scheme)
				}
				return nil
			},
		},
	}
}

// Fetch implements Fetcher. Non-2xx statuses are ErrFetch errors.
func (f *HTTPFetcher) Fetch(ctx context.Context, u string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		cancel()
		return nil, fmt.Errorf("%w: URL scheme %q", ErrForbidden, req.URL.Scheme)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		var ue interface{ Timeout() bool }
		switch {
		case errors.Is(err, ErrForbidden), errors.Is(err, ErrFetch):
			return nil, unwrapURLError(err)
		case errors.As(err, &ue) && ue.Timeout():
			return nil, fmt.Errorf("%w: %s: timed out after %v", ErrFetch, redactURL(u), f.timeout)
		}
		return nil, fmt.Errorf("%w: %v", ErrFetch, unwrapURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: %s: HTTP %s", ErrFetch, redactURL(u), resp.Status)
	}
	if resp.ContentLength > f.maxBytes {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: Content-Length %d exceeds %d", ErrTooLarge, resp.ContentLength, f.maxBytes)
	}
	return &cancelBody{ReadCloser: resp.Body, cancel: cancel, timeout: f.timeout}, nil
}

// unwrapURLError drops *url.Error's "Get <url>:" prefix, which may carry secrets.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// cancelBody releases the request context when the body is closed and
// reports a deadline hit while reading as a timeout.
type cancelBody struct {
	io.ReadCloser
	cancel  context.CancelFunc
	timeout time.Duration
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: body timed out after %v", ErrFetch, b.timeout)
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

type userAgent struct {
	rt http.RoundTripper
	ua string
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.rt.RoundTrip(r)
}

// denyPrivate is a net.Dialer Control hook rejecting non-public addresses.
func denyPrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrForbidden, address)
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w: address %s is not public", ErrForbidden, a)
	}
	return nil
}
