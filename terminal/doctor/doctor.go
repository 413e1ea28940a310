// Package doctor checks, on a terminal, everything its kioskd
// configuration names: that the configuration loads, that every device is
// plugged in, that kioskd's user may open it and no other process holds
// it, that the queue server answers and agrees on the time, that the data
// directory has room and kioskd itself answers. Each problem comes with
// one line saying what to do, in English and Ukrainian from the i18n
// catalogue (keys ctl.doctor.fix.*). kioskctl doctor prints what Run finds.
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
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices/ports"
	"github.com/cherga/kiosk/i18n"
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
	// DetailUK is Detail in Ukrainian, for the failures and warnings the
	// catalogue has (ctl.doctor.detail.*); system errors in it stay as the
	// system gives them.
	DetailUK string `json:"detail_uk,omitempty"`
	// Fix is one line saying what to do, in English; empty when the state
	// is ok. FixUK is the same line in Ukrainian. Commands in them are the
	// same in both.
	Fix   string `json:"fix,omitempty"`
	FixUK string `json:"fix_uk,omitempty"`
}

// fix is a Result's fix: a catalogue key and its {placeholder} pairs.
type fix struct {
	key  string
	args []any
}

func fixOf(key string, args ...any) fix { return fix{key, args} }

// withFix returns r with f's text in both languages. An argument named
// what is a device (configs.DevicePort.What, node.what), put in Ukrainian
// for FixUK.
func (r Result) withFix(f fix) Result {
	if f.key == "" {
		return r
	}
	r.Fix, r.FixUK = i18n.T("en", f.key, f.args...), i18n.T("uk", f.key, ukArgs(f.args)...)
	return r
}

// ukArgs is args with the value of what, a device, in Ukrainian.
func ukArgs(args []any) []any {
	uk := slices.Clone(args)
	for i := 0; i+1 < len(uk); i += 2 {
		if uk[i] == "what" {
			uk[i+1] = whatUK(fmt.Sprint(uk[i+1]))
		}
	}
	return uk
}

// withDetail returns r with its detail, in both languages, from the
// catalogue; what is put in Ukrainian as for withFix.
func (r Result) withDetail(key string, args ...any) Result {
	r.Detail, r.DetailUK = i18n.T("en", key, args...), i18n.T("uk", key, ukArgs(args)...)
	return r
}

// addDetail appends a catalogue text to r's detail after "; ", in
// Ukrainian too when the detail has a Ukrainian part.
func (r Result) addDetail(key string, args ...any) Result {
	r.Detail += "; " + i18n.T("en", key, args...)
	if r.DetailUK != "" {
		r.DetailUK += "; " + i18n.T("uk", key, args...)
	}
	return r
}

// whatUK is a device's name in Ukrainian, in the accusative the fixes
// need ("під'єднайте принтер").
func whatUK(what string) string {
	switch what {
	case "printer":
		return i18n.T("uk", "ctl.doctor.what.printer")
	case "scanner":
		return i18n.T("uk", "ctl.doctor.what.scanner")
	case "LED board":
		return i18n.T("uk", "ctl.doctor.what.led_board")
	case "bus":
		return i18n.T("uk", "ctl.doctor.what.bus")
	case "GPIO chip":
		return i18n.T("uk", "ctl.doctor.what.gpio_chip")
	case "sound card":
		return i18n.T("uk", "ctl.doctor.what.sound_card")
	}
	return what
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
)

// fixInstall is the fix for a machine without what the cherga package
// installs: the user, its groups, the udev rules.
var fixInstall = fixOf("ctl.doctor.fix.install")

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
		return []Result{Result{Check: "config", State: Fail, Detail: oneLine(err.Error())}.
			withFix(fixOf("ctl.doctor.fix.config", "path", path))}
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
			out[i] = []Result{Result{Check: c.name, State: Fail}.withDetail("ctl.doctor.detail.timeout", "timeout", timeout).
				withFix(fixOf("ctl.doctor.fix.timeout"))}
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
