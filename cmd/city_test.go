package cmd_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/city/pgtest"
)

// cityCluster is a throwaway city database, migrated as cityd would.
func cityCluster(t *testing.T) (*pgtest.Cluster, string) {
	t.Helper()
	c := pgtest.Start(t)
	dsn := c.CreateDB(t, "city")
	db, err := city.Open(context.Background(), dsn, city.Options{Migrate: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return c, dsn
}

// shipTo makes the office ship to the city's database dsn.
func (o *office) shipTo(t *testing.T, dsn string, batch int) {
	t.Helper()
	f, err := os.OpenFile(o.officeConfig, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "\ncity:\n  dsn: %q\n  batch: %d\n  alarm_age: 1m\n", dsn, batch); err != nil {
		t.Fatal(err)
	}
}

// cityHealth is queued's /healthz as the terminals scope sees it.
type cityHealth struct {
	Status string   `json:"status"`
	Office string   `json:"office"`
	Alarms []string `json:"alarms"`
	City   struct {
		Connected bool   `json:"connected"`
		Shipped   uint64 `json:"shipped_seq"`
		Last      uint64 `json:"last_seq"`
		Backlog   uint64 `json:"backlog_events"`
		LastError string `json:"last_error"`
		Detail    string `json:"detail"`
	} `json:"city"`
}

func (o *office) cityHealth(t *testing.T) cityHealth {
	t.Helper()
	var h cityHealth
	o.call(t, "GET", "/healthz", "", http.StatusOK, &h)
	return h
}

// caughtUp: everything the office logged is in the city's database.
func (o *office) caughtUp(t *testing.T) func() bool {
	return func() bool {
		h := o.cityHealth(t)
		return h.City.Connected && h.City.Last > 0 && h.City.Backlog == 0 && h.City.Shipped == h.City.Last
	}
}

// citySeqs is the seqs of office's events in the city's database, in
// order.
func citySeqs(t *testing.T, dsn, office string) []uint64 {
	t.Helper()
	db, err := city.Open(context.Background(), dsn, city.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []uint64
	for e, err := range db.Events(context.Background(), []string{office}, "2000-01-01", "2100-01-01") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Seq)
	}
	return out
}

// checkOnce: the city holds seqs 1..last of office, each once.
func checkOnce(t *testing.T, dsn, office string, last uint64) {
	t.Helper()
	seqs := citySeqs(t, dsn, office)
	slices.Sort(seqs)
	if uint64(len(seqs)) != last {
		t.Errorf("the city holds %d events of %s, want %d", len(seqs), office, last)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("the city's %d-th event of %s is seq %d (lost or doubled)", i+1, office, s)
		}
	}
}

// timedCalls issues n tickets and calls every third, each answered
// right, and returns the median time of an answer.
func (o *office) timedCalls(t *testing.T, n int) time.Duration {
	t.Helper()
	var took []time.Duration
	for i := range n {
		start := time.Now()
		o.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, nil)
		took = append(took, time.Since(start))
		if i%3 == 0 {
			start := time.Now()
			o.call(t, "POST", "/api/v1/windows/2/next", "", http.StatusOK, nil)
			took = append(took, time.Since(start))
		}
	}
	slices.Sort(took)
	return took[len(took)/2]
}

