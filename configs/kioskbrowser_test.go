package configs_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The launcher asks kioskd's health at the page's origin, whatever path
// the page has, then opens the page: run with a curl and a Chromium that
// only note what they were asked (the Chromium then ends the launcher).
func TestKioskBrowserHealthURL(t *testing.T) {
	for page, health := range map[string]string{
		"http://127.0.0.1:8080/kiosk/":       "http://127.0.0.1:8080/healthz",
		"http://127.0.0.1:8080/hall/":        "http://127.0.0.1:8080/healthz",
		"http://10.20.0.5:8081/hall/?tv=2":   "http://10.20.0.5:8081/healthz",
		"https://kiosk.local:8443":           "https://kiosk.local:8443/healthz",
		"http://127.0.0.1:8080?kiosk=screen": "http://127.0.0.1:8080/healthz",
	} {
		dir, logs := t.TempDir(), t.TempDir()
		writeTool(t, dir, "curl", `for a; do last=$a; done; echo "$last" >>"$TOOLS_LOG/curl"`)
		writeTool(t, dir, "chromium", `echo "$*" >>"$TOOLS_LOG/chromium"; kill -TERM $PPID`)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a guard only
		cmd := exec.CommandContext(ctx, "sh", "chromium/kiosk-browser.sh")
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "TOOLS_LOG="+logs,
			"KIOSK_URL="+page, "KIOSK_PROFILE="+filepath.Join(logs, "profile"), "CHROMIUM=chromium")
		out, _ := cmd.CombinedOutput() // ended by the fake Chromium's signal
		cancel()
		curl, _ := os.ReadFile(filepath.Join(logs, "curl"))
		if got := strings.TrimSpace(string(curl)); got != health {
			t.Errorf("KIOSK_URL=%s: health asked at %q, want %q\n%s", page, got, health, out)
		}
		chromium, _ := os.ReadFile(filepath.Join(logs, "chromium"))
		if !strings.Contains(string(chromium), "--kiosk "+page+" ") {
			t.Errorf("KIOSK_URL=%s: chromium ran with %q", page, chromium)
		}
	}

	cmd := exec.Command("sh", "chromium/kiosk-browser.sh")
	cmd.Env = append(os.Environ(), "KIOSK_URL=127.0.0.1:8080/kiosk/")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "KIOSK_URL") {
		t.Errorf("KIOSK_URL without a scheme: %v\n%s", err, out)
	}
}

func writeTool(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}
