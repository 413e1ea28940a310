package doctor

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/i18n"
)

// A check that stops at its deadline is heard; one that ignores it is
// reported as not finished, and the others' results still come, in order.
func TestRunChecksBounded(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed
	rs := runChecks(ctx, time.Hour, []check{
		{"quick", func(context.Context) []Result { return []Result{{Check: "quick", State: OK}} }},
		{"stuck", func(context.Context) []Result { <-stuck; return nil }},
		{"polite", func(ctx context.Context) []Result {
			<-ctx.Done()
			return []Result{{Check: "polite", State: Warn, Detail: ctx.Err().Error()}}
		}},
	})
	if len(rs) != 3 || rs[0].Check != "quick" || rs[1].Check != "stuck" || rs[1].State != Fail ||
		!strings.Contains(rs[1].Detail, "did not finish") || rs[1].Fix == "" || rs[2].Check != "polite" {
		t.Fatalf("%+v", rs)
	}
	if !Failed(rs) || Failed(rs[:1]) {
		t.Error("Failed")
	}
}

// The clock fails more than 2 s from the server's Date (whole seconds),
// and an unsynchronised kernel clock is a warning with the NTP fix.
func TestClockSkew(t *testing.T) {
	server := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		off    time.Duration
		synced bool
		want   State
	}{
		{0, true, OK}, {2900 * time.Millisecond, true, OK}, {4 * time.Second, true, Fail},
		{-3 * time.Second, true, Fail}, {0, false, Warn},
	} {
		d := &doctor{env: Env{Clock: clockwork.NewFakeClockAt(server.Add(c.off)),
			ClockSynced: func() (bool, error) { return c.synced, nil }}}
		r := d.clock(&server)
		ntp := Result{}.withFix(fixNTP)
		if r.State != c.want || (r.State != OK && (r.Fix != ntp.Fix || r.FixUK != ntp.FixUK)) {
			t.Errorf("offset %s synced %v: %+v, want %s", c.off, c.synced, r, c.want)
		}
	}
}

func TestALSAHW(t *testing.T) {
	for dev, want := range map[string][3]int{"hw:1,0": {1, 0, 1}, "plughw:2": {2, 0, 1}, "default": {}, "hw:CARD=USB": {}, "xhw:1": {}} {
		c, p, ok := alsaHW(dev)
		n := 0
		if ok {
			n = 1
		}
		if [3]int{c, p, n} != want {
			t.Errorf("%q: %d %d %v", dev, c, p, ok)
		}
	}
}

// Every catalogue key the doctor names is in i18n/messages.json, so no
// fix shows up as "[ctl.doctor.fix.…]".
func TestFixKeysInCatalogue(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range i18n.Keys() {
		keys[k] = true
	}
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`"(ctl\.doctor\.[\w.]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			if !keys[m[1]] {
				t.Errorf("%s uses %s, which messages.json lacks", f, m[1])
			}
		}
	}
	if n < 30 {
		t.Errorf("found only %d keys: the pattern no longer matches the code", n)
	}
}

// A fix comes in both languages, the device named in Ukrainian in the
// Ukrainian line, and the command the same in both.
func TestFixBothLanguages(t *testing.T) {
	r := Result{Check: "kiosk.printer.port"}.withFix(fixOf("ctl.doctor.fix.plug_in", "what", "printer", "key", "kiosk.printer.port"))
	if r.Fix != "plug in the printer, or set kiosk.printer.port to one `kioskctl ports` lists" {
		t.Errorf("en: %q", r.Fix)
	}
	if !strings.HasPrefix(r.FixUK, "під'єднайте принтер ") || !strings.Contains(r.FixUK, " kiosk.printer.port ") {
		t.Errorf("uk: %q", r.FixUK)
	}
	r = Result{}.withFix(fixOf("ctl.doctor.fix.usermod", "user", "cherga", "group", "dialout"))
	for _, s := range []string{r.Fix, r.FixUK} {
		if !strings.HasSuffix(s, ": sudo usermod -aG dialout cherga") {
			t.Errorf("%q", s)
		}
	}
	if r.FixUK == r.Fix {
		t.Errorf("uk is English: %q", r.FixUK)
	}
}

// A detail from the catalogue has its Ukrainian part, added parts too;
// one added to a detail without it stays English only.
func TestDetailBothLanguages(t *testing.T) {
	r := Result{}.withDetail("ctl.doctor.detail.node_missing", "what", "bus", "path", "/dev/ttyUSB0").
		addDetail("ctl.doctor.detail.server_time_unknown")
	if r.Detail != "bus /dev/ttyUSB0 is not there; the server's time unknown" ||
		r.DetailUK != "шину /dev/ttyUSB0 не знайдено; час сервера невідомий" {
		t.Errorf("%q / %q", r.DetailUK, r.Detail)
	}
	r = Result{Detail: "synchronised"}.addDetail("ctl.doctor.detail.clock_skew", "skew", time.Second)
	if r.Detail != "synchronised; 1s from the server's" || r.DetailUK != "" {
		t.Errorf("%q / %q", r.DetailUK, r.Detail)
	}
}
