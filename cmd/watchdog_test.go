//go:build linux

package cmd_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The watchdog tests play systemd: this machine, and CI, run in a
// container without systemd as PID 1, so unit is a small service manager
// that does for the real binary what systemd does for configs/systemd's
// units (Type=notify, NotifyAccess=main, WatchdogSec=, Restart=always):
//
//   - it starts the binary with NOTIFY_SOCKET (a unixgram socket the test
//     owns, reading each sender's PID as systemd does, and taking
//     notifications only from the main process), WATCHDOG_USEC and
//     WATCHDOG_PID (the main PID: a shell sets it to its own PID and execs
//     the binary);
//   - it waits for READY=1, and from then on expects WATCHDOG=1 within
//     every WatchdogSec;
//   - when none came, it sends SIGABRT (systemd's watchdog signal; Go then
//     writes every goroutine's stack to stderr and exits) and SIGCONT (as
//     systemd does after a kill signal, so that a stopped process gets
//     it), then SIGKILL once TimeoutAbortSec has passed;
//   - once the process is gone it starts it again (Restart=always).
//
// WatchdogSec is 2 s instead of the units' 30 (the daemons take it from
// WATCHDOG_USEC); the rest is as systemd does it. The manager has no
// goroutine of its own: it acts while the test waits on it (waitFor), on
// the notifications, log lines, exits and timers as they come, so the test
// sees every step in order and waits on events, not on guesses of time.
type unit struct {
	t            *testing.T
	name         string
	args         []string
	watchdogSec  time.Duration
	abortTimeout time.Duration // TimeoutAbortSec=, which defaults to TimeoutStopSec=
	restartSec   time.Duration
	socket       string
	notes        chan notification
	begun        time.Time
	timeline     []string

	// The main process and what the manager knows of it.
	main     *proc
	pid      int
	lines    <-chan string // main.lines until they end
	exit     <-chan error  // main.exit once the lines ended
	ready    bool          // READY=1 came
	pings    int           // WATCHDOG=1 since READY=1
	lastPing time.Time
	aborted  bool             // SIGABRT sent for a missed watchdog
	dog      *time.Timer      // the watchdog deadline, armed at READY=1
	abort    <-chan time.Time // SIGKILL after TimeoutAbortSec
	restart  <-chan time.Time // RestartSec after an exit
	exits    []exited         // every main process that ended
	stopped  bool             // stopped by the test: no restart
}

type notification struct {
	pid int
	msg string
}

// exited is a main process that ended: its exit code (-1: killed by a
// signal) and everything it wrote.
type exited struct {
	pid  int
	code int
	log  string
}

// startUnit checks that the shipped unit asks systemd for what unit plays,
// and starts the service; it returns once the first process said READY=1.
func startUnit(t *testing.T, name string, args ...string) *unit {
	t.Helper()
	b, err := os.ReadFile("../configs/systemd/" + name + ".service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "NotifyAccess=main", "Restart=always", "WatchdogSec="} {
		if !strings.Contains(string(b), "\n"+want) {
			t.Fatalf("%s.service has no %s: the test plays a systemd it does not ask for", name, want)
		}
	}
	u := &unit{t: t, name: name, args: args, watchdogSec: 2 * time.Second, abortTimeout: 5 * time.Second,
		restartSec: 100 * time.Millisecond, notes: make(chan notification, 1024), begun: time.Now()}
	u.listen()
	u.dog = time.NewTimer(time.Hour)
	u.dog.Stop()
	t.Cleanup(func() {
		u.dog.Stop()
		if t.Failed() {
			t.Logf("%s's service manager:\n%s", name, strings.Join(u.timeline, "\n"))
		}
	})
	u.spawn()
	u.waitFor("READY=1", func() bool { return u.ready })
	return u
}

// listen makes the notification socket and reads it until the test ends.
func (u *unit) listen() {
	u.socket = filepath.Join(u.t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: u.socket, Net: "unixgram"})
	if err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { conn.Close() })
	// The kernel then tells the sender's PID with every datagram.
	rc, err := conn.SyscallConn()
	if err != nil {
		u.t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1)
	}); err != nil || serr != nil {
		u.t.Fatal(err, serr)
	}
	go func() {
		b, oob := make([]byte, 4096), make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
		for {
			n, oobn, _, _, err := conn.ReadMsgUnix(b, oob)
			if err != nil {
				close(u.notes)
				return
			}
			pid := 0
			msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if cred, err := syscall.ParseUnixCredentials(&m); err == nil {
					pid = int(cred.Pid)
				}
			}
			u.notes <- notification{pid: pid, msg: string(b[:n])}
		}
	}()
}

