package terminal

import (
	"net"
	"net/http"
	"net/url"

	"github.com/cherga/kiosk/httpapi"
)

// checkHost refuses, with 421 Misdirected Request, a request whose Host
// is not one of this terminal's: the loopback names, the address it
// listens on (addr) or, listening on every address, the machine's own
// interface addresses (looked up again on a miss, so that a new DHCP
// address needs no restart), the host of kiosk.origin, and http.names.
// A page of another site whose name was made to resolve to the terminal
// (DNS rebinding) is same-origin to the browser: only the Host tells.
func (t *Terminal) checkHost(addr net.Addr, h http.Handler) http.Handler {
	names := append([]string(nil), t.cfg.HTTP.Names...)
	if u, err := url.Parse(t.cfg.Kiosk.Origin); err == nil && u.Host != "" {
		names = append(names, u.Host)
	}
	return httpapi.ListenHosts(addr, names, t.clock).Check(h,
		"open the page by the terminal's address, or add the name to http.names")
}
