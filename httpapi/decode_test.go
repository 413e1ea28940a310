package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type ticketRequest struct {
	Service string    `json:"service"`
	Window  int       `json:"window"`
	Score   uint8     `json:"score"`
	Lang    *string   `json:"lang"`
	At      time.Time `json:"at"`
	Tags    []string  `json:"tags"`
	Visitor struct {
		Age  int  `json:"age"`
		Seen bool `json:"seen"`
	} `json:"visitor"`
}

// answer runs Decode the way a handler does and returns what the client
// gets.
func answer(t *testing.T, contentType, body string, max int64, dst any) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/tickets", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	if err := Decode(w, r, max, dst); err != nil {
		if _, ok := errors.AsType[*Error](err); !ok {
			t.Fatalf("Decode returned %T %v, want *Error", err, err)
		}
		Fail(w, err)
		return w
	}
	_ = WriteJSON(w, http.StatusOK, dst)
	return w
}

// errorOf checks that w holds exactly one JSON error object and returns it.
func errorOf(t *testing.T, w *httptest.ResponseRecorder) errorBody {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var fields map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &fields); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body, err)
	}
	if len(fields) != 2 {
		t.Errorf("error body %s: want exactly code and error", w.Body)
	}
	var e errorBody
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	if e.Code == "" || e.Error == "" {
		t.Errorf("error body %s: code or error empty", w.Body)
	}
	return e
}

const mib = 1 << 20

