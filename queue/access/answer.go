package access

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers v as JSON. Answers about credentials are never
// cached: a shared desk PC's browser must not replay someone's /me.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers the API's error shape, {"code","error"}, where error
// says what to fix.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, struct {
		Code  string `json:"code"`
		Error string `json:"error"`
	}{code, msg})
}
