package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is a loopback test server that counts the requests it gets.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func addrOf(t *testing.T, srv *httptest.Server) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// fetchAll fetches u and reads the whole body.
func fetchAll(f Fetcher, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := f.Fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestHTTPFetcherSafeByDefault(t *testing.T) {
	srv, hits := countingServer(t, nil)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	f := NewHTTPFetcher(HTTPOptions{})
	for _, c := range []struct{ url, msg string }{
		{srv.URL + "/x.png?token=SECRET", "address 127.0.0.1 is not public (loopback)"},
		// A host name is judged on the address it resolves to.
		{"http://localhost" + port + "/x.png?token=SECRET", "is not public (loopback)"},
		{"http://10.1.2.3/x.png?token=SECRET", "address 10.1.2.3 is not public (private)"},
		{"http://192.168.0.1/", "(private)"},
		{"http://172.31.255.255/", "(private)"},
		{"http://169.254.169.254/latest/meta-data/?token=SECRET", "address 169.254.169.254 is not public (link-local)"},
		{"http://100.100.100.200/latest/meta-data/", "(shared/CGNAT)"},
		{"http://0.0.0.0" + port + "/", "(this network)"},
		{"http://[::ffff:127.0.0.1]" + port + "/", "address ::ffff:127.0.0.1 is not public (loopback)"},
		{"http://[::ffff:169.254.169.254]/", "169.254.169.254 is not public (link-local)"},
		{"http://[::1]" + port + "/", "(loopback)"},
		{"http://[::]" + port + "/", "(unspecified)"},
		{"http://[::127.0.0.1]" + port + "/", "(IPv4-compatible)"},
		{"http://[64:ff9b::a9fe:a9fe]/", "link-local IPv4 in NAT64"},
		{"http://[2002:c0a8:0101::1]/", "private IPv4 in 6to4"},
		{"http://[fd00::1]/", "(unique local)"},
		{"http://[fe80::1%25lo]/", "(link-local)"},
		{"http://224.0.0.1/", "(multicast)"},
		{"https://[ff02::1]/", "(multicast)"},
	} {
		_, err := fetchAll(f, c.url)
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want ErrForbidden containing %q", c.url, err, c.msg)
		} else if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "dial tcp") {
			t.Errorf("%s: message leaks the query or a wrapper: %v", c.url, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server got %d requests", n)
	}
}

func TestHTTPFetcherAllowPrivate(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	f := NewHTTPFetcher(HTTPOptions{AllowPrivate: true})
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		if b, err := fetchAll(f, u); err != nil || string(b) != "ok" {
			t.Errorf("%s: %q %v", u, b, err)
		}
	}
}

// Redirect hops dial through the same address check. The first server is
// loopback too, so a test hook declares its one address public.
func TestHTTPFetcherRedirectHops(t *testing.T) {
	inner, innerHits := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "inner") })
	innerPort := inner.URL[strings.LastIndex(inner.URL, ":"):]
	var outer *httptest.Server
	outer, _ = countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "outer")
		case "/self":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/inner":
			http.Redirect(w, r, inner.URL+"/?token=SECRET", http.StatusFound)
		case "/localhost":
			http.Redirect(w, r, "http://localhost"+innerPort+"/", http.StatusFound)
		case "/mapped":
			http.Redirect(w, r, "http://[::ffff:7f00:1]"+innerPort+"/", http.StatusFound)
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusMovedPermanently)
		}
	})
	public := addrOf(t, outer)
	f := newHTTPFetcher(HTTPOptions{}, func(ap netip.AddrPort) bool { return ap == public })
	if b, err := fetchAll(f, outer.URL+"/self"); err != nil || string(b) != "outer" {
		t.Fatalf("redirect to the public test address: %q %v", b, err)
	}
	for _, c := range []struct{ path, msg string }{
		{"/inner", "address 127.0.0.1 is not public (loopback)"},
		{"/localhost", "is not public (loopback)"},
		{"/mapped", "address ::ffff:127.0.0.1 is not public (loopback)"},
		{"/metadata", "address 169.254.169.254 is not public (link-local)"},
	} {
		_, err := fetchAll(f, outer.URL+c.path)
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v, want ErrForbidden containing %q", c.path, err, c.msg)
		}
	}
	if n := innerHits.Load(); n != 0 {
		t.Errorf("the private server got %d requests through redirects", n)
	}
}

