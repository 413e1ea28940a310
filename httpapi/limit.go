package httpapi

import (
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter is a listener that serves at most a fixed number of connections
// at once, NewServer's companion against a flood of connections. A
// connection beyond the limit is refused as soon as it is accepted:
// answered "503 Service Unavailable" (or, with Silent, not at all) and
// closed, and counted. Unlike golang.org/x/net/netutil.LimitListener,
// which stops accepting while full, the accept loop never waits: a flood
// must not keep real clients (the terminals' links, their reconnects)
// waiting in the kernel's backlog behind it; it is the flood that is
// turned away, and a slot freed is taken by the next connection.
//
// A connection counts until it is closed, hijacked ones (websockets)
// included.
type Limiter struct {
	net.Listener
	max      int64
	onRefuse func()
	// Silent closes refused connections without an answer: set it when
	// the listener is served with TLS (the 503 is plain HTTP).
	Silent bool

	open    atomic.Int64
	refused atomic.Int64
	// answering bounds the refusals being answered at once; beyond it a
	// refused connection is closed without a word.
	answering chan struct{}
}

// refuseTimeout bounds the writing of one 503 and the wait for the client
// to read it.
const refuseTimeout = time.Second

// maxAnswering is how many refused connections are answered at once.
const maxAnswering = 32

// refusal is the whole answer to a connection over the limit.
var refusal = func() string {
	body := `{"code":"too_many_connections","error":"the server is at its connection limit; try again shortly"}` + "\n"
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n" +
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

// CodeTooManyConnections is the code of the 503 a Limiter answers.
const CodeTooManyConnections = "too_many_connections"

// Limit serves at most n connections of ln at once (n <= 0: no limit);
// onRefuse, if not nil, is called for each one refused (a metric).
func Limit(ln net.Listener, n int, onRefuse func()) *Limiter {
	return &Limiter{Listener: ln, max: int64(n), onRefuse: onRefuse, answering: make(chan struct{}, maxAnswering)}
}

// Accept returns the next connection within the limit, refusing the ones
// beyond it on the way.
func (l *Limiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.open.Add(1); l.max <= 0 || n <= l.max {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refuse(c)
	}
}

// Open is how many connections are being served.
func (l *Limiter) Open() int64 { return l.open.Load() }

// Refused is how many connections were refused since the listener was
// made.
func (l *Limiter) Refused() int64 { return l.refused.Load() }

func (l *Limiter) refuse(c net.Conn) {
	l.refused.Add(1)
	if l.onRefuse != nil {
		l.onRefuse()
	}
	if l.Silent {
		c.Close()
		return
	}
	select {
	case l.answering <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.answering }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(refuseTimeout))
		if _, err := io.WriteString(c, refusal); err != nil {
			return
		}
		// Closing with the request unread would reset the connection,
		// and the client could lose the answer: half-close, and read
		// what it sent until it closes or the deadline passes.
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
		}
	}()
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	l    *Limiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
