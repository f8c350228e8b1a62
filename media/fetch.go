package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fetcher downloads a URL. Implementations honour ctx; the caller closes the
// body and enforces the byte limit while reading.
type Fetcher interface {
	Fetch(ctx context.Context, url string) (io.ReadCloser, error)
}

// HTTPFetcher fetches http(s) URLs with a whole-request timeout (connect,
// redirects and body), a redirect limit, a byte cap (Content-Length up front,
// then while streaming) and a destination policy applied to every hop.
type HTTPFetcher struct {
	client       *http.Client
	policy       *hostPolicy
	timeout      time.Duration
	maxBytes     int64
	maxRedirects int
}

// HTTPOptions configure NewHTTPFetcher. The zero value is safe for URLs from
// untrusted clients; zero numeric fields take the defaults.
type HTTPOptions struct {
	Timeout      time.Duration // whole request including the body (default 3 s, SGLang's REQUEST_TIMEOUT)
	MaxRedirects int           // default 5; negative: none followed
	// MaxBytes rejects a larger Content-Length up front and fails the body
	// read past that many bytes, with or without a Content-Length
	// (default DefaultLimits().MaxBytes).
	MaxBytes int64
	// AllowPrivate lifts the destination address block. By default every
	// connection, the first and each redirect hop, must go to a public
	// unicast address: loopback, private (RFC 1918, fc00::/7), link-local
	// (169.254.0.0/16 with the cloud metadata address, fe80::/10), CGNAT
	// (100.64.0.0/10), 0.0.0.0/8, unspecified, multicast, reserved and
	// documentation ranges, and IPv6 forms that carry such an IPv4 address
	// (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are
	// refused with ErrForbidden. The check runs on the address actually
	// dialled, after DNS, so host names ("localhost", rebinding) cannot
	// evade it; HTTP(S)_PROXY is then ignored, since a proxy would hide the
	// destination. Set AllowPrivate only when media servers are trusted
	// internal hosts; proxies from the environment are then used.
	AllowPrivate bool
	// AllowedDomains, when non-empty, restricts fetches to URLs whose host
	// equals one of the entries, as vLLM's --allowed-media-domains does:
	// exact host-name match (ASCII case and a trailing dot ignored), no
	// subdomains ("example.com" does not admit "cdn.example.com"), no
	// scheme or port in the entries. It is checked on the URL and on every
	// redirect hop; other hosts fail with ErrForbidden. It does not lift the
	// address block: a listed host that resolves to a private address is
	// refused unless AllowPrivate is also set.
	AllowedDomains []string
	// Transport replaces the built-in one (a clone of http.DefaultTransport
	// dialling through the address check). A custom Transport dials by
	// itself, so the address block then covers only IP literals in URLs and
	// redirects, not host names; AllowedDomains, the scheme and redirect
	// rules and the limits still apply.
	Transport http.RoundTripper
	UserAgent string
}

// NewHTTPFetcher returns a Fetcher for http and https URLs.
func NewHTTPFetcher(o HTTPOptions) *HTTPFetcher { return newHTTPFetcher(o, nil) }

// newHTTPFetcher is NewHTTPFetcher with a test hook: addresses for which
// public reports true pass the address block.
func newHTTPFetcher(o HTTPOptions, public func(netip.AddrPort) bool) *HTTPFetcher {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 5
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultLimits().MaxBytes
	}
	p := &hostPolicy{allowPrivate: o.AllowPrivate, public: public}
	if len(o.AllowedDomains) > 0 {
		// An empty entry matches nothing, so a list of blanks still restricts.
		p.domains = make(map[string]bool, len(o.AllowedDomains))
		for _, d := range o.AllowedDomains {
			p.domains[normHost(d)] = true
		}
	}
	rt := o.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if !o.AllowPrivate {
			d := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second, Control: p.control}
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
		policy:       p,
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
				return p.checkURL(req.URL, "redirect host")
			},
		},
	}
}

// Fetch implements Fetcher. Non-2xx statuses are ErrFetch errors, policy
// refusals ErrForbidden, and a body past MaxBytes ErrTooLarge. Messages name
// hosts and paths but never a URL's query or credentials.
func (f *HTTPFetcher) Fetch(ctx context.Context, u string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: bad URL: %v", ErrInvalid, unwrapURLError(err))
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		cancel()
		return nil, fmt.Errorf("%w: URL scheme %q", ErrForbidden, req.URL.Scheme)
	}
	if err := f.policy.checkURL(req.URL, "URL host"); err != nil {
		cancel()
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		var d *deniedError
		var ue interface{ Timeout() bool }
		switch {
		case errors.As(err, &d):
			return nil, d // without the "Get <url>:" and "dial tcp ...:" wrappers
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
	return &cancelBody{ReadCloser: resp.Body, cancel: cancel, timeout: f.timeout, max: f.maxBytes, left: f.maxBytes}, nil
}

// unwrapURLError drops *url.Error's "Get <url>:" prefix, which may carry secrets.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// cancelBody releases the request context when the body is closed, reports
// a deadline hit while reading as a timeout, and fails past max bytes.
type cancelBody struct {
	io.ReadCloser
	cancel    context.CancelFunc
	timeout   time.Duration
	max, left int64 // left < 0: more than max bytes arrived
}

func (b *cancelBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the cap is enough to tell
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, b.tooLarge()
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: body timed out after %v", ErrFetch, b.timeout)
	}
	return n, err
}

