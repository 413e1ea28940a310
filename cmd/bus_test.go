package cmd_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/i18n"
)

// busFaces is GET /api/v1/sim/bus of kioskd: the emulated devices' faces
// by address.
func (o *office) busFaces(t *testing.T) map[int]emulator.Face {
	t.Helper()
	var a struct {
		Buses []struct {
			Error   string `json:"error"`
			Devices []struct {
				Address int            `json:"address"`
				Face    *emulator.Face `json:"face"`
			} `json:"devices"`
		} `json:"buses"`
	}
	do(t, "GET", "http://"+o.kAddr+"/api/v1/sim/bus", "", http.StatusOK, &a)
	if len(a.Buses) != 1 || a.Buses[0].Error != "" {
		t.Fatalf("sim bus %+v", a)
	}
	out := map[int]emulator.Face{}
	for _, d := range a.Buses[0].Devices {
		if d.Face != nil {
			out[d.Address] = *d.Face
		}
	}
	return out
}

func lcdLine(f emulator.Face, n int) string {
	if f.Keypad == nil {
		return ""
	}
	return strings.TrimRight(f.Keypad.Lines[n], " ")
}

// The demo's bus as make run starts it, with real processes: queued, the
// device emulator (kioskctl bridge emulate on a pseudo-terminal) and
// kioskd driving it. Window 3's keypad asks for a sign-in until operator3
// signs in to window 3; then "next" pressed on the emulated keypad through
// kioskd's /api/v1/sim/bus calls the waiting ticket at queued, the window
// display shows it and the keypad's LCD says it is called; "came" and
// "finish" pressed with kioskctl bridge press serve it, the rating panel
// invites a mark, and the mark reaches queued's statistics. Every process
// stops cleanly on SIGINT.
func TestBusInOffice(t *testing.T) {
	o := newOffice(t)
	password := rand.Text()
	o.queuedCommand(t, password+"\n", "user", "add", "operator3", "-role", "operator", "-windows", "3",
		"-display", "Оператор вікна 3", "-password-stdin")
	o.startQueued(t)
	o.startDemo(t)
	k := "http://" + o.kAddr
	uk := func(key string, args ...any) string { return i18n.T("uk", key, args...) }

	eventually(t, "window 3's keypad asks for a sign-in", func() bool {
		f := o.busFaces(t)
		return lcdLine(f[2], 0) == uk("keypad.closed", "n", 3) && lcdLine(f[2], 1) == uk("keypad.sign_in") &&
			lcdLine(f[5], 0) == uk("keypad.closed", "n", 4)
	})

	// operator3 signs in to window 3, as the operator page does.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	q := "http://" + o.qAddr
	login, _ := json.Marshal(map[string]string{"name": "operator3", "password": password})
	if a := exchange(t, browser, newRequest(t, "POST", q+"/api/v1/login", string(login))); a.status != http.StatusOK {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	signIn := newRequest(t, "POST", q+"/api/v1/windows/3/sign-in", "")
	signIn.Header.Set("Origin", q)
	signIn.Header.Set("Sec-Fetch-Site", "same-origin")
	if a := exchange(t, browser, signIn); a.status != http.StatusOK {
		t.Fatalf("sign-in to window 3: %d %s", a.status, a.body)
	}
	eventually(t, "the keypad says window 3 is free", func() bool { return lcdLine(o.busFaces(t)[2], 0) == uk("keypad.idle", "n", 3) })

	var tk struct {
		Number string `json:"number"`
	}
	do(t, "POST", k+"/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &tk)

	// "next" on the keypad, pressed through kioskd.
	var res emulator.PressResult
	do(t, "POST", k+"/api/v1/sim/bus/bus1/2/press", `{"key":"next"}`, http.StatusOK, &res)
	if res.Outcome != emulator.Queued || res.Addr != 2 || res.Name != "next" {
		t.Fatalf("press %+v", res)
	}
	eventually(t, "queued calls the ticket at window 3", func() bool {
		var w struct {
			Operator string `json:"operator"`
			Ticket   *struct {
				Number string `json:"number"`
				State  string `json:"state"`
			} `json:"ticket"`
		}
		o.call(t, "GET", "/api/v1/windows/3", "", http.StatusOK, &w)
		return w.Operator == "operator3" && w.Ticket != nil && w.Ticket.Number == tk.Number
	})
	eventually(t, "the call on the window display and the keypad", func() bool {
		f := o.busFaces(t)
		d := f[1].Display
		return d != nil && d.Text == tk.Number && d.Window == 3 && lcdLine(f[2], 0) == uk("keypad.calling", "ticket", tk.Number)
	})

	// The technician's tool presses the emulator's keys directly.
	press := func(addr, key string) {
		t.Helper()
		out, err := exec.Command(filepath.Join(binDir, "kioskctl"), "bridge", "press", "-emulator", o.emuAddr, "-addr", addr, "-key", key).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "queued") {
			t.Fatalf("kioskctl bridge press -addr %s -key %s: %v\n%s", addr, key, err, out)
		}
	}
	press("2", "came")
	eventually(t, "the keypad says the visitor is served", func() bool {
		return lcdLine(o.busFaces(t)[2], 0) == uk("keypad.serving", "ticket", tk.Number)
	})
	press("2", "finish")
	eventually(t, "the rating panel invites a mark", func() bool {
		r := o.busFaces(t)[3].Rating
		return r != nil && r.Prompt && r.Buttons[0].Breathe
	})
	press("3", "5")
	eventually(t, "the mark in queued's statistics", func() bool {
		var rep struct {
			Total struct {
				Ratings struct {
					Count int    `json:"count"`
					Dist  [5]int `json:"dist"`
				} `json:"ratings"`
			} `json:"total"`
		}
		o.call(t, "GET", "/api/v1/stats", "", http.StatusOK, &rep)
		return rep.Total.Ratings.Count == 1 && rep.Total.Ratings.Dist[4] == 1
	})

	if code := o.kioskd.stop(os.Interrupt); code != 0 {
		t.Errorf("kioskd exited %d after SIGINT", code)
	}
	if code := o.emulator.stop(os.Interrupt); code != 0 {
		t.Errorf("the emulator exited %d after SIGINT", code)
	}
	if _, err := os.Lstat(o.busLink); !os.IsNotExist(err) {
		t.Errorf("the emulator left its link %s: %v", o.busLink, err)
	}
	if code := o.queued.stop(os.Interrupt); code != 0 {
		t.Errorf("queued exited %d after SIGINT", code)
	}
}
