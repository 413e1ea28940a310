package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cherga/kiosk/city/pgtest"
)

func query(t *testing.T, dsn string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "select count(*) from t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClusterKillRestart(t *testing.T) {
	c := pgtest.Start(t)
	dsn := c.CreateDB(t, "city")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.TCPDSN("city"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "create table t (x int); insert into t values (1)"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "insert into t values (2)"); err != nil {
		t.Fatal(err)
	}
	c.Kill(t) // mid-transaction
	conn.Close(ctx)
	c.Restart(t)
	if n := query(t, dsn); n != 1 {
		t.Fatalf("after kill: %d rows, want 1 (the committed one)", n)
	}
	c.Stop(t)
	c.Restart(t)
	if n := query(t, c.TCPDSN("city")); n != 1 {
		t.Fatalf("after stop: %d rows", n)
	}
}
