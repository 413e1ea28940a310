// Package i18n holds every visitor- and operator-facing text in Ukrainian
// and English, and looks texts up by key. Pages load the same catalogue
// from /i18n.json, so no user-facing string lives in Go or JavaScript code.
//
// Ukrainian is the default; a text missing in English falls back to
// Ukrainian, never to the key.
package i18n

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Languages, in the order visitors see them.
var Languages = []string{"uk", "en"}

//go:embed messages.json
var catalogueJSON []byte

//go:embed i18n.js
var scriptJS []byte

var catalogue = mustLoad(catalogueJSON)

func mustLoad(b []byte) map[string]map[string]string {
	var m map[string]map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("i18n: messages.json: %v", err))
	}
	return m
}

// T returns the text for key in lang, with {name} placeholders replaced by
// the following name, value pairs.
func T(lang, key string, args ...any) string {
	texts, ok := catalogue[key]
	if !ok {
		// A missing key is a bug the catalogue test catches; show something
		// a technician can search for rather than an empty string.
		return "[" + key + "]"
	}
	s := texts[lang]
	if s == "" {
		s = texts["uk"]
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s
}

// Both returns the Ukrainian text, then the English one after a slash, for
// places that show both at once (tickets, hall captions).
func Both(key string, args ...any) string {
	return T("uk", key, args...) + " / " + T("en", key, args...)
}

// Keys lists every key of the catalogue.
func Keys() []string {
	keys := make([]string, 0, len(catalogue))
	for k := range catalogue {
		keys = append(keys, k)
	}
	return keys
}

// Register serves the catalogue at /i18n.json and the pages' lookup
// script at /i18n.js.
func Register(mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}) {
	mux.HandleFunc("GET /i18n.json", serve("application/json; charset=utf-8", catalogueJSON))
	mux.HandleFunc("GET /i18n.js", serve("text/javascript; charset=utf-8", scriptJS))
}

func serve(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	}
}
