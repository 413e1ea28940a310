//go:build linux

package printer_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
	"github.com/cherga/kiosk/printer/simprinter"
)

// cable is a serial line between the driver and a simulated printer: a
// pseudo-terminal pair, reached through a stable path (a symlink) as a
// /dev/serial/by-id name is, so it can be unplugged and plugged back in.
type cable struct {
	t      *testing.T
	path   string
	dev    *simprinter.Device
	mu     sync.Mutex
	master *os.File
	slave  *os.File // held open: a pty whose slave nobody holds reads as an error
	// served is closed when the line's Serve has returned. The printer
	// serves one line at a time and a new Serve closes the one before, so
	// unplug waits for it: a late Serve of a pulled line must not cut the
	// next one.
	served chan struct{}
}

func plug(t *testing.T, dev *simprinter.Device) *cable {
	c := &cable{t: t, path: filepath.Join(t.TempDir(), "printer"), dev: dev}
	c.replug()
	t.Cleanup(c.unplug)
	return c
}

// replug makes a new line and points the path at it.
func (c *cable) replug() {
	master, slave, err := pty.Open()
	if err != nil {
		c.t.Fatal(err)
	}
	// A cable carries bytes as they are: no line editing, no echo. (The
	// serial driver sets this itself; a USB printer device never has it.)
	if err := makeRaw(slave); err != nil {
		c.t.Fatal(err)
	}
	// A blocking read of the master outlives its Close; through the
	// runtime's poller (a non-blocking descriptor) Close wakes it, so the
	// printer's Serve returns when the cable is pulled.
	fd, err := unix.Dup(int(master.Fd()))
	master.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	tmp := c.path + ".new"
	if err := os.Symlink(slave.Name(), tmp); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		c.t.Fatal(err)
	}
	served := make(chan struct{})
	c.mu.Lock()
	c.master, c.slave, c.served = master, slave, served
	c.mu.Unlock()
	go func() {
		defer close(served)
		_ = c.dev.Serve(master)
	}()
}

// unplug pulls the cable: the line is gone.
func (c *cable) unplug() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.master != nil {
		c.master.Close()
		c.slave.Close()
		<-c.served
		c.master, c.slave, c.served = nil, nil, nil
	}
	os.Remove(c.path)
}

func device(t *testing.T, profile string) (*printer.Profile, *simprinter.Device) {
	t.Helper()
	prof, err := printer.LookupProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := simprinter.New(prof, 80, "")
	if err != nil {
		t.Fatal(err)
	}
	return prof, dev
}

func open(t *testing.T, prof *printer.Profile, port printer.Port, opt func(*printer.Config)) *printer.ESCPOS {
	t.Helper()
	cfg := printer.Config{Port: port, Driver: "escpos", Profile: prof, PaperMM: 80, Template: printer.DefaultTemplate}
	if opt != nil {
		opt(&cfg)
	}
	drv := printer.Open(cfg)
	t.Cleanup(func() { drv.Close() })
	return drv
}

// waitState waits for the driver to report state with detail containing
// want, watching its change signal.
func waitState(t *testing.T, drv *printer.ESCPOS, state devices.State, want string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		st := drv.Status()
		if st.State == state && strings.Contains(st.Detail, want) {
			return
		}
		select {
		case <-drv.Changes():
		case <-timeout:
			t.Fatalf("printer is %s %q, want %s %q", st.State, st.Detail, state, want)
		}
	}
}

func printed(t *testing.T, dev *simprinter.Device) simprinter.Printed {
	t.Helper()
	select {
	case p := <-dev.Printed():
		return p
	case <-time.After(20 * time.Second):
		t.Fatal("nothing printed")
		panic("unreachable")
	}
}

