package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/httpapi/auth"
	"github.com/cherga/kiosk/terminal"
)

// startOfflineKioskd runs a whole terminal (configs/demo.yaml, every
// device simulated) whose queue server is not there: its events wait in
// the outbox. It returns the admin listener's address.
func startOfflineKioskd(t *testing.T) string {
	t.Helper()
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	yaml := string(demo)
	for _, r := range [][2]string{
		{"data_dir: var/demo-01", "data_dir: " + dir},
		{"url: ws://127.0.0.1:8090/api/v1/link", "url: ws://127.0.0.1:1/api/v1/link"},
		{"    pack_dir: var/voice", "    pack_dir: " + dir + "/voice\n    build: false\n    tts_fallback: false"},
	} {
		if !strings.Contains(yaml, r[0]) {
			t.Fatalf("demo.yaml has no %q", r[0])
		}
		yaml = strings.Replace(yaml, r[0], r[1], 1)
	}
	if i := strings.Index(yaml, "\nbuses:"); i >= 0 { // the emulator of make run is not here
		yaml = yaml[:i+1]
	}
	cfg, err := terminal.ParseConfig("demo.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	term, err := terminal.New(cfg, terminal.Env{Version: "test", Listener: ln, AdminListener: admin})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- term.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("kioskd did not stop")
		}
	})
	return admin.Addr().String()
}

// kioskctl outbox prints the events waiting and why; -json is kioskd's
// answer as it is.
func TestOutbox(t *testing.T) {
	addr := startOfflineKioskd(t)
	var o outboxReply
	deadline := time.Now().Add(30 * time.Second) // a guard, not a measurement
	for {
		out, _, err := kioskctl(t, "outbox", "-admin", addr, "-json", "-n", "5")
		if err != nil {
			t.Fatal(err)
		}
		o = outboxReply{}
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if o.Events > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event in the outbox")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if o.Link.State == "up" || len(o.Items) == 0 || o.Items[0].Reason != "link_down" || o.Items[0].Type != "device_status" {
		t.Errorf("outbox %+v", o)
	}
	out, _, err := kioskctl(t, "outbox", "-admin", addr)
	if err != nil || !strings.Contains(out, "events waiting") || !strings.Contains(out, "device_status") || !strings.Contains(out, "link down since") {
		t.Errorf("outbox: %v\n%s", err, out)
	}
	if _, _, err := kioskctl(t, "outbox", "-admin", "127.0.0.1:1"); err == nil {
		t.Error("no kioskd: no error")
	}
	if _, _, err := kioskctl(t, "outbox", "-n", "-1"); err == nil {
		t.Error("-n -1 taken")
	}
}

// admin hash-password prints a hash of the password read on stdin.
func TestAdminHashPassword(t *testing.T) {
	adminStdin = strings.NewReader("correct horse battery\n")
	t.Cleanup(func() { adminStdin = os.Stdin })
	out, _, err := kioskctl(t, "admin", "hash-password")
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(out)
	if ok, err := auth.VerifyPassword(hash, "correct horse battery"); !ok || err != nil {
		t.Errorf("%q does not check: %v %v", hash, ok, err)
	}
	adminStdin = strings.NewReader("short\n")
	if _, _, err := kioskctl(t, "admin", "hash-password"); err == nil {
		t.Error("a short password was hashed")
	}
}
