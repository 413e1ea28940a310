package packaging_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// needTool finds a tool scripts/test-deps.sh installs (or Debian has):
// missing, the test fails in CI and is skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: run scripts/test-deps.sh", name)
		}
		t.Skipf("%s missing: run scripts/test-deps.sh", name)
	}
	return p
}

// run runs a command and returns its standard output; it fails the test
// with both outputs unless the command exits 0.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// goEnv is the environment that lets scripts/package.sh find the go
// command this test was built by.
func goEnv(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err == nil {
		return nil
	}
	if g := os.Getenv("GOROOT"); g != "" {
		return []string{"PATH=" + filepath.Join(g, "bin") + string(os.PathListSeparator) + os.Getenv("PATH")}
	}
	t.Fatal("go is not on PATH")
	return nil
}

// build makes the amd64 package of VERSION into an empty dir and returns
// its path.
func build(t *testing.T, dir, version string) string {
	t.Helper()
	env := append(goEnv(t), "ARCHS=amd64", "DIST="+dir, "VERSION="+version)
	cmd := exec.Command("../scripts/package.sh")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool {
		return strings.HasPrefix(e, "DEB_VERSION=") || strings.HasPrefix(e, "DEB_RELEASE=")
	}), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/package.sh (VERSION=%s): %v\n%s", version, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "cherga_*_amd64.deb"))
	if len(debs) != 1 {
		t.Fatalf("scripts/package.sh made %v in %s, want one cherga_VERSION_amd64.deb", debs, dir)
	}
	deb := debs[0]
	if _, err := os.Stat(filepath.Join(dir, "stage")); !os.IsNotExist(err) {
		t.Errorf("scripts/package.sh left its stage directory in %s", dir)
	}
	return deb
}

// The package's version comes from git describe, Debian-valid and in the
// order of the commits: untagged snapshots before any release, a release
// candidate before its release, commits after a tag after it.
func TestDebianVersion(t *testing.T) {
	dpkg := needTool(t, "dpkg")
	cases := []struct{ describe, want string }{
		{"149f9b8", `0\.0~git[0-9]{14}\.149f9b8-1`},
		{"149f9b8-dirty", `0\.0~git[0-9]{14}\.149f9b8\+dirty-1`},
		{"v1.2.0-rc1", `1\.2\.0~rc1-1`},
		{"v1.2.0", `1\.2\.0-1`},
		{"v1.2.0-5-gabc1234", `1\.2\.0\+git[0-9]{14}\.abc1234-1`},
		{"v1.2.0-5-gabc1234-dirty", `1\.2\.0\+git[0-9]{14}\.abc1234\+dirty-1`},
	}
	var got []string
	for _, c := range cases {
		v := strings.TrimSpace(run(t, []string{"VERSION=" + c.describe, "DEB_VERSION=", "DEB_RELEASE="},
			"../scripts/package.sh", "-print-version"))
		if !regexp.MustCompile("^" + c.want + "$").MatchString(v) {
			t.Errorf("VERSION=%s: package version %q, want %s", c.describe, v, c.want)
		}
		got = append(got, v)
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("%s does not sort before %s", a, b)
		}
	}
}

// v2 is the upgrade's VERSION.
const v2 = "v1.0.0-3-g149f9b8-dirty"

// files every package holds (dpkg-deb -c), beside the sample forms and
// the examples, which are checked against configs/.
var files = []string{
	"/usr/bin/kioskd", "/usr/bin/queued", "/usr/bin/kioskctl", "/usr/bin/cityd",
	"/usr/libexec/cherga/kiosk-browser.sh",
	"/usr/lib/systemd/system/kioskd.service", "/usr/lib/systemd/system/queued.service",
	"/usr/lib/systemd/system/cityd.service", "/usr/lib/systemd/system/kiosk-browser.service",
	"/usr/lib/udev/rules.d/99-cherga.rules",
	"/usr/lib/sysusers.d/cherga.conf", "/usr/lib/tmpfiles.d/cherga.conf",
	"/etc/kioskd/kioskd.yaml", "/etc/queued/office.yaml", "/etc/cityd/city.yaml",
	"/usr/share/cherga/chromium/kiosk.json",
	"/usr/share/doc/cherga/copyright", "/usr/share/doc/cherga/changelog.Debian.gz",
	"/usr/share/doc/cherga/install.md", "/usr/share/doc/cherga/kiosk-browser.md",
	"/usr/share/man/man1/kioskd.1.gz", "/usr/share/man/man1/queued.1.gz", "/usr/share/man/man1/kioskctl.1.gz",
	"/usr/share/man/man1/cityd.1.gz",
	"/usr/share/lintian/overrides/cherga",
}

