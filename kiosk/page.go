package kiosk

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// Screen is how the touch page behaves in time.
type Screen struct {
	// Idle is how long a page left alone (off the home screen, or with
	// the language or a display mode changed) waits before it asks
	// whether the visitor is still there.
	Idle time.Duration
	// IdleWarning is how long that question stays before the page resets
	// to the home screen in Ukrainian with every mode off (at least 20 s,
	// EN 301 549 / WCAG 2.2.1).
	IdleWarning time.Duration
	// Ticket is how long the ticket screen stays after printing; never
	// while a finger is on the screen.
	Ticket time.Duration
	// Popular lists service ids shown first on the home screen until this
	// kiosk has counted which services visitors take most.
	Popular []string
}

// DefaultScreen is the page's timing when the configuration says nothing.
var DefaultScreen = Screen{Idle: 60 * time.Second, IdleWarning: 30 * time.Second, Ticket: 15 * time.Second}

// popularShown is how many services the home screen lists first.
const popularShown = 4

// pageSettings is what the page needs besides the catalogue.
type pageSettings struct {
	IdleS    int  `json:"idle_s"`
	WarnS    int  `json:"warn_s"`
	TicketS  int  `json:"ticket_s"`
	Bookings bool `json:"bookings"`
	Speech   bool `json:"speech"`
}

// catalogueView is GET /api/v1/services: the catalogue, and what the page
// needs beside it. The catalogue part (office, groups, services,
// documents, forms: about 260 KB with the demo's 400 services) is named
// by Version; a page that sends the version it holds (?have=VERSION)
// gets only the rest, a few hundred bytes, until the catalogue changes.
type catalogueView struct {
	Version   string           `json:"version"`
	Office    json.RawMessage  `json:"office,omitempty"`
	Groups    json.RawMessage  `json:"groups,omitempty"`
	Services  json.RawMessage  `json:"services,omitempty"`
	Documents json.RawMessage  `json:"documents,omitempty"`
	Forms     json.RawMessage  `json:"forms,omitempty"`
	Queues    []proto.QueueLen `json:"queues"`
	// Popular are the service ids the home screen lists first.
	Popular []string     `json:"popular"`
	Page    pageSettings `json:"page"`
	pageStatus
}

// encodedCatalogue is a snapshot's catalogue part, encoded once.
type encodedCatalogue struct {
	version                                    string
	office, groups, services, documents, forms json.RawMessage
}

// catalogueKey tells one snapshot's catalogue from another's without
// looking at its contents: a welcome or an update brings new slices, a
// queue-length push keeps them.
type catalogueKey struct {
	office                                 proto.Office
	groups                                 *proto.Group
	services                               *proto.Service
	documents                              *proto.Document
	forms                                  *proto.Form
	nGroups, nServices, nDocuments, nForms int
}

func keyOf(w *proto.Welcome) catalogueKey {
	c := &w.Catalogue
	k := catalogueKey{office: w.Office, nGroups: len(c.Groups), nServices: len(c.Services),
		nDocuments: len(c.Documents), nForms: len(c.Forms)}
	if len(c.Groups) > 0 {
		k.groups = &c.Groups[0]
	}
	if len(c.Services) > 0 {
		k.services = &c.Services[0]
	}
	if len(c.Documents) > 0 {
		k.documents = &c.Documents[0]
	}
	if len(c.Forms) > 0 {
		k.forms = &c.Forms[0]
	}
	return k
}

// catalogueCache holds the latest snapshot's encoded catalogue.
type catalogueCache struct {
	mu  sync.Mutex
	key catalogueKey
	enc *encodedCatalogue
}

// get returns snap's catalogue encoded, encoding it only when it changed.
func (c *catalogueCache) get(snap *proto.Welcome) (*encodedCatalogue, error) {
	key := keyOf(snap)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc != nil && c.key == key {
		return c.enc, nil
	}
	enc := &encodedCatalogue{}
	h := sha256.New()
	for _, part := range []struct {
		dst *json.RawMessage
		v   any
	}{{&enc.office, snap.Office}, {&enc.groups, snap.Catalogue.Groups}, {&enc.services, snap.Catalogue.Services},
		{&enc.documents, snap.Catalogue.Documents}, {&enc.forms, snap.Catalogue.Forms}} {
		b, err := json.Marshal(part.v)
		if err != nil {
			return nil, fmt.Errorf("kiosk: encode the catalogue: %w", err)
		}
		*part.dst = b
		h.Write(b)
		h.Write([]byte{0})
	}
	enc.version = hex.EncodeToString(h.Sum(nil)[:8])
	c.key, c.enc = key, enc
	return enc, nil
}

// pageStatus is what the page says about the kiosk's state; it is sent
// again on /kiosk/ws whenever it changes.
type pageStatus struct {
	// Online is false while the server is away: tickets are issued from
	// the kiosk's own numbers and waits are estimates.
	Online bool `json:"online"`
	// CanPrint is false while the printer cannot print: the page then
	// says the number will be shown on screen.
	CanPrint bool `json:"can_print"`
	// DiskFull is true while the terminal's disk is full: no ticket can
	// be issued, and the page tells visitors to ask staff.
	DiskFull bool `json:"disk_full"`
}

func (k *Kiosk) status() pageStatus {
	return pageStatus{Online: k.cfg.Tickets.Status().State == link.StateUp, CanPrint: k.cfg.Printer.Status().State != devices.Fault,
		DiskFull: k.cfg.DiskFull != nil && k.cfg.DiskFull()}
}

// pushStatus tells the pages the kiosk's state if it changed.
func (k *Kiosk) pushStatus() {
	st := k.status()
	k.mu.Lock()
	changed := st != k.lastStatus
	k.lastStatus = st
	k.mu.Unlock()
	if changed {
		k.hub.Broadcast(map[string]any{"type": "status", "status": st})
	}
}

