package ship_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue/ship"
)

// The password file and the CA file reach the driver; a password file
// others may read is refused with the chmod that fixes it.
func TestDSN(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "city.pass")
	ca := filepath.Join(dir, "city-ca.pem")
	pw := `p@ss w'rd\x&y=z`
	if err := os.WriteFile(pass, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, []byte("not used by ParseConfig with sslmode=disable"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{
		"postgres://cherga@db1.city.local,db2.city.local/city?target_session_attrs=read-write&sslmode=disable",
		"postgres://cherga@db1.city.local/city",
		"host=db1.city.local,db2.city.local dbname=city user=cherga sslmode=disable target_session_attrs=read-write",
	} {
		dsn, err := ship.DSN(configs.City{DSN: base, PasswordFile: pass})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if cfg.Password != pw || cfg.User != "cherga" || cfg.Database != "city" {
			t.Errorf("%s: password %q user %q database %q", base, cfg.Password, cfg.User, cfg.Database)
		}
		if strings.Contains(base, "db2") && len(cfg.Fallbacks) != 1 {
			t.Errorf("%s: %d fallbacks, want the second host", base, len(cfg.Fallbacks))
		}
	}
	dsn, err := ship.DSN(configs.City{DSN: "host=db1 dbname=city", CAFile: ca})
	if err != nil || !strings.Contains(dsn, "sslrootcert='"+ca+"'") {
		t.Errorf("CA file: %q %v", dsn, err)
	}

	os.Chmod(pass, 0o640)
	if _, err := ship.DSN(configs.City{DSN: "host=db1", PasswordFile: pass}); err == nil || !strings.Contains(err.Error(), "chmod 600 "+pass) {
		t.Errorf("password file 0640: %v", err)
	}
	os.Chmod(ca, 0o666)
	if _, err := ship.DSN(configs.City{DSN: "host=db1", CAFile: ca}); err == nil || !strings.Contains(err.Error(), "chmod 644 "+ca) {
		t.Errorf("CA file 0666: %v", err)
	}
	if _, err := ship.DSN(configs.City{DSN: "postgres://u:pw@db1/city"}); err == nil || strings.Contains(err.Error(), "pw@") {
		t.Errorf("DSN with a password: %v", err)
	}
}
