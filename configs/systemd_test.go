package configs_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cherga/kiosk/configs"
)

// needTool finds a tool scripts/test-deps.sh installs: missing, the test
// fails in CI and is skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: run scripts/test-deps.sh", name)
		}
		t.Skipf("%s missing: run scripts/test-deps.sh", name)
	}
	return p
}

// unitKeys reads a unit file's Key=Value lines (every value of a key, in
// order); section names are not kept.
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not Key=Value", path, line)
			continue
		}
		keys[k] = append(keys[k], v)
	}
	return keys
}

// The daemons' units are what a terminal, the server and the city's
// service run under: notify with a watchdog, their own user, the data
// directory the only writable path, devices by group, hardened;
// systemd-analyze verify finds nothing to say about them or about the
// Chromium screen that wants kioskd.service, and rates their exposure low.
// cityd follows a local PostgreSQL but does not want one (the database may
// be elsewhere).
func TestSystemdUnits(t *testing.T) {
	term, err := configs.LoadTerminal("rpi-kiosk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kioskd", "queued", "cityd"} {
		k := unitKeys(t, filepath.Join("systemd", name+".service"))
		for key, want := range map[string]string{
			"Type": "notify", "NotifyAccess": "main", "User": "cherga", "NoNewPrivileges": "yes",
			"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "StateDirectory": name,
			"CapabilityBoundingSet": "", "Restart": "always", "WorkingDirectory": "/var/lib/" + name,
		} {
			if got := k[key]; len(got) != 1 || got[0] != want {
				t.Errorf("%s.service: %s=%q, want %q", name, key, got, want)
			}
		}
		if len(k["WatchdogSec"]) != 1 {
			t.Errorf("%s.service has no WatchdogSec", name)
		}
		if slices.ContainsFunc(slices.Concat(k["ReadWritePaths"], k["ReadWriteDirectories"]), func(string) bool { return true }) {
			t.Errorf("%s.service: writable paths beyond StateDirectory", name)
		}
		if !strings.HasPrefix(k["ExecStart"][0], "/usr/bin/"+name+" ") {
			t.Errorf("%s.service: ExecStart=%s", name, k["ExecStart"][0])
		}
	}
	if term.DataDir != "/var/lib/kioskd" {
		t.Errorf("rpi-kiosk.yaml's data_dir %s is not kioskd.service's StateDirectory", term.DataDir)
	}
	city := unitKeys(t, "systemd/cityd.service")
	if after := strings.Fields(strings.Join(city["After"], " ")); !slices.Contains(after, "postgresql.service") || !slices.Contains(after, "network-online.target") {
		t.Errorf("cityd.service: After=%v, want postgresql.service and network-online.target", after)
	}
	if wants := strings.Fields(strings.Join(city["Wants"], " ")); !slices.Equal(wants, []string{"network-online.target"}) {
		t.Errorf("cityd.service: Wants=%v, want only network-online.target", wants)
	}
	groups := strings.Fields(unitKeys(t, "systemd/kioskd.service")["SupplementaryGroups"][0])
	for _, g := range []string{"lp", "dialout", "input", "gpio"} {
		if !slices.Contains(groups, g) {
			t.Errorf("kioskd.service does not join %s", g)
		}
	}
	browser := unitKeys(t, "chromium/kiosk-browser.service")
	if !slices.Contains(browser["Wants"], "kioskd.service") || !strings.Contains(strings.Join(browser["After"], " "), "kioskd.service") {
		t.Errorf("kiosk-browser.service does not want and follow kioskd.service: %v", browser)
	}

	analyze := needTool(t, "systemd-analyze")
	// verify wants every ExecStart binary to exist: the units are copied
	// with their programs pointing at stand-ins in the same directory.
	dir := t.TempDir()
	programs := map[string]string{"/usr/bin/kioskd": "kioskd", "/usr/bin/queued": "queued", "/usr/bin/cityd": "cityd", "/usr/bin/cage": "cage"}
	var pairs []string
	for from, to := range programs {
		if err := os.WriteFile(filepath.Join(dir, to), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, from, filepath.Join(dir, to))
	}
	r := strings.NewReplacer(pairs...)
	var units []string
	for _, src := range []string{"systemd/kioskd.service", "systemd/queued.service", "systemd/cityd.service", "chromium/kiosk-browser.service"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, []byte(r.Replace(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, dst)
	}
	// Unknown keys and bad values are only warnings: any output fails.
	out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, u := range units[:3] {
		// Exposure 0 (locked) to 100 (open); kioskd needs its devices.
		out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=25", u).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security %s: %v\n%s", filepath.Base(u), err, out)
		}
	}
}

