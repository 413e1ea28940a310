package link

import (
	"errors"
	"testing"

	"github.com/cherga/kiosk/link/proto"
)

// FuzzServerMessage feeds a terminal whatever a server could send: bytes
// are decoded as the link does, and what decodes is dispatched to the
// handlers. Nothing may panic, and the terminal must still issue tickets.
func FuzzServerMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"welcome","welcome":{"office":{"timezone":"Europe/Kyiv"},"catalogue":{"groups":[{"id":"g","prefix":"А"}],"services":[{"id":"s","group":"g"}]},"slot":2}}`,
		`{"type":"welcome","welcome":{"office":{"timezone":"Mars/Olympus"}}}`,
		`{"type":"call","id":"c1","push":1,"call":{"id":"c1","ticket":"А001","window":3}}`,
		`{"type":"recall","id":"c2","push":2,"call":{"id":"c2","ticket":"А001","window":3}}`,
		`{"type":"cancel","id":"x","push":3,"cancel":{"call":"c2"}}`,
		`{"type":"hall_message","id":"h","push":4,"hall_message":{"text":{"uk":"Увага"}}}`,
		`{"type":"update","id":"u","push":5,"update":{"version":"v2","catalogue":{"groups":[]}}}`,
		`{"type":"queues","queues":[{"group":"g","waiting":-5,"min_per_visitor":1e308}]}`,
		`{"type":"lease","leases":[{"day":"2026-11-23","prefix":"А","from":-1,"to":999999999}]}`,
		`{"type":"ack","seq":18446744073709551615}`,
		`{"type":"rejected","seq":1,"error":{"code":"bad_event","message":"keypad: window 99 is not in this office"}}`,
		`{"type":"rejected","seq":18446744073709551615,"error":{"code":"x"}}`,
		`{"type":"reserved","re":"r1","ticket":{"number":"А1"}}`,
		`{"type":"error","re":"r2","error":{"code":"x"}}`,
	} {
		f.Add([]byte(s))
	}
	store := openStore(f, f.TempDir(), StoreOptions{})
	c := New(Config{URL: "ws://127.0.0.1:1/x", Device: "k"}, store, newRecorder(), quiet)
	c.welcome(&proto.Welcome{Catalogue: proto.Catalogue{
		Groups: []proto.Group{{ID: "g", Prefix: "А"}}, Services: []proto.Service{{ID: "s", Group: "g"}}}})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := proto.Decode(b)
		if err != nil {
			return
		}
		rec := c.handler.(*recorder)
		c.dispatch(&session{pending: map[string]chan *proto.Message{}}, m)
		for _, ch := range []func(){func() { drain(rec.calls) }, func() { drain(rec.welcomes) }, func() { drain(rec.cancels) },
			func() { drain(rec.messages) }, func() { drain(rec.updates) }} {
			ch()
		}
		if snap := c.Snapshot(); snap != nil && len(snap.Catalogue.Services) > 0 {
			if _, err := c.IssueTicket(t.Context(), snap.Catalogue.Services[0].ID); err != nil && !isRefusal(err) {
				t.Fatalf("no ticket after %s: %v", b, err)
			}
		}
	})
}

func drain[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// isRefusal is an error a kiosk shows to a visitor, not a broken terminal.
func isRefusal(err error) bool {
	var perr *proto.Error
	return errors.As(err, &perr)
}