func (u *unit) log(format string, args ...any) {
	u.timeline = append(u.timeline, fmt.Sprintf("%6.3fs %s[%d]: ", time.Since(u.begun).Seconds(), u.name, u.pid)+fmt.Sprintf(format, args...))
}

// spawn starts a main process.
func (u *unit) spawn() {
	u.t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `export WATCHDOG_PID=$$; exec "$0" "$@"`, filepath.Join(binDir, u.name))
	cmd.Args = append(cmd.Args, u.args...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+u.socket, fmt.Sprintf("WATCHDOG_USEC=%d", u.watchdogSec.Microseconds()))
	u.main = startCmd(u.t, u.name, cmd)
	u.pid, u.lines, u.exit = cmd.Process.Pid, u.main.lines, nil
	u.ready, u.pings, u.aborted, u.abort, u.restart = false, 0, false, nil, nil
	u.log("started")
}

// waitFor runs the service manager until cond holds, for at most 30 s.
func (u *unit) waitFor(what string, cond func() bool) {
	u.t.Helper()
	guard := time.NewTimer(30 * time.Second)
	defer guard.Stop()
	for !cond() {
		select {
		case n, ok := <-u.notes:
			if !ok {
				u.t.Fatalf("%s: the notification socket closed", what)
			}
			u.notified(n)
		case l, ok := <-u.lines:
			if !ok {
				u.lines, u.exit = nil, u.main.exit
				continue
			}
			u.main.log.WriteString(l + "\n")
		case err := <-u.exit:
			u.exited(err)
		case <-u.dog.C:
			// No WATCHDOG=1 within WatchdogSec: what systemd logs as
			// "Watchdog timeout (limit 2s)!" and "Killing process … with
			// signal SIGABRT".
			u.log("watchdog timeout (limit %s; %d WATCHDOG=1, the last %.3fs ago): SIGABRT",
				u.watchdogSec, u.pings, time.Since(u.lastPing).Seconds())
			u.aborted = true
			u.main.cmd.Process.Signal(syscall.SIGABRT)
			u.main.cmd.Process.Signal(syscall.SIGCONT)
			u.abort = time.After(u.abortTimeout)
		case <-u.abort:
			u.log("still there %s after SIGABRT: SIGKILL", u.abortTimeout)
			u.abort = nil
			u.main.cmd.Process.Kill()
		case <-u.restart:
			u.spawn()
		case <-guard.C:
			u.t.Fatalf("%s: not within 30 s; the service manager saw:\n%s", what, strings.Join(u.timeline, "\n"))
		}
	}
}

// notified takes a notification as systemd does with NotifyAccess=main.
func (u *unit) notified(n notification) {
	if n.pid != u.pid || u.lines == nil { // another process, or the main one ending
		u.log("notification from PID %d, not the main process: ignored: %q", n.pid, n.msg)
		return
	}
	for line := range strings.SplitSeq(strings.TrimSpace(n.msg), "\n") {
		switch {
		case line == "READY=1":
			u.log("READY=1")
			u.ready = true
			u.dog.Reset(u.watchdogSec)
		case line == "WATCHDOG=1":
			if !u.ready || u.aborted {
				continue
			}
			u.pings++
			u.lastPing = time.Now()
			if u.pings <= 2 {
				u.log("WATCHDOG=1")
			}
			u.dog.Reset(u.watchdogSec)
		default:
			u.log("%s", line)
		}
	}
}

// exited records the end of the main process and schedules its restart.
func (u *unit) exited(err error) {
	u.exit = nil
	u.dog.Stop()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("%s: %v", u.name, err)
	}
	u.exits = append(u.exits, exited{pid: u.pid, code: code, log: u.main.log.String()})
	if !u.ready && !u.stopped {
		// systemd would retry up to StartLimitBurst; a test has no use for that.
		u.t.Fatalf("%s exited %d before READY=1:\n%s", u.name, code, u.main.log.String())
	}
	if u.stopped {
		u.log("exited %d", code)
		return
	}
	u.log("exited %d: restarting (Restart=always)", code)
	u.restart = time.After(u.restartSec)
}

