package queue

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

// syncBuffer is a log sink the committer and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// keypadRig is the desk office (windows 1, 2 and 9, no-show after 2
// recalls, the default pause reasons) with a bus terminal, bus-1, that
// presses keys.
type keypadRig struct {
	t   *testing.T
	c   *clockwork.FakeClock
	q   *Queue
	log *syncBuffer
	seq uint64
}

func newKeypadRig(t *testing.T) *keypadRig {
	t.Helper()
	cfg, err := configs.ParseOffice("desk.yaml", []byte(deskOfficeYAML))
	if err != nil {
		t.Fatal(err)
	}
	r := &keypadRig{t: t, c: newClock(), log: new(syncBuffer)}
	r.q, err = Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: r.c, Version: "v1", Log: slog.New(slog.NewTextHandler(r.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.q.Close() })
	h := hello("bus-1", "window")
	h.Windows = []int{1, 2, 9}
	connect(t, r.q, h)
	return r
}

func (r *keypadRig) event(m *proto.Message) Effects {
	r.t.Helper()
	r.seq++
	m.Seq = r.seq
	_, eff := apply(r.t, r.q, "bus-1", 0, m)
	return eff
}

// press presses key at window now and returns what it did: the window's
// state as the change left it, and the change's effects.
func (r *keypadRig) press(window int, key string, to int) (proto.WindowState, Effects) {
	r.t.Helper()
	return r.pressAt(window, key, to, r.c.Now())
}

func (r *keypadRig) pressAt(window int, key string, to int, at time.Time) (proto.WindowState, Effects) {
	r.t.Helper()
	eff := r.event(&proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{Window: window, Key: key, To: to, At: at}})
	for _, st := range eff.states {
		if st.Window == window {
			return st.WindowState, eff
		}
	}
	r.t.Fatalf("press of %s at window %d: no state of the window in %+v", key, window, eff)
	return proto.WindowState{}, eff
}

func stateIs(t *testing.T, what string, st proto.WindowState, state, ticket, key, refused string) {
	t.Helper()
	if st.State != state || st.Ticket != ticket || st.Key != key || st.Refused != refused {
		t.Fatalf("%s: window %d is %s with %q, key %q refused %q; want %s with %q, key %q refused %q",
			what, st.Window, st.State, st.Ticket, st.Key, st.Refused, state, ticket, key, refused)
	}
}

