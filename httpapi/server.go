package httpapi

import (
	"crypto/tls"
	"net/http"
	"time"
)

// Timeouts bound how long a connection may take or sit idle on a daemon's
// HTTP server, so that slow or idle clients cannot hold connections (and
// file descriptors) for ever. A zero field takes its default.
//
// Websockets and event streams outlive Write: gorilla's Upgrade clears the
// deadlines the server set on the hijacked connection (the link and the
// pages then set their own per message), and an event stream lifts them
// with http.ResponseController before its first event.
type Timeouts struct {
	ReadHeader time.Duration // request line and headers; default 10 s
	Read       time.Duration // the whole request with its body; default 30 s
	Write      time.Duration // from the end of the headers to the end of the answer; default 30 s
	Idle       time.Duration // a keep-alive connection between requests; default 2 min
}

// MaxHeaderBytes caps a request's headers on the daemons' servers.
const MaxHeaderBytes = 64 << 10

func (t Timeouts) withDefaults() Timeouts {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, 30*time.Second)
	def(&t.Write, 30*time.Second)
	def(&t.Idle, 2*time.Minute)
	return t
}

// NewServer is an http.Server for h with the timeouts t (defaults for the
// zero ones), MaxHeaderBytes and the TLS configuration tc (nil: plain
// HTTP).
func NewServer(h http.Handler, tc *tls.Config, t Timeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{Handler: h, TLSConfig: tc, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: MaxHeaderBytes}
}
