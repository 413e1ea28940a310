package city

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationLock is the pg_advisory_lock key Migrate holds ("city" in ASCII).
const migrationLock = 0x63697479

// migrations are the embedded migrations in version order, 1, 2, … without gaps.
var migrations = mustMigrations()

func mustMigrations() []migration {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range ents {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("city: migration " + e.Name() + ": not NNNN_name.sql")
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{v, name, string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			panic(fmt.Sprintf("city: migrations: version %d where %d was due", m.version, i+1))
		}
	}
	return ms
}

// SchemaVersion is the schema version this build knows: its newest migration.
func SchemaVersion() int { return len(migrations) }

// Migrate applies the embedded migrations (migrations/NNNN_name.sql)
// forward-only under an advisory lock (several cityd may start at once),
// each in its own transaction, recording them in schema_migrations. A
// database newer than this build is left alone: ErrSchema.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("city: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("city: migrate: lock: %w", err)
	}
	defer func() {
		// A cancelled ctx must not leave the lock held by a pooled connection.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock($1)", migrationLock); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, `create table if not exists schema_migrations (
		version    integer primary key,
		name       text not null,
		applied_at timestamptz not null default now())`); err != nil {
		return fmt.Errorf("city: migrate: %w", err)
	}
	have, err := schemaVersion(ctx, conn.Conn())
	if err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("%w: the database is at version %d, newer than this build's %d: upgrade this program", ErrSchema, have, len(migrations))
	}
	for _, m := range migrations[have:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "insert into schema_migrations (version, name) values ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("city: migration %04d_%s: %w", m.version, m.name, err)
		}
		db.log.Info("city: schema migrated", "version", m.version, "name", m.name)
	}
	return nil
}

// schemaVersion is the newest applied migration (0: none); schema_migrations exists.
func schemaVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	var v int
	err := conn.QueryRow(ctx, `select coalesce(max(version), 0) from schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("city: schema version: %w", err)
	}
	return v, nil
}

// checkSchema fails with ErrSchema unless the database is at SchemaVersion.
func (db *DB) checkSchema(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("city: %w", err)
	}
	defer conn.Release()
	var exists bool
	if err := conn.QueryRow(ctx, `select to_regclass('schema_migrations') is not null`).Scan(&exists); err != nil {
		return fmt.Errorf("city: schema version: %w", err)
	}
	if !exists {
		return fmt.Errorf("%w: the database has no city schema yet: start cityd first (it migrates)", ErrSchema)
	}
	have, err := schemaVersion(ctx, conn.Conn())
	if err != nil {
		return err
	}
	switch {
	case have < len(migrations):
		return fmt.Errorf("%w: the database is at version %d, this build needs %d: start (or upgrade) cityd first, it migrates", ErrSchema, have, len(migrations))
	case have > len(migrations):
		return fmt.Errorf("%w: the database is at version %d, newer than this build's %d: upgrade this program", ErrSchema, have, len(migrations))
	}
	return nil
}