// stop stops the service as systemctl stop does (SIGTERM) and returns the
// exit code.
func (u *unit) stop() int {
	u.t.Helper()
	u.stopped = true
	u.dog.Stop()
	n := len(u.exits)
	u.main.cmd.Process.Signal(syscall.SIGTERM)
	u.waitFor("the stop", func() bool { return len(u.exits) > n })
	return u.exits[n].code
}

// logged waits until the main process logged a line containing s, and
// returns the line.
func (u *unit) logged(s string) string {
	u.t.Helper()
	var line string
	u.waitFor("a log line with "+s, func() bool {
		for l := range strings.Lines(u.main.log.String()) {
			if strings.Contains(l, s) {
				line = strings.TrimSpace(l)
				return true
			}
		}
		return false
	})
	return line
}

// restarted is called once the test made the main process stuck. It
// waits until the manager noticed the missed watchdog and sent SIGABRT,
// runs afterAbort (nil: nothing; a frozen disk must thaw there, or the
// process could never exit), then waits until the process started again
// said READY=1 and fed the watchdog. It returns the end of the stuck
// process: its exit code and its stderr, with Go's goroutine dump.
func (u *unit) restarted(afterAbort func()) exited {
	u.t.Helper()
	old, since := u.pid, time.Now()
	u.waitFor("the missed watchdog", func() bool { return u.aborted })
	noticed := time.Since(since)
	if afterAbort != nil {
		afterAbort()
	}
	u.waitFor("the restart", func() bool { return u.pid != old && u.ready && u.pings > 0 })
	u.t.Logf("%s: stuck → SIGABRT %.1fs, → new process ready and fed the watchdog %.1fs", u.name, noticed.Seconds(), time.Since(since).Seconds())
	var end exited
	for _, e := range u.exits {
		if e.pid == old {
			end = e
		}
	}
	if end.pid != old {
		u.t.Fatalf("%s: the stuck process %d never ended", u.name, old)
	}
	return end
}

// healthy waits for n more WATCHDOG=1 from the main process, and fails if
// the manager restarted it meanwhile.
func (u *unit) healthy(n int) {
	u.t.Helper()
	pid, want := u.pid, u.pings+n
	u.waitFor(fmt.Sprintf("%d WATCHDOG=1", n), func() bool { return u.pid != pid || u.aborted || u.pings >= want })
	if u.pid != pid || u.aborted {
		u.t.Fatalf("%s was restarted while healthy:\n%s", u.name, strings.Join(u.timeline, "\n"))
	}
}

// goroutine is the stack, in a Go goroutine dump, of the goroutine with a
// frame containing fn, "" if none has.
func goroutine(dump, fn string) string {
	for block := range strings.SplitSeq(dump, "\n\n") {
		if strings.HasPrefix(strings.TrimSpace(block), "goroutine ") && strings.Contains(block, fn) {
			return strings.TrimSpace(block)
		}
	}
	return ""
}

// checkDump checks that the process that missed the watchdog ended on
// SIGABRT, with Go's goroutine dump and exit code 2 (not by the SIGKILL
// after TimeoutAbortSec), and returns the dump.
func checkDump(t *testing.T, end exited) string {
	t.Helper()
	_, dump, ok := strings.Cut(end.log, "SIGABRT: abort")
	if !ok || end.code != 2 {
		t.Fatalf("the stuck process ended with %d, no goroutine dump:\n%s", end.code, end.log)
	}
	return dump
}

// disk is an ext4 file system on a loop device that the test can freeze
// (fsfreeze -f): every write to it, and every fsync, then blocks in the
// kernel as on a disk that stopped answering, while the rest of the
// process runs on.
type disk struct {
	t      *testing.T
	dir    string
	frozen bool
}

