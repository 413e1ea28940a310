// Package faceweb draws what the emulated bus devices show — the window
// display's LED matrix, the operator keypad's 2×20 LCD with its four LEDs
// and seven keys, the rating panel's five buttons and thank-you lamp — in
// a browser. It is one script and one stylesheet that the emulator's own
// page (kioskctl bridge emulate) and kioskd's /boards/ page both serve,
// so the faces are drawn by the same code in both.
//
// The script defines BusFaces.make(type, opts): it builds the face of one
// device of that type ("window-display", "keypad", "rating") and returns
// {node, draw(face)}, where face is the emulator's Face JSON (emulator.Face,
// as GET /api/v1/devices lists it). opts.press({key, long}) is called for
// a key pressed on the face; opts.langs are the languages of its texts,
// which come from the message catalogue (["uk", "en"] shows both, one
// after the other; default the page's I18N.lang: the page loads /i18n.js
// first). The stylesheet's classes all begin with bf-, so they mix with
// any page's.
package faceweb

import (
	"embed"
	"io/fs"

	"github.com/cherga/kiosk/httpapi"
)

//go:embed web
var webFS embed.FS

// The paths the script and the stylesheet are served at.
const (
	Script = "/bus-faces.js"
	Style  = "/bus-faces.css"
)

var files = func() fs.FS {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // embedded at build time
	}
	return sub
}()

// Register serves the script and the stylesheet on mux, at Script and
// Style.
func Register(mux httpapi.Routes) {
	h := httpapi.Files(files)
	mux.Handle("GET "+Script, h)
	mux.Handle("GET "+Style, h)
}
