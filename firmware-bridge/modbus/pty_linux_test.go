package modbus_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

// serve runs a Server for dev at unit on a new PTY until the test ends.
func serve(t testing.TB, unit byte, dev modbus.Handler) (*modbus.PTY, *modbus.Server) {
	t.Helper()
	p, err := modbus.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	srv := &modbus.Server{Port: p, Line: modbus.PTYLine, Handler: dev, Units: func(u byte) bool { return u == unit }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server: %v", err)
		}
		p.Close()
	})
	return p, srv
}

func openMaster(t testing.TB, path string) *modbus.Master {
	t.Helper()
	port, err := modbus.OpenSerial(path, modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	return modbus.NewMaster(modbus.NewRTU(port, modbus.RTUOptions{Line: modbus.PTYLine}), ptyOptions)
}

// ptyOptions: over a pseudo-terminal the peer is a process (or goroutine)
// on shared cores, not a microcontroller with a 10 ms turnaround; the
// tests are about bytes, so the timeouts get room.
var ptyOptions = modbus.MasterOptions{Slack: 500 * time.Millisecond}

// TestMasterServerOverPTY: our master through go.bug.st/serial, our server
// on the pseudo-terminal's other side, real time.
func TestMasterServerOverPTY(t *testing.T) {
	ctx := context.Background()
	dev := windowDisplay()
	p, srv := serve(t, 1, dev)
	m := openMaster(t, p.Path())
	if err := m.WriteRegisters(ctx, 1, 0x0100, 1, 0xC031, 0x3233); err != nil {
		t.Fatal(err)
	}
	v, err := m.ReadHoldingRegisters(ctx, 1, 0x0100, 3)
	if err != nil || !slices.Equal(v, []uint16{1, 0xC031, 0x3233}) {
		t.Fatalf("read back %v, %v", v, err)
	}
	id, err := m.ReadIdentification(ctx, 1)
	if err != nil || id.Product != "CHG-WD1" {
		t.Fatalf("identification %+v, %v", id, err)
	}
	chunk := make([]uint16, 66)
	for i := range chunk {
		chunk[i] = uint16(i)
	}
	if err := m.WriteFileRecord(ctx, 1, 1, 0, chunk); err != nil {
		t.Fatal(err)
	}
	if got, err := m.ReadFileRecord(ctx, 1, 1, 0, 66); err != nil || !slices.Equal(got, chunk) {
		t.Fatalf("file record %v, %v", got, err)
	}
	if _, err := m.ReadInputRegisters(ctx, 1, 0x0070, 1); !modbus.IsException(err, modbus.IllegalDataAddress) {
		t.Fatalf("outside the map: %v", err)
	}
	// Noise on the line before a request: heard, dropped, request fine.
	p.Write([]byte{0xFF, 0x00, 0x55})
	if _, err := m.ReadInputRegisters(ctx, 1, 0, 6); err != nil {
		t.Fatal(err)
	}
	// A unit nobody serves times out.
	if _, err := m.DoOnce(ctx, 2, modbus.ReadInput(0, 1)); !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("absent unit: %v", err)
	}
	if st := srv.Stats(); st.Requests < 7 || st.NotOurs != 1 {
		t.Errorf("server stats %+v", st)
	}
}

func needTool(t *testing.T, path, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(path)
	if err != nil {
		skipOrFail(t, "%s not installed (Debian package %s; scripts/test-deps.sh installs it)", path, pkg)
	}
	return p
}

// skipOrFail skips a test whose tool is missing, except under make test
// (CI set), which installs the tools: there it is a failure.
func skipOrFail(t *testing.T, format string, a ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set: "+format, a...)
	}
	t.Skipf(format, a...)
}

// mbpoll runs one mbpoll command against link and returns its output.
func mbpoll(t *testing.T, link string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := args
	if i := slices.Index(args, "="); i >= 0 {
		opts = args[:i]
	}
	all := append([]string{"-m", "rtu", "-a", "1", "-b", "19200", "-P", "none", "-s", "2", "-0", "-1", "-o", "1"}, opts...)
	all = append(all, link)
	all = append(all, writeValues(args)...)
	out, err := exec.CommandContext(ctx, "mbpoll", all...).CombinedOutput()
	return string(out), err
}

// writeValues are the trailing "= v…" arguments of an mbpoll call.
func writeValues(args []string) []string {
	i := slices.Index(args, "=")
	if i < 0 {
		return nil
	}
	return args[i+1:]
}

var mbpollValue = regexp.MustCompile(`(?m)^\[(\d+)\]:\s+(-?\d+)`)

func mbpollValues(out string) map[int]int {
	v := map[int]int{}
	for _, m := range mbpollValue.FindAllStringSubmatch(out, -1) {
		ref, _ := strconv.Atoi(m[1])
		val, _ := strconv.Atoi(m[2])
		v[ref] = val
	}
	return v
}

