package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// Hosts is the set of Host header values a daemon answers to: the loopback
// names (localhost, 127.0.0.1, ::1 and the rest of 127/8) always, the
// configured names, and, for a server listening on every address (0.0.0.0,
// [::]), the machine's own interface addresses.
//
// It is the DNS-rebinding defence of both daemons: a page of another site
// whose name was made to resolve to this machine is same-origin to the
// browser, and only the Host header tells it from the daemon's own pages.
// The port of a Host is not looked at.
type Hosts struct {
	names atomic.Pointer[hostSet]

	// Interface addresses, when asked for: looked up again on a miss, at
	// most once per InterfaceRefresh, so that an address DHCP gave the
	// machine after it started is taken without a restart, and a flood of
	// wrong Hosts costs one lookup per period.
	ifaces    bool
	clock     clockwork.Clock
	lookup    func() ([]net.Addr, error)
	addrs     atomic.Pointer[map[netip.Addr]bool]
	refreshMu sync.Mutex
	refreshed time.Time // zero: never
}

// InterfaceRefresh is how often, at most, Hosts looks up the machine's
// interface addresses again when a Host is not among them.
const InterfaceRefresh = 5 * time.Second

// HostsOptions configure NewHosts.
type HostsOptions struct {
	// Names are host names or addresses answered to besides the loopback
	// ones; a port on one is ignored.
	Names []string
	// Interfaces: the machine's own interface addresses are answered to
	// as well (a server on 0.0.0.0 or [::]).
	Interfaces bool
	// Clock paces the interface look-ups; nil: the real clock.
	Clock clockwork.Clock
	// InterfaceAddrs lists the machine's addresses; nil:
	// net.InterfaceAddrs. Tests pass their own.
	InterfaceAddrs func() ([]net.Addr, error)
}

type hostSet struct {
	set  map[string]bool
	text string // the names, for an answer
}

// NewHosts makes the set o describes.
func NewHosts(o HostsOptions) *Hosts {
	h := &Hosts{ifaces: o.Interfaces, clock: o.Clock, lookup: o.InterfaceAddrs}
	if h.clock == nil {
		h.clock = clockwork.NewRealClock()
	}
	if h.lookup == nil {
		h.lookup = net.InterfaceAddrs
	}
	h.SetNames(o.Names)
	return h
}

// ListenHosts is the Hosts of a server listening on addr: its address
// when it is a specific one, the machine's interface addresses when it is
// unspecified (0.0.0.0, [::], ":8080"), with names besides.
func ListenHosts(addr net.Addr, names []string, clock clockwork.Clock) *Hosts {
	o := HostsOptions{Names: names, Clock: clock}
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok {
		if tcp.IP == nil || tcp.IP.IsUnspecified() {
			o.Interfaces = true
		} else {
			o.Names = append([]string{tcp.IP.String()}, names...)
		}
	} else if h, _, err := net.SplitHostPort(host); err == nil {
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			o.Interfaces = true
		} else {
			o.Names = append([]string{h}, names...)
		}
	}
	return NewHosts(o)
}

// SetNames replaces HostsOptions.Names, for a configuration reloaded while
// the server runs.
func (h *Hosts) SetNames(names []string) {
	s := &hostSet{set: map[string]bool{}}
	var listed []string
	for _, n := range names {
		n = HostName(n)
		if a, err := netip.ParseAddr(n); err == nil {
			n = a.Unmap().WithZone("").String()
		}
		if n != "" && !s.set[n] {
			s.set[n] = true
			listed = append(listed, n)
		}
	}
	s.text = "loopback names (localhost, 127.0.0.1, ::1)"
	if h.ifaces {
		s.text = "this machine's addresses and " + s.text
	}
	if len(listed) > 0 {
		s.text = strings.Join(listed, ", ") + ", " + s.text
	}
	h.names.Store(s)
}

// String lists what is answered to, for an error or a log line.
func (h *Hosts) String() string { return h.names.Load().text }

// HostName is the name of a Host header: port and IPv6 brackets off,
// lower case, no trailing dot.
func HostName(host string) string {
	if n, _, err := net.SplitHostPort(host); err == nil {
		host = n
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// Allowed says whether a request with this Host header is answered.
func (h *Hosts) Allowed(host string) bool {
	name := HostName(host)
	if name == "" {
		return false
	}
	if name == "localhost" || h.names.Load().set[name] {
		return true
	}
	a, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	if a.IsLoopback() || h.names.Load().set[a.String()] {
		return true
	}
	if !h.ifaces {
		return false
	}
	if m := h.addrs.Load(); m != nil && (*m)[a] {
		return true
	}
	return h.refresh()[a]
}

// refresh looks the interface addresses up again unless that was done
// less than InterfaceRefresh ago, and returns them.
func (h *Hosts) refresh() map[netip.Addr]bool {
	h.refreshMu.Lock()
	defer h.refreshMu.Unlock()
	now := h.clock.Now()
	if m := h.addrs.Load(); m != nil && !h.refreshed.IsZero() && now.Sub(h.refreshed) < InterfaceRefresh {
		return *m
	}
	h.refreshed = now
	m := map[netip.Addr]bool{}
	list, err := h.lookup()
	if err == nil {
		for _, a := range list {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			if na, ok := netip.AddrFromSlice(ip); ok {
				m[na.Unmap()] = true
			}
		}
	} else if old := h.addrs.Load(); old != nil {
		m = *old // keep what was known
	}
	h.addrs.Store(&m)
	return m
}

// CodeMisdirected is the code of the 421 answer Check gives.
const CodeMisdirected = "misdirected_request"

// Check answers 421 Misdirected Request to a request whose Host is not in
// h, saying what it is answered to and hint (what to do instead), and
// passes the others to next.
func (h *Hosts) Check(next http.Handler, hint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.Allowed(r.Host) {
			WriteError(w, http.StatusMisdirectedRequest, CodeMisdirected, fmt.Sprintf(
				"this server answers to %s, not Host %s: %s", h.String(), strconv.Quote(clip(r.Host)), hint))
			return
		}
		next.ServeHTTP(w, r)
	})
}
