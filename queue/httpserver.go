package queue

import (
	"crypto/tls"
	"net/http"

	"github.com/cherga/kiosk/httpapi"
)

// HTTPServer is queued's http.Server for s: read, write and idle timeouts
// (httpapi.Timeouts; zero fields take the defaults) and a header cap, so
// that idle keep-alive connections cannot use up the descriptors. The link
// and the live streams outlive the write timeout. tc nil: plain HTTP.
func (s *Server) HTTPServer(tc *tls.Config, t httpapi.Timeouts) *http.Server {
	return httpapi.NewServer(s, tc, t)
}
