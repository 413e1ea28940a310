package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices/ports"
)

// doctor is one run's configuration, environment and accounts.
type doctor struct {
	cfg    *configs.Terminal
	env    Env
	acc    *ports.Accounts
	accErr error
}

// node is a device node the configuration needs: a port, a GPIO chip,
// a sound card.
type node struct {
	key, what, path string // path inside the Dev root
}

func (d *doctor) checks() []check {
	var nodes []node
	cs := []check{{"service user", d.serviceUser}}
	for _, p := range d.cfg.DevicePorts() {
		switch {
		case p.IsNetwork():
			cs = append(cs, check{p.Key, func(ctx context.Context) []Result { return []Result{dialPrinter(ctx, p)} }})
		case p.IsDevicePath():
			n := node{p.Key, p.What, d.env.Roots.DevPath(p.Port)}
			cs = append(cs, check{p.Key, func(context.Context) []Result { return d.nodeThere(n, fixPlugIn(p)) }})
			nodes = append(nodes, n)
		default:
			cs = append(cs, check{p.Key, func(context.Context) []Result { return []Result{localLink(p)} }})
		}
	}
	if d.cfg.GPIO.Driver == configs.GPIOHost {
		chips, _ := filepath.Glob(filepath.Join(d.env.Roots.DevPath("/dev/"), "gpiochip[0-9]*"))
		slices.SortFunc(chips, func(a, b string) int { return len(a) - len(b) }) // gpiochip0 first
		if len(chips) == 0 {
			cs = append(cs, check{"gpio", func(context.Context) []Result {
				return []Result{Result{Check: "gpio", State: Fail}.
					withDetail("ctl.doctor.detail.no_gpio", "path", d.env.Roots.DevPath("/dev/gpiochip*")).
					withFix(fixOf("ctl.doctor.fix.no_gpio"))}
			}})
		} else {
			n := node{"gpio", "GPIO chip", chips[0]}
			cs = append(cs, check{"gpio", func(context.Context) []Result { return d.nodeThere(n, fix{}) }})
			nodes = append(nodes, n)
		}
	}
	if d.cfg.Has(configs.RoleHall) && d.cfg.Hall.Audio.Driver == configs.AudioAplay {
		cs = append(cs, check{"hall.audio", func(context.Context) []Result { return d.audio() }})
	}
	cs = append(cs, check{"in use", func(ctx context.Context) []Result { return d.holders(ctx, nodes) }})
	cs = append(cs, d.serverChecks()...)
	cs = append(cs, check{"data_dir", d.dataDir})
	cs = append(cs, check{"kioskd", d.kioskd})
	return cs
}

func fixPlugIn(p configs.DevicePort) fix {
	return fixOf("ctl.doctor.fix.plug_in", "what", p.What, "key", p.Key)
}

// nodeThere is a node's presence and, when it is there, who may open it.
func (d *doctor) nodeThere(n node, f fix) []Result {
	_, err := os.Stat(n.path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		return []Result{Result{Check: n.key, State: Fail}.
			withDetail("ctl.doctor.detail.node_missing", "what", n.what, "path", n.path).withFix(f)}
	default:
		return []Result{Result{Check: n.key, State: Fail, Detail: fmt.Sprintf("%s %s: %v", n.what, n.path, err)}.
			withFix(fixOf("ctl.doctor.fix.sudo_look"))}
	}
	there := Result{Check: n.key, State: OK, Detail: fmt.Sprintf("%s %s is there", n.what, n.path)}
	if real, err := filepath.EvalSymlinks(n.path); err == nil && real != n.path {
		there.Detail += " (" + real + ")"
	}
	return []Result{there, d.access(n)}
}

