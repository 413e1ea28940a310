package httpapi_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cherga/kiosk/httpapi"
)

var errOfficeClosed = errors.New("queue: the office is closed")

// A handler decodes strictly, answers with WriteJSON, and hands every
// failure to Fail: its own *Error as it is, anything else as a bare 500
// (after logging it).
func Example() {
	log := slog.New(slog.DiscardHandler)
	mux := httpapi.NewMux()
	mux.HandleFunc("POST /api/v1/tickets", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Service string `json:"service"`
		}
		if err := httpapi.Decode(w, r, 4<<10, &req); err != nil {
			httpapi.Fail(w, err)
			return
		}
		if req.Service == "" {
			httpapi.WriteError(w, http.StatusBadRequest, "bad_field", `field "service": required`)
			return
		}
		if req.Service == "after-hours" {
			log.Error("take a ticket", "err", errOfficeClosed)
			httpapi.Fail(w, errOfficeClosed) // not an *Error: the client learns nothing inside
			return
		}
		_ = httpapi.WriteJSON(w, http.StatusCreated, map[string]string{"number": "А001"})
	})
	h := httpapi.Recover(mux, log, nil)

	for _, c := range []struct{ method, contentType, body string }{
		{"POST", "application/json", `{"service":"pension-age"}`},
		{"POST", "application/json", `{"window":"3"}`},
		{"POST", "text/plain", `{"service":"pension-age"}`},
		{"POST", "application/json", `{"service":"after-hours"}`},
		{"GET", "", ""},
	} {
		r := httptest.NewRequest(c.method, "/api/v1/tickets", strings.NewReader(c.body))
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		fmt.Printf("%d %s", w.Code, body)
	}
	// Output:
	// 201 {"number":"А001"}
	// 400 {"code":"bad_field","error":"unknown field \"window\""}
	// 415 {"code":"bad_content_type","error":"expected Content-Type application/json, got \"text/plain\""}
	// 500 {"code":"internal","error":"internal error; see the server log"}
	// 405 {"code":"method_not_allowed","error":"method GET is not allowed for /api/v1/tickets; allowed: POST"}
}

// A handler's own refusals are *Error values, returned up the stack and
// written once by Fail.
func ExampleErrorf() {
	find := func(number string) error {
		return httpapi.Errorf(http.StatusNotFound, "ticket_not_found", "no ticket %s today", number)
	}
	w := httptest.NewRecorder()
	httpapi.Fail(w, fmt.Errorf("track: %w", find("А404")))
	fmt.Printf("%d %s", w.Code, w.Body)
	// Output: 404 {"code":"ticket_not_found","error":"no ticket А404 today"}
}
