package queue

import (
	"cmp"
	"crypto/tls"
	"net"
	"net/http"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi"
)

// HTTPServer is queued's http.Server for s: read, write and idle timeouts
// (httpapi.Timeouts; zero fields take the defaults) and a header cap, so
// that idle keep-alive connections cannot use up the descriptors. The link
// and the live streams outlive the write timeout. tc nil: plain HTTP.
func (s *Server) HTTPServer(tc *tls.Config, t httpapi.Timeouts) *http.Server {
	return httpapi.NewServer(s, tc, t)
}

// Limit serves at most n connections of ln at once (0:
// configs.DefaultOfficeMaxConnections); the ones beyond are refused as
// soon as they are accepted and counted in
// cherga_queued_http_refused_connections_total, so a flood never stalls
// the accept loop the terminals' links come through (httpapi.Limiter).
// With tls the refusal is a bare close (the 503 is plain HTTP).
func (s *Server) Limit(ln net.Listener, n int, tls bool) net.Listener {
	l := httpapi.Limit(ln, cmp.Or(n, configs.DefaultOfficeMaxConnections), s.metrics.connectionRefused)
	l.Silent = tls
	s.metrics.limiter.Store(l)
	return l
}