func TestDecode(t *testing.T) {
	// A body of exactly the limit is taken; one byte more is not.
	exact := `{"service":"` + strings.Repeat("x", mib-len(`{"service":""}`)) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		message     string // the whole error message, or with a trailing * its start
	}{
		{"ok", "application/json", `{"service":"pension-age","window":3}`, 200, "", ""},
		{"charset", "application/json; charset=utf-8", `{"service":"x"}`, 200, "", ""},
		{"charset in capitals", "Application/JSON; Charset=UTF-8", `{"service":"x"}`, 200, "", ""},
		{"whitespace around", "application/json", " \n\t{\"service\":\"x\"} \r\n", 200, "", ""},
		{"exactly the limit", "application/json", exact, 200, "", ""},

		{"one byte over 1 MiB", "application/json", exact + " ", 413, CodeBodyTooLarge, "the body is over 1048576 bytes"},
		{"far over", "application/json", strings.Repeat("[", 3*mib), 413, CodeBodyTooLarge, "the body is over 1048576 bytes"},

		{"empty", "application/json", "", 400, CodeBadJSON, "expected a JSON object"},
		{"only whitespace", "application/json", " \n ", 400, CodeBadJSON, "expected a JSON object"},
		{"array", "application/json", `[{"service":"x"}]`, 400, CodeBadJSON, "expected a JSON object, got an array"},
		{"null", "application/json", `null`, 400, CodeBadJSON, "expected a JSON object, got null"},
		{"string", "application/json", `"x"`, 400, CodeBadJSON, "expected a JSON object, got a string"},
		{"garbage", "application/json", `<html>`, 400, CodeBadJSON, `expected a JSON object, got '<'`},
		{"trailing garbage", "application/json", `{"service":"x"}garbage`, 400, CodeBadJSON, "trailing data after the JSON object (at byte 15)"},
		{"two objects", "application/json", `{"service":"x"} {"service":"y"}`, 400, CodeBadJSON, "trailing data after the JSON object (at byte 16)"},
		{"closing brace too many", "application/json", `{"service":"x"}}`, 400, CodeBadJSON, "trailing data after the JSON object (at byte 15)"},
		{"syntax error", "application/json", `{"service" "x"}`, 400, CodeBadJSON, "invalid JSON at byte 11: invalid character '\"' after object key"},
		{"cut short", "application/json", `{"service":"x",`, 400, CodeBadJSON, "the JSON object ends early, at byte 15"},

		{"string for a number", "application/json", `{"window":"3"}`, 400, CodeBadField, `field "window": expected a number, got string`},
		{"fraction for an int", "application/json", `{"window":3.5}`, 400, CodeBadField,
			`field "window": expected a whole number from -9223372036854775808 to 9223372036854775807, got number 3.5`},
		{"out of range", "application/json", `{"score":300}`, 400, CodeBadField, `field "score": expected a whole number from 0 to 255, got number 300`},
		{"number for a string", "application/json", `{"service":7}`, 400, CodeBadField, `field "service": expected a string, got number`},
		{"pointer", "application/json", `{"lang":["uk"]}`, 400, CodeBadField, `field "lang": expected a string, got array`},
		{"object for an array", "application/json", `{"tags":{}}`, 400, CodeBadField, `field "tags": expected an array, got object`},
		{"nested", "application/json", `{"visitor":{"seen":"yes"}}`, 400, CodeBadField, `field "visitor.seen": expected true or false, got string`},
		{"nested object wrong", "application/json", `{"visitor":5}`, 400, CodeBadField, `field "visitor": expected an object, got number`},
		{"unknown field", "application/json", `{"service":"x","servce":"y"}`, 400, CodeBadField, `unknown field "servce"`},
		{"unknown nested field", "application/json", `{"visitor":{"name":"Олена"}}`, 400, CodeBadField, `unknown field "name"`},
		{"bad time", "application/json", `{"at":"yesterday"}`, 400, CodeBadField, `a field has a bad value: *`},

		{"text/plain", "text/plain", `{"service":"x"}`, 415, CodeBadContentType, `expected Content-Type application/json, got "text/plain"`},
		{"text/plain with charset", "text/plain; charset=utf-8", `{"service":"x"}`, 415, CodeBadContentType,
			`expected Content-Type application/json, got "text/plain; charset=utf-8"`},
		{"form", "application/x-www-form-urlencoded", `service=x`, 415, CodeBadContentType, `expected Content-Type application/json, got *`},
		{"no content type", "", `{"service":"x"}`, 415, CodeBadContentType, "expected Content-Type application/json, got none"},
		{"malformed content type", "application/json;;", `{"service":"x"}`, 415, CodeBadContentType, `expected Content-Type application/json, got *`},
		{"other charset", "application/json; charset=windows-1251", `{"service":"x"}`, 415, CodeBadContentType,
			`expected JSON in UTF-8, got charset "windows-1251"`},
		// The content type is checked before the body is read.
		{"text/plain and too large", "text/plain", exact + " ", 415, CodeBadContentType, `expected Content-Type application/json, got "text/plain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst ticketRequest
			w := answer(t, tt.contentType, tt.body, mib, &dst)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", w.Code, tt.status, w.Body)
			}
			if tt.status == 200 {
				return
			}
			e := errorOf(t, w)
			if e.Code != tt.code {
				t.Errorf("code %q, want %q", e.Code, tt.code)
			}
			if prefix, ok := strings.CutSuffix(tt.message, "*"); ok {
				if !strings.HasPrefix(e.Error, prefix) {
					t.Errorf("error %q, want it to start with %q", e.Error, prefix)
				}
			} else if e.Error != tt.message {
				t.Errorf("error %q\nwant      %q", e.Error, tt.message)
			}
		})
	}
}

func TestDecodeFillsDestination(t *testing.T) {
	var dst ticketRequest
	w := answer(t, "application/json", `{"service":"pension-age","window":3,"visitor":{"age":70}}`, mib, &dst)
	if w.Code != 200 || dst.Service != "pension-age" || dst.Window != 3 || dst.Visitor.Age != 70 {
		t.Fatalf("%d %+v", w.Code, dst)
	}
}

// A destination that is not a pointer is the caller's bug: a 500 that
// says nothing, with the cause kept for the log.
func TestDecodeIntoNonPointer(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	err := Decode(httptest.NewRecorder(), r, mib, ticketRequest{})
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Status != 500 || e.Code != CodeInternal || e.Message != internalMessage {
		t.Fatalf("got %#v", err)
	}
	if !strings.Contains(err.Error(), "non-pointer") {
		t.Errorf("the log line %q lost the cause", err)
	}
}

// FuzzDecode: whatever bytes a client sends, Decode never panics, never
// answers 5xx, and every refusal is a JSON error with a code.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"service":"pension-age","window":3}`, `{"service":"x"}garbage`, `{"window":"3"}`, `{"servce":1}`,
		``, `null`, `[]`, `{"visitor":{"age":1e400}}`, `{"at":"2026-11-23T10:00:00+02:00"}`, `{"tags":[1,2]}`,
		`{"lang":null,"score":-1}`, "{\"service\":\"\xff\"}", `{"visitor":{"seen":tru}}`, `{"a":` + strings.Repeat("[", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var dst ticketRequest
		err := Decode(w, r, 4096, &dst)
		if err == nil {
			return
		}
		e, ok := errors.AsType[*Error](err)
		if !ok {
			t.Fatalf("%T %v, want *Error", err, err)
		}
		if e.Status < 400 || e.Status > 499 {
			t.Fatalf("status %d for %q: %v", e.Status, body, err)
		}
		Fail(w, err)
		var got errorBody
		if json.Unmarshal(w.Body.Bytes(), &got) != nil || got.Code == "" || got.Error == "" {
			t.Fatalf("answer %q is not a JSON error", w.Body)
		}
	})
}
