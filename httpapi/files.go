package httpapi

import (
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Routes is where a part of a daemon registers its routes: an
// *http.ServeMux or a *Mux. Parts take this rather than either type, so
// the daemon decides which router serves them.
type Routes interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request))
}

// Files serves the files of fsys (the pages, embedded in the binary) as
// http.FileServerFS does: index.html for a directory, the redirects to
// canonical paths, ranges and If-Modified-Since. Its refusals are JSON
// like every other error: a missing file is 404 not_found naming the path
// asked for, a file it could not read a bare 500 internal (never the fs's
// error text, which may hold a path on the server).
//
// A path that is not UTF-8 or holds a NUL is 400 bad_path here too, not
// only behind Mux: an embed.FS answers such a name with an error that is
// not fs.ErrNotExist, which the FileServer would make a 500.
func Files(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if badPath(r.URL.Path) {
			WriteError(w, http.StatusBadRequest, CodeBadPath, badPathMessage)
			return
		}
		files.ServeHTTP(&fileErrors{ResponseWriter: w, r: r}, r)
	})
}

const badPathMessage = "the path must be UTF-8 without NUL"

func badPath(p string) bool { return !utf8.ValidString(p) || strings.IndexByte(p, 0) >= 0 }

// fileErrors turns the plain-text error a FileServer writes into our JSON
// one. http.Error sets the headers, then WriteHeader, then writes the
// text: the status is where the answer is replaced, and the text dropped.
type fileErrors struct {
	http.ResponseWriter
	r      *http.Request
	failed bool
}

func (f *fileErrors) WriteHeader(status int) {
	if status < 400 {
		f.ResponseWriter.WriteHeader(status)
		return
	}
	if f.failed {
		return
	}
	f.failed = true
	switch status {
	case http.StatusNotFound:
		WriteError(f.ResponseWriter, status, CodeNotFound, fmt.Sprintf("no such file: %s", clip(f.r.URL.Path)))
	case http.StatusForbidden:
		WriteError(f.ResponseWriter, status, "forbidden", fmt.Sprintf("the file %s may not be read", clip(f.r.URL.Path)))
	case http.StatusRequestedRangeNotSatisfiable:
		WriteError(f.ResponseWriter, status, "bad_range", "the range asked for is outside the file")
	case http.StatusPreconditionFailed:
		WriteError(f.ResponseWriter, status, "precondition_failed", "the file does not match the request's preconditions")
	default:
		if status >= 500 {
			WriteError(f.ResponseWriter, http.StatusInternalServerError, CodeInternal, internalMessage)
			return
		}
		WriteError(f.ResponseWriter, status, "bad_request", http.StatusText(status))
	}
}

func (f *fileErrors) Write(b []byte) (int, error) {
	if f.failed {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (f *fileErrors) Unwrap() http.ResponseWriter { return f.ResponseWriter }