// The keypad's keys, each press answered in the window's state: what it
// did, or why it did nothing.
func TestKeypadWindowStates(t *testing.T) {
	r := newKeypadRig(t)
	q := r.q

	// Nobody signed in: the press is kept, logged and does nothing; no
	// ticket is called by nobody.
	a1 := mustIssue(t, q, "subsidy-housing")
	st, eff := r.press(1, proto.KeyNext, 0)
	stateIs(t, "next, nobody signed in", st, proto.WindowClosed, "", proto.KeyNext, RefusedNotSignedIn)
	if len(eff.Pushes) != 0 || st.Waiting != 1 {
		t.Fatalf("next at a window nobody signed in to: %+v", eff)
	}
	if log := r.log.String(); !strings.Contains(log, "nobody is signed in") || !strings.Contains(log, "window=1") {
		t.Errorf("the press was not logged:\n%s", log)
	}
	if got := types(logOf(t, q)); slices.Contains(got, record.Called) || slices.Contains(got, record.Resumed) {
		t.Errorf("the press changed the record: %v", got)
	}

	must[Result](t)(q.SignIn(1, olena, false))
	st, eff = r.press(1, proto.KeyNext, 0)
	stateIs(t, "next", st, proto.WindowCalling, a1.Number, proto.KeyNext, "")
	if c := callOf(t, eff); c.Ticket != a1.Number || c.Window != 1 || !st.Since.Equal(r.c.Now()) || st.Service != "subsidy-housing" {
		t.Fatalf("call %+v, state %+v", c, st)
	}
	if tk, _ := q.AtWindow(1); tk.Operator != "olena" {
		t.Errorf("the keypad's call is not olena's: %+v", tk)
	}
	st, _ = r.press(1, proto.KeyNoShow, 0)
	stateIs(t, "no-show before the recalls", st, proto.WindowCalling, a1.Number, proto.KeyNoShow, RefusedNothingToDo)
	st, _ = r.press(1, proto.KeyRecall, 0)
	stateIs(t, "recall", st, proto.WindowCalling, a1.Number, proto.KeyRecall, "")
	r.c.Advance(time.Minute)
	st, _ = r.press(1, proto.KeyCame, 0)
	stateIs(t, "came", st, proto.WindowServing, a1.Number, proto.KeyCame, "")
	st, _ = r.press(1, proto.KeyCame, 0)
	stateIs(t, "came again", st, proto.WindowServing, a1.Number, proto.KeyCame, RefusedNothingToDo)

	// Transfer without a window: back to the front of its line, for the
	// next window free; with one, to that window only.
	a2 := mustIssue(t, q, "subsidy-housing")
	st, eff = r.press(1, proto.KeyTransfer, 0)
	stateIs(t, "transfer back", st, proto.WindowIdle, "", proto.KeyTransfer, "")
	if st.Waiting != 2 || len(eff.Pushes) != 0 {
		t.Fatalf("after the transfer back: %+v %+v", st, eff)
	}
	must[Result](t)(q.SignIn(2, petro, false))
	if got := must[Result](t)(q.NextAs(2, nil, petro)); got.Ticket.Number != a1.Number {
		t.Fatalf("the next window free called %s, want %s back at the front", got.Ticket.Number, a1.Number)
	}
	st, _ = r.press(1, proto.KeyNext, 0)
	stateIs(t, "next after the transfer", st, proto.WindowCalling, a2.Number, proto.KeyNext, "")
	st, eff = r.press(1, proto.KeyTransfer, 9)
	stateIs(t, "transfer to 9", st, proto.WindowIdle, "", proto.KeyTransfer, "")
	if i := slices.IndexFunc(eff.states, func(s windowState) bool { return s.Window == 9 }); i < 0 || eff.states[i].Waiting != 1 {
		t.Fatalf("window 9's state after the transfer to it: %+v", eff.states)
	}
	if l, _, _ := q.WindowQueue(9, 5); len(l) != 1 || l[0].Number != a2.Number || l[0].Window != 9 {
		t.Fatalf("window 9's queue %+v", l)
	}
	st, _ = r.press(1, proto.KeyTransfer, 0)
	stateIs(t, "transfer with nobody", st, proto.WindowIdle, "", proto.KeyTransfer, RefusedNothingToDo)

	// Pause toggles: paused for the office's first reason, then open.
	st, _ = r.press(1, proto.KeyPause, 0)
	stateIs(t, "pause", st, proto.WindowPaused, "", proto.KeyPause, "")
	if st.Reason != "break" {
		t.Errorf("paused for %q, want the office's first reason", st.Reason)
	}
	st, _ = r.press(1, proto.KeyNext, 0)
	stateIs(t, "next while paused", st, proto.WindowPaused, "", proto.KeyNext, RefusedPaused)
	st, _ = r.press(1, proto.KeyPause, 0)
	stateIs(t, "pause again: resume", st, proto.WindowIdle, "", proto.KeyPause, "")
	st, _ = r.press(1, proto.KeyNext, 0)
	stateIs(t, "next with nobody", st, proto.WindowIdle, "", proto.KeyNext, RefusedNobodyWaiting)

	// A press that reaches queued after more than a minute does nothing.
	mustIssue(t, q, "subsidy-housing")
	st, eff = r.pressAt(1, proto.KeyNext, 0, r.c.Now().Add(-2*time.Minute))
	stateIs(t, "a two-minute-old next", st, proto.WindowIdle, "", proto.KeyNext, RefusedTooOld)
	if len(eff.Pushes) != 0 {
		t.Errorf("a two-minute-old press called: %+v", eff.Pushes)
	}

	// A window the office does not have, a key nobody knows: rejected.
	eff = r.event(&proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{Window: 99, Key: proto.KeyNext, At: r.c.Now()}})
	if len(eff.Rejected) != 1 || !strings.Contains(eff.Rejected[0].Error.Message, "window 99") {
		t.Errorf("press at window 99: %+v", eff.Rejected)
	}
	eff = r.event(&proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{Window: 1, Key: "self-destruct", At: r.c.Now()}})
	if len(eff.Rejected) != 1 || len(eff.states) != 0 {
		t.Errorf("an unknown key: %+v", eff)
	}
	if got, _ := q.WindowState(1); got.Key != proto.KeyNext || got.Refused != RefusedTooOld {
		t.Errorf("a rejected press changed the window's state: %+v", got)
	}
}

