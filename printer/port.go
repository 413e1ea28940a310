package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"go.bug.st/serial"
)

// Port is where a printer is plugged in. Open is called again after every
// failure, so a printer unplugged and plugged back in is found again.
type Port interface {
	Open(ctx context.Context) (io.ReadWriteCloser, error)
	String() string
}

// ErrReadTimeout is a read that got nothing in time. A serial port's
// driver reports that as zero bytes read and no error; here it is an error.
var ErrReadTimeout = errors.New("printer: read timeout")

// readTimeout bounds each read, so the reader notices a closed port. It
// is a deadline of the file or socket, held by the runtime against real
// time: the driver's clock cannot stand in for it.
const readTimeout = 250 * time.Millisecond

// SerialPort is a printer on RS-232 or a USB serial adapter. The port runs
// without hardware flow control (go.bug.st/serial turns RTS/CTS off), so
// the driver paces what it sends.
type SerialPort struct {
	Path string
	Baud int
}

func (s SerialPort) String() string { return fmt.Sprintf("%s at %d baud", s.Path, s.Baud) }

func (s SerialPort) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	p, err := serial.Open(s.Path, &serial.Mode{BaudRate: s.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("printer: open %s: %w", s.Path, err)
	}
	if err := p.SetReadTimeout(readTimeout); err != nil {
		p.Close()
		return nil, fmt.Errorf("printer: %s: %w", s.Path, err)
	}
	return serialConn{p}, nil
}

type serialConn struct{ serial.Port }

func (c serialConn) Read(b []byte) (int, error) {
	n, err := c.Port.Read(b)
	if n == 0 && err == nil {
		return 0, ErrReadTimeout
	}
	return n, err
}

// DevicePort is a USB printer-class device, /dev/usb/lp0. It is opened
// non-blocking so reads have deadlines and closing it ends a read.
type DevicePort struct {
	Path string
}

func (d DevicePort) String() string { return d.Path }

func (d DevicePort) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	f, err := os.OpenFile(d.Path, os.O_RDWR|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("printer: open %s: %w", d.Path, err)
	}
	return &deadlineConn{f: f}, nil
}

// deadlineConn turns an os.File's read deadline into ErrReadTimeout.
type deadlineConn struct{ f *os.File }

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.f.SetReadDeadline(time.Now().Add(readTimeout)); err != nil {
		// Not pollable: a blocking read, ended by Close or data.
		return c.f.Read(b)
	}
	n, err := c.f.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, ErrReadTimeout
	}
	return n, err
}

func (c *deadlineConn) Write(b []byte) (int, error) { return c.f.Write(b) }
func (c *deadlineConn) Close() error                { return c.f.Close() }

// NetPort is a printer on the network, raw TCP (usually port 9100).
type NetPort struct {
	Addr string
}

func (n NetPort) String() string { return "tcp " + n.Addr }

func (n NetPort) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 15 * time.Second}
	c, err := d.DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return nil, fmt.Errorf("printer: %w", err)
	}
	return &netConn{c}, nil
}

type netConn struct{ net.Conn }

func (c *netConn) Read(b []byte) (int, error) {
	_ = c.SetReadDeadline(time.Now().Add(readTimeout))
	n, err := c.Conn.Read(b)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, ErrReadTimeout
	}
	return n, err
}

// PipePort connects the driver to a printer in the same process, such as
// the simulated one: each Open makes a fresh in-memory connection and
// hands the printer's end to Serve.
type PipePort struct {
	Name  string
	Serve func(io.ReadWriteCloser)
}

func (p PipePort) String() string { return p.Name }

func (p PipePort) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	ours, theirs := net.Pipe()
	go p.Serve(theirs)
	return &netConn{ours}, nil
}

// PortAt is the port a configured printer path names, as kioskd opens it:
// /dev/usb/lp0 (or /dev/lp0) a USB printer-class device, another /dev/
// path a serial line at baud, anything else host:port on the network.
func PortAt(path string, baud int) Port {
	switch {
	case strings.HasPrefix(path, "/dev/usb/lp") || strings.HasPrefix(path, "/dev/lp"):
		return DevicePort{Path: path}
	case strings.HasPrefix(path, "/dev/"):
		return SerialPort{Path: path, Baud: baud}
	}
	return NetPort{Addr: path}
}
