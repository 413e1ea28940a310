// Package pgtest runs a real, throwaway PostgreSQL cluster (Debian's
// postgresql package, /usr/lib/postgresql/<version>/bin) for tests, and
// long-lived ones for `make run-city` (Init, StartDetached, StopDetached;
// see ./pgcluster).
//
// PostgreSQL refuses to run as root: as root, the cluster's directory is
// chowned to the postgres user and initdb and postgres run as that user
// (SysProcAttr.Credential). The server listens on a Unix socket in the
// cluster's directory and on 127.0.0.1 on a port picked free at Init.
// Authentication is trust; the superuser is postgres.
//
// Durability settings are PostgreSQL's defaults unless asked (Options.Fast):
// crash tests kill the server and must see real commits.
package pgtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options tune a cluster.
type Options struct {
	// Fast turns fsync and synchronous_commit off: for benchmarks and
	// tests that do not kill the server.
	Fast bool
	// Settings are more postgres -c name=value settings.
	Settings map[string]string
}

// Cluster is one PostgreSQL cluster, running or stopped.
type Cluster struct {
	Dir  string // cluster directory: data/, sock/ (the Unix socket), postgres.log
	Port int    // TCP port on 127.0.0.1, and the socket's number

	bin  string
	cred *syscall.Credential // nil: run as ourselves
	opts Options

	mu   sync.Mutex
	proc *server // nil: not running (under this process)
}

// server is one running postmaster started by this process.
type server struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the postmaster has exited and been reaped
	err  error         // its exit status, set before done closes
}

// ErrNoPostgres: no PostgreSQL installation was found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL not installed (apt-get install postgresql; scripts/test-deps.sh)")

// BinDir is the newest /usr/lib/postgresql/<version>/bin holding initdb
// and postgres ($PGTEST_BIN wins).
func BinDir() (string, error) {
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type v struct {
		n   int
		dir string
	}
	var vs []v
	for _, p := range dirs {
		bin := filepath.Dir(p)
		n, err := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
			continue
		}
		vs = append(vs, v{n, bin})
	}
	if len(vs) == 0 {
		return "", ErrNoPostgres
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].n > vs[j].n })
	return vs[0].dir, nil
}