// The rating panel's mark is tied to the ticket the window finished last
// (its state's Finished), and the statistics count it for the operator
// who served the visitor, even when the visitor pressed before queued
// committed the operator's finish.
func TestRatingTiedToFinished(t *testing.T) {
	r := newKeypadRig(t)
	q := r.q
	must[Result](t)(q.SignIn(1, olena, false))
	a1 := mustIssue(t, q, "subsidy-housing")
	r.press(1, proto.KeyNext, 0)
	r.c.Advance(time.Minute)
	r.press(1, proto.KeyCame, 0)
	r.c.Advance(10 * time.Minute)

	// The finish and the rating, pressed 3 and 2 seconds ago, reach
	// queued in one batch: the finish is stamped now.
	finish := &proto.Message{Type: proto.TypeKeypad, Seq: r.seq + 1,
		Keypad: &proto.Keypad{Window: 1, Key: proto.KeyFinish, At: r.c.Now().Add(-3 * time.Second)}}
	rating := &proto.Message{Type: proto.TypeRating, Seq: r.seq + 2,
		Rating: &proto.Rating{Window: 1, Score: 4, At: r.c.Now().Add(-2 * time.Second)}}
	r.seq += 2
	_, eff := apply(t, q, "bus-1", 0, finish, rating)
	if len(eff.states) != 1 || eff.states[0].Finished != a1.Number || !eff.states[0].FinishedAt.Equal(r.c.Now()) {
		t.Fatalf("state after the finish: %+v", eff.states)
	}
	// A second visitor's mark with nobody finished since is still theirs
	// within 15 minutes; after that, nobody's.
	r.c.Advance(14 * time.Minute)
	r.event(&proto.Message{Type: proto.TypeRating, Rating: &proto.Rating{Window: 1, Score: 2, At: r.c.Now()}})
	r.c.Advance(2 * time.Minute)
	r.event(&proto.Message{Type: proto.TypeRating, Rating: &proto.Rating{Window: 1, Score: 1, At: r.c.Now()}})

	var rated []record.Event
	for _, e := range logOf(t, q) {
		if e.Type == record.Rated {
			rated = append(rated, e)
		}
	}
	if len(rated) != 3 || rated[0].Ticket != a1.Number || rated[0].Operator != "olena" || rated[1].Ticket != a1.Number || rated[2].Ticket != "" {
		t.Fatalf("ratings in the record: %+v", rated)
	}
	rep, err := stats.Compute(slices.Values(logOf(t, q)), stats.Query{From: "2026-11-23", To: "2026-11-23", By: "operator"}, stats.Names{}, q.Location())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Key != "olena" || rep.Rows[0].Ratings.Count != 2 || rep.Rows[0].Ratings.Mean != 3 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	// The mark tied to nobody is in the record, not in the figures.
	if rep.Total.Ratings.Count != 2 || rep.IgnoredEvents != 0 {
		t.Errorf("total ratings %+v, ignored %d", rep.Total.Ratings, rep.IgnoredEvents)
	}
}

const barsOfficeYAML = `id: bus-office
name: {uk: Тестовий офіс, en: Test office}
data_dir: unused
groups:
  - {id: subsidies, name: {uk: Субсидії, en: Subsidies}, prefix: А, minutes: 12}
  - {id: pensions, name: {uk: Пенсії, en: Pensions}, prefix: П, minutes: 15}
services:
  - {id: subsidy-housing, group: subsidies, name: {uk: Житлова субсидія, en: Housing subsidy}}
  - {id: pension-age, group: pensions, name: {uk: Пенсія за віком, en: Old-age pension}}
windows:
  - {number: 3}
  - {number: 4}
  - {number: 5}
`

// windowRig is queued serving an office of windows 3, 4 and 5 over
// loopback, on a fake clock.
type windowRig struct {
	t  *testing.T
	c  *clockwork.FakeClock
	q  *Queue
	s  *Server
	ts *httptest.Server
}