// LinkChanged is told when the server link goes up or down.
func (k *Kiosk) LinkChanged(bool) { k.pushStatus() }

func (k *Kiosk) handleServices(w http.ResponseWriter, r *http.Request) {
	snap := k.cfg.Tickets.Snapshot()
	if snap == nil {
		httpapi.WriteError(w, http.StatusServiceUnavailable, "no_catalogue", ErrNoCatalogue.Error())
		return
	}
	enc, err := k.catalogue.get(snap)
	if err != nil {
		k.log.Error("catalogue for the page", "err", err)
		httpapi.Fail(w, err)
		return
	}
	sc := k.cfg.Screen
	view := catalogueView{Version: enc.version, Queues: snap.Queues, Popular: k.popular(snap.Catalogue),
		Page: pageSettings{IdleS: int(sc.Idle / time.Second), WarnS: int(sc.IdleWarning / time.Second),
			TicketS: int(sc.Ticket / time.Second), Bookings: snap.Bookings != nil, Speech: k.cfg.Speech != nil},
		pageStatus: k.status(),
	}
	if r.URL.Query().Get("have") != enc.version {
		view.Office, view.Groups, view.Services, view.Documents, view.Forms = enc.office, enc.groups, enc.services, enc.documents, enc.forms
	}
	// The page asks again on every home screen: never an old answer.
	w.Header().Set("Cache-Control", "no-store")
	k.writeJSON(w, http.StatusOK, view)
}

// counted notes a ticket taken for service, for the home screen's list
// of the most used services.
func (k *Kiosk) counted(service string) {
	k.mu.Lock()
	k.taken[service]++
	k.mu.Unlock()
}

// popular lists the services this kiosk gave most tickets for, then the
// configured ones, then the first of each group, popularShown in all.
func (k *Kiosk) popular(cat proto.Catalogue) []string {
	k.mu.Lock()
	counts := make(map[string]int, len(k.taken))
	for id, n := range k.taken {
		counts[id] = n
	}
	k.mu.Unlock()
	order := map[string]int{}
	for i, s := range cat.Services {
		order[s.ID] = i
	}
	var ids []string
	for id := range counts {
		if _, ok := order[id]; ok {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(counts[b]-counts[a], order[a]-order[b])
	})
	add := func(id string) {
		if _, ok := order[id]; ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range k.cfg.Screen.Popular {
		add(id)
	}
	for _, g := range cat.Groups {
		for _, s := range cat.Services {
			if s.Group == g.ID {
				add(s.ID)
				break
			}
		}
	}
	return ids[:min(len(ids), popularShown)]
}

// maxQRText bounds what the QR endpoint encodes: a tracking address.
const maxQRText = 512

// handleQR draws a QR code of the text as SVG, for the ticket screen's
// tracking link (no script library, no network).
func (k *Kiosk) handleQR(w http.ResponseWriter, r *http.Request) {
	text := r.URL.Query().Get("text")
	if text == "" || len(text) > maxQRText {
		httpapi.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest, fmt.Sprintf("text: expected 1 to %d bytes", maxQRText))
		return
	}
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, proto.CodeBadRequest, "text: cannot be encoded as a QR code: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(qrSVG(code))
}

// qrSVG draws the modules as one path, with the quiet zone of four
// modules the standard asks for.
func qrSVG(code barcode.Barcode) []byte {
	b := code.Bounds()
	const quiet = 4
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`,
		b.Dx()+2*quiet, b.Dy()+2*quiet)
	fmt.Fprintf(&buf, `<rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				fmt.Fprintf(&buf, "M%d %dh1v1h-1z", x-b.Min.X+quiet, y-b.Min.Y+quiet)
			}
		}
	}
	buf.WriteString(`"/></svg>`)
	return buf.Bytes()
}

// origins guards the kiosk's API and websocket: a request a browser makes
// from any page but the kiosk's own (another site, a page on another
// address of this terminal) is refused. Programs on this machine that send
// no Origin (kioskctl, curl) are let through, others not; the Host must
// still be the kiosk's, so a name rebound to this address does not reach
// the API either.
type origins struct {
	allowed atomic.Pointer[url.URL]
	refused atomic.Int64
	log     func(msg string, args ...any)
}

// redirect sends a browser that opened the page at another address of
// this terminal (http://localhost:8080/kiosk/) to the kiosk's origin,
// where its API calls will be taken.
func (o *origins) redirect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed := o.allowed.Load(); allowed != nil && !strings.EqualFold(r.Host, allowed.Host) {
			http.Redirect(w, r, allowed.Scheme+"://"+allowed.Host+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (o *origins) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowed := o.allowed.Load()
		if allowed == nil {
			h.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		// No Origin: a program, not a browser, and it must be on this
		// machine (a Host any client can write proves nothing).
		if (origin == "" && !httpapi.LocalClient(r)) || (origin != "" && origin != allowed.Scheme+"://"+allowed.Host) ||
			!strings.EqualFold(r.Host, allowed.Host) {
			n := o.refused.Add(1)
			o.log("request refused: not from the kiosk page", "origin", origin, "host", r.Host, "path", r.URL.Path,
				"allowed", allowed.String(), "refused", n)
			httpapi.WriteError(w, http.StatusForbidden, "forbidden_origin", fmt.Sprintf(
				"only the kiosk page at %s, or a program on this machine, may use this (request from origin %q, host %q, client %s)",
				allowed, clipText(origin), clipText(r.Host), r.RemoteAddr))
			return
		}
		h.ServeHTTP(w, r)
	})
}
