package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cityd token and cityd user edit cityd's own access.json, in the
// data_dir of the configuration named by -config wherever it comes.
func TestAccessCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "city.yaml")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(cfg, []byte("data_dir: "+data+"\ndatabase:\n  dsn: \"host=/run/postgresql dbname=city\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	if code := accessCommand([]string{"token", "-name", "open-data", "-config", cfg, "-scope", "stats"}); code != 0 {
		t.Fatalf("cityd token: exit %d", code)
	}
	b, err := os.ReadFile(filepath.Join(data, "access.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"open-data"`) || !strings.Contains(string(b), `"stats"`) {
		t.Errorf("access.json: %s", b)
	}
	if code := accessCommand([]string{"user", "list", "-config=" + cfg}); code != 0 {
		t.Errorf("cityd user list: exit %d", code)
	}
	if code := accessCommand([]string{"token", "-config", filepath.Join(dir, "missing.yaml")}); code != 2 {
		t.Errorf("a missing configuration: exit %d, want 2", code)
	}
}