func TestSerialPrintAndStatus(t *testing.T) {
	prof, dev := device(t, "epson-tm-t20")
	line := plug(t, dev)
	drv := open(t, prof, printer.SerialPort{Path: line.path, Baud: 115200}, nil)
	waitState(t, drv, devices.OK, "0 tickets printed")

	if err := drv.Print(context.Background(), ticket()); err != nil {
		t.Fatal(err)
	}
	if p := printed(t, dev); p.Headline != "П042" || !strings.Contains(p.Text, "Пенсія у зв'язку з втратою") {
		t.Fatalf("printed %q:\n%s", p.Headline, p.Text)
	}
	// The kiosk learns about the paper before the visitor does.
	dev.SetCondition(simprinter.NearEnd)
	waitState(t, drv, devices.Warning, "paper_near_end")
	if err := drv.Print(context.Background(), ticket()); err != nil {
		t.Fatalf("near end must still print: %v", err)
	}
	printed(t, dev)
	for _, c := range []simprinter.Condition{simprinter.PaperOut, simprinter.CoverOpen, simprinter.CutterJam} {
		dev.SetCondition(c)
		waitState(t, drv, devices.Fault, string(c))
		if err := drv.Print(context.Background(), ticket()); !errors.Is(err, printer.ErrCannotPrint) {
			t.Fatalf("%s: printed anyway: %v", c, err)
		}
	}
	dev.SetCondition(simprinter.Ready)
	waitState(t, drv, devices.OK, "2 tickets printed")
	if len(dev.Tickets()) != 2 {
		t.Errorf("%d tickets came out, want 2", len(dev.Tickets()))
	}
}

// A cable pulled in the middle of a ticket: the ticket is printed again,
// once, marked as a copy, when the printer is back; never lost, never
// doubled.
func TestUnplugMidJob(t *testing.T) {
	prof, dev := device(t, "epson-tm-t20")
	started := make(chan struct{}, 1)
	dev.Observe = func(op escpos.Op) {
		if op.Kind == escpos.OpText {
			select {
			case started <- struct{}{}:
			default:
			}
		}
	}
	line := plug(t, dev)
	// Paced like a printer without flow control, so the ticket takes a
	// while on the wire.
	drv := open(t, prof, printer.SerialPort{Path: line.path, Baud: 9600}, func(c *printer.Config) { c.Pace = 500 })
	waitState(t, drv, devices.OK, "printed")
	for len(started) > 0 {
		<-started
	}
	result := make(chan error, 1)
	go func() { result <- drv.Print(context.Background(), ticket()) }()
	<-started
	line.unplug()
	if err := <-result; !errors.Is(err, printer.ErrInterrupted) {
		t.Fatalf("unplugged mid-ticket: %v", err)
	}
	waitState(t, drv, devices.Fault, "offline")
	line.replug()
	p := printed(t, dev)
	if p.Headline != "П042" || !strings.Contains(p.Text, "КОПІЯ / COPY") {
		t.Fatalf("after the replug printed %q:\n%s", p.Headline, p.Text)
	}
	waitState(t, drv, devices.OK, "1 tickets printed")
	if n := len(dev.Tickets()); n != 1 {
		t.Errorf("%d tickets came out, want the one copy", n)
	}
}

// A printer plugged in after the kiosk started, and pulled out again: the
// reconnect waits (at most 5 s) and the status polls that notice the
// cable gone run on the driver's clock; the status says since when and
// counts the reopen.
func TestReconnectsOnItsClock(t *testing.T) {
	prof, dev := device(t, "epson-tm-t20")
	line := plug(t, dev)
	line.unplug()
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	clk := clockwork.NewFakeClockAt(at)
	drv := open(t, prof, printer.SerialPort{Path: line.path, Baud: 115200}, func(c *printer.Config) { c.Clock = clk })
	waitState(t, drv, devices.Fault, "no such file")
	if st := drv.Status(); !st.Since.Equal(at) || st.LastError == "" {
		t.Fatalf("missing: %+v", st)
	}
	retry := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := clk.BlockUntilContext(ctx, 1); err != nil {
			t.Fatalf("the driver does not wait to reconnect: %+v", drv.Status())
		}
		clk.Advance(5 * time.Second)
	}
	line.replug()
	retry()
	up := clk.Now()
	waitState(t, drv, devices.OK, "0 tickets printed")
	if st := drv.Status(); st.Reopens != 0 || !st.Since.Equal(up) {
		t.Fatalf("plugged in: %+v", st)
	}
	line.unplug()
	// The next status poll finds the cable gone.
	for give := time.Now().Add(20 * time.Second); drv.Status().State != devices.Fault; {
		if time.Now().After(give) {
			t.Fatalf("unplugged, still %+v", drv.Status())
		}
		clk.Advance(time.Second)
		select {
		case <-drv.Changes():
		case <-time.After(20 * time.Millisecond):
		}
	}
	waitState(t, drv, devices.Fault, "offline")
	line.replug()
	retry()
	waitState(t, drv, devices.OK, "0 tickets printed")
	if st := drv.Status(); st.Reopens != 1 {
		t.Fatalf("plugged in again: %+v", st)
	}
}

