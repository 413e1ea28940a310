package cmd_test

import (
	"os/exec"
	"strings"
	"testing"
)

// queued links none of the terminal's drivers and tools: configs, which
// both daemons share, imports no domain package (issue 12).
func TestCheckQueuedLinksNoDrivers(t *testing.T) {
	readSources(t)
	out, err := exec.Command("go", "list", "-deps", "./queued").Output()
	if err != nil {
		t.Fatalf("go list -deps ./queued: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"periph.io/", "go.bug.st/serial", "golang.org/x/image", "github.com/chromedp/"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("queued links %s", pkg)
			}
		}
	}
}