// access says whether the service user, and the user running doctor,
// may open a node for reading and writing.
func (d *doctor) access(n node) Result {
	r := Result{Check: n.key + " access"}
	nd := ports.StatNode(n.path, d.acc)
	if nd == nil {
		r.State, r.Detail = Fail, n.path+" vanished while looked at"
		return r.withFix(fixOf("ctl.doctor.fix.vanished"))
	}
	r.Detail = fmt.Sprintf("group %s, mode %s, owner %s", nd.Group, nd.Perm, nd.Owner)
	me := os.Getuid()
	mine := ""
	if svc, ok := d.serviceAccount(); ok && svc.UID != me && me != 0 {
		gids, _ := os.Getgroups()
		gids = append(gids, os.Getgid())
		mine = "; you may open it"
		if !nd.Allows(me, gids) {
			mine = "; you may not (kioskd does not need you to)"
		}
	}
	svc, ok := d.serviceAccount()
	if !ok {
		r.State = Warn
		r.Detail += fmt.Sprintf("; no user %s to open it", d.env.ServiceUser) + mine
		return r.withFix(fixInstall)
	}
	gids := d.acc.GIDs(svc, d.env.ServiceGroups...)
	if nd.Allows(svc.UID, gids) {
		r.State = OK
		how := ""
		if nd.GID != svc.GID && svc.UID != nd.UID && slices.Contains(gids, nd.GID) {
			if g, ok := d.acc.GroupByName(nd.Group); ok && !slices.Contains(g.Members, svc.Name) {
				how = " (through kioskd.service's SupplementaryGroups)"
			}
		}
		r.Detail += fmt.Sprintf("; %s may open it%s", svc.Name, how) + mine
		return r
	}
	r.State = Fail
	r.Detail += fmt.Sprintf("; %s may not open it", svc.Name) + mine
	switch {
	case nd.Mode.Perm()&0o060 != 0o060 || nd.GID == 0:
		// Not a group kioskd could join: the udev rules are missing.
		return r.withFix(fixOf("ctl.doctor.fix.udev"))
	default:
		return r.withFix(fixOf("ctl.doctor.fix.usermod", "user", svc.Name, "group", nd.Group))
	}
}

func (d *doctor) serviceAccount() (ports.User, bool) {
	if d.acc == nil {
		return ports.User{}, false
	}
	return d.acc.User(d.env.ServiceUser)
}

func (d *doctor) serviceUser(context.Context) []Result {
	r := Result{Check: "service user"}
	if d.accErr != nil {
		r.State, r.Detail = Fail, d.accErr.Error()
		return []Result{r.withFix(fixOf("ctl.doctor.fix.accounts"))}
	}
	u, ok := d.serviceAccount()
	if !ok {
		r.State = Fail
		r = r.withDetail("ctl.doctor.detail.no_user", "user", d.env.ServiceUser)
		return []Result{r.withFix(fixInstall)}
	}
	var names []string
	for _, gid := range d.acc.GIDs(u, d.env.ServiceGroups...) {
		names = append(names, d.acc.GroupName(gid))
	}
	var missing []string
	for _, g := range d.env.ServiceGroups {
		if _, ok := d.acc.GroupByName(g); !ok {
			missing = append(missing, g)
		}
	}
	r.State, r.Detail = OK, fmt.Sprintf("%s (uid %d), groups %s", u.Name, u.UID, strings.Join(names, " "))
	if len(missing) > 0 {
		// systemd refuses to start a unit whose SupplementaryGroups= names
		// a group that does not exist.
		r.State = Fail
		r = r.withFix(fixOf("ctl.doctor.fix.groupadd", "group", missing[0]))
		r.Detail += "; kioskd.service needs the groups " + strings.Join(missing, ", ") + ", which this machine lacks"
	}
	return []Result{r}
}

// holders finds which nodes another process holds open.
func (d *doctor) holders(ctx context.Context, nodes []node) []Result {
	if len(nodes) == 0 {
		return nil
	}
	paths := make([]string, len(nodes))
	for i, n := range nodes {
		paths[i] = n.path
	}
	held, hidden, err := ports.Holders(ctx, d.env.Roots, paths)
	var out []Result
	for _, n := range nodes {
		if _, err := os.Stat(n.path); err != nil {
			continue // reported missing already
		}
		r := Result{Check: n.key + " in use", State: OK, Detail: "no other process has it open"}
		if hidden > 0 {
			r.Detail += fmt.Sprintf(" (%d processes not visible to you: run with sudo to see them)", hidden)
		}
		if err != nil {
			r.State, r.Detail = Warn, "cannot look at the processes: "+err.Error()
			r = r.withFix(fixOf("ctl.doctor.fix.sudo"))
		}
		var others, ours []string
		var first ports.Holder
		for _, h := range held {
			if h.Path != n.path {
				continue
			}
			desc := fmt.Sprintf("PID %d (%s)", h.PID, h.Command)
			if h.Command == "kioskd" {
				ours = append(ours, desc)
				continue
			}
			if len(others) == 0 {
				first = h
			}
			others = append(others, desc)
		}
		switch {
		case len(others) > 0:
			r.State, r.Detail = Fail, "held by "+strings.Join(others, ", ")
			r = r.withFix(fixOf("ctl.doctor.fix.kill", "pid", first.PID, "command", first.Command))
		case len(ours) > 0:
			r.State, r.Detail = OK, "in use by kioskd, "+strings.Join(ours, ", ")
		}
		out = append(out, r)
	}
	return out
}

