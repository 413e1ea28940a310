package access

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestLoginSetsSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls        bool
		secureOpt  bool
		wantSecure bool
	}{
		{"plain HTTP", false, false, false},
		{"TLS", true, false, true},
		{"behind a TLS proxy", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffice(t, func(opts *Options) bool { opts.SecureCookies = tc.secureOpt; return tc.tls })
			o.addUser("olena", RoleOperator, 3)
			a := o.login("olena", testPassword)
			if a.status != http.StatusOK {
				t.Fatalf("%d %s", a.status, a.body)
			}
			c := a.cookie()
			if c == nil {
				t.Fatalf("no %s cookie in %v", CookieName, a.header)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != tc.wantSecure {
				t.Errorf("cookie %+v: expected HttpOnly, SameSite=Strict, Path=/, Secure=%v", c, tc.wantSecure)
			}
			if !validSessionID(c.Value) {
				t.Errorf("session id %q: expected 32 bytes of base64url", c.Value)
			}
			var got account
			if err := json.Unmarshal(a.body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Name != "olena" || got.DisplayName != "olena" || got.Role != RoleOperator || !slices.Equal(got.Windows, []int{3}) {
				t.Errorf("answer %s", a.body)
			}
			if cc := a.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			me := o.do("GET", "/api/v1/me", "", c)
			if me.status != http.StatusOK || me.json(t)["name"] != "olena" {
				t.Errorf("/me: %d %s", me.status, me.body)
			}
			// The database keeps the id's hash only.
			o.db.View(func(tx *bolt.Tx) error {
				return tx.Bucket(sessionsBucket).ForEach(func(k, v []byte) error {
					if strings.Contains(string(k)+string(v), c.Value) {
						t.Error("the session id is stored in the clear")
					}
					return nil
				})
			})
		})
	}
}

func TestBadLoginLooksTheSame(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	o.addUser("petro", RoleOperator)
	if err := o.store.UpdateUser("petro", func(u *User) { u.Disabled = true }); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, tc := range []struct{ name, password string }{
		{"olena", "wrong password here"},
		{"nobody", testPassword},
		{"petro", testPassword}, // disabled
	} {
		a := o.login(tc.name, tc.password)
		if a.status != http.StatusUnauthorized || a.code(t) != "bad_login" || a.cookie() != nil {
			t.Errorf("%s: %d %s", tc.name, a.status, a.body)
		}
		bodies = append(bodies, string(a.body))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("answers differ, telling which names exist: %q", bodies)
	}
	if a := o.login("OLENA", testPassword); a.status != http.StatusOK {
		t.Errorf("names are not case-sensitive at sign-in: %d %s", a.status, a.body)
	}
}

func TestLoginBodies(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	for _, tc := range []struct {
		name, body string
		status     int
		code, want string
	}{
		{"too large", `{"name":"olena","password":"` + strings.Repeat("x", 5000) + `"}`, 413, "body_too_large", "4096"},
		{"unknown field", `{"name":"olena","password":"x","remember":true}`, 400, "bad_request", `"remember"`},
		{"trailing data", `{"name":"olena","password":"x"} {"name":"b"}`, 400, "bad_request", "after the JSON"},
		{"trailing junk", `{"name":"olena","password":"x"}junk`, 400, "bad_request", "after the JSON"},
		{"name a number", `{"name":5,"password":"x"}`, 400, "bad_request", "name: expected a string"},
		{"password an object", `{"name":"olena","password":{}}`, 400, "bad_request", "password: expected a string"},
		{"array", `[]`, 400, "bad_request", "not a JSON object"},
		{"empty", ``, 400, "bad_request", "empty"},
		{"no password", `{"name":"olena"}`, 400, "bad_request", "password: missing"},
		{"null name", `{"name":null,"password":"x"}`, 400, "bad_request", "name: missing"},
		{"not JSON", `name=olena&password=x`, 400, "bad_request", "not JSON"},
		{"cut short", `{"name":"olena",`, 400, "bad_request", "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := o.do("POST", "/api/v1/login", tc.body, nil)
			if a.status != tc.status || a.code(t) != tc.code || !strings.Contains(a.message(t), tc.want) {
				t.Errorf("%d %s: expected %d %s saying %q", a.status, a.body, tc.status, tc.code, tc.want)
			}
		})
	}
}

