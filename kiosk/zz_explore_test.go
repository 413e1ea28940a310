package kiosk

import (
	"testing"
)

func TestZZExplore(t *testing.T) {
	r := newRig(t, true)
	p := openPage(t, r, 1080, 1920)
	t.Log(p.eval(`(() => { try { search(""); return document.querySelector("main").innerHTML.slice(0, 3000); } catch (e) { return "ERR " + e.stack; } })()`))
}
