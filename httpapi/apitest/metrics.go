package apitest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Promtool runs `promtool check metrics` (Debian's prometheus package,
// installed by scripts/test-deps.sh) on a Prometheus exposition: it must
// pass, lint included. Without promtool the test fails under CI and is
// skipped elsewhere.
func Promtool(t testing.TB, exposition []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not installed (scripts/test-deps.sh installs it)")
		}
		t.Skip("promtool not installed; scripts/test-deps.sh installs it")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// ChergaLines is the exposition's own lines (cherga_…), for a failure
// message without the Go and process collectors.
func ChergaLines(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "cherga_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
