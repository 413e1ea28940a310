// Package doctor checks, on a terminal, everything its kioskd
// configuration names: that the configuration loads, that every device is
// plugged in, that kioskd's user may open it and no other process holds
// it, that the queue server answers and agrees on the time, that the data
// directory has room and kioskd itself answers. Each problem comes with
// one line saying what to do. kioskctl doctor prints what Run finds.
//
// Doctor only looks: it opens no port (a printer mid-ticket or a bus
// being polled is not disturbed) and changes nothing. Every check is
// bounded by a timeout; one that does not finish in time is reported as
// such, and doctor goes on.
package doctor

import (
	"cmp"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices/ports"
	"github.com/cherga/kiosk/terminal"
)

// State is how a check went.
type State string

const (
	OK   State = "ok"
	Warn State = "warn" // works, but not as it should; doctor still exits 0
	Fail State = "FAIL" // kioskd cannot do its job
)

// Result is one line of the report.
type Result struct {
	Check  string `json:"check"`
	State  State  `json:"state"`
	Detail string `json:"detail"`
	// Fix is one line saying what to do; empty when the state is ok.
	Fix string `json:"fix,omitempty"`
}

// Env is where doctor looks; the zero Env is the real machine.
type Env struct {
	Roots ports.Roots
	Clock clockwork.Clock // compared with the server's Date; default the real clock
	// Timeout bounds each check; default 3 s.
	Timeout time.Duration
	// ServiceUser is the user kioskd runs as (configs/systemd/kioskd.service:
	// User=cherga), and ServiceGroups its SupplementaryGroups=.
	ServiceUser   string
	ServiceGroups []string
	// LookPath finds programs kioskd runs (aplay); default exec.LookPath.
	LookPath func(string) (string, error)
	// ClockSynced asks the kernel whether the clock is synchronised;
	// default adjtimex(2).
	ClockSynced func() (bool, error)
}

// The service's user and groups, as configs/systemd/kioskd.service has them.
const (
	DefaultServiceUser = "cherga"
	defaultTimeout     = 3 * time.Second
	// fixInstall is the fix for a machine without what the cherga package
	// installs: the user, its groups, the udev rules.
	fixInstall = "install the cherga package (it makes the user cherga, its groups and the udev rules)"
)

// DefaultServiceGroups are kioskd.service's SupplementaryGroups=.
var DefaultServiceGroups = []string{"lp", "dialout", "input", "gpio", "audio"}

func (e *Env) defaults() {
	e.Clock = cmp.Or[clockwork.Clock](e.Clock, clockwork.NewRealClock())
	e.Timeout = cmp.Or(e.Timeout, defaultTimeout)
	e.ServiceUser = cmp.Or(e.ServiceUser, DefaultServiceUser)
	if e.ServiceGroups == nil {
		e.ServiceGroups = DefaultServiceGroups
	}
	if e.LookPath == nil {
		e.LookPath = exec.LookPath
	}
	if e.ClockSynced == nil {
		e.ClockSynced = kernelClockSynced
	}
}

// Failed reports whether any result is a failure: kioskctl doctor's exit
// status.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.State == Fail {
			return true
		}
	}
	return false
}

// Run loads the configuration at path with kioskd's own rules and checks
// what it names. A configuration that does not load is the one result.
func Run(ctx context.Context, path string, env Env) []Result {
	env.defaults()
	cfg, err := terminal.LoadConfig(path)
	if err != nil {
		return []Result{{Check: "config", State: Fail, Detail: oneLine(err.Error()),
			Fix: fmt.Sprintf("correct %s: each problem above names its line (kioskd -check -config %s says the same)", path, path)}}
	}
	roles := make([]string, len(cfg.Roles))
	for i, r := range cfg.Roles {
		roles[i] = string(r)
	}
	head := Result{Check: "config", State: OK,
		Detail: fmt.Sprintf("%s: device %s, roles %s", path, cfg.DeviceID, strings.Join(roles, ", "))}
	return append([]Result{head}, Checks(ctx, cfg, env)...)
}

// A check is one part of the report: it may give several results, each
// device one, say.
type check struct {
	name string // the result shown if it does not finish in time
	run  func(ctx context.Context) []Result
}

// Checks checks a loaded configuration: the checks run at once, each
// bounded by env.Timeout, and their results come in a fixed order.
func Checks(ctx context.Context, cfg *configs.Terminal, env Env) []Result {
	env.defaults()
	d := &doctor{cfg: cfg, env: env}
	d.acc, d.accErr = ports.LoadAccounts(env.Roots)
	return runChecks(ctx, env.Timeout, d.checks())
}

func runChecks(ctx context.Context, timeout time.Duration, checks []check) []Result {
	type done struct {
		i  int
		rs []Result
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan done, len(checks)) // buffered: a late check does not block
	for i, c := range checks {
		go func() { ch <- done{i, c.run(cctx)} }()
	}
	out := make([][]Result, len(checks))
	got := make([]bool, len(checks))
	var grace <-chan time.Time
	for n := 0; n < len(checks); n++ {
		select {
		case d := <-ch:
			out[d.i], got[d.i] = d.rs, true
			continue
		case <-cctx.Done():
		}
		// Past the deadline: the checks that stop at it answer now; one
		// that does not (a system call that ignores the context) is not
		// waited for.
		if grace == nil {
			grace = time.After(graceAfterDeadline)
		}
		select {
		case d := <-ch:
			out[d.i], got[d.i] = d.rs, true
		case <-grace:
			n = len(checks)
		}
	}
	var all []Result
	for i, c := range checks {
		if !got[i] {
			out[i] = []Result{{Check: c.name, State: Fail, Detail: fmt.Sprintf("did not finish within %s", timeout),
				Fix: "run kioskctl doctor again; if this check hangs again, the machine is overloaded or a device is stuck"}}
		}
		all = append(all, out[i]...)
	}
	return all
}

// graceAfterDeadline is how long checks have, after the deadline, to
// report that they stopped at it.
const graceAfterDeadline = 200 * time.Millisecond

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
