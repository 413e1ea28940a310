package queue

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

const testOfficeYAML = `id: test-office
name: {uk: Тестовий офіс, en: Test office}
data_dir: unused
groups:
  - {id: subsidies, name: {uk: Субсидії, en: Subsidies}, prefix: А, minutes: 12}
  - {id: pensions, name: {uk: Пенсії, en: Pensions}, prefix: П, minutes: 15}
services:
  - {id: subsidy-housing, group: subsidies, name: {uk: Житлова субсидія, en: Housing subsidy}}
  - {id: pension-age, group: pensions, name: {uk: Пенсія за віком, en: Old-age pension}}
windows:
  - {number: 1}
  - {number: 3}
  - {number: 9, serves: [pensions]}
`

func testOffice(t testing.TB) *configs.Office {
	t.Helper()
	o, err := configs.ParseOffice("test.yaml", []byte(testOfficeYAML))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// newClock is the tests' office clock: 09:00 in Kyiv on a Monday, moved
// by hand.
func newClock() *clockwork.FakeClock {
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	return clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, kyiv))
}

func openTest(t testing.TB, path string, c *clockwork.FakeClock) *Queue {
	t.Helper()
	q, err := Open(path, testOffice(t), Options{Clock: c, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func mustIssue(t *testing.T, q *Queue, service string) proto.Ticket {
	t.Helper()
	tk, _, err := q.Issue(service, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// callOf is the call a change pushed.
func callOf(t *testing.T, eff Effects) proto.Call {
	t.Helper()
	for _, m := range eff.Pushes {
		if m.Call != nil {
			return *m.Call
		}
	}
	t.Fatalf("no call in %+v", eff)
	return proto.Call{}
}

func TestIssueNumbersPerPrefix(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	var got []string
	for _, s := range []string{"subsidy-housing", "pension-age", "subsidy-housing", "subsidy-housing"} {
		got = append(got, mustIssue(t, q, s).Number)
		c.Advance(time.Minute)
	}
	want := []string{"А001", "П001", "А002", "А003"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("numbers %v, want %v", got, want)
		}
	}
	// Fourth subsidy ticket: three ahead, 12 min each. Windows 1 and 3
	// serve both groups and a pension visitor waits too, so each gives
	// subsidies half its time: 3×12 / (½+½) = 36 min.
	tk := mustIssue(t, q, "subsidy-housing")
	if tk.Ahead != 3 || tk.WaitMin != 36 {
		t.Errorf("ahead %d wait %d, want 3 and 36", tk.Ahead, tk.WaitMin)
	}
	if _, _, err := q.Issue("nope", "test"); !errors.Is(err, ErrUnknownService) {
		t.Errorf("unknown service: %v", err)
	}
}

func TestNextCallsOldestTheWindowServes(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	mustIssue(t, q, "subsidy-housing") // А001
	c.Advance(time.Minute)
	mustIssue(t, q, "pension-age") // П001
	c.Advance(time.Minute)

	// Window 9 serves pensions only: it skips the older subsidy ticket.
	tk, eff, err := q.Next(9)
	if err != nil || tk.Number != "П001" || callOf(t, eff).Window != 9 || tk.State != proto.StateCalled {
		t.Fatalf("window 9 got %+v %+v %v", tk, eff, err)
	}
	if eff.Pushes[0].Push == 0 || eff.Pushes[0].ID != callOf(t, eff).ID {
		t.Errorf("call push not numbered: %+v", eff.Pushes[0])
	}
	tk, _, err = q.Next(3)
	if err != nil || tk.Number != "А001" {
		t.Fatalf("window 3 got %+v %v", tk, err)
	}
	// Nobody left: the window's visitor is finished, and the answer says so.
	if _, _, err := q.Next(3); !errors.Is(err, ErrQueueEmpty) {
		t.Fatalf("empty queue: %v", err)
	}
	if _, busy := q.AtWindow(3); busy {
		t.Error("window 3 still busy after an empty next")
	}
	if _, _, err := q.Next(42); !errors.Is(err, ErrUnknownWindow) {
		t.Errorf("unknown window: %v", err)
	}
	tickets, err := q.Tickets("2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, tk := range tickets {
		states[tk.Number] = tk.State
	}
	if states["А001"] != proto.StateDone || states["П001"] != proto.StateCalled {
		t.Errorf("states %v", states)
	}
}

func TestRecallAndCancel(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	if _, _, err := q.Recall(1); !errors.Is(err, ErrNothingToCall) {
		t.Fatalf("recall before any call: %v", err)
	}
	mustIssue(t, q, "pension-age")
	_, eff, _ := q.Next(1)
	first := callOf(t, eff)
	c.Advance(30 * time.Second)
	tk, eff, err := q.Recall(1)
	again := callOf(t, eff)
	if err != nil || tk.Number != "П001" || !again.Recall || again.ID == first.ID || eff.Pushes[0].Type != proto.TypeRecall {
		t.Fatalf("recall got %+v %+v %v", tk, again, err)
	}
	if calls := q.RecentCalls(); len(calls) != 2 || calls[1].ID != again.ID {
		t.Errorf("recent calls %+v", calls)
	}
	tk, eff, err = q.Cancel(1)
	if err != nil || tk.State != StateCancelled || eff.Pushes[0].Cancel.Ticket != "П001" || eff.Pushes[0].Cancel.Call != again.ID {
		t.Fatalf("cancel got %+v %+v %v", tk, eff, err)
	}
	if _, busy := q.AtWindow(1); busy {
		t.Error("window still busy after cancel")
	}
}

// Everything survives a restart: numbers continue, calls keep unique ids.
func TestReopenKeepsState(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "q.db")
	q, err := Open(path, testOffice(t), Options{Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	mustIssue(t, q, "pension-age")
	mustIssue(t, q, "pension-age")
	_, eff1, _ := q.Next(1)
	q.Close()

	q = openTest(t, path, c)
	if tk := mustIssue(t, q, "pension-age"); tk.Number != "П003" {
		t.Errorf("after restart got %s, want П003", tk.Number)
	}
	if tk, ok := q.AtWindow(1); !ok || tk.Number != "П001" {
		t.Errorf("window 1 after restart: %+v %v", tk, ok)
	}
	tk, eff2, err := q.Next(1)
	if err != nil || tk.Number != "П002" || callOf(t, eff2).ID == callOf(t, eff1).ID || eff2.Pushes[0].Push <= eff1.Pushes[0].Push {
		t.Errorf("next after restart: %+v %+v %v", tk, eff2, err)
	}
}

func TestSecondServerOnSameFileFailsFast(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "q.db")
	openTest(t, path, c)
	if _, err := Open(path, testOffice(t), Options{Clock: c}); err == nil {
		t.Fatal("second Open succeeded")
	}
}

// Numbering starts again at the office's midnight, not UTC's.
func TestNewDayNewNumbers(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	mustIssue(t, q, "pension-age")
	c.Advance(14*time.Hour + 59*time.Minute) // 23:59 in Kyiv, 21:59 UTC
	if tk := mustIssue(t, q, "pension-age"); tk.Number != "П002" {
		t.Fatalf("same day got %s", tk.Number)
	}
	c.Advance(2 * time.Minute) // 00:01 in Kyiv
	tk := mustIssue(t, q, "pension-age")
	if tk.Number != "П001" || tk.Ahead != 0 {
		t.Fatalf("new day got %s ahead %d", tk.Number, tk.Ahead)
	}
	yesterday, err := q.Tickets("2026-11-23")
	if err != nil || len(yesterday) != 2 {
		t.Fatalf("yesterday: %v %v", yesterday, err)
	}
	if _, err := q.Tickets("23.11.2026"); !errors.Is(err, ErrBadDate) {
		t.Errorf("bad date: %v", err)
	}
}
