package terminal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi/auth"
	"github.com/cherga/kiosk/queue/queuetest"
)

// adminCall is one request to an admin listener and its answer.
type adminCall struct {
	status int
	header http.Header
	body   []byte
}

func (a adminCall) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// adminDo sends method path to base with body (JSON) and the headers
// given as name, value pairs.
func adminDo(t *testing.T, c *http.Client, method, url, body string, headers ...string) adminCall {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return adminCall{status: resp.StatusCode, header: resp.Header, body: b}
}

// cheapHash is an admin password hash cheap to check in tests.
func cheapHash(t *testing.T, password string) string {
	t.Helper()
	h, err := cheapHashF(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func cheapHashF(password string) (string, error) {
	return auth.HashPassword(password, auth.HashParams{Memory: 64, Time: 1, Threads: 1})
}

type adminStatusReply struct {
	Device  string `json:"device"`
	Printer bool   `json:"printer"`
	Speaker bool   `json:"speaker"`
	Devices []struct {
		Name        string `json:"name"`
		State       string `json:"state"`
		Reopens     int    `json:"reopens"`
		Restartable bool   `json:"restartable"`
	} `json:"devices"`
	Paper *struct {
		UsedM float64 `json:"used_m"`
	} `json:"paper"`
	Scans []struct {
		Kind   string `json:"kind"`
		Result string `json:"result"`
		Code   string `json:"code"`
	} `json:"scans"`
	Link struct {
		State          string    `json:"state"`
		ConnectedSince time.Time `json:"connected_since"`
	} `json:"link"`
	Outbox struct {
		Events int `json:"events"`
	} `json:"outbox"`
}

func (s adminStatusReply) reopens(name string) int {
	for _, d := range s.Devices {
		if d.Name == name {
			return d.Reopens
		}
	}
	return -1
}

// The admin listener on loopback, against a whole terminal: every route's
// JSON, the Host and origin checks, the security headers, a device
// restarted through its supervise loop, a test print on the simulated
// printer, the speaker test in the hall's audio, masked scans and a
// masked configuration.
func TestAdminLoopback(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	hash := cheapHash(t, "a technician's secret")
	r := startTerminal(t, clock, office, "admin:\n  listen: 127.0.0.1:8081\n  password_hash: \""+hash+"\"\n")
	base := "http://" + r.admin

	// A booking code scanned: the page shows it masked.
	const code = "1234-5678-9012"
	if a := adminDo(t, nil, "POST", "http://"+r.addr+"/api/v1/sim/scan", `{"code":"`+code+`"}`, "Origin", "http://"+r.addr); a.status/100 != 2 {
		t.Fatalf("scan: %d %s", a.status, a.body)
	}
	var st adminStatusReply
	eventually(t, "the scan's outcome", func() bool {
		a := adminDo(t, nil, "GET", base+"/api/v1/admin/status", "")
		if a.status != http.StatusOK {
			t.Fatalf("status: %d %s", a.status, a.body)
		}
		if bytes.Contains(a.body, []byte("5678")) || bytes.Contains(a.body, []byte("123456789012")) {
			t.Fatalf("the status shows the booking code: %s", a.body)
		}
		st = adminStatusReply{}
		a.json(t, &st)
		return len(st.Scans) == 1 && st.Scans[0].Result != scanPending
	})
	if s := st.Scans[0]; s.Kind != scanBooking || s.Code != "12…2" || s.Result != scanRefused {
		t.Errorf("scan %+v", s)
	}
	if st.Device != "demo-01" || !st.Printer || !st.Speaker || st.Paper == nil || st.Link.State != "up" || st.Link.ConnectedSince.IsZero() {
		t.Errorf("status %+v", st)
	}
	if st.reopens("printer") < 0 {
		t.Fatalf("no printer in %+v", st.Devices)
	}
	for _, d := range st.Devices {
		if d.Name == "printer" && !d.Restartable {
			t.Error("the printer is supervised but not restartable")
		}
	}

	// Every answer carries the security headers.
	a := adminDo(t, nil, "GET", base+"/admin/", "")
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`src="/admin/admin.js"`)) {
		t.Fatalf("GET /admin/: %d %s", a.status, a.body)
	}
	for k, want := range map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer"} {
		if !strings.Contains(a.header.Get(k), want) {
			t.Errorf("%s: %q", k, a.header.Get(k))
		}
	}
	if !strings.Contains(a.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP %q", a.header.Get("Content-Security-Policy"))
	}

	// The outbox, and a bad n.
	var ob struct {
		Events int `json:"events"`
		Shown  int `json:"shown"`
		Items  []struct {
			Seq    uint64 `json:"seq"`
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"items"`
	}
	a = adminDo(t, nil, "GET", base+"/api/v1/admin/outbox?n=5", "")
	a.json(t, &ob)
	if a.status != http.StatusOK || ob.Shown != len(ob.Items) || ob.Shown > 5 {
		t.Errorf("outbox %d %s", a.status, a.body)
	}
	for _, it := range ob.Items {
		if it.Seq == 0 || it.Type == "" || it.Reason != reasonAwaiting {
			t.Errorf("outbox item %+v with the link up", it)
		}
	}
	if a = adminDo(t, nil, "GET", base+"/api/v1/admin/outbox?n=lots", ""); a.status != http.StatusBadRequest || !bytes.Contains(a.body, []byte(`"bad_n"`)) {
		t.Errorf("n=lots: %d %s", a.status, a.body)
	}

	// The configuration, its secret masked.
	a = adminDo(t, nil, "GET", base+"/api/v1/admin/config", "")
	var cfg struct {
		Config map[string]any `json:"config"`
	}
	a.json(t, &cfg)
	salt := strings.Split(hash, "$")[4]
	if a.status != http.StatusOK || bytes.Contains(a.body, []byte(salt)) || !bytes.Contains(a.body, []byte(`"password_hash":"••• (set)"`)) ||
		cfg.Config["device_id"] != "demo-01" {
		t.Errorf("config %d %s", a.status, a.body)
	}

	// A foreign Host (DNS rebinding) is refused, with the headers still.
	a = adminDo(t, nil, "GET", base+"/api/v1/admin/status", "", "Host", "evil.example:8081")
	if a.status != http.StatusMisdirectedRequest || a.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("foreign Host: %d %s", a.status, a.body)
	}
	// The kiosk page, another origin, cannot drive it.
	kiosk := "http://" + r.addr
	for _, h := range [][]string{
		{"Origin", kiosk, "Sec-Fetch-Site", "cross-site"},
		{"Origin", kiosk, "Sec-Fetch-Site", "same-site"},
		{"Origin", kiosk},
	} {
		a = adminDo(t, nil, "POST", base+"/api/v1/admin/printer/test", "{}", h...)
		if a.status != http.StatusForbidden || !bytes.Contains(a.body, []byte(`"forbidden_origin"`)) {
			t.Errorf("cross-origin POST %v: %d %s", h, a.status, a.body)
		}
	}
	// The main listener no longer serves /metrics.
	if a = adminDo(t, nil, "GET", kiosk+"/metrics", ""); a.status != http.StatusNotFound {
		t.Errorf("main listener /metrics: %d", a.status)
	}

	// A restart closes and reopens the printer through its loop.
	before := st.reopens("printer")
	same := []string{"Origin", base, "Sec-Fetch-Site", "same-origin"}
	a = adminDo(t, nil, "POST", base+"/api/v1/admin/devices/printer/restart", "{}", same...)
	if a.status != http.StatusAccepted {
		t.Fatalf("restart: %d %s", a.status, a.body)
	}
	eventually(t, "the printer reopened", func() bool {
		var s adminStatusReply
		adminDo(t, nil, "GET", base+"/api/v1/admin/status", "").json(t, &s)
		return s.reopens("printer") > before
	})
	if a = adminDo(t, nil, "POST", base+"/api/v1/admin/devices/printer/restart", "{}", same...); a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Errorf("a second restart at once: %d %s", a.status, a.body)
	}
	if a = adminDo(t, nil, "POST", base+"/api/v1/admin/devices/no-such/restart", ""); a.status != http.StatusNotFound {
		t.Errorf("unknown device: %d %s", a.status, a.body)
	}
	if a = adminDo(t, nil, "POST", base+"/api/v1/admin/devices/audio/restart", ""); a.status != http.StatusConflict {
		t.Errorf("a device without a loop: %d %s", a.status, a.body)
	}

	// The test print reaches the simulated printer, once per 5 s.
	sim := r.term.kioskPart().sim
	eventually(t, "the printer ready again", func() bool { return r.term.kioskPart().prn.Status().State == "ok" })
	n := sim.Count()
	if a = adminDo(t, nil, "POST", base+"/api/v1/admin/printer/test", ""); a.status != http.StatusOK {
		t.Fatalf("test print: %d %s", a.status, a.body)
	}
	if sim.Count() != n+1 {
		t.Errorf("the simulated printer cut %d tickets, expected %d", sim.Count(), n+1)
	}
	if a = adminDo(t, nil, "POST", base+"/api/v1/admin/printer/test", ""); a.status != http.StatusTooManyRequests {
		t.Errorf("a second test print at once: %d %s", a.status, a.body)
	}

	// The speaker test plays in the hall's audio (WAV files here).
	if a = adminDo(t, nil, "POST", base+"/api/v1/admin/speaker/test", ""); a.status != http.StatusOK {
		t.Fatalf("speaker test: %d %s", a.status, a.body)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "announcements", "speaker-test.wav")); err != nil {
		t.Errorf("no test phrase written: %v", err)
	}
	var sess map[string]any
	adminDo(t, nil, "GET", base+"/api/v1/admin/session", "").json(t, &sess)
	if sess["password_required"] != false || sess["signed_in"] != true {
		t.Errorf("session on loopback: %v", sess)
	}
}

// A terminal with no printer and no hall answers 409 to the tests.
func TestAdminNoPrinterNoSpeaker(t *testing.T) {
	p := &adminPart{t: &Terminal{clock: clockwork.NewFakeClock()}, tests: newActionLimit(clockwork.NewFakeClock(), adminActionEvery)}
	for path, h := range map[string]http.HandlerFunc{"printer": p.handlePrinterTest, "speaker": p.handleSpeakerTest} {
		req, _ := http.NewRequest("POST", "/api/v1/admin/"+path+"/test", nil)
		w := &recorder{header: http.Header{}}
		h(w, req)
		if w.status != http.StatusConflict || !strings.Contains(w.body.String(), `"no_`+path+`"`) {
			t.Errorf("%s: %d %s", path, w.status, w.body.String())
		}
	}
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(s int)           { r.status = s }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// Off loopback, a password and TLS are required, and kioskd -check says so.
func TestAdminConfigOffLoopback(t *testing.T) {
	demo, err := os.ReadFile("../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseConfig("demo.yaml", append(demo, []byte("admin:\n  listen: 0.0.0.0:8081\n")...))
	for _, want := range []string{"admin.password_hash", "admin.tls_cert", "kioskctl admin hash-password"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfig: %v, expected %q", err, want)
		}
	}
	cfg, err := ParseConfig("demo.yaml", demo)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Admin = configs.Admin{Listen: "10.0.0.5:8081"}
	if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "admin.password_hash") || !strings.Contains(err.Error(), "admin.tls_cert") {
		t.Errorf("CheckConfig: %v", err)
	}
	cfg.Admin = configs.Admin{Listen: "10.0.0.5:8081", PasswordHash: "hunter2", TLSCert: "a.crt", TLSKey: "a.key"}
	if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "admin.password_hash: bad password hash") {
		t.Errorf("CheckConfig of a clear password: %v", err)
	}
	if _, err := New(cfg, Env{}); err == nil {
		t.Error("New took a clear password")
	}
	cfg.Admin = configs.Admin{Listen: "127.0.0.1:8081"}
	if err := CheckConfig(cfg); err != nil {
		t.Errorf("loopback: %v", err)
	}
}

// testCert writes a self-signed certificate for 127.0.0.1 and its key
// (mode keyMode) to dir.
func testCert(t *testing.T, dir string, keyMode os.FileMode) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kioskd admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), keyMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, keyMode); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Off loopback, over TLS: sign-in, the session cookie, the CSRF token on
// every POST, the idle timeout, and the lockout after wrong passwords,
// all on the terminal's clock.
func TestAdminTLSLogin(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	certFile, keyFile, pool := testCert(t, t.TempDir(), 0o600)
	const password = "correct horse battery staple"
	adminYAML := "admin:\n  listen: 0.0.0.0:8081\n  password_hash: \"" + cheapHash(t, password) + "\"\n  tls_cert: " + certFile + "\n  tls_key: " + keyFile + "\n"
	r := startTerminal(t, clock, office, adminYAML)
	base := "https://" + r.admin
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(c.CloseIdleConnections)

	if a := adminDo(t, c, "GET", base+"/api/v1/admin/status", ""); a.status != http.StatusUnauthorized {
		t.Fatalf("status without a session: %d %s", a.status, a.body)
	}
	if a := adminDo(t, c, "GET", base+"/admin/", ""); a.status != http.StatusOK {
		t.Errorf("the page itself: %d", a.status)
	}
	if a := adminDo(t, c, "POST", base+"/admin/login", `{"password":"wrong"}`); a.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", a.status, a.body)
	}
	a := adminDo(t, c, "POST", base+"/admin/login", `{"password":"`+password+`"}`)
	if a.status != http.StatusOK {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	var login struct {
		CSRF string `json:"csrf"`
	}
	a.json(t, &login)
	cookie := a.header.Get("Set-Cookie")
	for _, want := range []string{adminCookie + "=", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if a = adminDo(t, c, "GET", base+"/api/v1/admin/status", ""); a.status != http.StatusOK {
		t.Fatalf("status signed in: %d %s", a.status, a.body)
	}
	var sess map[string]any
	adminDo(t, c, "GET", base+"/api/v1/admin/session", "").json(t, &sess)
	if sess["csrf"] != login.CSRF || sess["password_required"] != true {
		t.Errorf("session %v", sess)
	}
	if a = adminDo(t, c, "POST", base+"/api/v1/admin/printer/test", ""); a.status != http.StatusForbidden || !bytes.Contains(a.body, []byte(`"csrf"`)) {
		t.Errorf("POST without the CSRF token: %d %s", a.status, a.body)
	}
	if a = adminDo(t, c, "POST", base+"/api/v1/admin/printer/test", "", adminCSRFHeader, "forged"); a.status != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token: %d %s", a.status, a.body)
	}
	if a = adminDo(t, c, "POST", base+"/api/v1/admin/printer/test", "", adminCSRFHeader, login.CSRF); a.status != http.StatusOK {
		t.Errorf("POST with the CSRF token: %d %s", a.status, a.body)
	}
	// The wrong password was counted; /metrics answers a local scraper.
	a = adminDo(t, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, "GET", base+"/metrics", "")
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte("cherga_kioskd_admin_login_failures_total 1\n")) {
		t.Errorf("metrics: %d %s", a.status, chergaLines(string(a.body)))
	}

	// A session unused for the idle timeout ends.
	clock.Advance(adminIdle)
	if a = adminDo(t, c, "GET", base+"/api/v1/admin/status", ""); a.status != http.StatusUnauthorized {
		t.Errorf("after the idle timeout: %d", a.status)
	}

	// Wrong passwords lock the address out, with Retry-After; the lockout
	// ends on the terminal's clock.
	for i := range auth.MaxFailures { // the sign-in cleared the earlier failure
		if a = adminDo(t, c, "POST", base+"/admin/login", `{"password":"guess"}`); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, a.status, a.body)
		}
	}
	a = adminDo(t, c, "POST", base+"/admin/login", `{"password":"`+password+`"}`)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "60" {
		t.Errorf("locked out: %d %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	clock.Advance(auth.FirstLockout)
	if a = adminDo(t, c, "POST", base+"/admin/login", `{"password":"`+password+`"}`); a.status != http.StatusOK {
		t.Errorf("after the lockout: %d %s", a.status, a.body)
	}
	// Plain HTTP on the TLS port is not served.
	if resp, err := http.Get("http://" + r.admin + "/api/v1/admin/status"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered")
		}
	}
}

// A TLS key others may read is refused, with the chmod that fixes it.
func TestAdminKeyModeRefused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := testCert(t, dir, 0o644)
	demo, err := os.ReadFile("../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(demo), "data_dir: var/demo-01", "data_dir: "+filepath.Join(dir, "data"), 1) +
		"admin:\n  listen: 0.0.0.0:8081\n  password_hash: \"" + cheapHash(t, "x") + "\"\n  tls_cert: " + certFile + "\n  tls_key: " + keyFile + "\n"
	cfg, err := ParseConfig("demo.yaml", []byte(withoutBuses(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, Env{})
	if err == nil || !strings.Contains(err.Error(), "admin.tls_key") || !strings.Contains(err.Error(), "chmod 600 "+keyFile) {
		t.Errorf("New: %v", err)
	}
}

func TestMaskCode(t *testing.T) {
	for code, want := range map[string]string{"AB12345679": "AB…9", "123456789012": "12…2", "12345": "…", "": "…", "ЖЖЖЖЖЖ": "ЖЖ…Ж"} {
		if got := maskCode(code); got != want {
			t.Errorf("maskCode(%q) = %q, want %q", code, got, want)
		}
	}
}