func (b *cancelBody) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, b.max)
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

// deniedError is a destination policy refusal. It wraps ErrForbidden.
type deniedError struct{ msg string }

func (e *deniedError) Error() string { return ErrForbidden.Error() + ": " + e.msg }
func (e *deniedError) Unwrap() error { return ErrForbidden }

func denied(format string, a ...any) error { return &deniedError{fmt.Sprintf(format, a...)} }

// hostPolicy decides which destinations a fetch may reach.
type hostPolicy struct {
	allowPrivate bool
	domains      map[string]bool           // nil: any host
	public       func(netip.AddrPort) bool // test hook, nil in production
}

// normHost lower-cases a host name and drops a trailing dot and IPv6 brackets.
func normHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// checkURL applies the host rules to one hop before anything is dialled:
// AllowedDomains and, unless private addresses are allowed, IP literals.
// Host names are checked again on the dialled address (control).
func (p *hostPolicy) checkURL(u *url.URL, what string) error {
	host := normHost(u.Hostname())
	if host == "" {
		return fmt.Errorf("%w: URL has no host", ErrInvalid)
	}
	if p.domains != nil && !p.domains[host] {
		return denied("%s %q is not in the allowed media domains", what, host)
	}
	if p.allowPrivate {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil // a name: judged after resolution
	}
	port := uint16(80)
	if u.Scheme == "https" {
		port = 443
	}
	if n, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		port = uint16(n)
	}
	return p.checkAddr(netip.AddrPortFrom(a, port))
}

// control is a net.Dialer Control hook: it sees the resolved address of
// every connection attempt, redirects included.
func (p *hostPolicy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return denied("unparsable address %q", address)
	}
	return p.checkAddr(ap)
}

func (p *hostPolicy) checkAddr(ap netip.AddrPort) error {
	if p.public != nil && p.public(ap) {
		return nil
	}
	if why := nonPublic(ap.Addr()); why != "" {
		return denied("address %s is not public (%s)", ap.Addr(), why)
	}
	return nil
}

type namedPrefix struct {
	p    netip.Prefix
	name string
}

func prefixes(kv ...string) []namedPrefix {
	out := make([]namedPrefix, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, namedPrefix{netip.MustParsePrefix(kv[i]), kv[i+1]})
	}
	return out
}

// Non-public ranges (IANA special-purpose registries, not globally
// reachable, plus CGNAT), first match names the reason.
var (
	specialV4 = prefixes(
		"0.0.0.0/8", "this network",
		"10.0.0.0/8", "private",
		"100.64.0.0/10", "shared/CGNAT",
		"127.0.0.0/8", "loopback",
		"169.254.0.0/16", "link-local",
		"172.16.0.0/12", "private",
		"192.0.0.0/24", "IETF protocol assignments",
		"192.0.2.0/24", "documentation",
		"192.88.99.0/24", "6to4 relay",
		"192.168.0.0/16", "private",
		"198.18.0.0/15", "benchmarking",
		"198.51.100.0/24", "documentation",
		"203.0.113.0/24", "documentation",
		"224.0.0.0/4", "multicast",
		"240.0.0.0/4", "reserved",
	)
	specialV6 = prefixes(
		"::/128", "unspecified",
		"::1/128", "loopback",
		"::/96", "IPv4-compatible",
		"::ffff:0:0/96", "IPv4-mapped",
		"::ffff:0:0:0/96", "IPv4-translated",
		"64:ff9b:1::/48", "local-use NAT64",
		"100::/64", "discard-only",
		"2001::/23", "IETF protocol assignments",
		"2001:db8::/32", "documentation",
		"3fff::/20", "documentation",
		"5f00::/16", "SRv6",
		"fc00::/7", "unique local",
		"fe80::/10", "link-local",
		"fec0::/10", "site-local",
		"ff00::/8", "multicast",
	)
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// nonPublic names why a is not a public unicast address, or returns "".
// IPv4 addresses embedded in IPv4-mapped, NAT64 and 6to4 addresses are
// judged as themselves.
func nonPublic(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if a.Is4() {
		for _, r := range specialV4 {
			if r.p.Contains(a) {
				return r.name
			}
		}
		return ""
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		if why := nonPublic(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
			return why + " IPv4 in NAT64"
		}
		return ""
	case sixToFour.Contains(a):
		if why := nonPublic(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
			return why + " IPv4 in 6to4"
		}
		return ""
	}
	for _, r := range specialV6 {
		if r.p.Contains(a) {
			return r.name
		}
	}
	if !a.IsGlobalUnicast() {
		return "not global unicast"
	}
	return ""
}