func TestLoginLockout(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	o.addUser("petro", RoleOperator)
	fail := func(name string, want int) answer {
		t.Helper()
		a := o.login(name, "not the password")
		if a.status != want {
			t.Fatalf("%s: %d %s, expected %d", name, a.status, a.body, want)
		}
		return a
	}
	for range maxFailures {
		fail("olena", http.StatusUnauthorized)
	}
	// Locked out now, even with the right password.
	a := o.login("olena", testPassword)
	if a.status != http.StatusTooManyRequests || a.code(t) != "locked_out" || a.header.Get("Retry-After") != "60" ||
		!strings.Contains(a.message(t), "60 s") {
		t.Fatalf("%d %v %s", a.status, a.header, a.body)
	}
	if !strings.Contains(o.log.String(), "sign-in locked out") || !strings.Contains(o.log.String(), "address=127.0.0.1") {
		t.Errorf("lockout not logged: %s", o.log.String())
	}
	if strings.Contains(o.log.String(), "not the password") || strings.Contains(o.log.String(), testPassword) {
		t.Error("a password was logged")
	}
	// The address is locked too: other names from it wait as well.
	fail("petro", http.StatusTooManyRequests)

	o.clock.Advance(30 * time.Second)
	if a := o.login("olena", testPassword); a.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After %q after 30 s", a.header.Get("Retry-After"))
	}
	o.clock.Advance(30 * time.Second)
	if a := o.login("olena", testPassword); a.status != http.StatusOK {
		t.Fatalf("not released after the lockout: %d %s", a.status, a.body)
	}
	// The success cleared olena's failures but not the address's
	// lockout count: the next lockout of the address doubles.
	for range maxFailures {
		fail("olena", http.StatusUnauthorized)
	}
	if a := fail("olena", http.StatusTooManyRequests); a.header.Get("Retry-After") != "120" {
		t.Errorf("second lockout Retry-After %q, expected 120", a.header.Get("Retry-After"))
	}
	// Doubling stops at 15 minutes.
	for _, want := range []string{"240", "480", "900", "900"} {
		o.clock.Advance(maxLockout)
		for range maxFailures {
			fail("olena", http.StatusUnauthorized)
		}
		if a := fail("olena", http.StatusTooManyRequests); a.header.Get("Retry-After") != want {
			t.Errorf("Retry-After %q, expected %s", a.header.Get("Retry-After"), want)
		}
	}
}

func TestLimiterIsBounded(t *testing.T) {
	l := newLimiter(3)
	now := newClock().Now()
	for _, k := range []string{"a", "b", "c", "d"} {
		l.fail(k, now)
	}
	if l.len() != 3 {
		t.Errorf("%d entries, bound 3", l.len())
	}
	if l.has("a") {
		t.Error("the oldest entry was kept")
	}
	// Failures older than the window do not count.
	for i := range maxFailures - 1 {
		l.fail("e", now.Add(time.Duration(i)*failureWindow/2))
	}
	if d := l.lockedFor("e", now.Add(3*failureWindow)); d != 0 {
		t.Errorf("locked out by failures spread over hours: %v", d)
	}
}

func TestSessionExpiry(t *testing.T) {
	o := newOffice(t, nil) // idle 10 minutes, absolute 1 hour
	o.addUser("olena", RoleOperator)

	c := o.session("olena")
	o.clock.Advance(9 * time.Minute)
	if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusOK {
		t.Fatalf("used within the idle time: %d", a.status)
	}
	o.clock.Advance(9 * time.Minute) // 9 minutes after last use
	if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusOK {
		t.Fatalf("the idle time did not restart at the last use: %d", a.status)
	}
	o.clock.Advance(11 * time.Minute)
	a := o.do("GET", "/api/v1/me", "", c)
	if a.status != http.StatusUnauthorized || !strings.Contains(a.message(t), "session has ended") {
		t.Fatalf("idle session: %d %s", a.status, a.body)
	}
	if gone := a.cookie(); gone == nil || gone.MaxAge >= 0 {
		t.Errorf("the ended session's cookie is not cleared: %v", gone)
	}

	c = o.session("olena")
	for range 6 {
		o.clock.Advance(9 * time.Minute)
		if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusOK {
			t.Fatalf("busy session ended early: %d", a.status)
		}
	}
	o.clock.Advance(7 * time.Minute) // 61 minutes after sign-in
	if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusUnauthorized {
		t.Fatalf("session past MaxAge: %d", a.status)
	}
	if n := o.sessions(); n != 0 {
		t.Errorf("%d dead sessions kept", n)
	}
}

func (o *office) sessions() int {
	n := 0
	o.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(sessionsBucket).Stats().KeyN
		return nil
	})
	return n
}

