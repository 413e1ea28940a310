package cityd

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
)

func putStatus(t testing.TB, db *city.DB, s city.Status) {
	t.Helper()
	if err := db.PutStatus(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestStatusAPI(t *testing.T) {
	f := newFixture(t, []string{"podil", "obolon"})
	for _, o := range []struct{ id, name string }{{"darnytsia", "ЦНАП Дарниця"}, {"obolon", "ЦНАП Оболонь"}, {"podil", "ЦНАП Поділ"}} {
		register(t, f.db, o.id, o.name)
	}
	names := groupNames(2)
	putStatus(t, f.db, city.Status{Office: "podil", At: f.clock.Now(), Open: true, WindowsOpen: 3,
		Waiting: map[string]int{"g00": 7, "g01": 0}, WaitMinutes: map[string]int{"g00": 25, "g01": 0}, GroupNames: names, LastSeq: 10})
	putStatus(t, f.db, city.Status{Office: "obolon", At: f.clock.Now(), Open: false,
		Waiting: map[string]int{}, WaitMinutes: map[string]int{}, GroupNames: names})

	resp := f.get("/api/v1/city/status", "", "Origin", "https://news.example")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp))
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q, want *", got)
	}
	body := readAll(t, resp)
	var st CityStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range st.Offices {
		ids = append(ids, o.ID)
	}
	if strings.Join(ids, ",") != "podil,obolon,darnytsia" {
		t.Fatalf("offices in order %v, want the configured order then the rest by id", ids)
	}
	p, o, d := st.Offices[0], st.Offices[1], st.Offices[2]
	if !p.Reported || !p.Open || p.WindowsOpen != 3 || p.Waiting != 7 || p.WaitMin != 25 || p.Stale || p.StatusAt == nil {
		t.Errorf("podil %+v", p)
	}
	if p.Name.UK != "ЦНАП Поділ" || p.Name.EN != "Centre podil" {
		t.Errorf("podil's name %+v", p.Name)
	}
	if len(p.Groups) != 2 || p.Groups[0].ID != "g00" || p.Groups[0].Waiting != 7 || p.Groups[0].WaitMin != 25 ||
		p.Groups[0].Name.UK != names["g00"]["uk"] || p.Groups[1].Waiting != 0 {
		t.Errorf("podil's groups %+v", p.Groups)
	}
	if !o.Reported || o.Open || o.Waiting != 0 {
		t.Errorf("obolon %+v", o)
	}
	if d.Reported || !d.Stale || d.StatusAt != nil || len(d.Groups) != 0 {
		t.Errorf("darnytsia, which never sent a status: %+v", d)
	}
	if st.StaleAfterS != 60 || st.Timezone != "Europe/Kyiv" {
		t.Errorf("stale_after_s %d, timezone %q", st.StaleAfterS, st.Timezone)
	}

	// A minute without news: stale, with its age.
	f.clock.Advance(61 * time.Second)
	if err := json.Unmarshal([]byte(readAll(t, f.get("/api/v1/city/status", ""))), &st); err != nil {
		t.Fatal(err)
	}
	if p := st.Offices[0]; !p.Stale || p.AgeS < 60 || p.AgeS > 120 {
		t.Errorf("podil after 61 s: stale %v, age %d s", p.Stale, p.AgeS)
	}

	// The preflight of a page of another site; nothing but GET.
	req, _ := http.NewRequest(http.MethodOptions, f.http.URL+"/api/v1/city/status", nil)
	req.Header.Set("Origin", "https://news.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" || pre.Header.Get("Access-Control-Allow-Methods") != "GET" {
		t.Errorf("preflight %d %v", pre.StatusCode, pre.Header)
	}
	// The stats are not for other sites' pages.
	if got := f.get("/api/v1/city/stats", "stats", "Origin", "https://news.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("stats with Access-Control-Allow-Origin %q", got)
	}
}

func TestStatusDatabaseDown(t *testing.T) {
	f := newFixture(t, nil)
	f.db.Close()
	resp := f.get("/api/v1/city/status", "")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("database closed: %d %s", resp.StatusCode, body)
	}
	if resp := f.get("/healthz", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with the database closed: %d", resp.StatusCode)
	}
}

func TestHostAndOrigin(t *testing.T) {
	f := newFixture(t, nil)
	if resp := f.get("/api/v1/city/status", "", "Host", "evil.example"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(readAll(t, resp), `"code":"bad_host"`) {
		t.Errorf("a foreign Host: %d", resp.StatusCode)
	}
	if resp := f.get("/api/v1/city/status", "", "Host", "city.example"); resp.StatusCode != http.StatusOK {
		t.Errorf("a configured name: %d", resp.StatusCode)
	}
	// Signing in from another site's page is refused.
	req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/api/v1/login", strings.NewReader(`{"name":"x","password":"y"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(readAll(t, resp), "cross_origin") {
		t.Errorf("a cross-site sign-in: %d", resp.StatusCode)
	}
	// The page: its own scripts only.
	resp = f.get("/", "")
	csp := resp.Header.Get("Content-Security-Policy")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("page %d, CSP %q", resp.StatusCode, csp)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Error("the page has an inline script or style")
	}
}

// One answer a second serves every phone asking meanwhile.
func TestStatusCache(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.status.ttl = time.Second // the fixture's is off
	register(t, f.db, "podil", "ЦНАП Поділ")
	waiting := func() int {
		var st CityStatus
		if err := json.Unmarshal([]byte(readAll(t, f.get("/api/v1/city/status", ""))), &st); err != nil {
			t.Fatal(err)
		}
		return st.Offices[0].Waiting
	}
	put := func(n int) {
		putStatus(t, f.db, city.Status{Office: "podil", At: time.Now(), Open: true, Waiting: map[string]int{"g00": n}, WaitMinutes: map[string]int{}, GroupNames: groupNames(1)})
	}
	put(1)
	if n := waiting(); n != 1 {
		t.Fatalf("waiting %d", n)
	}
	put(2)
	f.clock.Advance(999 * time.Millisecond)
	if n := waiting(); n != 1 {
		t.Errorf("within the second: %d, want the cached 1", n)
	}
	f.clock.Advance(time.Millisecond)
	if n := waiting(); n != 2 {
		t.Errorf("after the second: %d, want 2", n)
	}
}
