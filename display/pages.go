package display

import (
	"embed"
	"io/fs"

	"github.com/cherga/kiosk/httpapi"
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

// Register adds the simulated boards' page to mux.
func (p *BoardsPage) Register(mux httpapi.Routes) {
	mux.Handle("GET /boards/", staticPages)
	mux.Handle("GET /boards/ws", p.hub)
}

// RegisterAssets serves the scripts the display pages share; call it once
// per mux.
func RegisterAssets(mux httpapi.Routes) {
	mux.Handle("GET /live.js", staticPages)
}
