// Package httpapi is the HTTP plumbing both daemons share (kioskd's
// terminal API and queued's JSON API): JSON answers, JSON errors, strict
// request decoding, a router whose 404 and 405 answers are JSON too, a
// panic guard, the servers' timeouts (NewServer) and connection limit
// (Limit), and the checks of who may ask: the Host a request names
// (Hosts, against DNS rebinding) and where it comes from (PageOrLocal,
// LocalClient).
//
// Every error a client sees has one shape, with Content-Type
// "application/json; charset=utf-8":
//
//	{"code": "bad_field", "error": "field \"window\": expected a number, got string"}
//
// code is stable and meant for programs (the pages pick their text by it);
// error is an English sentence for the person reading a log or a curl
// session. Bad input is always a 4xx naming what was wrong, never a 500.
//
// Decode takes application/json only. Besides being strict, that is the
// JSON APIs' CSRF defence: another site's page can make a browser POST
// text/plain (or a form) to us without asking, but not application/json.
//
// What it must never do: put internal details in an answer. A 500 says
// "internal error; see the server log" and nothing more: no Go error text,
// no file path, no stack, no SQL or bucket name. The caller logs the real
// error (Fail does not log, it has no logger); *Error keeps a cause for
// that log and never writes it to the client.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error codes this package writes. Callers add their own (unknown_service,
// ticket_not_found, ...) in the same snake_case style.
const (
	CodeBadJSON          = "bad_json"           // not one JSON object
	CodeBadField         = "bad_field"          // a field of the wrong type, or unknown
	CodeBodyTooLarge     = "body_too_large"     // over the handler's limit
	CodeBadContentType   = "bad_content_type"   // not application/json
	CodeNotFound         = "not_found"          // no route for the path
	CodeMethodNotAllowed = "method_not_allowed" // a route, but not for this method
	CodeBadPath          = "bad_path"           // invalid UTF-8 or NUL in the path
	CodeInternal         = "internal"           // a bug or a broken disk: see the log
)

// internalMessage is all a client learns about a 500.
const internalMessage = "internal error; see the server log"

// Error is an answer to send instead of the normal one. Message is shown to
// the client, so it must say what the client did wrong in its own terms,
// never how the server failed inside.
type Error struct {
	Status  int    // HTTP status; 0 or anything outside 400–599 is sent as 500
	Code    string // stable, snake_case
	Message string // one English sentence

	// cause is for the server's log only: Error() and Unwrap show it,
	// Write never does.
	cause error
}

// Errorf makes an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	s := fmt.Sprintf("httpapi: %d %s: %s", e.status(), e.Code, e.Message)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.cause }

func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// Write sends e as the response. Headers the caller set before (Allow,
// Retry-After) are kept.
func (e *Error) Write(w http.ResponseWriter) {
	code := e.Code
	if code == "" {
		code = CodeInternal
	}
	_ = WriteJSON(w, e.status(), errorBody{Code: code, Error: e.Message})
}

type errorBody struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

// WriteError sends {"code": code, "error": message} with status. (It is
// not called Error: that name is the type.)
func WriteError(w http.ResponseWriter, status int, code, message string) {
	(&Error{Status: status, Code: code, Message: message}).Write(w)
}

// Fail answers a request that failed with err: the *Error in err's chain
// (errors.As) as it is, anything else as a 500 "internal" that tells the
// client nothing more. The caller logs err; Fail does not.
func Fail(w http.ResponseWriter, err error) {
	var e *Error
	if errors.As(err, &e) {
		e.Write(w)
		return
	}
	WriteError(w, http.StatusInternalServerError, CodeInternal, internalMessage)
}

// WriteJSON sends v as JSON with status. A v that cannot be encoded (a
// bug: a channel, a NaN) is answered with a 500 "internal" instead, and its
// error returned for the caller to log. Errors writing to the client (it
// went away) are not reported: there is nothing left to do about them.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Code: CodeInternal, Error: internalMessage})
		err = fmt.Errorf("httpapi: encode %T: %w", v, err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// A JSON answer is never to be read as HTML or script, whatever a
	// browser guesses from a path echoed in it.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length") // set by the server from what is written
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return err
}