// TestInteropMbpoll: Debian's mbpoll (libmodbus) as the master, our Server
// (the emulator's code) as the device, over a pseudo-terminal at 8N2.
func TestInteropMbpoll(t *testing.T) {
	needTool(t, "mbpoll", "mbpoll")
	dev := modbustest.NewDevice()
	for i := range uint16(10) {
		dev.SetHolding(i, 1000+i)
		dev.SetInput(i, 2000+i)
	}
	p, srv := serve(t, 1, dev)
	link := filepath.Join(t.TempDir(), "bus0")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}

	out, err := mbpoll(t, link, "-t", "4", "-r", "0", "-c", "5")
	if err != nil {
		t.Fatalf("read holding: %v\n%s", err, out)
	}
	if v := mbpollValues(out); len(v) != 5 || v[0] != 1000 || v[4] != 1004 {
		t.Fatalf("read holding: %v\n%s", v, out)
	}
	out, err = mbpoll(t, link, "-t", "3", "-r", "2", "-c", "3")
	if v := mbpollValues(out); err != nil || len(v) != 3 || v[2] != 2002 || v[4] != 2004 {
		t.Fatalf("read input: %v %v\n%s", v, err, out)
	}
	// One value: function 06; several: 16.
	if out, err := mbpoll(t, link, "-t", "4", "-r", "3", "=", "4242"); err != nil {
		t.Fatalf("write single: %v\n%s", err, out)
	}
	if out, err := mbpoll(t, link, "-t", "4", "-r", "5", "=", "7", "8", "9"); err != nil {
		t.Fatalf("write multiple: %v\n%s", err, out)
	}
	if got := dev.Holding(3, 5); !slices.Equal(got, []uint16{4242, 1004, 7, 8, 9}) {
		t.Errorf("after mbpoll's writes: %v", got)
	}
	var fns []modbus.Function
	for _, w := range dev.Writes() {
		fns = append(fns, w.Function)
	}
	if !slices.Equal(fns, []modbus.Function{modbus.FuncWriteSingleRegister, modbus.FuncWriteMultipleRegisters}) {
		t.Errorf("mbpoll's writes used functions %v, want 06 then 10", fns)
	}
	// Our exceptions, as libmodbus reads them.
	out, _ = mbpoll(t, link, "-t", "4", "-r", "50", "-c", "2")
	if !strings.Contains(out, "Illegal data address") {
		t.Errorf("read outside the map: mbpoll said\n%s", out)
	}
	// -u is Report Server ID (0x11), which we do not implement: exception 01.
	out, _ = mbpoll(t, link, "-u")
	if !strings.Contains(out, "Illegal function") {
		t.Errorf("report server ID: mbpoll said\n%s", out)
	}
	st := srv.Stats()
	if st.Requests != 6 || st.Exceptions != 2 || st.GarbageBytes != 0 {
		t.Errorf("server stats %+v, want 6 requests, 2 exceptions, no garbage", st)
	}
	t.Logf("mbpoll: %d requests answered, %d exceptions; %s", st.Requests, st.Exceptions, strings.SplitN(mustVersion("mbpoll", "-V"), "\n", 2)[0])
}

func mustVersion(cmd string, args ...string) string {
	out, _ := exec.Command(cmd, args...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// lines sends r's lines on a channel, closing it at EOF.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
	}()
	return ch
}

// waitLine waits for a line containing want, collecting what came before.
func waitLine(t *testing.T, ch <-chan string, want, what string) {
	t.Helper()
	var seen []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("%s ended before %q:\n%s", what, want, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("%s: no %q in 20 s:\n%s", what, want, strings.Join(seen, "\n"))
		}
	}
}

// start runs a process until the test ends, its stdout and stderr as
// line channels.
func start(t *testing.T, name string, args ...string) (stdout, stderr <-chan string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	so, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	se, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdout, stderr = lines(so), lines(se)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return stdout, stderr
}

