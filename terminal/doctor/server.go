package doctor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cherga/kiosk/devices/ports"
	"github.com/cherga/kiosk/terminal"
)

// maxClockSkew is how far the terminal's clock may be from the server's:
// ticket times and TLS both need them to agree.
const maxClockSkew = 2 * time.Second

var fixNTP = fixOf("ctl.doctor.fix.ntp")

func (d *doctor) serverChecks() []check {
	return []check{
		{"server", d.server},
		{"server credentials", func(context.Context) []Result { return []Result{d.credentials()} }},
	}
}

// server dials the queue server, asks its /healthz and compares clocks.
func (d *doctor) server(ctx context.Context) []Result {
	u, err := url.Parse(d.cfg.Server.URL) // checked when the configuration loaded
	if err != nil {
		return []Result{Result{Check: "server", State: Fail, Detail: err.Error()}.withFix(fixOf("ctl.doctor.fix.server_url"))}
	}
	scheme, port := "http", "80"
	if u.Scheme == "wss" {
		scheme, port = "https", "443"
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), port)
	}
	reach := Result{Check: "server", State: OK, Detail: hostport + " answers"}
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "tcp", hostport)
	if err != nil {
		reach.State = Fail
		reach = reach.withDetail("ctl.doctor.detail.server_unreachable", "addr", hostport, "err", err)
		reach = reach.withFix(fixOf("ctl.doctor.fix.server_unreachable", "host", u.Hostname()))
		return []Result{reach, d.clock(nil)}
	}
	c.Close()

	health := Result{Check: "server /healthz", State: OK}
	var tc *tls.Config
	if lc, err := terminal.Credentials(d.cfg); err == nil {
		tc = lc.TLS
	}
	tr := &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	hu := scheme + "://" + hostport + "/healthz"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hu, nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		health.State, health.Detail = Fail, fmt.Sprintf("GET %s: %v", hu, err)
		health = health.withFix(fixOf("ctl.doctor.fix.server_healthz"))
		if strings.Contains(err.Error(), "certificate") {
			health = health.withFix(fixOf("ctl.doctor.fix.server_ca"))
		}
		return []Result{reach, health, d.clock(nil)}
	}
	resp.Body.Close()
	health.Detail = fmt.Sprintf("GET %s: %s", hu, resp.Status)
	if resp.StatusCode/100 != 2 {
		health.State = Fail
		health = health.withFix(fixOf("ctl.doctor.fix.server_unhealthy"))
	}
	var at *time.Time
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		at = &t
	}
	return []Result{reach, health, d.clock(at)}
}

// clock is the kernel's synchronisation state and, when the server
// answered with a Date, the difference from it.
func (d *doctor) clock(server *time.Time) Result {
	r := Result{Check: "clock", State: OK}
	synced, err := d.env.ClockSynced()
	switch {
	case err != nil:
		r.State, r.Detail = Warn, "cannot ask the kernel whether the clock is synchronised: "+err.Error()
		r = r.withFix(fixNTP)
	case !synced:
		r.State = Warn
		r = r.withDetail("ctl.doctor.detail.clock_unsynced")
		r = r.withFix(fixNTP)
	default:
		r.Detail = "synchronised"
	}
	if server == nil {
		return r.addDetail("ctl.doctor.detail.server_time_unknown")
	}
	// Date has whole seconds: up to a second of the skew is its rounding.
	skew := d.env.Clock.Now().Sub(*server).Truncate(time.Second)
	r = r.addDetail("ctl.doctor.detail.clock_skew", "skew", skew)
	if skew > maxClockSkew+time.Second || skew < -maxClockSkew {
		r.State = Fail
		r = r.withFix(fixNTP)
	}
	return r
}

// kernelClockSynced asks adjtimex(2), which only reads with modes 0.
func kernelClockSynced() (bool, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, err
	}
	return tx.Status&unix.STA_UNSYNC == 0 && state != unix.TIME_ERROR, nil
}

// credentials checks the token and TLS files as kioskd reads them.
func (d *doctor) credentials() Result {
	s := d.cfg.Server
	r := Result{Check: "server credentials", State: OK}
	if s.TokenFile == "" && s.CertFile == "" {
		r.State = Warn
		r = r.withDetail("ctl.doctor.detail.no_credentials")
		return r.withFix(fixOf("ctl.doctor.fix.token_make", "device", d.cfg.DeviceID, "user", d.env.ServiceUser))
	}
	_, err := terminal.Credentials(d.cfg)
	switch {
	case errors.Is(err, fs.ErrPermission):
		r.State, r.Detail = Warn, oneLine(err.Error())+" (as you)"
		return r.withFix(fixOf("ctl.doctor.fix.sudo_read"))
	case err != nil:
		r.State, r.Detail = Fail, oneLine(err.Error())
		switch {
		case strings.Contains(err.Error(), "chmod 600"):
			return r.withFix(fixOf("ctl.doctor.fix.token_chmod", "file", s.TokenFile))
		case strings.HasPrefix(err.Error(), "server.token_file"):
			return r.withFix(fixOf("ctl.doctor.fix.token_put", "device", d.cfg.DeviceID, "file", s.TokenFile))
		default:
			return r.withFix(fixOf("ctl.doctor.fix.tls_files"))
		}
	}
	if s.TokenFile == "" {
		r.Detail = "client certificate " + s.CertFile
		return r
	}
	r.Detail = s.TokenFile + " is private"
	if fi, err := os.Stat(s.TokenFile); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if svc, ok := d.serviceAccount(); ok && int(st.Uid) != svc.UID && svc.UID != 0 {
				r.State, r.Detail = Fail, fmt.Sprintf("%s is private to uid %d, so %s cannot read it", s.TokenFile, st.Uid, svc.Name)
				r = r.withFix(fixOf("ctl.doctor.fix.token_chown", "user", svc.Name, "file", s.TokenFile))
			}
		}
	}
	return r
}