// newDisk mounts a fresh 64 MB file system; nil where this machine does
// not allow it (mount and fsfreeze need root and a loop device, which a
// CI runner or a container may not give), and the test then makes the
// whole process stuck instead.
func newDisk(t *testing.T) *disk {
	t.Helper()
	for _, tool := range []string{"mkfs.ext4", "fsfreeze", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (scripts/test-deps.sh installs it)", tool)
			}
			t.Logf("no %s: the stuck disk is played by SIGSTOP", tool)
			return nil
		}
	}
	if os.Geteuid() != 0 {
		t.Log("not root, no loop mount: the stuck disk is played by SIGSTOP")
		return nil
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Logf("mount -o loop refused (%v: %s): the stuck disk is played by SIGSTOP", err, strings.TrimSpace(string(out)))
		return nil
	}
	d := &disk{t: t, dir: mnt}
	// After the processes' cleanups (which kill them): a process stuck on
	// the frozen disk only ends once it thaws.
	t.Cleanup(func() {
		d.thaw()
		exec.Command("umount", "-l", mnt).Run()
	})
	// A file system that mounts may still refuse to freeze.
	if out, err := exec.Command("fsfreeze", "-f", mnt).CombinedOutput(); err != nil {
		t.Logf("fsfreeze refused (%v: %s): the stuck disk is played by SIGSTOP", err, strings.TrimSpace(string(out)))
		return nil
	}
	d.frozen = true
	d.thaw()
	return d
}

func (d *disk) freeze() {
	d.t.Helper()
	if out, err := exec.Command("fsfreeze", "-f", d.dir).CombinedOutput(); err != nil {
		d.t.Fatalf("fsfreeze -f: %v\n%s", err, out)
	}
	d.frozen = true
}

func (d *disk) thaw() {
	if !d.frozen {
		return
	}
	if out, err := exec.Command("fsfreeze", "-u", d.dir).CombinedOutput(); err != nil {
		d.t.Errorf("fsfreeze -u: %v\n%s", err, out)
	}
	d.frozen = false
}

// moveDataDir copies a stopped daemon's data directory onto the disk and
// points config at the copy; it returns the new directory.
func (d *disk) moveDataDir(t *testing.T, config, dataDir string) string {
	t.Helper()
	to := filepath.Join(d.dir, filepath.Base(dataDir))
	if _, err := os.Stat(dataDir); err == nil {
		// cp -a keeps the modes: queued refuses an accounts file others can read.
		if out, err := exec.Command("cp", "-a", dataDir, to).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v\n%s", err, out)
		}
	}
	writeConfig(t, config, config, "data_dir: "+dataDir, "data_dir: "+to)
	return to
}

// queued under the test's systemd is made stuck twice, and restarted each
// time with its data: first frozen whole (SIGSTOP, as a process stuck in
// the kernel), then with only its committer stuck, on a disk that stopped
// answering (its data directory on a file system frozen with fsfreeze):
// the HTTP server and the watchdog goroutine still run, but the committer
// does not answer the watchdog's ping, so the feeding stops. A ticket
// issued before each incident is there after the restart.
func TestWatchdogRestartsStuckQueued(t *testing.T) {
	t.Parallel()
	o := newOffice(t)
	d := newDisk(t)
	if d != nil {
		d.moveDataDir(t, o.officeConfig, filepath.Join(filepath.Dir(o.officeConfig), "queued"))
	}
	u := startUnit(t, "queued", "-config", o.officeConfig)
	o.qAddr = listenAddr(t, u.logged("queued started"))
	// The same port after a restart.
	writeConfig(t, o.officeConfig, o.officeConfig, "listen: 127.0.0.1:0", "listen: "+o.qAddr)
	u.healthy(2)

	issue := func() string {
		var tk struct{ Number string }
		o.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &tk)
		return tk.Number
	}
	survived := func(number string) {
		t.Helper()
		if state := stateOf(t, o, number); state != "waiting" {
			t.Errorf("ticket %s after the restart: state %q, want waiting", number, state)
		}
	}

	t.Log("incident 1: the whole process frozen (SIGSTOP)")
	number := issue()
	if err := u.main.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	dump := checkDump(t, u.restarted(nil))
	// Nothing in particular was stuck: every goroutine stopped where it
	// was, the main loop among them.
	if goroutine(dump, "main.run(") == "" {
		t.Errorf("the dump has no main.run:\n%s", dump)
	}
	survived(number)
	u.healthy(1)

	number = issue()
	if d == nil {
		t.Log("incident 2: no disk to freeze here, the whole process frozen again (SIGSTOP)")
		u.main.cmd.Process.Signal(syscall.SIGSTOP)
		checkDump(t, u.restarted(nil))
	} else {
		t.Log("incident 2: only the committer stuck, on a frozen disk (fsfreeze)")
		d.freeze()
		// Once SIGABRT was sent: the dump shows the committer stuck on the
		// disk; then the disk comes back, so that the process can end (a
		// thread in the kernel's write path takes no signal, not even
		// SIGKILL) and the data is there for the next one.
		dump := checkDump(t, u.restarted(func() {
			u.logged("(*Queue).commitLoop")
			d.thaw()
		}))
		g := goroutine(dump, "(*Queue).commitLoop")
		if !strings.Contains(g, "[syscall") || !strings.Contains(g, "bbolt.(*Tx).Commit") {
			t.Errorf("the committer is not in a commit's system call:\n%s\nin\n%s", g, dump)
		}
		t.Logf("the stuck goroutine, from queued's SIGABRT dump:\n%s", g)
	}
	survived(number)
	u.healthy(1)

	if code := u.stop(); code != 0 {
		t.Errorf("queued exited %d on SIGTERM", code)
	}
	t.Logf("queued's service manager:\n%s", strings.Join(u.timeline, "\n"))
}

