package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cherga/kiosk/city/pgtest"
)

// A test with its own cluster, which it crashes and recovers.
func ExampleStart() {
	var t testing.T // a test's *testing.T
	c := pgtest.Start(&t)
	dsn := c.CreateDB(&t, "city")
	conn, _ := pgx.Connect(context.Background(), dsn)
	conn.Close(context.Background())
	c.Kill(&t)
	c.Restart(&t)
}
