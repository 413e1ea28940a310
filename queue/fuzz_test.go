package queue

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cherga/kiosk/link/proto"
)

// FuzzTerminalMessage feeds the server whatever a terminal could send:
// bytes are decoded as the link does, and what decodes is handled as a
// request or committed as an event. Nothing may panic, and the queue must
// still work afterwards.
func FuzzTerminalMessage(f *testing.F) {
	at := "2026-11-23T10:00:00+02:00"
	for _, s := range []string{
		`{"type":"reserve","id":"r1","reserve":{"service":"pension-age"}}`,
		`{"type":"checkin","id":"r2","checkin":{"code":"1234"}}`,
		`{"type":"ticket_issued","seq":1,"ticket":{"number":"П1-001","service":"pension-age","offline":true,"issued_at":"` + at + `","terminal_at":"` + at + `"}}`,
		`{"type":"ticket_withdrawn","seq":1,"ticket":{"number":"П1-001","service":"pension-age","offline":true,"issued_at":"` + at + `","terminal_at":"` + at + `"},"withdrawal":{"reason":"not_handed_out","printing":true,"at":"` + at + `"}}`,
		`{"type":"ticket_withdrawn","seq":1,"ticket":{"number":"П001","service":"pension-age","issued_at":"` + at + `"},"withdrawal":{"reason":"bored"}}`,
		`{"type":"ticket_withdrawn","seq":1,"ticket":{"number":"П9-001~x","service":"teleport","offline":true},"withdrawal":{"reason":"not_handed_out"}}`,
		`{"type":"ticket_issued","seq":2,"ticket":{"number":"П001","service":"pension-age","issued_at":"` + at + `"}}`,
		`{"type":"ticket_issued","seq":3,"ticket":{"number":"Ж1-001","service":"teleport","offline":true}}`,
		`{"type":"device_status","seq":4,"status":{"devices":[{"name":"printer","state":"fault"}]}}`,
		`{"type":"call_shown","seq":5,"seen":{"call":"2026-11-23/1"}}`,
		`{"type":"call_announced","seq":6,"seen":{"call":"../../x"}}`,
		`{"type":"keypad","seq":7,"keypad":{"window":1,"key":"next","at":"` + at + `"}}`,
		`{"type":"keypad","seq":8,"keypad":{"window":99999,"key":"recall","at":"` + at + `"}}`,
		`{"type":"rating","seq":9,"rating":{"ticket":"П001","window":1,"score":5}}`,
		`{"type":"welcome","welcome":{}}`,
		`{"type":"device_status","seq":10,"status":{"devices":[{"name":"printer","state":"warning","detail":"paper_near_end","since":"` + at + `","last_error":"x"}]}}`,
		`{"type":"outbox","outbox":{"events":600,"oldest_at":"` + at + `","last_seq":900}}`,
		`{"type":"outbox","outbox":{"events":-1}}`,
		`{"type":"outbox","outbox":{"events":3,"oldest_at":"0001-01-01T00:00:00Z","last_seq":18446744073709551615}}`,
	} {
		f.Add([]byte(s))
	}
	c := newClock()
	c.Advance(time.Hour)
	q := openTest(f, filepath.Join(f.TempDir(), "q.db"), c)
	srv, err := NewServer(q, ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessFile: filepath.Join(f.TempDir(), "access.json")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	hello := &proto.Hello{Device: "fuzz", Roles: []string{"kiosk", "hall", "window"}, Epoch: "e", Time: c.Now()}
	_, _, dev, err := q.Connect(hello)
	if err != nil {
		f.Fatal(err)
	}
	// The link's terminal, as the alert book knows it.
	linked := &terminal{device: "fuzz", clock: c}
	srv.alerts.connected(linked, hello, dev, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := proto.Decode(b)
		if err != nil && m == nil {
			return
		}
		if m.IsEvent() {
			// Whatever seq it claims, the next one keeps events applying.
			d, _ := q.Device("fuzz")
			m.Seq = d.LastSeq + 1
			acked, _, err := q.ApplyEvents("fuzz", 0, []*proto.Message{m})
			if err != nil {
				t.Fatalf("event %s not committed: %v", b, err)
			}
			srv.alerts.committed("fuzz", acked)
			if m.Type == proto.TypeDeviceStatus {
				srv.alerts.status("fuzz", m.Status, 0)
			}
			srv.alerts.sweep(c.Now().Add(time.Hour))
			_ = srv.alerts.view()
			return
		}
		if m.Type == proto.TypeOutbox {
			srv.alerts.outboxReport(linked, m.Outbox, 0)
			srv.alerts.sweep(c.Now().Add(time.Hour))
			_ = srv.alerts.view()
			return
		}
		term := &terminal{device: "fuzz", send: make(chan []byte, 16), quit: make(chan struct{}), done: make(chan struct{})}
		srv.handleRequest(term, m)
		if _, _, err := q.Issue("pension-age", "api"); err != nil {
			t.Fatalf("queue broken after %s: %v", b, err)
		}
	})
}