// Disk space limits for data_dir's file system: the outbox and the
// journal live there.
const (
	diskWarnBytes   = 500 << 20
	diskWarnPercent = 10
	diskFailBytes   = 50 << 20
)

func (d *doctor) dataDir(context.Context) []Result {
	dir := d.cfg.DataDir
	at := dir
	for {
		if _, err := os.Stat(at); err == nil || filepath.Dir(at) == at {
			break
		}
		at = filepath.Dir(at)
	}
	space := Result{Check: "disk", State: OK}
	var st unix.Statfs_t
	if err := unix.Statfs(at, &st); err != nil {
		space.State, space.Detail = Warn, fmt.Sprintf("statfs %s: %v", at, err)
		space = space.withFix(fixOf("ctl.doctor.fix.sudo"))
	} else {
		free := st.Bavail * uint64(st.Bsize)
		pct := 0.0
		if st.Blocks > 0 {
			pct = 100 * float64(st.Bavail) / float64(st.Blocks)
		}
		space.Detail = fmt.Sprintf("%s free on %s's file system (%.0f%%)", bytesText(free), at, pct)
		switch {
		case free < diskFailBytes:
			space.State = Fail
		case free < diskWarnBytes || pct < diskWarnPercent:
			space.State = Warn
		}
		if space.State != OK {
			space = space.withFix(fixOf("ctl.doctor.fix.disk", "dir", at))
		}
	}

	w := Result{Check: "data_dir", State: OK}
	svc, ok := d.serviceAccount()
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		w.State = Fail
		w = w.withDetail("ctl.doctor.detail.not_dir", "dir", dir)
		w = w.withFix(fixOf("ctl.doctor.fix.not_dir"))
	case err == nil && !ok:
		w.State, w.Detail = Warn, fmt.Sprintf("%s is there; no user %s to write it", dir, d.env.ServiceUser)
		w = w.withFix(fixInstall)
	case err == nil:
		if d.writable(dir, svc) {
			w.Detail = fmt.Sprintf("%s is there and %s may write it", dir, svc.Name)
		} else {
			w.State, w.Detail = Fail, fmt.Sprintf("%s is there but %s may not write it", dir, svc.Name)
			w = w.withFix(fixOf("ctl.doctor.fix.data_chown", "dir", dir, "user", svc.Name))
		}
	case !errors.Is(err, fs.ErrNotExist):
		w.State, w.Detail = Warn, err.Error()
		w = w.withFix(fixOf("ctl.doctor.fix.sudo"))
	case dir == "/var/lib/kioskd":
		w.Detail = dir + " is made by systemd when kioskd starts (StateDirectory=kioskd)"
	case ok && d.writable(at, svc):
		w.Detail = fmt.Sprintf("%s is not there yet; %s may make it in %s", dir, svc.Name, at)
	default:
		w.State, w.Detail = Fail, fmt.Sprintf("%s is not there and %s may not make it", dir, d.env.ServiceUser)
		w = w.withFix(fixOf("ctl.doctor.fix.data_make", "dir", dir, "user", d.env.ServiceUser))
	}
	return []Result{space, w}
}

// writable reports whether u may make files in dir, by its mode bits.
func (d *doctor) writable(dir string, u ports.User) bool {
	n := ports.StatNode(dir, d.acc)
	return n != nil && n.May(u.UID, d.acc.GIDs(u, d.env.ServiceGroups...), 0o3)
}

func bytesText(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	default:
		return fmt.Sprintf("%d MB", n>>20)
	}
}

// kioskd asks the running kioskd's /healthz on http.listen.
func (d *doctor) kioskd(ctx context.Context) []Result {
	addr := d.cfg.HTTP.Listen
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	r := Result{Check: "kioskd", State: OK}
	u := "http://" + addr + "/healthz"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		r.State = Warn
		r = r.withDetail("ctl.doctor.detail.kioskd_down", "addr", addr)
		return []Result{r.withFix(fixOf("ctl.doctor.fix.kioskd_start"))}
	}
	defer resp.Body.Close()
	var h struct{ Status, Version string }
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&h); err != nil || h.Status == "" {
		r.State, r.Detail = Warn, fmt.Sprintf("%s answers %s, but not as kioskd", u, resp.Status)
		return []Result{r.withFix(fixOf("ctl.doctor.fix.kioskd_port"))}
	}
	r.Detail = fmt.Sprintf("kioskd %s answers on %s: %s", h.Version, addr, h.Status)
	if h.Status != "ok" {
		r.State = Warn
		r = r.withFix(fixOf("ctl.doctor.fix.kioskd_health", "addr", addr))
	}
	return []Result{r}
}
