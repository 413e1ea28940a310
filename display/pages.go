package display

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/pageclock"
)

//go:embed web
var webFS embed.FS

// staticPages serves the pages' files (/hall/, /window/, /boards/) from the
// binary: kiosks live on closed networks, nothing is fetched from outside.
// A file that is not there is a JSON 404, like every error.
var staticPages = httpapi.Files(mustSub(webFS, "web"))

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Register adds the simulated boards' page to mux. The page also shows
// the faces of emulated bus devices when the same mux serves
// GET /api/v1/sim/bus and the emulator's drawing of them, /bus-faces.js
// and /bus-faces.css (kioskd does, for a bus with buses[].emulator); it
// loads neither when /api/v1/sim/bus is 404.
func (p *BoardsPage) Register(mux httpapi.Routes) {
	mux.Handle("GET /boards/", boardsHeaders(staticPages))
	mux.Handle("GET /boards/ws", p.hub)
}

// boardsCSP keeps the boards page to this kioskd's own scripts, styles
// and connections: it can press keys on emulated devices.
const boardsCSP = "default-src 'self'; connect-src 'self'; img-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func boardsHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", boardsCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// RegisterAssets serves the scripts the display pages share (clock.js,
// the page clock every timer of theirs runs on; live.js, the connection;
// screen.js, what the TV pages share: text fitted to its box, the
// office's clock); call it once per mux.
func RegisterAssets(mux httpapi.Routes) {
	mux.Handle("GET /clock.js", pageclock.Handler())
	mux.Handle("GET /live.js", staticPages)
	mux.Handle("GET /screen.js", staticPages)
}