// The udev rules parse (by udevadm verify where this systemd has it, else
// by the grammar below), give stable names under /dev/cherga/, and set only
// groups that kioskd.service joins.
func TestUdevRules(t *testing.T) {
	const path = "udev/99-cherga.rules"
	if udevadm, err := exec.LookPath("udevadm"); err == nil {
		if help, _ := exec.Command(udevadm, "--help").CombinedOutput(); bytes.Contains(help, []byte("verify")) {
			if out, err := exec.Command(udevadm, "verify", "--no-style", path).CombinedOutput(); err != nil {
				t.Errorf("udevadm verify: %v\n%s", err, out)
			}
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	joins := strings.Fields(unitKeys(t, "systemd/kioskd.service")["SupplementaryGroups"][0])
	// KEY{attr} OP "value", as udev(7) has them.
	pair := regexp.MustCompile(`^([A-Z_]+)(\{[A-Za-z0-9_]+\})?(==|!=|\+=|-=|:=|=)"((?:[^"\\]|\\.)*)"$`)
	matchOnly := map[string]bool{"ACTION": true, "KERNEL": true, "SUBSYSTEM": true, "SUBSYSTEMS": true,
		"ATTRS": true, "ATTR": true, "KERNELS": true, "DRIVERS": true, "DRIVER": true, "TAG": false}
	assignOnly := map[string]bool{"GROUP": true, "MODE": true, "OWNER": true, "SYMLINK": true, "GOTO": true,
		"LABEL": true, "IMPORT": true, "RUN": true, "TAG": true}
	both := map[string]bool{"ENV": true}
	subst := regexp.MustCompile(`\$(env|attr)\{[A-Za-z0-9_]+\}|\$[a-z]+|%[a-zA-Z%]`)
	labels, gotos := map[string]bool{}, map[string]int{}
	symlinks := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		assigns := 0
		for field := range strings.SplitSeq(line, ", ") {
			m := pair.FindStringSubmatch(strings.TrimSpace(field))
			if m == nil {
				t.Errorf("%s:%d: %q is not KEY{attr}OP\"value\"", path, n, field)
				continue
			}
			key, op, val := m[1], m[3], m[4]
			isMatch := op == "==" || op == "!="
			switch {
			case both[key]:
			case matchOnly[key] && !isMatch, assignOnly[key] && isMatch:
				t.Errorf("%s:%d: %s cannot take %s", path, n, key, op)
			case !matchOnly[key] && !assignOnly[key]:
				t.Errorf("%s:%d: unknown key %s", path, n, key)
			}
			if !isMatch {
				assigns++
			}
			for _, s := range regexp.MustCompile(`\$[^ "]*`).FindAllString(val, -1) {
				if !subst.MatchString(s) {
					t.Errorf("%s:%d: bad substitution %q", path, n, s)
				}
			}
			switch key {
			case "LABEL":
				labels[val] = true
			case "GOTO":
				gotos[val] = n
			case "GROUP":
				if !slices.Contains(joins, val) {
					t.Errorf("%s:%d: group %s, which kioskd.service does not join", path, n, val)
				}
			case "MODE":
				if val != "0660" {
					t.Errorf("%s:%d: MODE=%s, want 0660", path, n, val)
				}
			case "SYMLINK":
				symlinks++
				if !strings.HasPrefix(val, "cherga/") {
					t.Errorf("%s:%d: SYMLINK %s outside /dev/cherga/", path, n, val)
				}
			}
		}
		if assigns == 0 {
			t.Errorf("%s:%d: a rule that only matches does nothing", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for l, n := range gotos {
		if !labels[l] {
			t.Errorf("%s:%d: GOTO %s has no LABEL", path, n, l)
		}
	}
	if symlinks < 4 {
		t.Errorf("only %d stable names", symlinks)
	}
}
