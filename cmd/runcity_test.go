package cmd_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/queue/stats"
)

// The centres of scripts/run-city.sh, in the order it gives their ports.
var cityOffices = []string{"kharkiv-shevchenkivskyi", "kharkiv-kyivskyi", "kharkiv-saltivskyi"}

var (
	cityToolsOnce sync.Once
	cityToolsErr  error
)

// buildCityTools adds cityd and pgcluster to the binaries TestMain built,
// with the same race detector setting.
func buildCityTools(t *testing.T) {
	t.Helper()
	cityToolsOnce.Do(func() {
		args := []string{"build", "-o", binDir + "/"}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "./cityd", "../city/pgtest/pgcluster")...).CombinedOutput()
		if err != nil {
			cityToolsErr = fmt.Errorf("build cityd, pgcluster: %v\n%s", err, out)
		}
	})
	if cityToolsErr != nil {
		t.Fatal(cityToolsErr)
	}
}

// freePortBase is a port p with p … p+span all free now.
func freePortBase(t *testing.T, span int) int {
	t.Helper()
	for range 50 {
		base := 20000 + 10*rand.IntN(4000)
		var held []net.Listener
		ok := true
		for p := base; p <= base+span; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free range of ports")
	return 0
}

// drain keeps what p logged so far (its pipes must not fill while the
// test talks to the programs) and fails if it has exited.
func (p *proc) drain() {
	p.t.Helper()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s exited early", p.name)
			}
			p.log.WriteString(l + "\n")
		default:
			return
		}
	}
}

// waitLogWithin is waitLog with its own guard.
func (p *proc) waitLogWithin(s string, guard time.Duration) string {
	p.t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s exited before logging %q", p.name, s)
			}
			p.log.WriteString(l + "\n")
			if strings.Contains(l, s) {
				return l
			}
		case <-timeout:
			p.t.Fatalf("%s did not log %q within %s", p.name, s, guard)
		}
	}
}

// within polls cond, draining p's log, until it holds or guard passes,
// and returns how long it took.
func within(t *testing.T, p *proc, what string, guard time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		p.drain()
		if time.Since(start) > guard {
			t.Fatalf("%s: not within %s", what, guard)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(start)
}

// demoCity is a running scripts/run-city.sh.
type demoCity struct {
	t       *testing.T
	dir     string // CITY_VAR
	base    int    // CITY_PORT
	script  *proc
	offices []*office // qAddr and token of each centre; nothing else set
}

type cityStatusReply struct {
	Offices []struct {
		ID          string `json:"id"`
		Reported    bool   `json:"reported"`
		Waiting     int    `json:"waiting"`
		WindowsOpen int    `json:"windows_open"`
		Stale       bool   `json:"stale"`
	} `json:"offices"`
}

// startDemoCity runs scripts/run-city.sh on dir and base in a process
// group of its own, as a terminal runs it, and waits for its URLs.
func startDemoCity(t *testing.T, dir string, base int) *demoCity {
	t.Helper()
	cmd := exec.Command("scripts/run-city.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CITY_VAR="+dir, fmt.Sprintf("CITY_PORT=%d", base), "BIN="+binDir,
		"VOICE_DIR="+filepath.Join(binDir, "voice"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c := &demoCity{t: t, dir: dir, base: base, script: startCmd(t, "run-city.sh", cmd)}
	t.Cleanup(func() {
		// After a failure: nothing of it left running.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if b, err := os.ReadFile(filepath.Join(dir, "city", "pids")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		_ = exec.Command(filepath.Join(binDir, "pgcluster"), "-dir", filepath.Join(dir, "city-pg"), "stop").Run()
	})
	c.script.waitLogWithin("Ctrl-C stops everything, PostgreSQL too.", 90*time.Second)
	for i, id := range cityOffices {
		b, err := os.ReadFile(filepath.Join(dir, "city", id, "api-token"))
		if err != nil {
			t.Fatal(err)
		}
		c.offices = append(c.offices, &office{qAddr: fmt.Sprintf("127.0.0.1:%d", base+10*(i+1)), token: strings.TrimSpace(string(b))})
	}
	return c
}

func (c *demoCity) status() cityStatusReply {
	c.t.Helper()
	var s cityStatusReply
	do(c.t, "GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/city/status", c.base), "", http.StatusOK, &s)
	return s
}

// waiting is how many wait at centre i, as the city shows it.
func (c *demoCity) waiting(i int) int {
	for _, o := range c.status().Offices {
		if o.ID == cityOffices[i] {
			return o.Waiting
		}
	}
	c.t.Fatalf("%s is not on the city's status", cityOffices[i])
	return 0
}

func (c *demoCity) pgcluster(cmd string) {
	c.t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "pgcluster"), "-dir", filepath.Join(c.dir, "city-pg"), cmd).CombinedOutput()
	if err != nil {
		c.t.Fatalf("pgcluster %s: %v\n%s", cmd, err, out)
	}
}

