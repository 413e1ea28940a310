package modbus

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair for a simulated bus: the device side (the
// emulator's Server, a test) uses the PTY as its Port; a master program
// (kioskd, mbpoll, kioskctl bridge scan) opens Path as if it were a USB
// adapter. Linux pseudo-terminals ignore parity and baud rate (the kernel
// clears PARENB), so both ends use PTYLine, 8N2: the same 11-bit
// character as 8E1.
type PTY struct {
	master  *os.File
	slave   *os.File // held open, so the master side never reads EIO between clients
	timeout time.Duration
	link    string
}

// OpenPTY makes a pair, its slave side in raw mode.
func OpenPTY() (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("modbus: pty: %w", err)
	}
	if err := makeRaw(int(s.Fd())); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("modbus: pty: raw mode: %w", err)
	}
	// A non-blocking descriptor lets the runtime poller honour read
	// deadlines, which is how the read timeout is kept.
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("modbus: pty: %w", err)
	}
	return &PTY{master: os.NewFile(uintptr(fd), "/dev/ptmx"), slave: s, timeout: -1}, nil
}

func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// Path is the slave side's device, like /dev/pts/3.
func (p *PTY) Path() string { return p.slave.Name() }

// Link makes path a symbolic link to the slave side (replacing a stale
// link); Close removes it.
func (p *PTY) Link(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		os.Remove(path)
	}
	if err := os.Symlink(p.Path(), path); err != nil {
		return fmt.Errorf("modbus: pty: %w", err)
	}
	p.link = path
	return nil
}

// SetReadTimeout implements Port; a negative timeout waits for ever.
func (p *PTY) SetReadTimeout(t time.Duration) error {
	p.timeout = t
	return nil
}

// Read implements Port.
func (p *PTY) Read(b []byte) (int, error) {
	var deadline time.Time
	if p.timeout >= 0 {
		deadline = time.Now().Add(p.timeout)
	}
	if err := p.master.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := p.master.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, nil
	}
	return n, err
}

// Write implements Port.
func (p *PTY) Write(b []byte) (int, error) { return p.master.Write(b) }

// Drain implements Port: a pseudo-terminal hands bytes over at once.
func (p *PTY) Drain() error { return nil }

// Close closes both sides and removes the link.
func (p *PTY) Close() error {
	if p.link != "" {
		os.Remove(p.link)
	}
	return errors.Join(p.master.Close(), p.slave.Close())
}
