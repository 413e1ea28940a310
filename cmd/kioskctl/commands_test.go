package main

import (
	"errors"
	"strings"
	"testing"
)

const healthOK = `{"status":"ok","device":"kiosk-01","version":"1.2.3","roles":["kiosk"],
	"devices":[{"Name":"printer","Kind":"printer","Driver":"sim","State":"ok"}],
	"link":{"state":"up","url":"ws://queued/api/v1/link"}}`

// health exits 0 only when kioskd is ok; degraded or failing is an error
// (exit 1 in main) that says so in both languages, after the report.
func TestHealthExitStatus(t *testing.T) {
	out, _, err := kioskctl(t, "health", "-addr", newFakeKioskd(t, healthOK).addr)
	if err != nil || !strings.Contains(out, "kiosk-01 1.2.3") || !strings.HasSuffix(strings.SplitN(out, "\n", 2)[0], ": ok") {
		t.Errorf("ok: %v\n%s", err, out)
	}
	for _, status := range []string{"degraded", "failing"} {
		body := strings.Replace(healthOK, `"status":"ok"`, `"status":"`+status+`"`, 1)
		out, _, err := kioskctl(t, "health", "-addr", newFakeKioskd(t, body).addr)
		if err == nil || errors.Is(err, errUsage) {
			t.Fatalf("%s: err %v, want an error", status, err)
		}
		want := "Термінал kiosk-01 не в порядку: стан «" + status + "» / Terminal kiosk-01 is not ok: state \"" + status + "\""
		if err.Error() != want {
			t.Errorf("%s: %q, want %q", status, err, want)
		}
		if !strings.Contains(out, "printer") {
			t.Errorf("%s: the report is still shown:\n%s", status, out)
		}
	}
	if _, _, err := kioskctl(t, "health", "-addr", "127.0.0.1:1"); err == nil {
		t.Error("no kioskd: no error")
	}
}

// scan and printer new-roll do their POST and say what they did,
// Ukrainian first.
func TestScanAndNewRollSay(t *testing.T) {
	k := newFakeKioskd(t, "")
	out, _, err := kioskctl(t, "scan", "-addr", k.addr, "QR-123")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Код «QR-123» передано сканеру kioskd на " + k.addr + " / Code \"QR-123\" fed to the scanner of kioskd at " + k.addr + "\n"; out != want {
		t.Errorf("scan said %q, want %q", out, want)
	}
	out, _, err = kioskctl(t, "printer", "new-roll", "-addr", k.addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Новий рулон паперу") || !strings.Contains(out, " / New paper roll recorded on kioskd at "+k.addr) {
		t.Errorf("new-roll said %q", out)
	}
	want := []string{"POST /api/v1/sim/scan  QR-123", "POST /api/v1/printer/new-roll  "}
	if got := k.requests(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests %q, want %q", got, want)
	}
	if _, _, err := kioskctl(t, "scan", "-addr", k.addr); !errors.Is(err, errUsageShown) {
		t.Errorf("scan without a code: %v", err)
	}
}

// Every subcommand's -h prints its own usage, once, and is a success.
func TestSubcommandHelp(t *testing.T) {
	for _, args := range [][]string{
		{"health"}, {"scan"}, {"press"}, {"token"}, {"ticket", "render"}, {"printer", "new-roll"},
		{"voice", "build"}, {"announce"}, {"board"},
		{"firmware", "keygen"}, {"bridge", "scan"}, {"bridge", "press"},
	} {
		name := strings.Join(args, " ")
		out, stderr, err := kioskctl(t, append(args, "-h")...)
		if err != nil {
			t.Errorf("%s -h: %v", name, err)
		}
		all := out + stderr
		if n := strings.Count(all, "usage: kioskctl "+name); n != 1 {
			t.Errorf("%s -h: its usage %d times:\n%s", name, n, all)
		}
		if strings.Contains(all, "kioskctl health [-addr") && name != "health" || strings.Count(all, "usage:") != 1 {
			t.Errorf("%s -h: more than its own usage:\n%s", name, all)
		}
	}
}

func TestVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "1.4.0-test"
	for _, arg := range []string{"version", "-version", "--version"} {
		if out, _, err := kioskctl(t, arg); err != nil || out != "kioskctl 1.4.0-test\n" {
			t.Errorf("%s: %q %v", arg, out, err)
		}
	}
}
