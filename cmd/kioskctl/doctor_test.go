package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/cherga/kiosk/devices/ports"
)

// Issue 15's done-when: kioskctl doctor, as a real process, on
// rpi-kiosk.yaml on a machine without its devices exits 1 with one line
// of fix for each missing device, in Ukrainian, then " / " English.
func TestDoctorRPiConfigWithoutDevices(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kioskctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "doctor", "-config", "../../configs/rpi-kiosk.yaml", "-timeout", "2s").Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, out)
	}
	fixes := map[string]string{
		"/dev/usb/lp0": "FAIL kiosk.printer.port: під'єднайте принтер або задайте в kiosk.printer.port порт, який показує `kioskctl ports`" +
			" / plug in the printer, or set kiosk.printer.port to one `kioskctl ports` lists\n",
		"/dev/serial/by-id/usb-Honeywell_Imaging_Metrology_1900-if00": "FAIL kiosk.scanner.port: під'єднайте сканер або задайте в kiosk.scanner.port порт, який показує `kioskctl ports`" +
			" / plug in the scanner, or set kiosk.scanner.port to one `kioskctl ports` lists\n",
	}
	if chips, _ := filepath.Glob("/dev/gpiochip*"); len(chips) == 0 {
		fixes["/dev/gpiochip*"] = "FAIL gpio: запустіть цей термінал на Raspberry Pi, для якого його зроблено (з увімкненим GPIO), або задайте gpio.driver: sim" +
			" / run this terminal on the Raspberry Pi it was made for (GPIO enabled), or set gpio.driver: sim\n"
	}
	for dev, fix := range fixes {
		if _, err := os.Stat(dev); err == nil {
			continue // this machine has it
		}
		if n := strings.Count(string(out), fix); n != 1 {
			t.Errorf("%s missing: the fix %q is there %d times\n%s", dev, fix, n, out)
		}
	}
}

// doctorBench is a terminal whose every device is there: two
// pseudo-terminals for the printer and the scanner, a loopback queue
// server answering /healthz, a private token, and accounts in which the
// service user is the test's own user.
type doctorBench struct {
	config        string
	printer, scan *os.File // the ptys' terminal ends
}

func newDoctorBench(t *testing.T) doctorBench {
	t.Helper()
	dir := t.TempDir()
	var b doctorBench
	var ptys [2]*os.File
	for i := range ptys {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ptmx.Close(); tty.Close() })
		ptys[i] = tty
	}
	b.printer, b.scan = ptys[0], ptys[1]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	etc := filepath.Join(dir, "etc")
	os.Mkdir(etc, 0o755)
	uid, gid := os.Getuid(), os.Getgid()
	passwd := fmt.Sprintf("cherga:x:%d:%d::/var/lib/kioskd:/usr/sbin/nologin\n", uid, gid)
	group := fmt.Sprintf("cherga:x:%d:\ntty:x:5:\nlp:x:9007:\ndialout:x:9020:\ninput:x:9021:\ngpio:x:9022:\naudio:x:9023:\n", gid)
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "group"), []byte(group), 0o644); err != nil {
		t.Fatal(err)
	}
	old := hostRoots
	hostRoots = ports.Roots{Etc: etc}
	t.Cleanup(func() { hostRoots = old })
	cfg := fmt.Sprintf(`device_id: doctor-bench
data_dir: %s
roles: [kiosk]
http:
  listen: 127.0.0.1:1
server:
  url: ws://%s/api/v1/link
  token_file: %s
kiosk:
  printer: {driver: escpos, port: %s, profile: generic, paper_mm: 80}
  scanner: {driver: serial, port: %s}
gpio:
  driver: sim
`, filepath.Join(dir, "data"), srv.Listener.Addr(), token, b.printer.Name(), b.scan.Name())
	b.config = filepath.Join(dir, "kioskd.yaml")
	if err := os.WriteFile(b.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// holdWith starts a child named name that holds f open, until the test ends.
func holdWith(t *testing.T, name string, f *os.File) int {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(sleep, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "600")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// With every device there, doctor exits 0 (warnings only: kioskd is not
// running here); a port another process holds is a failure naming its
// PID, one kioskd holds is not.
func TestDoctorDevicesThere(t *testing.T) {
	b := newDoctorBench(t)
	out, _, err := kioskctl(t, "doctor", "-config", b.config)
	if err != nil {
		t.Fatalf("all there: %v\n%s", err, out)
	}
	for _, want := range []string{"kiosk.printer.port access  ok", "server /healthz", "200 OK", "kioskd  ", "not running", b.printer.Name() + " is there"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a failure:\n%s", out)
	}

	pid := holdWith(t, "minicom", b.printer)
	holdWith(t, "kioskd", b.scan)
	out, _, err = kioskctl(t, "doctor", "-config", b.config)
	if err == nil {
		t.Fatalf("printer held: exit 0\n%s", out)
	}
	fix := fmt.Sprintf("FAIL kiosk.printer.port in use: зупиніть процес PID %d (minicom): sudo kill %d / stop PID %d (minicom): sudo kill %d\n", pid, pid, pid, pid)
	if strings.Count(out, fix) != 1 || !strings.Contains(out, "in use by kioskd, PID") {
		t.Errorf("want %q and the scanner in use by kioskd:\n%s", fix, out)
	}

	js, _, _ := kioskctl(t, "doctor", "-json", "-config", b.config)
	// -json keeps "fix" in English and adds "fix_uk".
	if !strings.Contains(js, `"ok": false`) || !strings.Contains(js, `"state": "FAIL"`) ||
		!strings.Contains(js, fmt.Sprintf(`"fix": "stop PID %d (minicom): sudo kill %d"`, pid, pid)) ||
		!strings.Contains(js, fmt.Sprintf(`"fix_uk": "зупиніть процес PID %d (minicom): sudo kill %d"`, pid, pid)) {
		t.Errorf("json:\n%s", js)
	}
}

func TestPortsCommand(t *testing.T) {
	out, _, err := kioskctl(t, "ports")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "PORT") && !strings.Contains(out, "No serial or USB printer ports found") {
		t.Errorf("ports:\n%s", out)
	}
	old := hostRoots
	hostRoots = ports.Roots{Sys: t.TempDir(), Dev: t.TempDir(), Etc: t.TempDir()}
	defer func() { hostRoots = old }()
	if out, _, err = kioskctl(t, "ports"); err != nil || !strings.Contains(out, "No serial or USB printer ports found") {
		t.Errorf("none: %v %q", err, out)
	}
	if out, _, err = kioskctl(t, "ports", "-json"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("none, json: %v %q", err, out)
	}
}
