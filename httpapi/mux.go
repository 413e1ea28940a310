package httpapi

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
)

// Mux is an http.ServeMux (the same patterns: "GET /api/v1/tickets/{n}")
// whose own answers are JSON: 404 not_found, 405 method_not_allowed with
// the Allow header the ServeMux computed, and 400 bad_path for a path that
// is not valid UTF-8 or holds a NUL (%00), before any handler sees it.
// Redirects the ServeMux makes (a cleaned path, /dir → /dir/) are kept.
type Mux struct {
	mux http.ServeMux
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{} }

// Handle registers h for pattern, as http.ServeMux.Handle does (it panics
// on a bad or conflicting pattern the same way).
func (m *Mux) Handle(pattern string, h http.Handler) { m.mux.Handle(pattern, h) }

// HandleFunc registers f for pattern.
func (m *Mux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.mux.HandleFunc(pattern, f)
}

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if badPath(r.URL.Path) {
		WriteError(w, http.StatusBadRequest, CodeBadPath, badPathMessage)
		return
	}
	h, pattern := m.mux.Handler(r)
	if pattern != "" {
		m.mux.ServeHTTP(w, r) // sets r.Pattern and the path values
		return
	}
	// No route matched: h is the ServeMux's 404, its 405 (which sets
	// Allow), or a redirect to a cleaned path. Run it on the side to learn
	// which, and answer the first two in JSON.
	var probe probeWriter
	h.ServeHTTP(&probe, r)
	switch probe.status {
	case http.StatusNotFound:
		WriteError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no such route: %s %s", clip(r.Method), clip(r.URL.Path)))
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed for %s; allowed: %s", clip(r.Method), clip(r.URL.Path), allow))
	default:
		h.ServeHTTP(w, r)
	}
}

// probeWriter keeps the status and headers a handler writes and drops
// the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header {
	if p.header == nil {
		p.header = http.Header{}
	}
	return p.header
}

func (p *probeWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *probeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// Recover runs h and turns a panic into a 500 "internal" JSON answer and
// one Error log line with the panic's value and stack. onPanic, if not
// nil, is called after (a counter for /healthz). A handler that panics
// after it began its answer cannot be answered again: the connection is
// cut instead (http.ErrAbortHandler), so the client sees a broken response,
// not a short one that looks whole. http.ErrAbortHandler itself passes
// through unlogged, as net/http intends.
func Recover(h http.Handler, log *slog.Logger, onPanic func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recoverWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.Error("panic in HTTP handler", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if onPanic != nil {
				onPanic()
			}
			if rw.started {
				panic(http.ErrAbortHandler)
			}
			WriteError(w, http.StatusInternalServerError, CodeInternal, internalMessage)
		}()
		h.ServeHTTP(rw, r)
	})
}

// recoverWriter notes whether the answer has begun. It passes Flush and
// Hijack through: the pages' websockets (gorilla asks for an
// http.Hijacker directly) go through Recover too.
type recoverWriter struct {
	http.ResponseWriter
	started bool
}

func (rw *recoverWriter) WriteHeader(status int) {
	// 1xx answers (103 Early Hints) are not the answer yet.
	if status >= 200 {
		rw.started = true
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *recoverWriter) Write(b []byte) (int, error) {
	rw.started = true
	return rw.ResponseWriter.Write(b)
}

func (rw *recoverWriter) Flush() {
	rw.started = true
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

func (rw *recoverWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rw.ResponseWriter).Hijack()
	if err == nil {
		rw.started = true
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the server's writer (for
// deadlines).
func (rw *recoverWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