// stop is Ctrl-C: SIGINT to the whole group; the script must end with 0,
// having said every program exited 0 and PostgreSQL stopped.
func (c *demoCity) stop() {
	c.t.Helper()
	if err := syscall.Kill(-c.script.cmd.Process.Pid, syscall.SIGINT); err != nil {
		c.t.Fatal(err)
	}
	// Signal 0 sends nothing: stop only collects the log and the exit.
	if code := c.script.stop(syscall.Signal(0)); code != 0 {
		c.t.Errorf("run-city.sh exited %d after Ctrl-C", code)
	}
	log := c.script.log.String()
	for _, want := range []string{"queued kharkiv-saltivskyi exited 0", "kioskd kharkiv-kyivskyi exited 0", "cityd exited 0", "run-city: PostgreSQL stopped"} {
		if !strings.Contains(log, want) {
			c.t.Errorf("run-city.sh did not say %q", want)
		}
	}
	if c.t.Failed() {
		return
	}
	// The postmaster removes its socket as it exits.
	if socks, _ := filepath.Glob(filepath.Join(c.dir, "city-pg", "sock", ".s.PGSQL.*")); len(socks) != 0 {
		c.t.Errorf("PostgreSQL still listens after the stop: %v", socks)
	}
}

// The done-when of issue 16 on make run-city: three centres live on the
// city page, a call in one visible there within 5 s; with PostgreSQL
// stopped every centre goes on issuing and calling; afterwards the city's
// figures equal the centres' own. Ctrl-C stops everything cleanly, and a
// second run reuses the data.
func TestRunCity(t *testing.T) {
	if _, err := pgtest.BinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is needed (scripts/test-deps.sh installs it): %v", err)
		}
		t.Skipf("PostgreSQL is not installed: %v", err)
	}
	readSources(t)
	buildCityTools(t)
	// PostgreSQL, as the postgres user when we are root, must reach it.
	dir, err := os.MkdirTemp("", "run-city")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := freePortBase(t, 10*len(cityOffices)+2)
	began := time.Now()
	c := startDemoCity(t, dir, base)
	t.Logf("run-city.sh up in %s", time.Since(began).Round(time.Millisecond))

	within(t, c.script, "three centres reported on the city's status", 30*time.Second, func() bool {
		s := c.status()
		var ids []string
		for _, o := range s.Offices {
			if o.Reported && !o.Stale {
				ids = append(ids, o.ID)
			}
		}
		return slices.Equal(ids, cityOffices)
	})

	// A ticket, then its call, at the first centre: on the city's status
	// within 5 s each.
	first := c.offices[0]
	before := c.waiting(0)
	first.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, nil)
	took := within(t, c.script, "the ticket on the city's status", 10*time.Second, func() bool { return c.waiting(0) == before+1 })
	if took > 5*time.Second {
		t.Errorf("the ticket showed on the city's status after %s, want 5 s at most", took)
	}
	first.call(t, "POST", "/api/v1/windows/2/next", "", http.StatusOK, nil)
	took = within(t, c.script, "the call on the city's status", 10*time.Second, func() bool { return c.waiting(0) == before })
	if took > 5*time.Second {
		t.Errorf("the call showed on the city's status after %s, want 5 s at most", took)
	}
	t.Logf("a call at %s on the city's status after %s", cityOffices[0], took.Round(time.Millisecond))

	// The city's database away: every centre issues and calls as before,
	// a visitor served and a no-show each, and its backlog grows.
	c.pgcluster("stop")
	down := time.Now()
	for i, o := range c.offices {
		for range 3 {
			o.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, nil)
		}
		o.call(t, "POST", "/api/v1/windows/2/next", "", http.StatusOK, nil) // (the first centre: finishes the call above)
		o.call(t, "POST", "/api/v1/windows/2/next", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/windows/2/recall", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/windows/2/recall", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/windows/2/no-show", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/windows/2/next", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/windows/2/came", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/windows/2/finish", "", http.StatusOK, nil)
		o.call(t, "POST", "/api/v1/tickets", `{"service":"subsidy-housing"}`, http.StatusCreated, nil)
		within(t, c.script, cityOffices[i]+" sees the database away", 30*time.Second, func() bool {
			h := o.cityHealth(t)
			return !h.City.Connected && h.City.Backlog > 0
		})
	}
	t.Logf("the centres worked on with the database away for %s", time.Since(down).Round(time.Millisecond))
	c.pgcluster("start")
	took = within(t, c.script, "every backlog shipped", 60*time.Second, func() bool {
		for _, o := range c.offices {
			if !o.caughtUp(t)() {
				return false
			}
		}
		return true
	})
	t.Logf("the backlogs shipped %s after PostgreSQL came back", took.Round(time.Millisecond))

	// The city's figures are the centres' own: the stats of each, and
	// who waits now.
	c.compareStats()
	within(t, c.script, "the city's waiting equal to the centres'", 30*time.Second, func() bool {
		for i, o := range c.offices {
			var qs []struct{ Waiting int }
			o.call(t, "GET", "/api/v1/queues", "", http.StatusOK, &qs)
			sum := 0
			for _, q := range qs {
				sum += q.Waiting
			}
			if c.waiting(i) != sum {
				return false
			}
		}
		return true
	})
	account := c.supervisorLine()
	c.stop()

	// Again on the same data: the same accounts, printed again, the same
	// figures.
	if t.Failed() {
		return
	}
	c = startDemoCity(t, dir, base)
	if again := c.supervisorLine(); again != account {
		t.Errorf("the second run prints the city supervisor as %q, the first as %q", again, account)
	}
	pw := strings.Fields(account)[3]
	do(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/api/v1/login", c.base), `{"name":"supervisor","password":"`+pw+`"}`, http.StatusOK, nil)
	c.compareStats()
	c.stop()
	t.Logf("TestRunCity took %s", time.Since(began).Round(time.Millisecond))
}

