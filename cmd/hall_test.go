package cmd_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/cherga/kiosk/display/alpha"
	"github.com/cherga/kiosk/display/webtest"
)

// The hall page in a real Chromium, fed by real processes: a call made at
// queued shows on it; kioskd killed, the page says so; a call made while
// kioskd is down is on the page, and spoken, once kioskd is back, without
// anyone touching the TV.
func TestHallInChromium(t *testing.T) {
	// An Alpha LED board on a serial line (a pseudo-terminal) beside the
	// simulated one.
	sign, port := serialSign(t)
	o := startOffice(t, "  boards:\n", "  boards:\n    - {name: hall-alpha, driver: alpha, port: "+port+", lines: 2}\n")
	k := "http://" + o.kAddr
	b := webtest.Start(t, 1920, 1080)
	if err := b.Open(k + "/hall/"); err != nil {
		t.Fatal(err)
	}
	wait := func(what, expr string) {
		t.Helper()
		if err := b.WaitTrue(expr, 30*time.Second); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait("the snapshot", `document.querySelector("#office").textContent !== "" && document.querySelector("#offline").hidden`)

	var cat struct {
		Services []struct {
			ID string `json:"id"`
		} `json:"services"`
	}
	do(t, "GET", k+"/api/v1/services", "", http.StatusOK, &cat)
	var first, second struct {
		Number string `json:"number"`
	}
	do(t, "POST", k+"/api/v1/tickets", `{"service":"`+cat.Services[0].ID+`"}`, http.StatusCreated, &first)
	do(t, "POST", k+"/api/v1/tickets", `{"service":"`+cat.Services[0].ID+`"}`, http.StatusCreated, &second)
	o.call(t, "POST", "/api/v1/windows/3/next", "", http.StatusOK, nil)
	current := func(ticket string) string {
		return fmt.Sprintf(`document.querySelector("#current .ticket").textContent === %q && document.querySelector("#current .window").textContent === "3"`, ticket)
	}
	wait("the call on the page", current(first.Number))
	signShows(t, sign, alpha.Transliterate(first.Number)+" > 3")

	o.call(t, "PUT", "/api/v1/hall-message", `{"text":{"uk":"Центр працює до 20:00","en":"Open until 8 pm"}}`, http.StatusOK, nil)
	wait("the running line", `!document.querySelector("#ticker").hidden && document.querySelector("#message").textContent.includes("Центр працює до 20:00")`)

	o.kioskd.kill()
	wait("the page saying it lost kioskd", `!document.querySelector("#offline").hidden`)
	o.call(t, "POST", "/api/v1/windows/3/next", "", http.StatusOK, nil)
	o.startKioskd(t)
	wait("the page resynced after kioskd came back", current(second.Number)+` && document.querySelector("#offline").hidden &&
		document.querySelector("#recent .ticket").textContent === `+fmt.Sprintf("%q", first.Number))
	// The server resent the call kioskd missed, so it is heard too.
	o.kioskd.waitLog("msg=announced ticket=" + second.Number)
	signShows(t, sign, alpha.Transliterate(second.Number)+" > 3")
}

// serialSign is a simulated Alpha sign at the far end of a serial line
// (a pseudo-terminal); port is the line's path for the driver.
func serialSign(t *testing.T) (sign *alpha.Sign, port string) {
	t.Helper()
	sign = alpha.NewSign("", alpha.Latin)
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	go func() { _ = sign.Serve(master) }()
	return sign, slave.Name()
}

// signShows waits until the sign's first line is want.
func signShows(t *testing.T, sign *alpha.Sign, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		if l := sign.Lines(); len(l) > 0 && l[0] == want {
			return
		}
		select {
		case <-sign.Frames():
		case <-timeout:
			t.Fatalf("the LED board shows %q, want %q first", sign.Lines(), want)
		}
	}
}

// The technician's check of a sign's wiring: kioskctl board sends the
// lines once; a port that is not there is said plainly.
func TestKioskctlBoard(t *testing.T) {
	sign, port := serialSign(t)
	out, err := exec.Command(filepath.Join(binDir, "kioskctl"), "board", "-port", port, "-lines", "2",
		"Вікно 5", "Ж12 → 5").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"Vikno 5" "Zh12 > 5"`) {
		t.Fatalf("kioskctl board: %v\n%s", err, out)
	}
	signShows(t, sign, "Vikno 5")
	if l := sign.Lines(); len(l) != 2 || l[1] != "Zh12 > 5" {
		t.Errorf("the sign shows %q", l)
	}
	missing := filepath.Join(t.TempDir(), "ttyUSB7")
	out, err = exec.Command(filepath.Join(binDir, "kioskctl"), "board", "-port", missing, "A1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot open the sign's port: open "+missing) {
		t.Fatalf("missing port: %v\n%s", err, out)
	}
}