// The package holds every file where Debian wants it, its control fields
// and conffiles are right, its programs are static, carry the version and
// take its configurations, and lintian finds nothing it does not override.
// Then it goes through dpkg --root: install, upgrade, remove and purge keep
// the data, and an edited configuration until the purge.
func TestDebianPackage(t *testing.T) {
	dpkgDeb := needTool(t, "dpkg-deb")
	dpkg := needTool(t, "dpkg")
	lintian := needTool(t, "lintian")
	needTool(t, "systemd-sysusers")
	needTool(t, "systemd-tmpfiles")

	deb := build(t, t.TempDir(), "v1.0.0")
	if filepath.Base(deb) != "cherga_1.0.0-1_amd64.deb" {
		t.Errorf("the package is %s, want cherga_1.0.0-1_amd64.deb", filepath.Base(deb))
	}

	// Contents: path → "mode owner".
	listing := run(t, nil, dpkgDeb, "-c", deb)
	entries := map[string]string{}
	for line := range strings.Lines(listing) {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
		entries[p] = f[0] + " " + f[1]
		if strings.HasPrefix(p, "/usr/local") || strings.HasPrefix(p, "/var/") {
			t.Errorf("the package installs %s", p)
		}
		if f[1] != "root/root" {
			t.Errorf("%s is owned by %s", p, f[1])
		}
	}
	want := slices.Clone(files)
	forms, _ := filepath.Glob("../configs/forms/*")
	for _, f := range forms {
		want = append(want, "/etc/queued/forms/"+filepath.Base(f))
	}
	examples, _ := filepath.Glob("../configs/*.yaml")
	for _, f := range examples {
		want = append(want, "/usr/share/doc/cherga/examples/"+filepath.Base(f))
	}
	if len(forms) == 0 || len(examples) == 0 {
		t.Fatal("no configs/forms/* or configs/*.yaml")
	}
	for _, p := range want {
		e, ok := entries[p]
		switch {
		case !ok:
			t.Errorf("the package has no %s", p)
		case strings.HasPrefix(p, "/usr/bin/") || strings.HasPrefix(p, "/usr/libexec/"):
			if !strings.HasPrefix(e, "-rwxr-xr-x") {
				t.Errorf("%s: %s, want -rwxr-xr-x", p, e)
			}
		case !strings.HasPrefix(e, "-rw-r--r--"):
			t.Errorf("%s: %s, want -rw-r--r--", p, e)
		}
	}
	for p, e := range entries {
		if e[0] == '-' && !slices.Contains(want, p) {
			t.Errorf("the package has %s, which this test does not know", p)
		}
	}

	// Control fields and conffiles.
	for field, want := range map[string]string{
		"Package": "cherga", "Version": "1.0.0-1", "Architecture": "amd64",
		"Depends": "adduser", "Recommends": "systemd",
	} {
		if got := strings.TrimSpace(run(t, nil, dpkgDeb, "-f", deb, field)); got != want {
			t.Errorf("control %s: %q, want %q", field, got, want)
		}
	}
	if m := strings.TrimSpace(run(t, nil, dpkgDeb, "-f", deb, "Maintainer")); !regexp.MustCompile(`^[^<>]+ <[^@<>]+@[^@<>]+\.[^@<>]+>$`).MatchString(m) {
		t.Errorf("Maintainer %q", m)
	}
	info := run(t, nil, dpkgDeb, "-I", deb)
	for _, s := range []string{"postinst", "prerm", "postrm", "conffiles", "md5sums", "Description: kiosk and queue-hardware controller"} {
		if !strings.Contains(info, s) {
			t.Errorf("dpkg-deb -I has no %s:\n%s", s, info)
		}
	}
	control := t.TempDir()
	run(t, nil, dpkgDeb, "-e", deb, control)
	conffiles, err := os.ReadFile(filepath.Join(control, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	wantConf := []string{"/etc/kioskd/kioskd.yaml", "/etc/queued/office.yaml", "/etc/cityd/city.yaml"}
	for _, f := range forms {
		wantConf = append(wantConf, "/etc/queued/forms/"+filepath.Base(f))
	}
	gotConf := strings.Fields(string(conffiles))
	slices.Sort(gotConf)
	slices.Sort(wantConf)
	if !slices.Equal(gotConf, wantConf) {
		t.Errorf("conffiles %v, want %v", gotConf, wantConf)
	}
	for p := range entries {
		if strings.HasPrefix(p, "/etc/") && entries[p][0] == '-' && !slices.Contains(gotConf, p) {
			t.Errorf("%s is not a conffile", p)
		}
	}

	// The programs: static, with the version, taking the installed
	// configurations (kioskd's names devices this machine has not: exit 1,
	// not 2 for an invalid file).
	tree := t.TempDir()
	run(t, nil, dpkgDeb, "-x", deb, tree)
	// A deb has no License field: nfpm.yaml's license (for other
	// packagers) is the installed copyright file's.
	nfpmConf, err := os.ReadFile("nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	copyright, err := os.ReadFile(filepath.Join(tree, "usr/share/doc/cherga/copyright"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^license: (\S+)$`).FindSubmatch(nfpmConf); m == nil ||
		!regexp.MustCompile(`(?m)^License: `+regexp.QuoteMeta(string(m[1]))+`$`).Match(copyright) {
		t.Errorf("nfpm.yaml's license (%q) is not the copyright file's License:", m)
	}
	for _, name := range []string{"kioskd", "queued", "kioskctl", "cityd"} {
		bin := filepath.Join(tree, "usr/bin", name)
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked", name)
			}
		}
		f.Close()
		arg := "-version"
		if name == "kioskctl" {
			arg = "version"
		}
		if out := run(t, nil, bin, arg); !strings.Contains(out, "1.0.0") {
			t.Errorf("%s %s: %q, want version 1.0.0", name, arg, out)
		}
	}
	run(t, nil, filepath.Join(tree, "usr/bin/queued"), "-check", "-config", filepath.Join(tree, "etc/queued/office.yaml"))
	office, err := os.ReadFile(filepath.Join(tree, "etc/queued/office.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^data_dir: /var/lib/queued$`).Match(office) {
		t.Error("the installed office.yaml's data_dir is not /var/lib/queued")
	}
	// cityd's: data_dir /var/lib/cityd and a database on this machine by its
	// socket, which -check takes (it does not connect); only the site's
	// own database is left to set.
	run(t, nil, filepath.Join(tree, "usr/bin/cityd"), "-check", "-config", filepath.Join(tree, "etc/cityd/city.yaml"))
	cityConf, err := os.ReadFile(filepath.Join(tree, "etc/cityd/city.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^data_dir: /var/lib/cityd$`).Match(cityConf) {
		t.Error("the installed city.yaml's data_dir is not /var/lib/cityd")
	}
	if !regexp.MustCompile(`(?m)^  dsn: "host=/run/postgresql dbname=city"$`).Match(cityConf) {
		t.Error("the installed city.yaml's database.dsn is not the local socket's")
	}
	err = exec.Command(filepath.Join(tree, "usr/bin/kioskd"), "-check", "-config", filepath.Join(tree, "etc/kioskd/kioskd.yaml")).Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Errorf("kioskd -check of the installed kioskd.yaml: %v, want exit 1 (devices missing)", err)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		run(t, nil, "sh", "-n", filepath.Join(control, s))
	}

	// lintian: errors and warnings fail, unless the package overrides them.
	cmd := exec.Command(lintian, "--fail-on", "error,warning", deb)
	out, err := cmd.CombinedOutput()
	if err != nil || regexp.MustCompile(`(?m)^[EW]: `).Match(out) {
		t.Errorf("lintian: %v\n%s", err, out)
	}

	// v2 as git describe names a later commit on a dirty tree.
	t.Run("dpkg-root", func(t *testing.T) { lifecycle(t, dpkg, deb, build(t, t.TempDir(), v2)) })
}

// lifecycle installs deb1 under dpkg --root (maintainer scripts run outside
// the root with DPKG_ROOT set), upgrades to deb2, removes and purges, and
// checks the user, the data directories, an edited conffile and a
// database along the way.
func lifecycle(t *testing.T, dpkg, deb1, deb2 string) {
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The system's users and groups (lp, dialout, audio, …), as a real
	// root has them; the test never writes the real ones.
	for _, f := range []string{"passwd", "group", "shadow", "gshadow"} {
		b, err := os.ReadFile(filepath.Join("/etc", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc", f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	at := func(p string) string { return filepath.Join(root, p) }
	dpkgRun := func(args ...string) string {
		t.Helper()
		return run(t, nil, dpkg, append([]string{"--root=" + root, "--force-script-chrootless",
			"--force-depends", "--force-confold", "--log=" + at("var/log/dpkg.log")}, args...)...)
	}
	status := func() string {
		t.Helper()
		out, _ := exec.Command(dpkg, "--root="+root, "-s", "cherga").Output()
		return string(out)
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(at(p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	dpkgRun("-i", deb1)
	if s := status(); !strings.Contains(s, "Status: install ok installed") || !strings.Contains(s, "Version: 1.0.0-1") {
		t.Fatalf("after install:\n%s", s)
	}
	// The user: no login, in the device groups; gpio made where missing.
	var uid string
	for line := range strings.Lines(read("etc/passwd")) {
		if f := strings.Split(strings.TrimSpace(line), ":"); f[0] == "cherga" {
			uid = f[2]
			if f[6] != "/usr/sbin/nologin" {
				t.Errorf("cherga's shell is %s", f[6])
			}
		}
	}
	if uid == "" {
		t.Fatal("no user cherga")
	}
	groups := read("etc/group")
	for _, g := range []string{"lp", "dialout", "input", "gpio", "audio"} {
		if !regexp.MustCompile(`(?m)^` + g + `:[^:]*:[0-9]+:(.*,)?cherga(,.*)?$`).MatchString(groups) {
			t.Errorf("cherga is not in group %s", g)
		}
	}
	for _, d := range []string{"var/lib/kioskd", "var/lib/queued", "var/lib/cityd"} {
		out := run(t, nil, "stat", "-c", "%a %u %g", at(d))
		if strings.Fields(out)[0] != "750" || strings.Fields(out)[1] != uid {
			t.Errorf("%s: %s, want 750 owned by cherga (%s)", d, out, uid)
		}
	}

	// The site's data and its edit of a conffile.
	const db = "var/lib/queued/queued.db"
	for p, s := range map[string]string{db: "the queue", "var/lib/queued/booking.key": "key", "var/lib/kioskd/kioskd.db": "outbox",
		"var/lib/cityd/access.json": "accounts"} {
		if err := os.WriteFile(at(p), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	edited := read("etc/queued/office.yaml") + "\n# edited by the site\n"
	if err := os.WriteFile(at("etc/queued/office.yaml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := func(when string, conf bool) {
		t.Helper()
		if read(db) != "the queue" || read("var/lib/queued/booking.key") != "key" || read("var/lib/kioskd/kioskd.db") != "outbox" ||
			read("var/lib/cityd/access.json") != "accounts" {
			t.Errorf("%s: the data changed", when)
		}
		_, err := os.Stat(at("etc/queued/office.yaml"))
		switch {
		case conf && err != nil:
			t.Errorf("%s: office.yaml gone", when)
		case conf && read("etc/queued/office.yaml") != edited:
			t.Errorf("%s: the site's edit of office.yaml was lost", when)
		case !conf && err == nil:
			t.Errorf("%s: office.yaml still there", when)
		}
	}

	dpkgRun("-i", deb2)
	if s := status(); !regexp.MustCompile(`Version: 1\.0\.0\+git[0-9]{14}\.149f9b8\+dirty-1\n`).MatchString(s) || !strings.Contains(s, "install ok installed") {
		t.Fatalf("after upgrade:\n%s", s)
	}
	kept("upgrade", true)
	if out := run(t, nil, at("usr/bin/queued"), "-version"); !strings.Contains(out, v2) {
		t.Errorf("after upgrade queued -version: %q", out)
	}

	dpkgRun("-r", "cherga")
	if s := status(); !strings.Contains(s, "deinstall ok config-files") {
		t.Errorf("after remove:\n%s", s)
	}
	if _, err := os.Stat(at("usr/bin/queued")); err == nil {
		t.Error("remove left /usr/bin/queued")
	}
	kept("remove", true)

	out := dpkgRun("-P", "cherga")
	if s := status(); s != "" {
		t.Errorf("after purge:\n%s", s)
	}
	kept("purge", false)
	if !strings.Contains(out, "/var/lib/queued is kept") || !strings.Contains(out, "/var/lib/cityd is kept") {
		t.Errorf("purge does not say the data is kept:\n%s", out)
	}
}