// kioskd under the test's systemd, in the demo office, is made stuck
// twice and restarted each time with its data, as queued is above: frozen
// whole (SIGSTOP), then with only its outbox's committer stuck on a frozen
// disk while a ticket is being taken. Its HTTP server still answers
// /healthz then (it reads memory); the committer's ping is what stops the
// feeding. A ticket taken before each incident was printed and is at the
// server, and the restarted kioskd takes tickets again.
func TestWatchdogRestartsStuckKioskd(t *testing.T) {
	t.Parallel()
	d := newDisk(t)
	o := startOffice(t)
	// The office's kioskd hands its data directory (and its port, fixed
	// in the configuration by now) to the one under the test's systemd.
	if code := o.kioskd.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("kioskd exited %d", code)
	}
	if d != nil {
		o.dataDir = d.moveDataDir(t, o.kioskConfig, o.dataDir)
	}
	u := startUnit(t, "kioskd", "-config", o.kioskConfig)
	u.logged("link up")
	u.healthy(2)

	issue := func() string {
		t.Helper()
		number, offline, ok := takeTicket(o.kAddr, "pension-age")
		if !ok || offline {
			t.Fatalf("no online ticket from kioskd (answered %v, offline %v)", ok, offline)
		}
		return number
	}
	survived := func(number string) {
		t.Helper()
		if n := strings.Count(" "+strings.Join(printed(t, o.dataDir), " ")+" ", " "+number+" "); n != 1 {
			t.Errorf("ticket %s printed %d times, want once", number, n)
		}
		if state := stateOf(t, o, number); state != "waiting" {
			t.Errorf("ticket %s at the server: state %q, want waiting", number, state)
		}
	}

	t.Log("incident 1: the whole process frozen (SIGSTOP)")
	number := issue()
	if err := u.main.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	dump := checkDump(t, u.restarted(nil))
	if goroutine(dump, "(*Terminal).Run(") == "" {
		t.Errorf("the dump has no terminal.(*Terminal).Run:\n%s", dump)
	}
	survived(number)
	u.logged("link up")
	u.healthy(1)

	number = issue()
	if d == nil {
		t.Log("incident 2: no disk to freeze here, the whole process frozen again (SIGSTOP)")
		u.main.cmd.Process.Signal(syscall.SIGSTOP)
		checkDump(t, u.restarted(nil))
	} else {
		t.Log("incident 2: only the outbox's committer stuck, on a frozen disk (fsfreeze), taking a ticket")
		d.freeze()
		// The ticket's commit gets stuck on the disk; its request gets no
		// answer, so nobody holds that ticket.
		taken := make(chan bool, 1)
		go func() {
			_, _, ok := takeTicket(o.kAddr, "pension-age")
			taken <- ok
		}()
		dump := checkDump(t, u.restarted(func() {
			u.logged("(*Store).commitLoop")
			d.thaw()
		}))
		g := goroutine(dump, "(*Store).commitLoop")
		if !strings.Contains(g, "[syscall") || !strings.Contains(g, "bbolt.(*Tx).Commit") {
			t.Errorf("the committer is not in a commit's system call:\n%s\nin\n%s", g, dump)
		}
		t.Logf("the stuck goroutine, from kioskd's SIGABRT dump:\n%s", g)
		if <-taken {
			t.Error("the ticket taken on the frozen disk was answered")
		}
	}
	survived(number)
	u.logged("link up")
	u.healthy(1)
	issue()

	if code := u.stop(); code != 0 {
		t.Errorf("kioskd exited %d on SIGTERM", code)
	}
	t.Logf("kioskd's service manager:\n%s", strings.Join(u.timeline, "\n"))
}
