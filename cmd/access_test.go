package cmd_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
)

// answer is one response of queued, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
	// code is the error code of a JSON error body.
	code string
}

// exchange sends req with client (nil: one that does not follow
// redirects) and reads the answer.
func exchange(t *testing.T, client *http.Client, req *http.Request) answer {
	t.Helper()
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		var e struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(b, &e)
		a.code = e.Code
	}
	return a
}

// The done-when of the sign-in issue, against the real binary: the
// accounts and token are made with queued's command line, as make run
// does; a program without credentials is refused and with the token is
// served; an operator's session works from queued's own pages but not from
// another site; the operator page sends a stranger to sign in; a request
// for another host name is refused.
func TestQueuedAccess(t *testing.T) {
	o := newOffice(t)
	password := rand.Text() // 26 characters
	if out := o.queuedCommand(t, password+"\n", "user", "add", "operator3", "-role", "operator", "-windows", "3",
		"-display", "Оператор вікна 3", "-password-stdin"); !strings.Contains(out, "operator3") {
		t.Errorf("queued user add: %q", out)
	}
	o.startQueued(t)
	base := "http://" + o.qAddr
	withToken := func(method, path, body string) *http.Request {
		req := newRequest(t, method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+o.token)
		return req
	}

	// No credentials: 401 JSON with a Bearer challenge; public routes stay open.
	a := exchange(t, nil, newRequest(t, "POST", base+"/api/v1/windows/3/next", ""))
	if a.status != http.StatusUnauthorized || a.code != "unauthorized" ||
		!strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("next without credentials: %d %v %s", a.status, a.header, a.body)
	}
	if a := exchange(t, nil, newRequest(t, "GET", base+"/api/v1/tickets", "")); a.status != http.StatusUnauthorized {
		t.Errorf("a day's tickets without credentials: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/api/v1/services", "/api/v1/public/status", "/healthz", "/login"} {
		if a := exchange(t, nil, newRequest(t, "GET", base+path, "")); a.status != http.StatusOK {
			t.Errorf("GET %s without credentials: %d %s", path, a.status, a.body)
		}
	}
	wrongToken := newRequest(t, "POST", base+"/api/v1/windows/3/next", "")
	wrongToken.Header.Set("Authorization", "Bearer "+strings.Repeat("x", len(o.token)))
	if a := exchange(t, nil, wrongToken); a.status != http.StatusUnauthorized || a.code != "unauthorized" {
		t.Errorf("next with an unknown token: %d %s", a.status, a.body)
	}

	// The token: a JSON body needs its content type; then 200, then queue_empty.
	noType := withToken("POST", "/api/v1/tickets", `{"service":"pension-age"}`)
	noType.Header.Del("Content-Type")
	if a := exchange(t, nil, noType); a.status != http.StatusUnsupportedMediaType || a.code != "bad_content_type" {
		t.Errorf("ticket without Content-Type: %d %s", a.status, a.body)
	}
	var first, second struct {
		Number string `json:"number"`
	}
	o.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &first)
	var called struct {
		Number string `json:"number"`
		Window int    `json:"window"`
	}
	o.call(t, "POST", "/api/v1/windows/3/next", "", http.StatusOK, &called)
	if called.Number != first.Number || called.Window != 3 {
		t.Errorf("called %+v, want %s at window 3", called, first.Number)
	}
	if a := exchange(t, nil, withToken("POST", "/api/v1/windows/3/next", "")); a.status != http.StatusNotFound || a.code != "queue_empty" {
		t.Errorf("next on an empty queue: %d %s", a.status, a.body)
	}

	// The operator signs in; the session cookie is HttpOnly and SameSite=Strict.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if a := exchange(t, browser, newRequest(t, "POST", base+"/api/v1/login", `{"name":"operator3","password":"wrong password"}`)); a.status != http.StatusUnauthorized || a.code != "bad_login" {
		t.Errorf("wrong password: %d %s", a.status, a.body)
	}
	login, _ := json.Marshal(map[string]string{"name": "operator3", "password": password})
	a = exchange(t, browser, newRequest(t, "POST", base+"/api/v1/login", string(login)))
	var me struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
		Windows     []int  `json:"windows"`
	}
	if err := json.Unmarshal(a.body, &me); a.status != http.StatusOK || err != nil ||
		me.Name != "operator3" || me.DisplayName != "Оператор вікна 3" || me.Role != "operator" || len(me.Windows) != 1 || me.Windows[0] != 3 {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	cookie := a.header.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "cherga_session=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("session cookie %q", cookie)
	}

	// Another site's page posting with the operator's cookie is refused.
	crossSite := newRequest(t, "POST", base+"/api/v1/windows/3/next", "")
	crossSite.Header.Set("Origin", "https://evil.example")
	crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
	if a := exchange(t, browser, crossSite); a.status != http.StatusForbidden || a.code != "cross_origin" {
		t.Errorf("cross-origin next with a session: %d %s", a.status, a.body)
	}
	// queued's own page doing the same is served, for the operator's window only.
	o.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &second)
	sameOrigin := func(path string) *http.Request {
		req := newRequest(t, "POST", base+path, "")
		req.Header.Set("Origin", base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return req
	}
	a = exchange(t, browser, sameOrigin("/api/v1/windows/3/next"))
	called.Number = ""
	if err := json.Unmarshal(a.body, &called); a.status != http.StatusOK || err != nil || called.Number != second.Number {
		t.Errorf("same-origin next with a session: %d %s, want %s called", a.status, a.body, second.Number)
	}
	if a := exchange(t, browser, sameOrigin("/api/v1/windows/5/next")); a.status != http.StatusForbidden || a.code != "forbidden" {
		t.Errorf("operator3 calling at window 5: %d %s", a.status, a.body)
	}
	if a := exchange(t, browser, newRequest(t, "GET", base+"/operator/", "")); a.status != http.StatusOK {
		t.Errorf("operator page with a session: %d", a.status)
	}

	// Without a session the operator page is the login page.
	a = exchange(t, nil, newRequest(t, "GET", base+"/operator/", ""))
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login?next=/operator/" {
		t.Errorf("operator page without a session: %d, Location %q", a.status, a.header.Get("Location"))
	}
	a = exchange(t, http.DefaultClient, newRequest(t, "GET", base+"/operator/", ""))
	if a.status != http.StatusOK || !strings.Contains(string(a.body), `id="password"`) {
		t.Errorf("operator page without a session, redirects followed: %d\n%s", a.status, a.body)
	}

	// A Host that is not one of the office's names (DNS rebinding) is refused, token or not.
	for _, req := range []*http.Request{newRequest(t, "GET", base+"/api/v1/services", ""), withToken("POST", "/api/v1/windows/3/next", "")} {
		req.Host = "evil.example"
		if a := exchange(t, nil, req); a.status != http.StatusForbidden || a.code != "bad_host" {
			t.Errorf("%s %s with Host evil.example: %d %s", req.Method, req.URL.Path, a.status, a.body)
		}
	}

	if code := o.queued.stop(os.Interrupt); code != 0 {
		t.Errorf("queued exited %d after SIGINT", code)
	}
}
