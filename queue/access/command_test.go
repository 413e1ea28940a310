package access

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// run is `queued ARGS` with stdin, at test hash costs.
type run struct {
	code           int
	stdout, stderr string
}

func queued(t *testing.T, path, stdin string, args ...string) run {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runCommand(args, strings.NewReader(stdin), &out, &errOut, path, StoreOptions{HashParams: testHash})
	return run{code, out.String(), errOut.String()}
}

func TestCommandRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "access.json")
	expect := func(r run, wantOut string) {
		t.Helper()
		if r.code != 0 || !strings.Contains(r.stdout, wantOut) {
			t.Fatalf("exit %d, stdout %q, stderr %q; expected %q", r.code, r.stdout, r.stderr, wantOut)
		}
	}
	expect(queued(t, path, "", "user", "list"), "no accounts")
	expect(queued(t, path, testPassword+"\n", "user", "add", "olena", "-role", "operator", "-windows", "3,1",
		"-display", "Олена Коваль", "-password-stdin"), "added operator olena (Олена Коваль), windows 1, 3")
	// Flags before the name work too; stdin that is not a terminal is read
	// without -password-stdin.
	expect(queued(t, path, testPassword, "user", "add", "-role", "admin", "root"), "added admin root (root), every window")
	r := queued(t, path, "", "user", "list")
	expect(r, "olena")
	for _, want := range []string{"NAME", "olena", "operator", "1,3", "Олена Коваль", "enabled", "root", "admin", "all"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "argon2") {
		t.Error("list shows password hashes")
	}

	s := testStore(t, path, newClock())
	before, _ := s.User("olena")
	expect(queued(t, path, "a brand new password\n", "user", "passwd", "olena", "-password-stdin"), "changed the password of olena")
	s.Reload()
	after, _ := s.User("olena")
	if after.PasswordHash == before.PasswordHash {
		t.Error("passwd kept the old hash")
	}
	if ok, _ := VerifyPassword(after.PasswordHash, "a brand new password"); !ok {
		t.Error("the new password does not verify")
	}
	expect(queued(t, path, "", "user", "set", "olena", "-windows", "all", "-disabled"), "disabled")
	s.Reload()
	if u, _ := s.User("olena"); !u.Disabled || len(u.Windows) != 0 || u.Role != RoleOperator {
		t.Errorf("after set: %+v", u)
	}

	tok := queued(t, path, "", "token", "-name", "booking-site", "-scope", "bookings,tickets")
	expect(tok, "cq_")
	secret := strings.TrimSuffix(tok.stdout, "\n")
	if strings.Contains(secret, "\n") || !strings.HasPrefix(secret, "cq_") {
		t.Errorf("stdout is not the token alone on one line: %q", tok.stdout)
	}
	if !strings.Contains(tok.stderr, "made token booking-site with scopes tickets,bookings") {
		t.Errorf("stderr %q", tok.stderr)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(testPassword)) {
		t.Error("access.json holds a token or password in the clear")
	}
	s.Reload()
	if got, ok := s.tokenFor(secret); !ok || got.Name != "booking-site" {
		t.Errorf("the printed token is not the stored one: %+v", got)
	}
	r = queued(t, path, "", "token", "-list")
	expect(r, "booking-site")
	if !strings.Contains(r.stdout, "tickets,bookings") || strings.Contains(r.stdout, secret) {
		t.Errorf("token -list:\n%s", r.stdout)
	}
	expect(queued(t, path, "", "token", "-remove", "booking-site"), "removed token booking-site")
	expect(queued(t, path, "", "user", "remove", "olena"), "removed account olena")
	r = queued(t, path, "", "user", "list")
	if strings.Contains(r.stdout, "olena") || !strings.Contains(r.stdout, "root") {
		t.Errorf("after remove:\n%s", r.stdout)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o", fi.Mode().Perm())
	}
}

func TestCommandErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	if r := queued(t, path, testPassword, "user", "add", "olena", "-role", "operator"); r.code != 0 {
		t.Fatal(r)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no role", testPassword, []string{"user", "add", "ivan"}, "-role is required"},
		{"bad role", testPassword, []string{"user", "add", "ivan", "-role", "boss"}, `bad role "boss": expected operator, supervisor or admin`},
		{"bad name", testPassword, []string{"user", "add", "Іван", "-role", "operator"}, "use 1–32 lowercase letters"},
		{"short password", "short\n", []string{"user", "add", "ivan", "-role", "operator"}, "has 5 characters; use at least 10"},
		{"no password", "", []string{"user", "add", "ivan", "-role", "operator", "-password-stdin"}, "one line on stdin"},
		{"exists", testPassword, []string{"user", "add", "olena", "-role", "operator"}, "account olena exists"},
		{"bad windows", testPassword, []string{"user", "add", "ivan", "-role", "operator", "-windows", "1,x"}, "-windows takes numbers"},
		{"unknown flag", "", []string{"user", "add", "ivan", "-rol", "operator"}, "flag provided but not defined: -rol (see queued user add -h)"},
		{"two names", "", []string{"user", "remove", "a", "b"}, "give one account NAME"},
		{"no such account", "", []string{"user", "remove", "ivan"}, "no such account: ivan"},
		{"passwd nobody", testPassword, []string{"user", "passwd", "ivan"}, "no such account"},
		{"set nothing", "", []string{"user", "set", "olena"}, "nothing to change"},
		{"unknown subcommand", "", []string{"user", "rename", "olena"}, "expected add, passwd, set, remove or list"},
		{"token without scope", "", []string{"token", "-name", "site"}, "give both -name NAME and -scope SCOPES"},
		{"token bad scope", "", []string{"token", "-name", "site", "-scope", "tickets,all"}, `bad scope "all"`},
		{"token two modes", "", []string{"token", "-list", "-remove", "x"}, "give one of"},
		{"remove no token", "", []string{"token", "-remove", "x"}, "no such token: x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := queued(t, path, tc.stdin, tc.args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q", r.code, r.stdout)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "access: ") {
				t.Errorf("stderr %q: expected one line saying %q", r.stderr, tc.want)
			}
		})
	}
}

func TestCommandHelp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"user", "add", "-h"}, "usage: queued user add NAME", "passwd"},
		{[]string{"user", "passwd", "-h"}, "usage: queued user passwd NAME", "-role"},
		{[]string{"user", "list", "-help"}, "usage: queued user list", "add"},
		{[]string{"user", "-h"}, "queued user remove NAME", "token"},
		{[]string{"token", "-h"}, "usage: queued token -name NAME", "user"},
	} {
		r := queued(t, path, "", tc.args...)
		if r.code != 0 || !strings.Contains(r.stdout, tc.want) || strings.Contains(r.stdout, tc.not) || r.stderr != "" {
			t.Errorf("%v: exit %d\n%s%s", tc.args, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("help wrote the accounts file")
	}
}

// On a terminal the password is asked twice, without echo.
func TestCommandPasswordFromTerminal(t *testing.T) {
	for _, tc := range []struct {
		name, typed string
		code        int
		want        string
	}{
		{"same twice", testPassword + "\n" + testPassword + "\n", 0, "added operator olena"},
		{"different", testPassword + "\n" + "another password\n", 2, "the two passwords differ"},
		{"short", "short\n", 2, "use at least 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ptm, tty, err := pty.Open()
			if err != nil {
				t.Skip("no pseudo-terminal here:", err)
			}
			defer ptm.Close()
			defer tty.Close()
			go io.Copy(io.Discard, ptm) // whatever the terminal shows
			if _, err := ptm.WriteString(tc.typed); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "access.json")
			var out, errOut bytes.Buffer
			code := runCommand([]string{"user", "add", "olena", "-role", "operator"}, tty, &out, &errOut, path,
				StoreOptions{HashParams: testHash})
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; expected %d saying %q", code, out.String(), errOut.String(), tc.code, tc.want)
			}
			if !strings.Contains(errOut.String(), "new password for olena: ") {
				t.Errorf("no prompt: %q", errOut.String())
			}
		})
	}
}

func TestConfigFlag(t *testing.T) {
	for _, c := range []struct {
		args     []string
		want     string
		wantRest string
	}{
		{[]string{"add", "olena", "-role", "operator"}, "def.yaml", "add olena -role operator"},
		{[]string{"add", "-config", "a.yaml", "olena"}, "a.yaml", "add olena"},
		{[]string{"list", "--config=b.yaml"}, "b.yaml", "list"},
		{[]string{"list", "-config"}, "def.yaml", "list -config"}, // no value: left for Command to refuse
	} {
		got, rest := ConfigFlag(c.args, "def.yaml")
		if got != c.want || strings.Join(rest, " ") != c.wantRest {
			t.Errorf("ConfigFlag(%q) = %q, %q; want %q, %q", c.args, got, rest, c.want, c.wantRest)
		}
	}
}