// TestInteropPymodbus: our Master (through go.bug.st/serial) against
// Debian's python3-pymodbus RTU server, over a socat pseudo-terminal pair.
func TestInteropPymodbus(t *testing.T) {
	needTool(t, "socat", "socat")
	python := needTool(t, "/usr/bin/python3", "python3")
	if err := exec.Command(python, "-c", "import pymodbus, serial_asyncio").Run(); err != nil {
		skipOrFail(t, "python3-pymodbus or python3-serial-asyncio not installed (scripts/test-deps.sh installs them)")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "host"), filepath.Join(dir, "device")
	_, socatLog := start(t, "socat", "-d", "-d", "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	waitLine(t, socatLog, "starting data transfer loop", "socat")
	script, _ := filepath.Abs("../testdata/pymodbus_server.py")
	out, _ := start(t, python, script, b, "1", "19200", "N", "2")
	waitLine(t, out, "READY", "pymodbus server")

	port, err := modbus.OpenSerial(a, modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	var session bytes.Buffer
	session.WriteString("# Our master and python3-pymodbus " + pymodbusVersion(python) + "'s RTU server (testdata/pymodbus_server.py),\n# recorded by TestInteropPymodbus -record; replayed by TestReplayPymodbusSession.\n")
	rec := &modbustest.Recorder{Port: port, W: &session}
	m := modbus.NewMaster(modbus.NewRTU(rec, modbus.RTUOptions{Line: modbus.PTYLine}), ptyOptions)
	h := pymodbusSession(t, m)
	rec.Flush()
	if *record {
		if err := os.WriteFile(pymodbusSessionFile, session.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("pymodbus %s: %d requests, %d answers, %d exceptions", pymodbusVersion(python), h.Requests, h.Answers, h.Exceptions)
}

func pymodbusVersion(python string) string {
	out, _ := exec.Command(python, "-c", "import pymodbus; print(pymodbus.__version__)").Output()
	return strings.TrimSpace(string(out))
}

// TestInteropPymodbusClient: pymodbus's client reads our Server's answers,
// identification and file records included.
func TestInteropPymodbusClient(t *testing.T) {
	python := needTool(t, "/usr/bin/python3", "python3")
	if err := exec.Command(python, "-c", "import pymodbus, serial").Run(); err != nil {
		skipOrFail(t, "python3-pymodbus or python3-serial not installed (scripts/test-deps.sh installs them)")
	}
	dev := windowDisplay()
	p, srv := serve(t, 1, dev)
	script, _ := filepath.Abs("../testdata/pymodbus_client.py")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, p.Path(), "1").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	want := strings.Join([]string{
		"WR ok",
		"HR 1 49201 12851",
		"CONFORMITY 130",
		"ID 0 cherga",
		"ID 1 CHG-WD1",
		"ID 2 1.2.0",
		"ID 5 window display 8x1",
		"ID1 CHG-WD1",
		"WFR ok",
		"EXC 2",
		"DONE",
	}, "\n")
	if got != want {
		t.Errorf("pymodbus client said:\n%s\nwant:\n%s", got, want)
	}
	if rec := dev.Record(1, 0); !slices.Equal(rec, []uint16{0x4346, 1}) {
		t.Errorf("record written by pymodbus: %v", rec)
	}
	if st := srv.Stats(); st.GarbageBytes != 0 {
		t.Errorf("server stats %+v", st)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPollPTY polls 32 units served by our Server over a
// pseudo-terminal, through go.bug.st/serial: the real system calls of a
// poll cycle. A pty does not enforce the baud rate, so ns/op is not a bus
// time (see BenchmarkPollCycle32 for that); cpu-µs/poll is the process's
// CPU for one poll, master and server together.
func BenchmarkPollPTY(b *testing.B) {
	devs := map[byte]*modbustest.Device{}
	for u := byte(1); u <= 32; u++ {
		devs[u] = windowDisplay()
	}
	h := modbus.HandlerFunc(func(u byte, r modbus.Request) modbus.Response { return devs[u].ServeModbus(u, r) })
	p, err := modbus.OpenPTY()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	srv := &modbus.Server{Port: p, Line: modbus.PTYLine, Handler: h}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	m := openMaster(b, p.Path())
	s := modbus.NewScheduler(m)
	for u := byte(1); u <= 32; u++ {
		s.Add(u, pollBlock)
	}
	cpu0 := cpuTime()
	for b.Loop() {
		if rep := s.Cycle(ctx); rep.Failed != 0 {
			b.Fatalf("%+v", rep)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(32*b.N), "cpu-µs/poll")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(32*b.N), "wall-µs/poll")
}

// A frame whose function code has bit 7 set is an exception answer, not a
// request: the server says nothing to it (it used to send a frame of only
// an address and a CRC), and answers the next request as usual.
func TestServerSilentToNonRequests(t *testing.T) {
	dev := modbustest.NewDevice().SetHolding(0, 7)
	p, srv := serve(t, 1, dev)
	port, err := modbus.OpenSerial(p.Path(), modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	rtu := modbus.NewRTU(port, modbus.RTUOptions{Line: modbus.PTYLine})
	m := modbus.NewMaster(rtu, ptyOptions)
	for _, fn := range []byte{0x80, 0x83, 0xAB, 0xFF} {
		if _, err := port.Write(modbus.AppendADU(nil, 1, []byte{fn, 0x01})); err != nil {
			t.Fatal(err)
		}
		// The next request's t3.5 keeps the frames apart.
		v, err := m.ReadHoldingRegisters(context.Background(), 1, 0, 1)
		if err != nil || len(v) != 1 || v[0] != 7 {
			t.Fatalf("after function %#02x: %v %v", fn, v, err)
		}
	}
	// The reader may take a frame of an unknown length for garbage (only
	// silence ends it); either way it is not answered.
	if st := srv.Stats(); st.Requests != 4 || st.NotOurs+st.BadFrames == 0 {
		t.Errorf("server stats %+v, want the 4 reads answered and the rest not", st)
	}
	if st := rtu.Stats(); st.GarbageBytes != 0 || st.BadFrames != 0 {
		t.Errorf("the master heard more than the answers: %+v", st)
	}
}
