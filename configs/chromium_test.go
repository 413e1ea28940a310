package configs_test

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cherga/kiosk/configs"
)

// The kiosk's browser files agree with the kiosk's configuration: the
// policies let only kioskd's page load, and the launcher opens that page.
func TestChromiumKioskFiles(t *testing.T) {
	b, err := os.ReadFile("chromium/policies/kiosk.json")
	if err != nil {
		t.Fatal(err)
	}
	var pol struct {
		URLBlocklist               []string `json:"URLBlocklist"`
		URLAllowlist               []string `json:"URLAllowlist"`
		DeveloperToolsAvailability int      `json:"DeveloperToolsAvailability"`
	}
	if err := json.Unmarshal(b, &pol); err != nil {
		t.Fatalf("policies: %v", err)
	}
	if len(pol.URLBlocklist) != 1 || pol.URLBlocklist[0] != "*" || pol.DeveloperToolsAvailability != 2 {
		t.Errorf("policies do not lock the browser: %+v", pol)
	}
	c, err := configs.LoadTerminal("rpi-kiosk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://" + strings.Replace(c.HTTP.Listen, "0.0.0.0", "127.0.0.1", 1)
	for _, a := range pol.URLAllowlist {
		u, err := url.Parse(a)
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Errorf("allowlist has %q: only loopback may load", a)
		}
	}
	if len(pol.URLAllowlist) != 1 || pol.URLAllowlist[0] != origin {
		t.Errorf("allowlist %v, want [%s] (rpi-kiosk.yaml's http.listen)", pol.URLAllowlist, origin)
	}
	sh, err := os.ReadFile("chromium/kiosk-browser.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sh), "--kiosk") || !strings.Contains(string(sh), origin+"/kiosk/") {
		t.Errorf("the launcher does not open %s/kiosk/ in kiosk mode", origin)
	}
	if out, err := exec.Command("sh", "-n", "chromium/kiosk-browser.sh").CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
}
