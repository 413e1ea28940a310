package emulator_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTool fails in CI (scripts/test-deps.sh installs the tool there)
// and skips elsewhere.
func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (Debian package %s; scripts/test-deps.sh installs it)", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s; scripts/test-deps.sh installs it)", name, pkg)
	}
}

func mbpoll(t *testing.T, link string, unit int, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts, vals := args, []string(nil)
	if i := slices.Index(args, "="); i >= 0 {
		opts, vals = args[:i], args[i+1:]
	}
	all := append([]string{"-m", "rtu", "-a", strconv.Itoa(unit), "-b", "19200", "-P", "none", "-s", "2", "-0", "-1", "-o", "1"}, opts...)
	all = append(append(all, link), vals...)
	out, err := exec.CommandContext(ctx, "mbpoll", all...).CombinedOutput()
	return string(out), err
}

var mbpollValue = regexp.MustCompile(`(?m)^\[(\d+)\]:\s+(-?\d+)`)

func mbpollValues(out string) []int {
	var v []int
	for _, m := range mbpollValue.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		v = append(v, n)
	}
	return v
}

// TestMbpoll: Debian's mbpoll (libmodbus) reads and writes the emulated
// devices through a linked pseudo-terminal, 8N2.
func TestMbpoll(t *testing.T) {
	needTool(t, "mbpoll", "mbpoll")
	r := newRig(t, "1:window-display,2:keypad", nil)
	link := filepath.Join(t.TempDir(), "bus0")
	if err := r.pty.Link(link); err != nil {
		t.Fatal(err)
	}
	out, err := mbpoll(t, link, 2, "-t", "3", "-r", "32", "-c", "6")
	if v := mbpollValues(out); err != nil || !slices.Equal(v, []int{2, 1, 1, 1, 0, 0}) {
		t.Fatalf("identity block: %v %v\n%s", v, err, out)
	}
	// The display's call block by 0x10 (mbpoll sends several values so),
	// then WINDOW alone by 06.
	if out, err := mbpoll(t, link, 1, "-t", "4", "-r", "256", "=", "1", "49201", "12851"); err != nil {
		t.Fatalf("write text: %v\n%s", err, out)
	}
	if out, err := mbpoll(t, link, 1, "-t", "4", "-r", "265", "=", "12"); err != nil {
		t.Fatalf("write window: %v\n%s", err, out)
	}
	if d := r.face(1).Display; d.Text != "А123" || d.Window != 12 {
		t.Errorf("display after mbpoll: %+v", d)
	}
	out, err = mbpoll(t, link, 1, "-t", "4", "-r", "256", "-c", "3")
	if v := mbpollValues(out); err != nil || !slices.Equal(v, []int{1, 49201, 12851}) {
		t.Errorf("read back %v %v\n%s", v, err, out)
	}
	out, _ = mbpoll(t, link, 1, "-t", "4", "-r", "80", "-c", "2")
	if !strings.Contains(out, "Illegal data address") {
		t.Errorf("outside the map, mbpoll said\n%s", out)
	}
	out, _ = mbpoll(t, link, 1, "-t", "4", "-r", "265", "=", "1000")
	if !strings.Contains(out, "Illegal data value") {
		t.Errorf("WINDOW 1000, mbpoll said\n%s", out)
	}
	out, _ = mbpoll(t, link, 2, "-u")
	if !strings.Contains(out, "Illegal function") {
		t.Errorf("report server ID, mbpoll said\n%s", out)
	}
}