// The office ships its record to the city: once and in order; with the
// city's database stopped, tickets and calls go on as fast and the
// backlog ships when it is back; a queued killed with SIGKILL while
// shipping a large backlog, started again, leaves every event in the
// city exactly once.
func TestCityShipping(t *testing.T) {
	cluster, dsn := cityCluster(t)
	o := newOffice(t)
	o.shipTo(t, dsn, 5)
	o.startQueued(t)
	o.queued.waitLog("city: shipping")

	before := o.timedCalls(t, 30)
	eventually(t, "the first events shipped", o.caughtUp(t))
	office := o.cityHealth(t).Office

	cluster.Stop(t)
	down := o.timedCalls(t, 30) // every call answered while the database is away
	eventually(t, "the loss seen", func() bool { return !o.cityHealth(t).City.Connected })
	if h := o.cityHealth(t); h.City.Backlog == 0 || h.City.LastError == "" {
		t.Errorf("while the database is away: %+v", h)
	}
	if down > 5*before+50*time.Millisecond {
		t.Errorf("median answer %s while the city's database is away, %s before", down, before)
	}
	cluster.Restart(t)
	eventually(t, "the backlog shipped", o.caughtUp(t))
	checkOnce(t, dsn, office, o.cityHealth(t).City.Last)

	// A backlog of a few hundred events, then SIGKILL while it ships.
	cluster.Stop(t)
	o.timedCalls(t, 300)
	cluster.Restart(t)
	eventually(t, "shipping under way", func() bool {
		h := o.cityHealth(t)
		return h.City.Connected && h.City.Shipped > 0
	})
	h := o.cityHealth(t)
	o.queued.kill()
	if h.City.Backlog == 0 {
		t.Log("the backlog shipped before the kill")
	}
	o.startQueued(t)
	eventually(t, "shipped after the kill", o.caughtUp(t))
	checkOnce(t, dsn, office, o.cityHealth(t).City.Last)
	o.queued.stop(os.Interrupt)
}

// A second queued (its own data directory) with an office id another
// queued holds in the city is refused, says why in its log and its
// /healthz, and ships nothing; its tickets work.
func TestCitySameOfficeTwice(t *testing.T) {
	_, dsn := cityCluster(t)
	first := newOffice(t)
	first.shipTo(t, dsn, 100)
	first.startQueued(t)
	first.timedCalls(t, 3)
	eventually(t, "the first office shipped", first.caughtUp(t))

	second := newOffice(t)
	second.shipTo(t, dsn, 100)
	second.startQueued(t)
	want := "office id demo-office is used by another queued; give this office its own id"
	second.queued.waitLog(want)
	second.timedCalls(t, 3)
	h := second.cityHealth(t)
	if h.Status != "degraded" || !slices.Contains(h.Alarms, "city: "+want) || h.City.Connected || h.City.Shipped != 0 {
		t.Errorf("second queued: %+v", h)
	}
	if n := len(citySeqs(t, dsn, "demo-office")); uint64(n) != first.cityHealth(t).City.Last {
		t.Errorf("the city holds %d events of demo-office, want only the first queued's", n)
	}
	if !strings.Contains(h.City.Detail, want) {
		t.Errorf("detail %q", h.City.Detail)
	}
}

// queued -check refuses a city password file others may read, naming
// the chmod, and a DSN with the password in it, without echoing it.
func TestCityCheck(t *testing.T) {
	readSources(t)
	o := newOffice(t)
	pass := filepath.Join(filepath.Dir(o.officeConfig), "city.pass")
	if err := os.WriteFile(pass, []byte("s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(o.officeConfig)
	if err != nil {
		t.Fatal(err)
	}
	check := func(city string) (int, string) {
		if err := os.WriteFile(o.officeConfig, append(append([]byte{}, base...), city...), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(filepath.Join(binDir, "queued"), "-check", "-config", o.officeConfig).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := check("\ncity:\n  dsn: \"host=db1 dbname=city\"\n  password_file: " + pass + "\n"); code != 2 || !strings.Contains(out, "chmod 600 "+pass) {
		t.Errorf("password file 0644: exit %d\n%s", code, out)
	}
	os.Chmod(pass, 0o600)
	if code, out := check("\ncity:\n  dsn: \"host=db1 dbname=city\"\n  password_file: " + pass + "\n"); code != 0 {
		t.Errorf("password file 0600: exit %d\n%s", code, out)
	}
	if code, out := check("\ncity:\n  dsn: \"postgres://cherga:s3cret@db1/city\"\n"); code != 2 || !strings.Contains(out, "city.dsn: holds a password") || strings.Contains(out, "s3cret") {
		t.Errorf("DSN with a password: exit %d\n%s", code, out)
	}
}