// supervisorLine is the city supervisor's line of the accounts the script
// printed: "city (cityd) supervisor PASSWORD".
func (c *demoCity) supervisorLine() string {
	c.t.Helper()
	for _, l := range strings.Split(c.script.log.String(), "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "city" && f[1] == "(cityd)" && f[2] == "supervisor" {
			return strings.Join(f, " ")
		}
	}
	c.t.Fatal("run-city.sh printed no city supervisor")
	return ""
}

// compareStats checks GET /api/v1/city/stats?by=office (with the city's
// token) against each centre's GET /api/v1/stats over the same days.
func (c *demoCity) compareStats() {
	t := c.t
	t.Helper()
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(kyiv)
	days := fmt.Sprintf("from=%s&to=%s", now.AddDate(0, 0, -1).Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly))
	token, err := os.ReadFile(filepath.Join(c.dir, "city", "city-token"))
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/city/stats?by=office&%s", c.base, days), "")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	var cityReport stats.Report
	send(t, req, http.StatusOK, &cityReport)
	rows := map[string]stats.Figures{}
	for _, r := range cityReport.Rows {
		rows[r.Key] = r.Figures
	}
	visitors := 0
	for i, o := range c.offices {
		var own stats.Report
		o.call(t, "GET", "/api/v1/stats?"+days, "", http.StatusOK, &own)
		if own.Total.Visitors == 0 || own.Total.NoShows == 0 {
			t.Errorf("%s counts %d visitors, %d no-shows: the test's calls are not in its figures", cityOffices[i], own.Total.Visitors, own.Total.NoShows)
		}
		if got := rows[cityOffices[i]]; !reflect.DeepEqual(got, own.Total.Figures) {
			t.Errorf("%s: the city's figures\n%+v\nthe centre's own\n%+v", cityOffices[i], got, own.Total.Figures)
		}
		visitors += own.Total.Visitors
	}
	if cityReport.Total.Visitors != visitors {
		t.Errorf("the city counts %d visitors, the centres %d", cityReport.Total.Visitors, visitors)
	}
}
