package cmd_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
)

// The hall page in a real Chromium, fed by real processes: a call made at
// queued shows on it; kioskd killed, the page says so; a call made while
// kioskd is down is on the page, and spoken, once kioskd is back, without
// anyone touching the TV.
func TestHallInChromium(t *testing.T) {
	o := startOffice(t)
	k, q := "http://"+o.kAddr, "http://"+o.qAddr
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
	do(t, "POST", q+"/api/v1/windows/3/next", "", http.StatusOK, nil)
	current := func(ticket string) string {
		return fmt.Sprintf(`document.querySelector("#current .ticket").textContent === %q && document.querySelector("#current .window").textContent === "3"`, ticket)
	}
	wait("the call on the page", current(first.Number))

	do(t, "PUT", q+"/api/v1/hall-message", `{"text":{"uk":"Центр працює до 20:00","en":"Open until 8 pm"}}`, http.StatusOK, nil)
	wait("the running line", `!document.querySelector("#ticker").hidden && document.querySelector("#message").textContent.includes("Центр працює до 20:00")`)

	o.kioskd.kill()
	wait("the page saying it lost kioskd", `!document.querySelector("#offline").hidden`)
	do(t, "POST", q+"/api/v1/windows/3/next", "", http.StatusOK, nil)
	o.startKioskd(t)
	wait("the page resynced after kioskd came back", current(second.Number)+` && document.querySelector("#offline").hidden &&
		document.querySelector("#recent .ticket").textContent === `+fmt.Sprintf("%q", first.Number))
	// The server resent the call kioskd missed, so it is heard too.
	o.kioskd.waitLog("msg=announced ticket=" + second.Number)
}
