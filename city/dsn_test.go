package city

import (
	"crypto/tls"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A multi-host DSN whose first host refuses connections reaches the
// second (target_session_attrs=read-write), as after a fail-over.
func TestMultiHostDSN(t *testing.T) {
	newDSN(t) // skips without PostgreSQL
	const name = "multihost"
	shared.CreateDB(t, name)
	l, err := net.Listen("tcp", "127.0.0.1:0") // a port that then refuses
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=10",
		dead, shared.Port, name)
	db := openDB(t, dsn)
	if err := db.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := db.Register(ctxT(t), Office{ID: "x"}, "i"); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsTLSEveryHost(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://u@db1.city.local,db2.city.local:5433/city?sslmode=prefer&target_session_attrs=read-write")
	if err != nil {
		t.Fatal(err)
	}
	useTLS(cfg, &tls.Config{MinVersion: tls.VersionTLS13})
	if cfg.TLSConfig == nil || cfg.TLSConfig.ServerName != "db1.city.local" || cfg.TLSConfig.MinVersion != tls.VersionTLS13 {
		t.Fatalf("first host: %+v", cfg.TLSConfig)
	}
	if len(cfg.Fallbacks) != 1 {
		t.Fatalf("%d fallbacks, want 1 (db2 over TLS only, no plain-text tries)", len(cfg.Fallbacks))
	}
	fb := cfg.Fallbacks[0]
	if fb.Host != "db2.city.local" || fb.Port != 5433 || fb.TLSConfig == nil || fb.TLSConfig.ServerName != "db2.city.local" {
		t.Fatalf("fallback: %+v", fb)
	}
}
