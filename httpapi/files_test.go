package httpapi

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// brokenFS fails every read of one file, as a bad disk would, with an
// error naming a path on the server.
type brokenFS struct{ fstest.MapFS }

func (b brokenFS) Open(name string) (fs.File, error) {
	if name == "hall/broken.js" {
		return nil, errors.New("open /var/lib/kioskd/web/hall/broken.js: input/output error")
	}
	return b.MapFS.Open(name)
}

// Files serves pages as http.FileServerFS does, and says every refusal in
// JSON: a missing file, a bad range, a file that cannot be read (a bare
// 500), and behind Mux a path that is not UTF-8.
func TestFiles(t *testing.T) {
	fsys := brokenFS{fstest.MapFS{
		"hall/index.html": {Data: []byte("<!doctype html><title>Табло</title>"), ModTime: time.Now()},
		"hall/hall.js":    {Data: []byte(`"use strict";`), ModTime: time.Now()},
	}}
	m := NewMux()
	m.Handle("GET /hall/", Files(fsys))
	srv := httptest.NewServer(m)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name, path, rangeHeader string
		status                  int
		code, message           string
		body                    string // for a file served
	}{
		{"index", "/hall/", "", 200, "", "", "<!doctype html><title>Табло</title>"},
		{"script", "/hall/hall.js", "", 200, "", "", `"use strict";`},
		{"part of it", "/hall/hall.js", "bytes=0-4", 206, "", "", `"use `},
		{"missing", "/hall/nope.js", "", 404, CodeNotFound, "no such file: /hall/nope.js", ""},
		{"missing, Cyrillic", "/hall/%D1%82%D0%B0%D0%B1%D0%BB%D0%BE", "", 404, CodeNotFound, "no such file: /hall/табло", ""},
		{"range outside", "/hall/hall.js", "bytes=500-600", 416, "bad_range", "the range asked for is outside the file", ""},
		{"unreadable", "/hall/broken.js", "", 500, CodeInternal, internalMessage, ""},
		{"invalid UTF-8", "/hall/%ff.js", "", 400, CodeBadPath, "the path must be UTF-8 without NUL", ""},
		{"NUL", "/hall/a%00.js", "", 400, CodeBadPath, "the path must be UTF-8 without NUL", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.rangeHeader != "" {
				req.Header.Set("Range", tt.rangeHeader)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			w := httptest.NewRecorder()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			_, _ = w.Body.ReadFrom(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, w.Body)
			}
			if tt.code == "" {
				if w.Body.String() != tt.body {
					t.Errorf("body %q, want %q", w.Body, tt.body)
				}
				return
			}
			if e := errorOf(t, w); e.Code != tt.code || e.Error != tt.message {
				t.Errorf("got %+v\nwant %s %q", e, tt.code, tt.message)
			}
			if strings.Contains(w.Body.String(), "/var") || strings.Contains(w.Body.String(), "input/output") {
				t.Errorf("answer %s leaks the server's error", w.Body)
			}
		})
	}
	// The FileServer's redirect to the canonical path is kept.
	resp, err := client.Get(srv.URL + "/hall/index.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "./" {
		t.Errorf("%s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
}

// Behind a plain http.ServeMux too, a path that is not UTF-8 is the
// client's mistake, a 400, before the fs is asked (an embed.FS answers it
// with an error the FileServer makes a 500).
func TestFilesBadPathWithoutMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /hall/", Files(fstest.MapFS{"hall/index.html": {Data: []byte("x")}}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, p := range []string{"/hall/%ff", "/hall/%c0%af", "/hall/a%00"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		_, _ = w.Body.ReadFrom(resp.Body)
		resp.Body.Close()
		if e := errorOf(t, w); resp.StatusCode != 400 || e.Code != CodeBadPath {
			t.Errorf("%s: %d %s", p, resp.StatusCode, w.Body)
		}
	}
}

// Both routers take a part's routes.
var (
	_ Routes = (*Mux)(nil)
	_ Routes = (*http.ServeMux)(nil)
)