func (o *office) lastSeen() time.Time {
	var rec sessionRecord
	o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(sessionsBucket).ForEach(func(k, v []byte) error { return json.Unmarshal(v, &rec) })
	})
	return rec.LastSeen
}

func TestLastSeenWrittenAtMostOnceAMinute(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	c := o.session("olena")
	start := o.lastSeen()
	o.clock.Advance(50 * time.Second)
	o.do("GET", "/api/v1/me", "", c)
	if !o.lastSeen().Equal(start) {
		t.Error("last_seen written again within a minute")
	}
	o.clock.Advance(10 * time.Second)
	o.do("GET", "/api/v1/me", "", c)
	if got := o.lastSeen(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("last_seen %v, expected %v", got, start.Add(time.Minute))
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	c := o.session("olena")
	o.restart()
	if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusOK {
		t.Fatalf("signed out by a restart: %d %s", a.status, a.body)
	}
	// Signing out ends the session for good.
	if a := o.do("POST", "/api/v1/logout", "", c); a.status != http.StatusOK || string(a.body) != "{}\n" {
		t.Fatalf("logout: %d %s", a.status, a.body)
	}
	o.restart()
	if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusUnauthorized {
		t.Errorf("session alive after sign-out: %d", a.status)
	}
}

func TestSessionEndsWithItsAccount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(s *Store) error
	}{
		{"password changed", func(s *Store) error { return s.SetPassword("olena", "a new password here") }},
		{"disabled", func(s *Store) error { return s.UpdateUser("olena", func(u *User) { u.Disabled = true }) }},
		{"removed", func(s *Store) error { return s.RemoveUser("olena") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffice(t, nil)
			o.addUser("olena", RoleOperator)
			c := o.session("olena")
			o.clock.Advance(time.Second)
			// Changed from a shell, by another Store on the same file.
			shell := testStore(t, o.store.Path(), o.clock)
			if err := tc.change(shell); err != nil {
				t.Fatal(err)
			}
			o.clock.Advance(time.Second)
			if a := o.do("GET", "/api/v1/me", "", c); a.status != http.StatusUnauthorized {
				t.Errorf("old session still works: %d %s", a.status, a.body)
			}
		})
	}
	// A session made after the password change lives.
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	o.clock.Advance(time.Minute)
	if err := o.store.SetPassword("olena", testPassword); err != nil {
		t.Fatal(err)
	}
	if a := o.do("GET", "/api/v1/me", "", o.session("olena")); a.status != http.StatusOK {
		t.Errorf("new session refused: %d", a.status)
	}
}

