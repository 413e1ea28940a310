package queue

import (
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
)

const deskOfficeYAML = `id: desk-office
name: {uk: Тестовий офіс, en: Test office}
data_dir: unused
no_show_after: 2
priorities:
  - {id: disability, name: {uk: Особа з інвалідністю, en: Person with a disability}, level: 3}
groups:
  - {id: subsidies, name: {uk: Субсидії, en: Subsidies}, prefix: А, minutes: 12}
  - {id: pensions, name: {uk: Пенсії, en: Pensions}, prefix: П, minutes: 15}
  - {id: other, name: {uk: Інше, en: Other}, prefix: М, minutes: 6}
services:
  - {id: subsidy-housing, group: subsidies, name: {uk: Житлова субсидія, en: Housing subsidy}}
  - {id: pension-age, group: pensions, name: {uk: Пенсія за віком, en: Old-age pension}}
  - {id: consult, group: other, name: {uk: Консультація, en: Consultation}}
windows:
  - {number: 1}
  - {number: 2}
  - {number: 9, serves: [pensions]}
`

func openDesk(t testing.TB, c *clockwork.FakeClock) *Queue {
	t.Helper()
	cfg, err := configs.ParseOffice("desk.yaml", []byte(deskOfficeYAML))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: c, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

var olena = Actor{Terminal: "operator", Operator: "olena", Name: "Олена Коваль"}
var petro = Actor{Terminal: "operator", Operator: "petro", Name: "Петро Шевчук"}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func logOf(t *testing.T, q *Queue) []record.Event {
	t.Helper()
	var out []record.Event
	for e, err := range q.Events("2000-01-01", "2100-01-01") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func types(es []record.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func TestWindowDay(t *testing.T) {
	c := newClock()
	q := openDesk(t, c)
	res := must[Result](t)
	if _, err := q.SignIn(1, olena, false); err != nil {
		t.Fatal(err)
	}
	if _, err := q.SignIn(1, petro, false); !errors.Is(err, ErrWindowTaken) {
		t.Fatalf("second operator at window 1: %v", err)
	}
	a1 := mustIssue(t, q, "subsidy-housing")
	c.Advance(time.Minute)
	a2 := mustIssue(t, q, "subsidy-housing")

	called := res(q.NextAs(1, nil, olena))
	if called.Ticket.Number != a1.Number || called.Ticket.Operator != "olena" || called.Ticket.State != proto.StateCalled {
		t.Fatalf("called %+v", called.Ticket)
	}
	// A double click on "next": the page sends the ticket it showed.
	again := res(q.NextAs(1, nil, olena))
	if again.Ticket.Number != a2.Number {
		t.Fatalf("second next %+v", again.Ticket)
	}
	repeat := res(q.NextAs(1, &a1.Number, olena))
	if !repeat.Repeated || repeat.Ticket.Number != a2.Number {
		t.Fatalf("double click called someone: %+v", repeat)
	}
	c.Advance(30 * time.Second)
	res(q.Act(1, ActCame, olena))
	c.Advance(10 * time.Minute)
	done := res(q.Act(1, ActFinish, olena))
	if done.Ticket.State != proto.StateDone || done.Ticket.FinishedAt == nil {
		t.Fatalf("finished %+v", done.Ticket)
	}
	if _, err := q.Act(1, ActFinish, olena); !errors.Is(err, ErrNothingToCall) {
		t.Fatalf("finish with nobody: %v", err)
	}

	// Pause with a reason, nothing called meanwhile, resume.
	if _, err := q.Pause(1, "lunch", olena); !errors.Is(err, ErrBadReason) {
		t.Fatalf("unknown reason: %v", err)
	}
	res(q.Pause(1, "break", olena))
	mustIssue(t, q, "consult")
	if _, err := q.NextAs(1, nil, olena); !errors.Is(err, ErrWindowPaused) {
		t.Fatalf("next while paused: %v", err)
	}
	w, _ := q.Window(1)
	if w.State != WindowPaused || w.Reason != "break" || w.Operator != "olena" || w.Waiting != 1 {
		t.Fatalf("paused window %+v", w)
	}
	res(q.Act(1, ActResume, olena))
	res(q.NextAs(1, nil, olena))

	// No-show only after two calls again; then the call leaves the
	// displays.
	if _, err := q.Act(1, ActNoShow, olena); !errors.Is(err, ErrTooEarly) {
		t.Fatalf("no-show at once: %v", err)
	}
	res(q.Act(1, ActRecall, olena))
	res(q.Act(1, ActRecall, olena))
	ns := res(q.Act(1, ActNoShow, olena))
	if ns.Ticket.State != proto.StateNoShow || len(ns.Effects.Pushes) != 1 || ns.Effects.Pushes[0].Type != proto.TypeCancel {
		t.Fatalf("no-show %+v %+v", ns.Ticket, ns.Effects)
	}
	res(q.Act(1, ActSignOut, olena))
	if w, _ := q.Window(1); w.State != WindowClosed || w.Operator != "" {
		t.Fatalf("signed out %+v", w)
	}

	want := []string{record.SignedIn, record.Issued, record.Issued, record.Called, record.Finished, record.Called,
		record.Came, record.Finished, record.Paused, record.Issued, record.Resumed, record.Called,
		record.Recalled, record.Recalled, record.NoShow, record.SignedOut}
	if got := types(logOf(t, q)); !slices.Equal(got, want) {
		t.Fatalf("log\n got %v\nwant %v", got, want)
	}
}

func TestTransferKeepsIssueTime(t *testing.T) {
	c := newClock()
	q := openDesk(t, c)
	res := must[Result](t)
	a := mustIssue(t, q, "subsidy-housing")
	c.Advance(5 * time.Minute)
	p1 := mustIssue(t, q, "pension-age")
	c.Advance(time.Minute)
	res(q.NextAs(1, nil, olena)) // А001
	c.Advance(2 * time.Minute)
	// To pensions: А001 was issued before П001, so it is called first.
	tr := res(q.Transfer(1, "pension-age", 0, olena))
	if tr.Ticket.State != proto.StateWaiting || tr.Ticket.Group != "pensions" || !tr.Ticket.IssuedAt.Equal(a.IssuedAt) {
		t.Fatalf("transferred %+v", tr.Ticket)
	}
	if next := res(q.NextAs(9, nil, petro)); next.Ticket.Number != a.Number {
		t.Fatalf("window 9 called %s, want the transferred %s", next.Ticket.Number, a.Number)
	}
	// To window 2 only: window 1 does not see it.
	tr = res(q.Transfer(9, "", 2, petro))
	if tr.Ticket.ForWindow != 2 {
		t.Fatalf("to window 2: %+v", tr.Ticket)
	}
	if next := res(q.NextAs(1, nil, olena)); next.Ticket.Number != p1.Number {
		t.Fatalf("window 1 called %s, want %s", next.Ticket.Number, p1.Number)
	}
	if next := res(q.NextAs(2, nil, Actor{Terminal: "api"})); next.Ticket.Number != a.Number {
		t.Fatalf("window 2 called %s", next.Ticket.Number)
	}
	if _, err := q.Transfer(2, "teleport", 0, olena); !errors.Is(err, ErrUnknownService) {
		t.Fatalf("bad service: %v", err)
	}
	if _, err := q.Transfer(2, "", 0, olena); !errors.Is(err, ErrBadTransfer) {
		t.Fatalf("nowhere: %v", err)
	}
	// The log alone gives the same tickets as the database.
	checkReplay(t, q)
}

// checkReplay rebuilds today's tickets from the log and compares them with
// the stored ones.
func checkReplay(t *testing.T, q *Queue) {
	t.Helper()
	log := logOf(t, q)
	got := Replay(slices.Values(log))
	stored, err := q.Tickets(q.Today())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stored {
		if s.State == proto.StateReserved {
			continue
		}
		r, ok := got[q.Today()+"/"+s.Number]
		if !ok {
			t.Errorf("%s is stored, not in the log", s.Number)
			continue
		}
		if r.State != s.State || r.Service != s.Service || r.Group != s.Group || r.Window != s.Window ||
			r.Priority != s.Priority || r.ForWindow != s.ForWindow || r.Recalls != s.Recalls || !r.IssuedAt.Equal(s.IssuedAt) {
			t.Errorf("%s: log says %+v, stored %+v", s.Number, r, s)
		}
	}
	if len(got) != len(stored) {
		t.Errorf("log has %d tickets, database %d", len(got), len(stored))
	}
}

func TestPriorityAndEstimates(t *testing.T) {
	c := newClock()
	q := openDesk(t, c)
	res := must[Result](t)
	for range 3 {
		mustIssue(t, q, "consult")
		c.Advance(time.Minute)
	}
	last := mustIssue(t, q, "consult")
	// Nobody signed in: the configured windows count. Windows 1 and 2
	// serve all three groups; only "other" has someone waiting, so each
	// gives it all its time: 3 ahead × 6 min / 2 windows = 9.
	if last.Ahead != 3 || last.WaitMin != 9 {
		t.Fatalf("estimate %d ahead %d min, want 3 and 9", last.Ahead, last.WaitMin)
	}
	if _, _, err := q.SetPriority(q.Today(), last.Number, "disability", olena); err != nil {
		t.Fatal(err)
	}
	tk, ahead, _ := q.Track(q.Today(), last.Number)
	if ahead != 0 || tk.Priority != 3 {
		t.Fatalf("after priority: ahead %d %+v", ahead, tk)
	}
	// One window open: the estimate doubles for who is behind.
	res(q.SignIn(1, olena, false))
	ls := q.Lengths()
	if ls[2].Waiting != 4 || ls[2].WindowsOpen != 1 || ls[2].WaitMin != 24 {
		t.Fatalf("lengths %+v", ls[2])
	}
	if next := res(q.NextAs(1, nil, olena)); next.Ticket.Number != last.Number {
		t.Fatalf("priority ticket not first: %s", next.Ticket.Number)
	}
	// Real service times replace the norm once there are three.
	for range 3 {
		c.Advance(2 * time.Minute)
		res(q.NextAs(1, nil, olena))
	}
	c.Advance(2 * time.Minute)
	res(q.Act(1, ActFinish, olena))
	if pv := q.Lengths()[2].MinPerVisitor; pv != 2 {
		t.Errorf("per visitor %v min, want the measured 2", pv)
	}
}

func TestConcurrentNextNeverSameTicket(t *testing.T) {
	c := newClock()
	q := openDesk(t, c)
	const n = 60
	for range n {
		mustIssue(t, q, "subsidy-housing")
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 1; w <= 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := q.NextAs(w, nil, Actor{Terminal: "api"})
				if errors.Is(err, ErrQueueEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[r.Ticket.Number]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d tickets called, want %d", len(seen), n)
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("%s called %d times", k, v)
		}
	}
	checkReplay(t, q)
}

func TestBadEventRejectedAndMovedPast(t *testing.T) {
	c := newClock()
	q := openDesk(t, c)
	connect(t, q, hello("kiosk-1", "kiosk"))
	good := proto.Ticket{Number: "А981", Service: "subsidy-housing", IssuedAt: c.Now(), Offline: true}
	bad := proto.Ticket{Number: "Я001", Service: "teleport", IssuedAt: c.Now(), Offline: true}
	acked, eff := apply(t, q, "kiosk-1", 0, ticketEvent(1, bad), ticketEvent(2, good))
	if acked != 2 || len(eff.Rejected) != 1 || eff.Rejected[0].Seq != 1 || eff.Rejected[0].Error.Code != proto.CodeBadEvent {
		t.Fatalf("acked %d rejected %+v", acked, eff.Rejected)
	}
	if q.Rejected() != 1 {
		t.Errorf("rejected count %d", q.Rejected())
	}
	// A gap: nothing after it is taken.
	acked, _, err := q.ApplyEvents("kiosk-1", 0, []*proto.Message{ticketEvent(4, good)})
	if !errors.Is(err, ErrGap) || acked != 2 {
		t.Fatalf("gap: acked %d err %v", acked, err)
	}
}

func TestRatingTiedToLastVisitor(t *testing.T) {
	c := newClock()
	q := openDesk(t, c)
	res := must[Result](t)
	connect(t, q, hello("panel-1", "window"))
	res(q.SignIn(2, olena, false))
	tk := mustIssue(t, q, "consult")
	res(q.NextAs(2, nil, olena))
	c.Advance(5 * time.Minute)
	res(q.Act(2, ActFinish, olena))
	c.Advance(10 * time.Second)
	apply(t, q, "panel-1", 0, &proto.Message{Type: proto.TypeRating, Seq: 1, Rating: &proto.Rating{Window: 2, Score: 4, At: c.Now()}})
	log := logOf(t, q)
	r := log[len(log)-1]
	if r.Type != record.Rated || r.Ticket != tk.Number || r.Operator != "olena" || r.Score != 4 || r.Service != "consult" {
		t.Fatalf("rating %+v", r)
	}
}
