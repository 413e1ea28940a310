package cityd

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/configs"
)

// TestRunTwice: two cityd start at once on one new database (the
// migration runs once, under its lock) and both serve; a third on the
// first's data directory is refused, naming it.
func TestRunTwice(t *testing.T) {
	c := pgtest.StartWith(t, pgtest.Options{Fast: true})
	dsn := c.CreateDB(t, "city")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	cfgFor := func(dir string) *configs.CityServer {
		data := []byte("listen: 127.0.0.1:0\ndata_dir: " + dir + "\ndatabase:\n  dsn: \"" + dsn + "\"\n")
		cfg, err := configs.ParseCityServer("city.yaml", data)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	addrs := make(chan net.Addr, 2)
	errs := make(chan error, 3)
	for _, dir := range dirs {
		go func() {
			errs <- Run(ctx, cfgFor(dir), RunOptions{Ready: func(a net.Addr) { addrs <- a }})
		}()
	}
	for range dirs {
		select {
		case a := <-addrs:
			resp, err := http.Get("http://" + a.String() + "/api/v1/city/status")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", a, resp.StatusCode)
			}
			if resp, err := http.Get("http://" + a.String() + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("%s: healthz %v %v", a, resp, err)
			}
		case err := <-errs:
			t.Fatalf("cityd stopped: %v", err)
		case <-time.After(time.Minute): // a guard against hanging only
			t.Fatal("cityd did not start")
		}
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "cityd.db")); err != nil {
		t.Error(err)
	}

	err := Run(ctx, cfgFor(dirs[0]), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "in use by another cityd") {
		t.Errorf("a second cityd on the same data_dir: %v", err)
	}
	cancel()
	for range dirs {
		if err := <-errs; err != nil {
			t.Errorf("stopping: %v", err)
		}
	}
}

func TestDSN(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pass")
	if err := os.WriteFile(pw, []byte("s3cr'et\\x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := DSN(configs.CityDB{DSN: "host=db1 dbname=city", PasswordFile: pw})
	if err != nil || got != `host=db1 dbname=city password='s3cr\'et\\x'` {
		t.Errorf("keyword DSN: %q %v", got, err)
	}
	got, err = DSN(configs.CityDB{DSN: "postgres://cityd@db1,db2/city?target_session_attrs=read-write", PasswordFile: pw})
	if err != nil || got != `postgres://cityd@db1,db2/city?target_session_attrs=read-write&password=s3cr%27et%5Cx` {
		t.Errorf("URL DSN: %q %v", got, err)
	}
	if err := os.Chmod(pw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DSN(configs.CityDB{DSN: "host=db1", PasswordFile: pw}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a password file others may read: %v", err)
	}
}

// retainRecorder is the real database's Retain, telling the test of each
// run.
type retainRecorder struct {
	db   retainer
	runs chan error
}

func (r retainRecorder) Retain(ctx context.Context, keep time.Duration) error {
	err := r.db.Retain(ctx, keep)
	r.runs <- err
	return err
}

// Retention runs at start, then once a day on cityd's clock.
func TestRetainDaily(t *testing.T) {
	db, _ := newDB(t)
	clock := clockwork.NewFakeClock()
	rec := retainRecorder{db: db, runs: make(chan error, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { retain(ctx, rec, 3*365*24*time.Hour, clock, slog.New(slog.DiscardHandler)); close(done) }()
	for i := range 3 {
		select {
		case err := <-rec.runs:
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
		case <-time.After(time.Minute): // a guard against hanging only
			t.Fatalf("run %d did not come", i)
		}
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
	}
	cancel()
	<-done
}

// A database that is down when cityd starts is waited for (a power cut
// brings both up at once): cityd tries again on its clock and serves once
// the database answers, instead of exiting into a restart loop.
func TestRunWaitsForTheDatabase(t *testing.T) {
	c := pgtest.StartWith(t, pgtest.Options{Fast: true})
	dsn := c.CreateDB(t, "city")
	c.Stop(t)
	data := []byte("listen: 127.0.0.1:0\ndata_dir: " + t.TempDir() + "\ndatabase:\n  dsn: \"" + dsn + "\"\n")
	cfg, err := configs.ParseCityServer("city.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	errs := make(chan error, 1)
	go func() { errs <- Run(ctx, cfg, RunOptions{Clock: clock, Ready: func(a net.Addr) { ready <- a }}) }()
	for attempt := 0; attempt < 2; attempt++ { // two failed tries, each waiting on the clock
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			t.Fatalf("cityd gave up: %v", err)
		default:
		}
		if attempt == 1 {
			c.Restart(t)
		}
		clock.Advance(30 * time.Second)
	}
	select {
	case a := <-ready:
		resp, err := http.Get("http://" + a.String() + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("healthz %v %v", resp, err)
		}
	case err := <-errs:
		t.Fatalf("cityd stopped: %v", err)
	case <-time.After(time.Minute): // a guard against hanging only
		t.Fatal("cityd did not start once the database was up")
	}
	cancel()
	if err := <-errs; err != nil {
		t.Errorf("stopping: %v", err)
	}
}