func TestRequire(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator, 3)
	o.addUser("maria", RoleSupervisor)
	token := func(name string, scopes ...string) string {
		s, err := o.store.AddToken(name, scopes)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	bookings, windows, admin := token("booking-site", ScopeBookings), token("desk", ScopeWindows), token("ops", ScopeAdmin)
	olena, maria := o.session("olena"), o.session("maria")
	for _, tc := range []struct {
		name, path string
		cookie     *http.Cookie
		auth       string
		status     int
		code, want string
		challenge  string
		principal  string
	}{
		{"nothing", "/api/v1/windows/3/queue", nil, "", 401, "unauthorized",
			"sign in at /login or send Authorization: Bearer <token> with scope windows", `Bearer realm="queued"`, ""},
		{"unknown token", "/api/v1/windows/3/queue", nil, "Bearer cq_nope", 401, "unauthorized",
			"not a known Bearer token", `Bearer realm="queued", error="invalid_token"`, ""},
		{"not Bearer", "/api/v1/windows/3/queue", nil, "Basic b2xlbmE6eA==", 401, "unauthorized", "Bearer", "invalid_token", ""},
		{"token without the scope", "/api/v1/windows/3/queue", nil, bookings, 403, "forbidden",
			"this needs scope windows; token booking-site has bookings", "insufficient_scope", ""},
		{"token with the scope", "/api/v1/windows/3/queue", nil, windows, 200, "", "", "", "token:desk"},
		{"admin token", "/api/v1/stats", nil, admin, 200, "", "", "", "token:ops"},
		{"operator", "/api/v1/windows/3/queue", olena, "", 200, "", "", "", "user:olena"},
		{"operator and stats", "/api/v1/stats", olena, "", 403, "forbidden",
			"this needs scope stats; account olena (operator) has tickets, windows", "", ""},
		{"supervisor and stats", "/api/v1/stats", maria, "", 200, "", "", "", "user:maria"},
		{"token beats cookie", "/api/v1/stats", maria, bookings, 403, "forbidden", "token booking-site", "", ""},
		{"session route, token", "/api/v1/windows/3/sign-in", nil, windows, 403, "forbidden", "signed-in account", "", ""},
		{"session route, nothing", "/api/v1/windows/3/sign-in", nil, "", 401, "unauthorized", "sign in at /login", "Bearer", ""},
		{"optional, nothing", "/api/v1/public/status", nil, "", 200, "", "", "", ""},
		{"optional, bad token", "/api/v1/public/status", nil, "Bearer cq_nope", 200, "", "", "", ""},
		{"optional, session", "/api/v1/public/status", olena, "", 200, "", "", "", "user:olena"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if strings.HasSuffix(tc.path, "sign-in") {
				method = "POST"
			}
			var h []string
			if tc.auth != "" {
				h = []string{"Authorization", tc.auth}
			}
			a := o.do(method, tc.path, "", tc.cookie, h...)
			if a.status != tc.status {
				t.Fatalf("%d %s, expected %d", a.status, a.body, tc.status)
			}
			if tc.code != "" && (a.code(t) != tc.code || !strings.Contains(a.message(t), tc.want)) {
				t.Errorf("%s: expected %s saying %q", a.body, tc.code, tc.want)
			}
			if !strings.Contains(a.header.Get("WWW-Authenticate"), tc.challenge) {
				t.Errorf("WWW-Authenticate %q, expected %q", a.header.Get("WWW-Authenticate"), tc.challenge)
			}
			if tc.status == 200 && a.json(t)["principal"] != tc.principal {
				t.Errorf("principal %s, expected %q", a.body, tc.principal)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("Require of an unknown scope did not panic")
		}
	}()
	o.guard.Require("window", http.NotFoundHandler())
}

func TestPrincipal(t *testing.T) {
	op := userPrincipal(User{Name: "olena", Role: RoleOperator, Windows: []int{3, 5}})
	anyOp := userPrincipal(User{Name: "ivan", Role: RoleOperator})
	sup := userPrincipal(User{Name: "maria", Role: RoleSupervisor, Windows: []int{1}})
	adm := userPrincipal(User{Name: "root", Role: RoleAdmin})
	tok := tokenPrincipal(Token{Name: "desk", Scopes: []string{ScopeWindows}})
	site := tokenPrincipal(Token{Name: "site", Scopes: []string{ScopeBookings}})
	var nobody *Principal
	for _, tc := range []struct {
		name  string
		p     *Principal
		scope string
		has   bool
	}{
		{"operator tickets", op, ScopeTickets, true},
		{"operator windows", op, ScopeWindows, true},
		{"operator stats", op, ScopeStats, false},
		{"supervisor terminals", sup, ScopeTerminals, true},
		{"supervisor admin", sup, ScopeAdmin, false},
		{"admin stats", adm, ScopeStats, true},
		{"admin token implies all", tokenPrincipal(Token{Scopes: []string{ScopeAdmin}}), ScopeHall, true},
		{"nil", nobody, ScopeTickets, false},
	} {
		if got := tc.p.Has(tc.scope); got != tc.has {
			t.Errorf("%s: Has(%s) = %v", tc.name, tc.scope, got)
		}
	}
	for _, tc := range []struct {
		name string
		p    *Principal
		n    int
		may  bool
	}{
		{"operator, listed", op, 5, true},
		{"operator, not listed", op, 4, false},
		{"operator listing none", anyOp, 9, true},
		{"supervisor, any", sup, 7, true},
		{"admin", adm, 2, true},
		{"token with windows", tok, 12, true},
		{"token without windows", site, 1, false},
		{"nil", nobody, 1, false},
	} {
		if got := tc.p.MayWindow(tc.n); got != tc.may {
			t.Errorf("%s: MayWindow(%d) = %v", tc.name, tc.n, got)
		}
	}
	for _, tc := range []struct {
		name string
		p    *Principal
		n    int
		may  bool
	}{
		{"operator, listed", op, 3, true},
		{"operator, not listed", op, 4, false},
		{"supervisor listing window 1", sup, 1, true},
		{"supervisor listing window 1, at 2", sup, 2, false},
		{"admin listing none", adm, 8, true},
		{"token", tok, 1, false},
		{"nil", nobody, 1, false},
	} {
		if got := tc.p.MaySignInTo(tc.n); got != tc.may {
			t.Errorf("%s: MaySignInTo(%d) = %v", tc.name, tc.n, got)
		}
	}
	if got := strings.Join(RoleSupervisor.Scopes(), ","); got != "tickets,windows,bookings,hall,stats,terminals" {
		t.Errorf("supervisor scopes %s", got)
	}
}

func TestCrossOrigin(t *testing.T) {
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	c := o.session("olena")
	host := strings.TrimPrefix(o.server.URL, "http://")
	desk, err := o.store.AddToken("desk", []string{ScopeWindows})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cookie  *http.Cookie
		headers []string
		status  int
	}{
		{"from another site", c, []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"from a sibling name", c, []string{"Origin", "https://x.office.example", "Sec-Fetch-Site", "same-site"}, 403},
		{"old browser, another origin", c, []string{"Origin", "https://evil.example"}, 403},
		{"from our page", c, []string{"Origin", "http://" + host, "Sec-Fetch-Site", "same-origin"}, 200},
		{"old browser, our origin", c, []string{"Origin", "http://" + host}, 200},
		{"a program", nil, []string{"Authorization", "Bearer " + desk}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := o.do("POST", "/api/v1/windows/3/next", "", tc.cookie, tc.headers...)
			if a.status != tc.status {
				t.Fatalf("%d %s, expected %d", a.status, a.body, tc.status)
			}
			if tc.status == 403 && a.code(t) != "cross_origin" {
				t.Errorf("%s", a.body)
			}
		})
	}
	// Sign-in itself is protected too: a login CSRF would sign the
	// victim in as the attacker.
	a := o.do("POST", "/api/v1/login", `{"name":"olena","password":"`+testPassword+`"}`, nil,
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if a.status != 403 || a.cookie() != nil {
		t.Errorf("cross-site sign-in: %d %s", a.status, a.body)
	}
}

