package httpapi_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
)

// The loopback names always, the configured ones, and on an unspecified
// listen address the machine's interface addresses, looked up again on a
// miss at most once per InterfaceRefresh on the clock: an address DHCP
// gave later is taken without a restart, and a flood of wrong Hosts costs
// one lookup per period.
func TestHosts(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var mu sync.Mutex
	addrs := []net.Addr{&net.IPNet{IP: net.ParseIP("10.0.0.5"), Mask: net.CIDRMask(24, 32)}}
	lookups := 0
	h := httpapi.NewHosts(httpapi.HostsOptions{Names: []string{"Kiosk-1.Office.Local.", "[fd00::7]"}, Interfaces: true, Clock: clock,
		InterfaceAddrs: func() ([]net.Addr, error) {
			mu.Lock()
			defer mu.Unlock()
			lookups++
			return addrs, nil
		}})
	for host, want := range map[string]bool{
		"localhost:8080": true, "127.0.0.1:8080": true, "127.0.0.2": true, "[::1]:8080": true, "LOCALHOST": true,
		"kiosk-1.office.local:8080": true, "kiosk-1.office.local.": true, "[fd00::7]:80": true,
		"10.0.0.5:8080": true, "10.0.0.5": true, "[::ffff:10.0.0.5]:8080": true,
		"10.0.0.6:8080": false, "evil.example": false, "": false, "kiosk-1.office.local.evil.example": false,
		"localhost.evil.example": false, "127.0.0.1.nip.io": false,
	} {
		if got := h.Allowed(host); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", host, got, want)
		}
	}
	mu.Lock()
	n := lookups
	addrs = append(addrs, &net.IPNet{IP: net.ParseIP("10.0.0.6"), Mask: net.CIDRMask(24, 32)}) // DHCP
	mu.Unlock()
	for range 100 {
		if h.Allowed("10.0.0.6") {
			t.Fatal("a new address taken before InterfaceRefresh passed")
		}
	}
	if lookups != n {
		t.Errorf("%d lookups for 100 misses within InterfaceRefresh", lookups-n)
	}
	clock.Advance(httpapi.InterfaceRefresh)
	if !h.Allowed("10.0.0.6:8080") {
		t.Error("the new address is not taken after InterfaceRefresh")
	}

	// A failed lookup keeps what was known.
	h2 := httpapi.NewHosts(httpapi.HostsOptions{Interfaces: true, Clock: clock,
		InterfaceAddrs: func() ([]net.Addr, error) { return nil, errors.New("netlink: no") }})
	if h2.Allowed("10.0.0.5") || !h2.Allowed("127.0.0.1") {
		t.Error("with no interfaces known")
	}
}

func TestListenHosts(t *testing.T) {
	specific := httpapi.ListenHosts(&net.TCPAddr{IP: net.ParseIP("192.168.1.20"), Port: 8080}, nil, nil)
	if !specific.Allowed("192.168.1.20:8080") || specific.Allowed("192.168.1.21:8080") || !specific.Allowed("localhost") {
		t.Errorf("a specific address: %s", specific)
	}
	every := httpapi.ListenHosts(&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, []string{"hall.local"}, nil)
	if !strings.Contains(every.String(), "this machine's addresses") || !every.Allowed("hall.local") {
		t.Errorf("0.0.0.0: %s", every)
	}
	// The machine's own loopback-less addresses are among them.
	if list, err := net.InterfaceAddrs(); err == nil {
		for _, a := range list {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				if !every.Allowed(net.JoinHostPort(ipn.IP.String(), "8080")) {
					t.Errorf("0.0.0.0: own address %s refused", ipn.IP)
				}
			}
		}
	}
}

// Check answers 421 in JSON, saying what would do.
func TestHostsCheck(t *testing.T) {
	h := httpapi.NewHosts(httpapi.HostsOptions{Names: []string{"kiosk-1.office.local"}})
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := h.Check(next, "add the name to http.names")
	req := httptest.NewRequest("GET", "http://evil.example/api/v1/services", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusMisdirectedRequest || !strings.Contains(rec.Body.String(), `"code":"misdirected_request"`) ||
		!strings.Contains(rec.Body.String(), "add the name to http.names") || !strings.Contains(rec.Body.String(), "kiosk-1.office.local") {
		t.Errorf("a foreign Host: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("GET", "http://kiosk-1.office.local:8080/", nil)
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Errorf("a listed name: %d", rec.Code)
	}
}

func TestPageOrLocal(t *testing.T) {
	for _, c := range []struct {
		remote, host, origin, fetchSite string
		want                            bool
	}{
		{"127.0.0.1:5000", "127.0.0.1:8080", "", "", true},
		{"[::1]:5000", "127.0.0.1:8080", "", "", true},
		{"192.0.2.7:5000", "10.0.0.5:8080", "", "", false},
		{"192.0.2.7:5000", "10.0.0.5:8080", "http://10.0.0.5:8080", "", true},
		{"192.0.2.7:5000", "10.0.0.5:8080", "http://10.0.0.5:8081", "", false},
		{"192.0.2.7:5000", "10.0.0.5:8080", "http://evil.example", "", false},
		{"192.0.2.7:5000", "10.0.0.5:8080", "null", "", false},
		{"127.0.0.1:5000", "127.0.0.1:8080", "", "cross-site", false},
		{"127.0.0.1:5000", "127.0.0.1:8080", "http://127.0.0.1:8080", "same-origin", true},
	} {
		req := httptest.NewRequest("POST", "http://"+c.host+"/x", nil)
		req.RemoteAddr = c.remote
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", c.fetchSite)
		}
		if got := httpapi.PageOrLocal(req); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}

// Any Host header, and any Origin, is answered without a panic, and only
// names that are loopback or configured are let through.
func FuzzHosts(f *testing.F) {
	for _, s := range []string{"localhost:8080", "[::1]:80", "127.0.0.1", "[fe80::1%25eth0]:80", "kiosk-1.office.local.", "", ":", "[", "evil.example",
		"0.0.0.0:8080", "[::]:80", "127.0.0.1.evil.example", "%00", "[::ffff:127.0.0.1]"} {
		f.Add(s, "http://"+s)
	}
	h := httpapi.NewHosts(httpapi.HostsOptions{Names: []string{"kiosk-1.office.local"}})
	f.Fuzz(func(t *testing.T, host, origin string) {
		if h.Allowed(host) {
			name := httpapi.HostName(host)
			if name != "localhost" && name != "kiosk-1.office.local" && !strings.HasPrefix(name, "127.") &&
				!strings.Contains(name, ":") { // IPv6 loopback forms, checked by netip
				t.Errorf("Allowed(%q): name %q", host, name)
			}
		}
		req := httptest.NewRequest("GET", "http://x/", nil)
		req.Host = host
		req.Header.Set("Origin", origin)
		req.RemoteAddr = host
		_ = httpapi.PageOrLocal(req)
		_ = httpapi.SameOrigin(req)
	})
}
