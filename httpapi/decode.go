package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode reads r's body, one JSON object, into dst (a pointer to a
// struct, usually). It does not write the response: on failure it returns
// an *Error for Fail, checked in this order:
//
//   - 415 bad_content_type: Content-Type is missing or not
//     application/json (parameters allowed; a charset other than UTF-8 is
//     refused, JSON has no other). This is also a CSRF defence: a web page
//     of another site can make a browser send a "simple" cross-site POST
//     without asking first only as text/plain, form-urlencoded or
//     multipart; application/json makes the browser ask (a CORS
//     preflight), and our servers never say yes;
//   - 413 body_too_large: the body is over maxBytes;
//   - 400 bad_json: an empty body, anything but an object, a syntax error
//     (with its byte offset, counted from 0), or data after the object;
//   - 400 bad_field: a field of the wrong type (its path and the expected
//     type), or a field dst does not have.
//
// On failure dst may be partly filled; the caller must not use it.
func Decode(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) error {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is over %d bytes", maxBytes)
		}
		// The client went away or sent a broken chunked body: its fault,
		// and nobody is left to read the answer anyway.
		return &Error{Status: http.StatusBadRequest, Code: CodeBadJSON, Message: "the body could not be read", cause: err}
	}
	return decodeBody(body, dst)
}

func checkContentType(ct string) error {
	if ct == "" {
		return Errorf(http.StatusUnsupportedMediaType, CodeBadContentType, "expected Content-Type application/json, got none")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return Errorf(http.StatusUnsupportedMediaType, CodeBadContentType, "expected Content-Type application/json, got %q", clip(ct))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return Errorf(http.StatusUnsupportedMediaType, CodeBadContentType, "expected JSON in UTF-8, got charset %q", clip(cs))
	}
	return nil
}

func decodeBody(body []byte, dst any) error {
	start := bytes.TrimLeft(body, " \t\r\n")
	if len(start) == 0 {
		return Errorf(http.StatusBadRequest, CodeBadJSON, "expected a JSON object")
	}
	if start[0] != '{' {
		return Errorf(http.StatusBadRequest, CodeBadJSON, "expected a JSON object, got %s", jsonKind(start[0]))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, len(body))
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return Errorf(http.StatusBadRequest, CodeBadJSON, "trailing data after the JSON object (at byte %d)", len(body)-len(rest))
	}
	return nil
}

// decodeError turns encoding/json's error into one the client can act on.
func decodeError(err error, size int) error {
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		// Offset counts the bytes read, the bad one included; the message
		// names the bad byte's index, as the other messages do.
		return &Error{Status: http.StatusBadRequest, Code: CodeBadJSON,
			Message: fmt.Sprintf("invalid JSON at byte %d: %s", max(e.Offset-1, 0), strings.TrimPrefix(e.Error(), "json: ")), cause: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Status: http.StatusBadRequest, Code: CodeBadJSON,
			Message: fmt.Sprintf("the JSON object ends early, at byte %d", size), cause: err}
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		msg := fmt.Sprintf("expected %s, got %s", expected(e.Type, e.Value), e.Value)
		if e.Field != "" {
			msg = fmt.Sprintf("field %q: %s", e.Field, msg)
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeBadField, Message: msg, cause: err}
	}
	if e, ok := errors.AsType[*json.InvalidUnmarshalError](err); ok {
		// dst is not a pointer: the caller's bug, not the client's.
		return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: internalMessage, cause: e}
	}
	// DisallowUnknownFields reports `json: unknown field "x"` as a plain
	// error; there is no type to match.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &Error{Status: http.StatusBadRequest, Code: CodeBadField, Message: "unknown field " + name, cause: err}
	}
	// What is left comes from a field's own UnmarshalJSON (a time that does
	// not parse, an unknown enum value): about the client's value, so it
	// is shown.
	return &Error{Status: http.StatusBadRequest, Code: CodeBadField,
		Message: "a field has a bad value: " + clip(strings.TrimPrefix(err.Error(), "json: ")), cause: err}
}

// jsonKind names the JSON value starting with c.
func jsonKind(c byte) string {
	switch {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "true or false"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return fmt.Sprintf("%q", rune(c))
}

// expected names, in JSON's terms, what a Go type takes; got is the JSON
// value encoding/json found ("string", "number 3.5").
func expected(t reflect.Type, got string) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.HasPrefix(got, "number") {
			// A fraction or out of range.
			bits := t.Bits()
			return fmt.Sprintf("a whole number from %d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
		}
		return "a number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if strings.HasPrefix(got, "number") {
			return "a whole number from 0 to " + strconv.FormatUint(uint64(1)<<(t.Bits()-1)<<1-1, 10)
		}
		return "a number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another value"
}

// clip keeps an echoed client value short.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