// A printer that never answers status (a one-way cable) still prints, and
// says its paper is not watched; one that stops answering is a fault.
func TestSilentAndDeadPrinters(t *testing.T) {
	prof, dev := device(t, "xprinter-80")
	dev.SetCondition(simprinter.Silent)
	line := plug(t, dev)
	drv := open(t, prof, printer.SerialPort{Path: line.path, Baud: 115200}, nil)
	waitState(t, drv, devices.Warning, "does not report its state")
	if err := drv.Print(context.Background(), ticket()); err != nil {
		t.Fatal(err)
	}
	printed(t, dev)

	prof, dev = device(t, "xprinter-80")
	line = plug(t, dev)
	drv = open(t, prof, printer.SerialPort{Path: line.path, Baud: 115200}, nil)
	waitState(t, drv, devices.OK, "printed")
	dev.SetCondition(simprinter.PoweredOff)
	waitState(t, drv, devices.Fault, "stopped answering")
	if err := drv.Print(context.Background(), ticket()); !errors.Is(err, printer.ErrCannotPrint) {
		t.Fatalf("printed to a dead printer: %v", err)
	}
}

// Garbage from the printer is survived and reported, never trusted.
func TestGarbageFromPrinter(t *testing.T) {
	prof, dev := device(t, "epson-tm-t20")
	dev.SetCondition(simprinter.Garbage)
	line := plug(t, dev)
	drv := open(t, prof, printer.SerialPort{Path: line.path, Baud: 115200}, nil)
	waitState(t, drv, devices.Warning, "does not report its state")
	dev.SetCondition(simprinter.Ready)
	waitState(t, drv, devices.OK, "printed")
}

// A port that does not exist: a fault at once, never a hang.
func TestMissingPort(t *testing.T) {
	prof, _ := device(t, "generic")
	drv := open(t, prof, printer.SerialPort{Path: filepath.Join(t.TempDir(), "ttyUSB9"), Baud: 19200}, nil)
	waitState(t, drv, devices.Fault, "no such file")
	if err := drv.Print(context.Background(), ticket()); !errors.Is(err, printer.ErrCannotPrint) {
		t.Fatalf("got %v", err)
	}
}

// The USB printer class device is a character device opened
// non-blocking; a pseudo-terminal stands in for /dev/usb/lp0.
func TestDevicePort(t *testing.T) {
	prof, dev := device(t, "epson-tm-t20")
	line := plug(t, dev)
	drv := open(t, prof, printer.DevicePort{Path: line.path}, nil)
	waitState(t, drv, devices.OK, "printed")
	if err := drv.Print(context.Background(), ticket()); err != nil {
		t.Fatal(err)
	}
	printed(t, dev)
}

// A network printer on raw TCP, port 9100 style.
func TestNetPort(t *testing.T) {
	prof, dev := device(t, "epson-tm-t20")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = dev.Serve(c) }()
		}
	}()
	drv := open(t, prof, printer.NetPort{Addr: ln.Addr().String()}, nil)
	waitState(t, drv, devices.OK, "printed")
	if err := drv.Print(context.Background(), ticket()); err != nil {
		t.Fatal(err)
	}
	printed(t, dev)
}

// Without a status line, paper is counted against the roll.
func TestRollCounting(t *testing.T) {
	prof, dev := device(t, "generic-oneway")
	state := filepath.Join(t.TempDir(), "printer.json")
	drv := open(t, prof, printer.PipePort{Name: "pipe", Serve: func(c io.ReadWriteCloser) { _ = dev.Serve(c) }},
		func(c *printer.Config) { c.RollMM = 1000; c.StateFile = state })
	waitState(t, drv, devices.OK, "printed")
	for i := 0; drv.Status().State == devices.OK; i++ {
		if i > 20 {
			t.Fatal("a 1 m roll never ran low")
		}
		if err := drv.Print(context.Background(), ticket()); err != nil {
			t.Fatal(err)
		}
		printed(t, dev)
	}
	if st := drv.Status(); !strings.Contains(st.Detail, "estimated") {
		t.Fatalf("status %+v", st)
	}
	drv.NewRoll()
	waitState(t, drv, devices.OK, "printed")
}

func ticket() *printer.Ticket {
	t := sampleTicket()
	t.Number = "П042"
	t.Service.UK = "Пенсія у зв'язку з втратою годувальника"
	return t
}

func makeRaw(f *os.File) error {
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, tio)
}