// Start makes and starts a new cluster with PostgreSQL's default
// settings in a fresh directory removed at t.Cleanup (the server is
// stopped first). Without PostgreSQL it skips the test, or fails it under
// CI=1.
func Start(t testing.TB) *Cluster { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if _, err := BinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	// Not t.TempDir: its directories are 0700, which the postgres user
	// cannot traverse when we are root.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, err := Init(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		p := c.proc
		c.mu.Unlock()
		if p != nil {
			c.signal(p, syscall.SIGQUIT) // immediate: the data is thrown away
			<-p.done
			c.reapGroup(p)
		}
	})
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// Init makes a new cluster in dir (created if missing; must hold no
// cluster yet, else Init opens the one there) without starting it.
func Init(dir string, opts Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, opts: opts}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if c.cred != nil {
		if err := checkTraversable(dir); err != nil {
			return nil, err
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "port")); err == nil {
		if c.Port, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return nil, fmt.Errorf("pgtest: %s/port: %w", dir, err)
		}
		return c, nil
	}
	for _, sub := range []string{"data", "sock"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		if c.cred != nil {
			if err := os.Chown(p, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return nil, fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	out, err := c.command("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "port"), []byte(strconv.Itoa(c.Port)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return c, nil
}

// checkTraversable says clearly when the postgres user could not reach dir.
func checkTraversable(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgtest: the postgres user cannot traverse %s (mode %v); put the cluster elsewhere", p, fi.Mode().Perm())
		}
		if p == "/" {
			return nil
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }
func (c *Cluster) sockDir() string { return filepath.Join(c.Dir, "sock") }

// LogPath is the server's log file.
func (c *Cluster) LogPath() string { return filepath.Join(c.Dir, "postgres.log") }

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
	return cmd
}

// serverArgs are postgres's arguments for this cluster.
func (c *Cluster) serverArgs() []string {
	set := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(c.Port),
		"unix_socket_directories": c.sockDir(),
		"lc_messages":             "C",
		"max_connections":         "100",
	}
	if c.opts.Fast {
		set["fsync"] = "off"
		set["synchronous_commit"] = "off"
		set["full_page_writes"] = "off"
	}
	for k, v := range c.opts.Settings {
		set[k] = v
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"-D", c.dataDir()}
	for _, k := range keys {
		args = append(args, "-c", k+"="+set[k])
	}
	return args
}

// start runs the postmaster as our child and returns once it accepts
// connections (it says so in its log) or has exited.
func (c *Cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return errors.New("pgtest: already running")
	}
	logf, err := os.OpenFile(c.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	cmd := c.command("postgres", c.serverArgs()...)
	pr, pw := io.Pipe()
	cmd.Stdout = logf
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	p := &server{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if !once && strings.Contains(line, "database system is ready to accept connections") {
				once = true
				close(ready)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		<-logged
		logf.Close()
		close(p.done)
	}()
	select {
	case <-ready:
		c.proc = p
		return nil
	case <-p.done:
		return fmt.Errorf("pgtest: postgres exited at start (%v); see %s:\n%s", p.err, c.LogPath(), tail(c.LogPath()))
	case <-time.After(2 * time.Minute): // a guard against hanging only
		c.signal(p, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("pgtest: postgres not ready after 2 minutes; see %s", c.LogPath())
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func (c *Cluster) signal(p *server, sig syscall.Signal) {
	p.cmd.Process.Signal(sig)
}

// reapGroup kills what is left of the postmaster's process group (its
// backends outlive a SIGKILLed postmaster for a moment) and waits until
// none of them runs, so that a new postmaster finds its shared memory free.
func (c *Cluster) reapGroup(p *server) {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGKILL)
	guard := time.Now().Add(time.Minute) // a guard against hanging only
	for groupAlive(pgid) && time.Now().Before(guard) {
		time.Sleep(5 * time.Millisecond)
	}
}

// groupAlive reports whether a process of group pgid is still running
// (zombies do not count: they hold no shared memory).
func groupAlive(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid && pid != 0 {
			return true
		}
	}
	return false
}

// DSN is a key=value DSN for database db over the Unix socket.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("host=%s port=%d dbname=%s user=postgres sslmode=disable", c.sockDir(), c.Port, db)
}

// TCPDSN is a key=value DSN for database db over TCP on 127.0.0.1.
func (c *Cluster) TCPDSN(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=postgres sslmode=disable", c.Port, db)
}

// CreateDB creates database name and returns its DSN (Unix socket).
func (c *Cluster) CreateDB(t testing.TB, name string) string {
	t.Helper()
	if err := c.createDB(name); err != nil {
		t.Fatal(err)
	}
	return c.DSN(name)
}

func (c *Cluster) createDB(name string) error {
	out, err := c.command("createdb", "-h", c.sockDir(), "-p", strconv.Itoa(c.Port), "-U", "postgres", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: createdb %s: %w\n%s", name, err, out)
	}
	return nil
}

// Stop shuts the cluster down (fast mode: open transactions roll back)
// and waits for it.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.stopWith(t, syscall.SIGINT)
}

// Kill SIGKILLs the postmaster, as a crash would, and waits until it and
// its backends are gone. Restart recovers.
func (c *Cluster) Kill(t testing.TB) {
	t.Helper()
	c.stopWith(t, syscall.SIGKILL)
}

func (c *Cluster) stopWith(t testing.TB, sig syscall.Signal) {
	c.mu.Lock()
	p := c.proc
	c.proc = nil
	c.mu.Unlock()
	if p == nil {
		t.Fatal("pgtest: not running")
	}
	c.signal(p, sig)
	<-p.done
	c.reapGroup(p)
}

// Restart starts the cluster again on the same data, socket and port
// (recovering after Kill).
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
}

// Launch starts the cluster as a child of this process (for a TestMain
// that shares one cluster among tests); Shutdown stops it.
func (c *Cluster) Launch() error { return c.start() }

// Shutdown stops a cluster started by Launch, Start or Restart (fast
// mode) and waits for it.
func (c *Cluster) Shutdown() {
	c.mu.Lock()
	p := c.proc
	c.proc = nil
	c.mu.Unlock()
	if p == nil {
		return
	}
	c.signal(p, syscall.SIGINT)
	<-p.done
	c.reapGroup(p)
}

// CreateDatabase creates database name (see CreateDB).
func (c *Cluster) CreateDatabase(name string) error { return c.createDB(name) }

// StartDetached starts the cluster with pg_ctl, outliving this process
// (for `make run-city`), and waits until it accepts connections.
func (c *Cluster) StartDetached() error {
	// pg_ctl's shell opens the log as the postgres user.
	f, err := os.OpenFile(c.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	f.Close()
	if c.cred != nil {
		if err := os.Chown(c.LogPath(), int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	opts := strings.Join(quoteAll(c.serverArgs()[2:]), " ") // without -D: pg_ctl passes it
	out, err := c.command("pg_ctl", "-D", c.dataDir(), "-l", c.LogPath(), "-w", "-t", "120", "-o", opts, "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// StopDetached stops a cluster StartDetached started (fast mode).
func (c *Cluster) StopDetached() error {
	out, err := c.command("pg_ctl", "-D", c.dataDir(), "-w", "-t", "120", "-m", "fast", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Running reports whether a postmaster runs on the cluster's data (pg_ctl status).
func (c *Cluster) Running() bool {
	return c.command("pg_ctl", "-D", c.dataDir(), "status").Run() == nil
}

// quoteAll quotes postgres arguments for pg_ctl -o, which a shell splits.
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}