func TestHostCheck(t *testing.T) {
	o := newOffice(t, func(opts *Options) bool {
		opts.Names = []string{"Queue.Office.Example", "10.0.0.5"}
		return false
	})
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"queue.office.example", true},
		{"QUEUE.office.example:8090", true},
		{"queue.office.example.", true},
		{"10.0.0.5:8090", true},
		{"localhost:8090", true},
		{"LocalHost", true},
		{"127.0.0.1:8090", true},
		{"127.1.2.3", true},
		{"[::1]:8090", true},
		{"[::ffff:127.0.0.1]:8090", true},
		{"evil.example", false},
		{"queue.office.example.evil.example", false},
		{"10.0.0.6:8090", false},
		{"localhost.evil.example", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			a := o.do("GET", "/api/v1/public/status", "", nil, "Host", tc.host)
			if tc.ok != (a.status == 200) {
				t.Fatalf("%d %s", a.status, a.body)
			}
			if !tc.ok {
				msg := a.message(t)
				if a.status != 403 || a.code(t) != "bad_host" || !strings.Contains(msg, "queue.office.example, 10.0.0.5") ||
					!strings.Contains(msg, tc.host) || !strings.Contains(msg, "add it to names: in the office configuration") {
					t.Errorf("%d %s", a.status, a.body)
				}
			}
		})
	}
	// A reloaded configuration's names apply at once.
	o.guard.SetNames([]string{"new.office.example"})
	if a := o.do("GET", "/api/v1/public/status", "", nil, "Host", "new.office.example"); a.status != 200 {
		t.Errorf("new name refused: %d", a.status)
	}
	if a := o.do("GET", "/api/v1/public/status", "", nil, "Host", "queue.office.example"); a.status != 403 {
		t.Errorf("old name still allowed: %d", a.status)
	}
	// No Host at all (HTTP/1.0) is refused too.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/public/status", nil)
	req.Host = ""
	o.handler().ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Errorf("empty Host: %d", rec.Code)
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	o := newOffice(t, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/no/such/page"},
		{"GET", "/login"},
		{"GET", "/api/v1/me"},
		{"POST", "/api/v1/login"},
	} {
		a := o.do(tc.method, tc.path, "", nil)
		for k, v := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": ContentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "same-origin",
		} {
			if got := a.header.Get(k); got != v {
				t.Errorf("%s %s (%d): %s %q", tc.method, tc.path, a.status, k, got)
			}
		}
	}
	a := o.do("GET", "/api/v1/public/status", "", nil, "Host", "evil.example")
	if a.status != 403 || a.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("bad_host answer without headers: %d %v", a.status, a.header)
	}
}