func newWindowRig(t *testing.T) *windowRig {
	t.Helper()
	cfg, err := configs.ParseOffice("bus.yaml", []byte(barsOfficeYAML))
	if err != nil {
		t.Fatal(err)
	}
	r := &windowRig{t: t, c: newClock()}
	if r.q, err = Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: r.c, Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.q.Close() })
	file := filepath.Join(t.TempDir(), "access.json")
	store, err := access.OpenStore(file, access.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if apiToken, err = store.AddToken("tests", []string{access.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	if r.s, err = NewServer(r.q, ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessFile: file}); err != nil {
		t.Fatal(err)
	}
	r.ts = httptest.NewServer(r.s)
	t.Cleanup(func() { r.s.Close(); r.ts.Close() })
	return r
}

// signIn signs an operator in as the operator page does, and tells the
// terminals.
func (r *windowRig) signIn(n int, who Actor) {
	r.t.Helper()
	res, err := r.q.SignIn(n, who, false)
	if err != nil {
		r.t.Fatal(err)
	}
	r.s.publish(res.Effects)
}

// terminal dials a terminal with hello h (its clock the office's).
func (r *windowRig) terminal(h proto.Hello) (*peer, *proto.Welcome) {
	r.t.Helper()
	p := dialPeer(r.t, r.ts)
	h.Epoch, h.Time = "e-"+h.Device, r.c.Now()
	p.send(&proto.Message{Type: proto.TypeHello, Hello: &h})
	return p, p.read().Welcome
}

// read is the next message, whatever it is.
func (p *peer) read() *proto.Message {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := p.conn.ReadMessage()
	if err != nil {
		p.t.Fatalf("reading: %v", err)
	}
	m, err := proto.Decode(b)
	if err != nil {
		p.t.Fatalf("server sent %s: %v", b, err)
	}
	return m
}

// until reads messages up to the first for which stop is true, and
// returns them all.
func (p *peer) until(what string, stop func(m *proto.Message) bool) []*proto.Message {
	p.t.Helper()
	var out []*proto.Message
	for {
		_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := p.conn.ReadMessage()
		if err != nil {
			p.t.Fatalf("waiting for %s (after %s): %v", what, describe(out), err)
		}
		m, err := proto.Decode(b)
		if err != nil {
			p.t.Fatalf("server sent %s: %v", b, err)
		}
		out = append(out, m)
		if stop(m) {
			return out
		}
	}
}

func describe(ms []*proto.Message) string {
	var parts []string
	for _, m := range ms {
		switch {
		case m.Window != nil:
			w := m.Window
			parts = append(parts, fmt.Sprintf("window %d %s %s waiting %d key %s%s", w.Window, w.State, w.Ticket, w.Waiting, w.Key, cmpOr(" refused "+w.Refused, "")))
		case m.Call != nil:
			parts = append(parts, fmt.Sprintf("%s %s at %d", m.Type, m.Call.Ticket, m.Call.Window))
		default:
			parts = append(parts, m.Type)
		}
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func isState(n int, state string) func(m *proto.Message) bool {
	return func(m *proto.Message) bool { return m.Window != nil && m.Window.Window == n && m.Window.State == state }
}

func isCall(typ string, n int) func(m *proto.Message) bool {
	return func(m *proto.Message) bool { return m.Type == typ && m.Call.Window == n }
}

// about lists the windows the messages' calls and states are about.
func about(ms []*proto.Message) []int {
	var out []int
	for _, m := range ms {
		switch {
		case m.Window != nil:
			out = append(out, m.Window.Window)
		case m.Call != nil:
			out = append(out, m.Call.Window)
		}
	}
	return out
}

// A window's terminal gets the window's state in its welcome and at every
// change; a terminal of windows 3 and 4 gets both windows' calls and
// states, and nothing of window 5.
func TestLinkWindowStates(t *testing.T) {
	r := newWindowRig(t)
	display, w := r.terminal(proto.Hello{Device: "display-3", Roles: []string{"window"}, Window: 3})
	if w.Window == nil || w.Window.Window != 3 || w.Window.State != proto.WindowClosed {
		t.Fatalf("welcome's window %+v", w.Window)
	}
	bus, w := r.terminal(proto.Hello{Device: "bus-1", Roles: []string{"window"}, Windows: []int{4, 3, 4}})
	if w.Window != nil {
		t.Fatalf("welcome's window %+v for a hello without one", w.Window)
	}
	for _, n := range []int{3, 4} { // right after the welcome, in order
		if m := bus.read(); m.Type != proto.TypeWindow || m.Window.Window != n || m.Window.State != proto.WindowClosed {
			t.Fatalf("after the welcome, %s", describe([]*proto.Message{m}))
		}
	}
	hall, _ := r.terminal(proto.Hello{Device: "hall-1", Roles: []string{"hall"}})

	r.signIn(3, olena)
	r.signIn(4, petro)
	r.signIn(5, Actor{Terminal: "operator", Operator: "ivan", Name: "Іван Мельник"})
	display.until("window 3 open", isState(3, proto.WindowIdle))
	for i := 0; i < 3; i++ {
		call(t, "POST", r.ts.URL+"/api/v1/tickets", `{"service":"subsidy-housing"}`, http.StatusCreated, nil)
	}
	var called proto.Ticket
	call(t, "POST", r.ts.URL+"/api/v1/windows/5/next", "", http.StatusOK, nil)
	call(t, "POST", r.ts.URL+"/api/v1/windows/3/next", "", http.StatusOK, &called)
	call(t, "POST", r.ts.URL+"/api/v1/windows/4/next", "", http.StatusOK, nil)
	for _, n := range []int{5, 4, 3} { // recall at 3 last: read up to it
		call(t, "POST", fmt.Sprintf("%s/api/v1/windows/%d/recall", r.ts.URL, n), "", http.StatusOK, nil)
	}

	ms := display.until("recall at 3", isCall(proto.TypeRecall, 3))
	if got := about(ms); slices.ContainsFunc(got, func(n int) bool { return n != 3 }) {
		t.Errorf("window 3's display got messages of windows %v: %s", got, describe(ms))
	}
	if i := slices.IndexFunc(ms, isState(3, proto.WindowCalling)); i < 0 || ms[i].Window.Ticket != called.Number || ms[i].Window.Key != "" ||
		!slices.ContainsFunc(ms, isCall(proto.TypeCall, 3)) {
		t.Errorf("display got %s", describe(ms))
	}
	ms = bus.until("recall at 3", isCall(proto.TypeRecall, 3))
	if slices.Contains(about(ms), 5) {
		t.Errorf("bus of windows 3 and 4 got window 5's: %s", describe(ms))
	}
	for _, want := range []func(*proto.Message) bool{isCall(proto.TypeCall, 3), isCall(proto.TypeCall, 4), isCall(proto.TypeRecall, 4),
		isState(3, proto.WindowCalling), isState(4, proto.WindowCalling)} {
		if !slices.ContainsFunc(ms, want) {
			t.Errorf("bus missed a call or state: %s", describe(ms))
		}
	}
	if ms := hall.until("recall at 3", isCall(proto.TypeRecall, 3)); slices.ContainsFunc(ms, func(m *proto.Message) bool { return m.Window != nil }) ||
		!slices.ContainsFunc(ms, isCall(proto.TypeCall, 5)) {
		t.Errorf("the hall got %s", describe(ms))
	}

	// Keypad presses: each answered in the window's state before the ack.
	seq := uint64(0)
	press := func(window int, key string, to int) proto.WindowState {
		t.Helper()
		seq++
		bus.send(&proto.Message{Type: proto.TypeKeypad, Seq: seq, Keypad: &proto.Keypad{Window: window, Key: key, To: to, At: r.c.Now()}})
		ms := bus.until(fmt.Sprintf("ack %d", seq), func(m *proto.Message) bool { return m.Type == proto.TypeAck && m.Seq == seq })
		for i := len(ms) - 1; i >= 0; i-- {
			if m := ms[i]; m.Window != nil && m.Window.Window == window {
				if slices.Contains(about(ms), 5) {
					t.Errorf("window 5 in %s", describe(ms))
				}
				return *m.Window
			}
		}
		t.Fatalf("no state of window %d before the ack of %s: %s", window, key, describe(ms))
		return proto.WindowState{}
	}
	st := press(4, proto.KeyCame, 0)
	stateIs(t, "came at 4", st, proto.WindowServing, st.Ticket, proto.KeyCame, "")
	st = press(3, proto.KeyNext, 0) // finishes the visitor; nobody else waits
	stateIs(t, "next at 3", st, proto.WindowIdle, "", proto.KeyNext, RefusedNobodyWaiting)
	if st.Finished != called.Number || st.FinishedAt.IsZero() {
		t.Errorf("window 3 finished %q at %s, want %s", st.Finished, st.FinishedAt, called.Number)
	}
	at4 := press(4, proto.KeyTransfer, 0)
	stateIs(t, "transfer back at 4", at4, proto.WindowIdle, "", proto.KeyTransfer, "")
	if at4.Waiting != 1 {
		t.Errorf("after the transfer back, window 4 may call %d", at4.Waiting)
	}
	st = press(3, proto.KeyNext, 0)
	stateIs(t, "next at 3 takes the transferred", st, proto.WindowCalling, st.Ticket, proto.KeyNext, "")
	st = press(3, proto.KeyTransfer, 5)
	stateIs(t, "transfer to 5", st, proto.WindowIdle, "", proto.KeyTransfer, "")
	st = press(4, proto.KeyPause, 0)
	stateIs(t, "pause at 4", st, proto.WindowPaused, "", proto.KeyPause, "")
	if st.Reason != "break" {
		t.Errorf("paused for %q", st.Reason)
	}
	st = press(4, proto.KeyNext, 0)
	stateIs(t, "next while paused", st, proto.WindowPaused, "", proto.KeyNext, RefusedPaused)
	st = press(4, proto.KeyPause, 0)
	stateIs(t, "pause again", st, proto.WindowIdle, "", proto.KeyPause, "")

	// Another terminal of window 3 connecting later gets its state as it is.
	_, w = r.terminal(proto.Hello{Device: "display-3b", Roles: []string{"window"}, Window: 3, Windows: []int{3}})
	if w.Window == nil || w.Window.Key != proto.KeyTransfer || w.Window.Finished != called.Number {
		t.Errorf("late welcome's window %+v", w.Window)
	}
}

// waitState reads window states up to one that ok accepts; when the
// broadcaster is waiting for the next second meanwhile, the clock is moved
// to it.
func (r *windowRig) waitState(p *peer, ok func(st *proto.WindowState) bool) (st *proto.WindowState, advanced bool) {
	r.t.Helper()
	type read struct {
		st  *proto.WindowState
		err error
	}
	got := make(chan read, 1)
	go func() {
		for {
			_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := p.conn.ReadMessage()
			if err != nil {
				got <- read{err: err}
				return
			}
			if m, err := proto.Decode(b); err == nil && m.Window != nil && ok(m.Window) {
				got <- read{st: m.Window}
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	armed := make(chan error, 1)
	go func() { armed <- r.c.BlockUntilContext(ctx, 1) }()
	select {
	case g := <-got:
		if g.err != nil {
			r.t.Fatal(g.err)
		}
		return g.st, false
	case err := <-armed:
		if err != nil {
			r.t.Fatal(err)
		}
		r.c.Advance(waitingEvery)
	}
	g := <-got
	if g.err != nil {
		r.t.Fatal(g.err)
	}
	return g.st, true
}

// Tickets issued anywhere change what a window may call: its terminals
// get the count at once after a quiet second, else once when the second
// is up, with the last count.
func TestLinkWaitingCoalesced(t *testing.T) {
	r := newWindowRig(t)
	r.signIn(3, olena)
	p, _ := r.terminal(proto.Hello{Device: "display-3", Roles: []string{"window"}, Window: 3})
	issue := func() {
		t.Helper()
		call(t, "POST", r.ts.URL+"/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, nil)
	}
	waiting := func(n int) func(st *proto.WindowState) bool {
		return func(st *proto.WindowState) bool { return st.Window == 3 && st.Waiting == n }
	}
	issue()
	r.waitState(p, waiting(1)) // at once, or when the startup's second is up

	// Within the second: nothing until it is up, then the last count only.
	for range 3 {
		issue()
	}
	// The broadcaster waits for the second to be up (the bound only ends
	// a test that would hang).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.c.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("the waiting counts are not held for the second: %v", err)
	}
	r.c.Advance(waitingEvery)
	if m := p.read(); m.Window == nil || m.Window.Waiting != 4 {
		t.Fatalf("after the second, %s; want window 3 with 4 waiting, and nothing before it", describe([]*proto.Message{m}))
	}

	// After a quiet second, at once.
	r.c.Advance(waitingEvery)
	issue()
	if m := p.read(); m.Window == nil || m.Window.Waiting != 5 {
		t.Fatalf("after a quiet second, %s; want window 3 with 5 waiting", describe([]*proto.Message{m}))
	}
	// A change of the window itself is sent at once, whatever the second.
	call(t, "POST", r.ts.URL+"/api/v1/windows/3/next", "", http.StatusOK, nil)
	ms := p.until("window 3 calling", isState(3, proto.WindowCalling))
	if st := ms[len(ms)-1].Window; st.Waiting != 4 {
		t.Errorf("calling with %d waiting", st.Waiting)
	}
}
