package cityd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/configs"
)

// RunOptions are what the entry point gives Run.
type RunOptions struct {
	Log     *slog.Logger
	Clock   clockwork.Clock // nil: the real clock
	Version string
	// Ready, if not nil, is called with the address once cityd serves.
	Ready func(addr net.Addr)
}

// Run is cityd: it opens the data directory and the city's database
// (migrating it, under the database's advisory lock, so several cityd may
// start at once), serves until ctx ends, and drops events older than the
// retention once a day.
func Run(ctx context.Context, cfg *configs.CityServer, opts RunOptions) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// bbolt's own flock: a second cityd on the same data directory is
	// told so instead of waiting for ever.
	sessionsPath := filepath.Join(cfg.DataDir, "cityd.db")
	sessions, err := bolt.Open(sessionsPath, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("%s is in use by another cityd: give each cityd its own data_dir", sessionsPath)
	} else if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	defer sessions.Close()

	dsn, err := DSN(cfg.Database)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, dsn, clock, log)
	if err != nil {
		return err
	}
	defer db.Close()

	srv, err := New(Options{Config: cfg, DB: db, AccessFile: filepath.Join(cfg.DataDir, "access.json"),
		Sessions: sessions, Clock: clock, Log: log})
	if err != nil {
		return err
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := srv.HTTPServer(tc)
	ln = srv.Limit(ln, cfg.MaxConnections, tc != nil)
	errc := make(chan error, 1)
	if tc != nil {
		go func() { errc <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	log.Info("cityd started", "version", opts.Version, "listen", ln.Addr().String(), "schema", city.SchemaVersion())
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	retainCtx, stopRetain := context.WithCancel(ctx)
	defer stopRetain()
	if cfg.Retention > 0 {
		go retain(retainCtx, srv.metrics.retainer(db), cfg.Retention, clock, log)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("cityd stopping")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancelShutdown()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// openDB opens (and migrates) the city's database, waiting for it: a
// database that is down or still starting when cityd starts (a city's
// power cut brings both up at once) is tried again, 1 s, 2 s, … up to
// 30 s apart, each failure logged, until it answers or ctx ends. A
// schema newer than this cityd is not waited for.
func openDB(ctx context.Context, dsn string, clock clockwork.Clock, log *slog.Logger) (*city.DB, error) {
	wait := time.Second
	for {
		openCtx, cancel := context.WithTimeout(ctx, time.Minute)
		db, err := city.Open(openCtx, dsn, city.Options{Migrate: true, Log: log})
		cancel()
		if err == nil {
			return db, nil
		}
		if errors.Is(err, city.ErrSchema) || ctx.Err() != nil {
			return nil, fmt.Errorf("city database: %w", err)
		}
		log.Warn("city database not reachable; trying again", "in", wait.String(), "err", err)
		select {
		case <-clock.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("city database: %w", err)
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// retainer is what retain needs of the database.
type retainer interface {
	Retain(ctx context.Context, keep time.Duration) error
}

// retain drops the months older than keep now and then once a day.
// Several cityd doing it at once is harmless: dropping a partition is
// idempotent.
func retain(ctx context.Context, db retainer, keep time.Duration, clock clockwork.Clock, log *slog.Logger) {
	t := clock.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		if err := db.Retain(rctx, keep); err != nil && ctx.Err() == nil {
			log.Warn("retention: old events not dropped; trying again tomorrow", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
	}
}

// DSN is the database's connection string with the password of
// password_file and the TLS root of ca_file added.
func DSN(db configs.CityDB) (string, error) {
	dsn := db.DSN
	add := func(key, value string) {
		if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + key + "=" + url.QueryEscape(value)
			return
		}
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
		dsn += " " + key + "='" + r.Replace(value) + "'"
	}
	if db.CAFile != "" {
		if err := configs.UnwritableFile(db.CAFile, "cityd's user"); err != nil {
			return "", fmt.Errorf("database.ca_file: %w", err)
		}
		add("sslrootcert", db.CAFile)
	}
	if db.PasswordFile != "" {
		if err := configs.PrivateFile(db.PasswordFile, "cityd's user"); err != nil {
			return "", fmt.Errorf("database.password_file: %w", err)
		}
		b, err := os.ReadFile(db.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("database.password_file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" || strings.ContainsAny(pw, "\r\n") {
			return "", fmt.Errorf("database.password_file: %s must hold the password on one line", db.PasswordFile)
		}
		add("password", pw)
	}
	return dsn, nil
}

func tlsConfig(cfg *configs.CityServer) (*tls.Config, error) {
	if cfg.TLS.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
