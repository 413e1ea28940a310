// Package city is the city's PostgreSQL database: every office's queued
// ships its append-only event log here (Append, exactly once per (office,
// seq)) and its current status (PutStatus); cityd reads them back
// (Statuses, Events) for the public status page and city-wide statistics.
//
// The schema is a set of embedded, forward-only migrations
// (migrations/NNNN_name.sql) applied by Migrate under an advisory lock and
// recorded in schema_migrations; Open refuses a database whose schema this
// build does not know (ErrSchema).
//
// Events are partitioned by month of their Day. An event's Day never
// changes once it is written by queued (it is the ticket's office-local
// date), so a resent event lands in the same partition and the primary key
// (office, day, seq) keeps Append idempotent. No personal data is stored:
// the columns are exactly queue/record.Event's.
//
// This package must never be in the path of a ticket or a call: queued
// uses it only from its shipper, after the event is committed locally.
package city

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Office is what an office tells the city about itself.
type Office struct {
	ID       string            // configs.Office.ID
	Name     map[string]string // "uk", "en" (configs.Text)
	Timezone string            // IANA, e.g. Europe/Kyiv
}

// Options tune Open.
type Options struct {
	// Migrate applies the embedded migrations at Open (cityd sets it);
	// without it Open fails with ErrSchema on a schema it does not know.
	Migrate bool
	// Log receives what the package has to say; nil: slog.Default().
	Log *slog.Logger
	// TLS, if not nil, replaces the TLS configuration the DSN gives.
	TLS *tls.Config
}

// DB is a connection pool to the city's database.
type DB struct {
	pool   *pgxpool.Pool
	log    *slog.Logger
	months sync.Map // time.Time (a month's first day) -> true: its partition exists
}

// Open connects to dsn (libpq URL or key=value; multi-host with
// target_session_attrs=read-write works). It does not migrate; it fails
// with ErrSchema if the schema is older/newer than this build knows,
// unless opts.Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("city: bad DSN: %w", err) // pgx masks the password
	}
	if opts.TLS != nil {
		useTLS(cfg.ConnConfig, opts.TLS)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("city: %w", err)
	}
	db := &DB{pool: pool, log: log}
	if opts.Migrate {
		err = db.Migrate(ctx)
	} else {
		err = db.checkSchema(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("city: ping: %w", err)
	}
	return nil
}

// Now is the database's clock (SELECT now()): an office's shipper
// measures its own clock's offset against it.
func (db *DB) Now(ctx context.Context) (time.Time, error) {
	var at time.Time
	if err := db.pool.QueryRow(ctx, "SELECT now()").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("city: now: %w", err)
	}
	return at, nil
}

// useTLS makes every host of cc (the first and the fallbacks of a
// multi-host DSN) connect with tc only, never in plain text.
func useTLS(cc *pgx.ConnConfig, tc *tls.Config) {
	forHost := func(host string) *tls.Config {
		c := tc.Clone()
		if c.ServerName == "" && !strings.HasPrefix(host, "/") {
			c.ServerName = host
		}
		return c
	}
	cc.TLSConfig = forHost(cc.Host)
	var fbs []*pgconn.FallbackConfig
	seen := map[string]bool{cc.Host + ":" + strconv.Itoa(int(cc.Port)): true}
	for _, fb := range cc.Fallbacks {
		key := fb.Host + ":" + strconv.Itoa(int(fb.Port))
		if seen[key] {
			continue // the plain-text twin sslmode=prefer adds
		}
		seen[key] = true
		fb.TLSConfig = forHost(fb.Host)
		fbs = append(fbs, fb)
	}
	cc.Fallbacks = fbs
}
