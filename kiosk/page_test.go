package kiosk

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// The ticket screen's QR code, drawn as SVG, reads back as the tracking
// address; text that is no address's length is refused.
func TestQRCode(t *testing.T) {
	r := newRig(t, true)
	const track = "http://127.0.0.1:8090/t/2026-11-23/%D0%9F001"
	resp, err := http.Get(r.api.URL + "/api/v1/qr?text=" + url.QueryEscape(track))
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("%s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	// Draw the SVG's modules, 8 px each, and read the code back.
	view := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindSubmatch(svg)
	if view == nil {
		t.Fatalf("no viewBox in %.200s", svg)
	}
	n, _ := strconv.Atoi(string(view[1]))
	const px = 8
	img := image.NewGray(image.Rect(0, 0, n*px, n*px))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`).FindAllSubmatch(svg, -1) {
		x, _ := strconv.Atoi(string(m[1]))
		y, _ := strconv.Atoi(string(m[2]))
		for dy := range px {
			for dx := range px {
				img.SetGray(x*px+dx, y*px+dy, color.Gray{})
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || res.GetText() != track {
		t.Fatalf("QR reads %v, %v; want %s", res, err, track)
	}
	for _, q := range []string{"", "text=", "text=" + strings.Repeat("x", maxQRText+1)} {
		resp, err := http.Get(r.api.URL + "/api/v1/qr?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s", q, resp.Status)
		}
	}
}

// The home screen lists first the services this kiosk gave most tickets
// for, then the configured ones, then each group's first.
func TestPopular(t *testing.T) {
	r := newRig(t, true)
	cat := r.k.cfg.Tickets.Snapshot().Catalogue
	first := r.k.popular(cat)
	if len(first) != popularShown || first[0] != cat.Services[0].ID {
		t.Fatalf("before any ticket: %v", first)
	}
	r.k.cfg.Screen.Popular = []string{"pension-age", "no-such-service"}
	for range 2 {
		r.k.counted("certificate-income")
	}
	r.k.counted("teleport")
	got := r.k.popular(cat)
	if fmt.Sprint(got[:2]) != "[certificate-income pension-age]" || len(got) != popularShown {
		t.Errorf("popular %v", got)
	}
}