func TestHTTPFetcherAllowedDomains(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "ok")
		case "/away":
			http.Redirect(w, r, "http://localhost"+r.Host[strings.LastIndex(r.Host, ":"):]+"/ok?token=SECRET", http.StatusFound)
		case "/home":
			http.Redirect(w, r, "/ok", http.StatusFound)
		}
	})
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	f := NewHTTPFetcher(HTTPOptions{AllowPrivate: true, AllowedDomains: []string{"127.0.0.1", "Example.COM"}})
	for _, p := range []string{"/ok", "/home"} {
		if b, err := fetchAll(f, srv.URL+p); err != nil || string(b) != "ok" {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	before := hits.Load()
	for _, c := range []struct{ url, msg string }{
		{"http://localhost" + port + "/ok", `URL host "localhost" is not in the allowed media domains`},
		{srv.URL + "/away", `redirect host "localhost" is not in the allowed media domains`},
		// Exact match: no subdomains, no look-alikes.
		{"http://cdn.example.com/x", `URL host "cdn.example.com" is not`},
		{"http://example.com.evil.test/x", `"example.com.evil.test" is not`},
		{"http://example.com@evil.test/x", `"evil.test" is not`},
	} {
		_, err := fetchAll(f, c.url)
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v, want ErrForbidden containing %q", c.url, err, c.msg)
		}
	}
	if n := hits.Load() - before; n != 1 { // only /away itself
		t.Errorf("%d requests reached the server, want 1", n)
	}
	if err := f.policy.checkURL(mustURL(t, "https://EXAMPLE.com./a"), "URL host"); err != nil {
		t.Errorf("listed host in another case: %v", err)
	}
	// Listing a host does not lift the address block.
	f = NewHTTPFetcher(HTTPOptions{AllowedDomains: []string{"127.0.0.1", "localhost"}})
	for _, u := range []string{srv.URL + "/ok", "http://localhost" + port + "/ok"} {
		if _, err := fetchAll(f, u); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "is not public") {
			t.Errorf("%s: %v, want the address block", u, err)
		}
	}
	// Blank entries still restrict.
	f = NewHTTPFetcher(HTTPOptions{AllowPrivate: true, AllowedDomains: []string{""}})
	if _, err := fetchAll(f, srv.URL+"/ok"); !errors.Is(err, ErrForbidden) {
		t.Errorf("blank allow-list: %v", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The fetcher's own limits, without the Loader's read cap on top.
func TestHTTPFetcherLimits(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall-headers":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/stall-body":
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/content-length":
			w.Header().Set("Content-Length", "1001")
			w.Write(make([]byte, 1001))
		case "/chunked":
			for range 20 {
				w.Write(make([]byte, 100))
				w.(http.Flusher).Flush()
			}
		case "/until-close": // HTTP/1.0 style: no Content-Length, no chunking
			conn, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			rw.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			rw.Write(make([]byte, 5000))
			rw.Flush()
		case "/exact":
			w.Write(make([]byte, 1000))
		default: // /hop/N redirects N more times
			var n int
			if _, err := fmt.Sscanf(r.URL.Path, "/hop/%d", &n); err == nil && n > 0 {
				http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			}
		}
	})
	defer close(release)
	f := NewHTTPFetcher(HTTPOptions{AllowPrivate: true, Timeout: 150 * time.Millisecond, MaxBytes: 1000, MaxRedirects: 3})
	for _, c := range []struct {
		path string
		want error
		msg  string
	}{
		{"/stall-headers?token=SECRET", ErrFetch, "/stall-headers: timed out after 150ms"},
		{"/stall-body", ErrFetch, "body timed out after 150ms"},
		{"/content-length", ErrTooLarge, "Content-Length 1001 exceeds 1000"},
		{"/chunked", ErrTooLarge, "more than 1000 bytes"},
		{"/until-close", ErrTooLarge, "more than 1000 bytes"},
		{"/hop/4", ErrFetch, "more than 3 redirects"},
	} {
		start := time.Now()
		_, err := fetchAll(f, srv.URL+c.path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v, want %v containing %q", c.path, err, c.want, c.msg)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v", c.path, d)
		}
	}
	for _, p := range []string{"/exact", "/hop/3"} {
		if _, err := fetchAll(f, srv.URL+p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestNonPublic(t *testing.T) {
	for s, want := range map[string]string{
		"8.8.8.8":                  "",
		"1.1.1.1":                  "",
		"2606:4700:4700::1111":     "",
		"::ffff:8.8.8.8":           "",
		"64:ff9b::808:808":         "", // NAT64 of a public address
		"2002:808:808::1":          "", // 6to4 of a public address
		"127.0.0.1":                "loopback",
		"127.255.0.9":              "loopback",
		"0.1.2.3":                  "this network",
		"10.0.0.1":                 "private",
		"100.64.0.1":               "shared/CGNAT",
		"100.127.255.254":          "shared/CGNAT",
		"169.254.169.254":          "link-local",
		"172.16.0.1":               "private",
		"192.0.0.170":              "IETF protocol assignments",
		"192.168.1.1":              "private",
		"198.18.0.1":               "benchmarking",
		"239.255.255.250":          "multicast",
		"255.255.255.255":          "reserved",
		"::":                       "unspecified",
		"::1":                      "loopback",
		"::a9fe:a9fe":              "IPv4-compatible",
		"::ffff:10.0.0.1":          "private",
		"::ffff:0:a00:1":           "IPv4-translated",
		"64:ff9b::7f00:1":          "loopback IPv4 in NAT64",
		"64:ff9b::6440:101":        "shared/CGNAT IPv4 in NAT64",
		"64:ff9b:1::a00:1":         "local-use NAT64",
		"2002:a9fe:a9fe::":         "link-local IPv4 in 6to4",
		"2002:7f00:1::1":           "loopback IPv4 in 6to4",
		"2001:0:4136:e378::1":      "IETF protocol assignments", // Teredo
		"2001:db8::1":              "documentation",
		"fc00::1":                  "unique local",
		"fdff::1":                  "unique local",
		"fe80::1":                  "link-local",
		"fe80::1%eth0":             "link-local",
		"fec0::1":                  "site-local",
		"ff02::1":                  "multicast",
		"100::1":                   "discard-only",
		"2001:4860:4860::8888":     "",
		"2a00:1450:4001:80b::200e": "",
	} {
		if got := nonPublic(netip.MustParseAddr(s)); got != want {
			t.Errorf("nonPublic(%s) = %q, want %q", s, got, want)
		}
	}
	var p hostPolicy
	if err := p.control("tcp", "[::ffff:169.254.169.254]:80", nil); !errors.Is(err, ErrForbidden) {
		t.Errorf("control hook: %v", err)
	}
	if err := p.control("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("control hook on a public address: %v", err)
	}
}