// dialPrinter connects to a network printer and hangs up at once.
func dialPrinter(ctx context.Context, p configs.DevicePort) Result {
	r := Result{Check: p.Key}
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "tcp", p.Port)
	if err != nil {
		r.State, r.Detail = Fail, fmt.Sprintf("network %s %s does not answer: %v", p.What, p.Port, err)
		return r.withFix(fixOf("ctl.doctor.fix.network_device", "what", p.What, "key", p.Key))
	}
	c.Close()
	r.State, r.Detail = OK, fmt.Sprintf("network %s %s answers", p.What, p.Port)
	return r
}

// localLink is a port that is not under /dev: the demo's bus emulator
// link, made when the emulator runs.
func localLink(p configs.DevicePort) Result {
	r := Result{Check: p.Key, State: OK, Detail: fmt.Sprintf("%s %s is there (not a /dev path)", p.What, p.Port)}
	if _, err := os.Stat(p.Port); err != nil {
		r.State, r.Detail = Warn, fmt.Sprintf("%s %s is not there: a link the bus emulator makes when it runs", p.What, p.Port)
		r = r.withFix(fixOf("ctl.doctor.fix.emulator_link", "link", p.Port, "key", p.Key))
	}
	return r
}

// audio is the hall's aplay and the ALSA device it plays on.
func (d *doctor) audio() []Result {
	r := Result{Check: "hall.audio", State: OK}
	p, err := d.env.LookPath("aplay")
	if err != nil {
		r.State = Fail
		r = r.withDetail("ctl.doctor.detail.no_aplay")
		return []Result{r.withFix(fixOf("ctl.doctor.fix.aplay"))}
	}
	dev := d.cfg.Hall.Audio.Device
	r.Detail = fmt.Sprintf("%s plays on ALSA device %s", p, cmp.Or(dev, "default"))
	card, pcm, numbered := alsaHW(dev)
	snd := d.env.Roots.DevPath("/dev/snd")
	var path string
	if numbered {
		path = filepath.Join(snd, fmt.Sprintf("pcmC%dD%dp", card, pcm))
	} else if dev == "pulse" || dev == "pipewire" {
		return []Result{r} // the sound server's, not a node of ours
	} else {
		found, _ := filepath.Glob(filepath.Join(snd, "pcmC*D*p"))
		if len(found) == 0 {
			r.State, r.Detail = Fail, r.Detail+fmt.Sprintf(", but there is no sound card (no %s/pcmC*D*p)", snd)
			return []Result{r.withFix(fixOf("ctl.doctor.fix.no_sound_card"))}
		}
		slices.Sort(found)
		path = found[0]
	}
	// The node check runs here, not in the holders' pass: aplay opens the
	// card only while it plays.
	return append([]Result{r}, d.nodeThere(node{"hall.audio.device", "sound card", path},
		fixOf("ctl.doctor.fix.sound_card"))...)
}

// alsaHW reads hw:1,0 or plughw:1 (card, device); numbered is false for
// names (default, pulse, hw:CARD=USB).
func alsaHW(dev string) (card, pcm int, numbered bool) {
	_, rest, ok := strings.Cut(dev, "hw:")
	if !ok || (!strings.HasPrefix(dev, "hw:") && !strings.HasPrefix(dev, "plughw:")) {
		return 0, 0, false
	}
	c, p, _ := strings.Cut(rest, ",")
	card, err := strconv.Atoi(c)
	if err != nil || card < 0 {
		return 0, 0, false
	}
	if p != "" {
		if pcm, err = strconv.Atoi(p); err != nil || pcm < 0 {
			return 0, 0, false
		}
	}
	return card, pcm, true
}
