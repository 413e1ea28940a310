package devices

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The simulated devices' endpoints answer every refusal in JSON
// ({"code","error"}): a wrong method 405 with Allow, a body over the
// limit 413, a JSON body with anything after it 400 and no scan.
func TestSimEndpointsRefuseInJSON(t *testing.T) {
	s := NewSimScanner()
	pins := NewSimPins()
	mux := http.NewServeMux()
	mux.Handle("/scan", s)
	mux.Handle("/gpio/{pin}", pins)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		code, allow                     string
	}{
		{"scan by GET", "GET", "/scan", "", "", 405, "method_not_allowed", "POST"},
		{"scan too long", "POST", "/scan", "text/plain", strings.Repeat("7", MaxScanBytes+1), 413, "body_too_large", ""},
		{"scan JSON too long", "POST", "/scan", "application/json", `{"code":"` + strings.Repeat("7", 7*MaxScanBytes) + `"}`, 413, "body_too_large", ""},
		{"scan JSON and garbage", "POST", "/scan", "application/json", `{"code":"BK-1"}garbage`, 400, "bad_json", ""},
		{"scan JSON misspelt", "POST", "/scan", "application/json", `{"cod":"BK-1"}`, 400, "bad_field", ""},
		{"scan JSON code too long", "POST", "/scan", "application/json", `{"code":"` + strings.Repeat("7", MaxScanBytes+1) + `"}`, 422, "bad_scan", ""},
		{"scan garbage bytes", "POST", "/scan", "text/plain", "\x00\x01", 422, "bad_scan", ""},
		{"pin deleted", "DELETE", "/gpio/BUTTON", "", "", 405, "method_not_allowed", "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e map[string]string
			if resp.StatusCode != tt.status || json.Unmarshal(b, &e) != nil || len(e) != 2 || e["code"] != tt.code || e["error"] == "" ||
				resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("%s %q %s, want %d %s", resp.Status, resp.Header.Get("Content-Type"), b, tt.status, tt.code)
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
	select {
	case sc := <-s.Scans():
		t.Fatalf("a refused request was scanned: %q", sc.Code)
	default:
	}

	// A scanner whose codes nobody takes says so, to be tried again.
	var resp *http.Response
	for range 100 {
		var err error
		if resp, err = http.Post(ts.URL+"/scan", "text/plain", strings.NewReader("BK-1")); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			break
		}
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a busy scanner: %s %v", resp.Status, resp.Header)
	}

	if _, err := pins.Pin("BUTTON"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ts.URL + "/gpio/BUTTON")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var levels map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&levels); err != nil || resp.StatusCode != 200 || levels["BUTTON"] == "" {
		t.Errorf("levels: %s %v %v", resp.Status, levels, err)
	}
}
