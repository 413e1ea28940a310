package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CodeForbiddenOrigin is the code of a request refused for where it came
// from: a page of another origin, or a program on another machine that
// sent no Origin.
const CodeForbiddenOrigin = "forbidden_origin"

// LocalClient says whether r came from a program on this machine: its
// peer is a loopback address, or the connection's own local address (a
// program that connected to one of the machine's other addresses).
func LocalClient(r *http.Request) bool {
	peer, ok := addrOf(r.RemoteAddr)
	if !ok {
		return false
	}
	if peer.IsLoopback() {
		return true
	}
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if la == nil {
		return false
	}
	local, ok := addrOf(la.String())
	return ok && local == peer
}

func addrOf(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// SameOrigin says whether r's Origin header names the host and port r was
// sent to (its Host): a page this server served. A request with no Origin
// is not same-origin.
func SameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// PageOrLocal is the check of a route a page of this server and programs
// on this machine may use: the request is same-origin (SameOrigin), or has
// no Origin and comes from this machine (LocalClient). A browser always
// sends Origin on a POST and a websocket handshake, so only a program on
// the machine itself (kioskctl, curl) is let through without one.
func PageOrLocal(r *http.Request) bool {
	// A browser that says the request is another site's is believed.
	if sf := r.Header.Get("Sec-Fetch-Site"); sf != "" && sf != "same-origin" && sf != "none" {
		return false
	}
	if r.Header.Get("Origin") == "" {
		return LocalClient(r)
	}
	return SameOrigin(r)
}

// RequireOrigin passes to h the requests ok accepts and answers the
// others 403 forbidden_origin, naming who may use the route (who, like
// "this kioskd's own pages").
func RequireOrigin(h http.Handler, ok func(*http.Request) bool, who string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok(r) {
			WriteError(w, http.StatusForbidden, CodeForbiddenOrigin, OriginRefusal(r, who))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// OriginRefusal is the message of a 403 forbidden_origin answer to r: who
// may use the route, and what r was.
func OriginRefusal(r *http.Request, who string) string {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return fmt.Sprintf("only %s or a program on this machine may use this; a request from %s must come from such a page (it sent no Origin)",
			who, clip(r.RemoteAddr))
	}
	return fmt.Sprintf("only %s or a program on this machine may use this, not a page of origin %s", who, strconv.Quote(clip(origin)))
}
