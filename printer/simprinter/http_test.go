package simprinter

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cherga/kiosk/printer"
)

// The demo's fault switch: a condition set by POST and reported on GET;
// every refusal JSON ({"code","error"}), a body with anything after its
// object refused and the condition left as it was.
func TestFaultEndpoint(t *testing.T) {
	prof, err := printer.LookupProfile("epson-tm-t20")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(prof, 80, "")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(d)
	defer ts.Close()
	send := func(method, ctype, body string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+"/api/v1/sim/printer", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("%s %s: %s %q is not JSON", method, body, resp.Status, b)
		}
		return resp.StatusCode, resp.Header, out
	}
	if st, _, out := send("POST", "application/json", `{"fault":"paper_out"}`); st != 200 || out["condition"] != "paper_out" {
		t.Fatalf("%d %v", st, out)
	}
	for _, tt := range []struct {
		name, method, ctype, body string
		status                    int
		code                      string
	}{
		{"trailing data", "POST", "application/json", `{"fault":"ok"}garbage`, 400, "bad_json"},
		{"unknown fault", "POST", "application/json", `{"fault":"on_fire"}`, 400, "bad_field"},
		{"misspelt field", "POST", "application/json", `{"falt":"ok"}`, 400, "bad_field"},
		{"over the limit", "POST", "application/json", `{"fault":"` + strings.Repeat("o", 2000) + `"}`, 413, "body_too_large"},
		{"not JSON", "POST", "text/plain", `ok`, 415, "bad_content_type"},
		{"wrong method", "DELETE", "", "", 405, "method_not_allowed"},
	} {
		st, h, out := send(tt.method, tt.ctype, tt.body)
		if st != tt.status || out["code"] != tt.code || out["error"] == "" || len(out) != 2 {
			t.Errorf("%s: %d %v, want %d %s", tt.name, st, out, tt.status, tt.code)
		}
		if tt.status == 405 && h.Get("Allow") != "GET, HEAD, POST" {
			t.Errorf("%s: Allow %q", tt.name, h.Get("Allow"))
		}
	}
	if st, _, out := send("GET", "", ""); st != 200 || out["condition"] != "paper_out" {
		t.Errorf("after the refusals: %d %v", st, out)
	}
}
