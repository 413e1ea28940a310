package queue

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

func hello(device string, roles ...string) *proto.Hello {
	return &proto.Hello{Device: device, Roles: roles, Version: "test", Epoch: "e-" + device}
}

func connect(t *testing.T, q *Queue, h *proto.Hello) (*proto.Welcome, []*proto.Message) {
	t.Helper()
	w, missed, _, err := q.Connect(h)
	if err != nil {
		t.Fatal(err)
	}
	return w, missed
}

func apply(t *testing.T, q *Queue, device string, offset time.Duration, events ...*proto.Message) (uint64, Effects) {
	t.Helper()
	acked, eff, err := q.ApplyEvents(device, offset, events)
	if err != nil {
		t.Fatal(err)
	}
	return acked, eff
}

func ticketEvent(seq uint64, tk proto.Ticket) *proto.Message {
	return &proto.Message{Type: proto.TypeTicketIssued, Seq: seq, Ticket: &tk}
}

// offlineTicket is a ticket a kiosk numbered by itself at its clock's at.
func offlineTicket(number, service string, at time.Time) proto.Ticket {
	return proto.Ticket{Number: number, Service: service, IssuedAt: at, TerminalAt: &at, Offline: true}
}

// Every terminal gets a slot of its own, for ever; no numbers are set
// aside for kiosks, and a kiosk's welcome says what the server holds of
// its offline series today. Online numbering still steps over blocks an
// older server leased.
func TestSlotsAndSeries(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	w1, _ := connect(t, q, hello("kiosk-1", "kiosk"))
	w2, _ := connect(t, q, hello("kiosk-2", "kiosk"))
	hall, _ := connect(t, q, hello("hall-1", "hall"))
	if w1.Slot != 1 || w2.Slot != 2 || hall.Slot != 3 {
		t.Fatalf("slots %d %d %d", w1.Slot, w2.Slot, hall.Slot)
	}
	if len(w1.Leases) != 0 || len(w1.Series) != 0 || len(hall.Series) != 0 {
		t.Fatalf("leases %+v series %+v / hall %+v", w1.Leases, w1.Series, hall.Series)
	}
	if tk := mustIssue(t, q, "pension-age"); tk.Number != "П001" {
		t.Errorf("first online number %s", tk.Number)
	}
	at := c.Now()
	apply(t, q, "kiosk-1", 0, ticketEvent(1, offlineTicket("П1-001", "pension-age", at)),
		ticketEvent(2, offlineTicket("П1-003", "pension-age", at)), ticketEvent(3, offlineTicket("А1-002", "subsidy-housing", at)))
	apply(t, q, "kiosk-2", 0, ticketEvent(1, offlineTicket("П2-009", "pension-age", at)))
	// A kiosk says hello again: the same slot, and the highest counter of
	// each prefix of its own series.
	again, _ := connect(t, q, hello("kiosk-1", "kiosk"))
	if again.Slot != 1 || fmt.Sprint(again.Series) != "[{2026-11-23 А 2} {2026-11-23 П 3}]" {
		t.Errorf("reconnect: slot %d series %+v", again.Slot, again.Series)
	}
	if w, _ := connect(t, q, hello("kiosk-2", "kiosk")); fmt.Sprint(w.Series) != "[{2026-11-23 П 9}]" {
		t.Errorf("kiosk-2's series %+v", w.Series)
	}
	if tk := mustIssue(t, q, "pension-age"); tk.Number != "П002" {
		t.Errorf("online numbering after offline tickets: %s", tk.Number)
	}
	// A block an older server leased today is stepped over.
	err := q.db.Update(func(tx *bolt.Tx) error {
		b, err := createDayBucket(tx, "2026-11-23")
		if err != nil {
			return err
		}
		if err := putJSON(b.Bucket(bucketLeases), []byte("П"), []leaseBlock{{Device: "kiosk-1", From: 980, To: 999, Next: 980}}); err != nil {
			return err
		}
		if err := b.Bucket(bucketCnt).Put([]byte("П"), u64(979)); err != nil {
			return err
		}
		n, err := nextOnline(b, "П")
		if n != 1000 {
			t.Errorf("after 979 the next online number is %d, want 1000", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A reserved ticket is not in the queue until the kiosk confirms it handed
// it out; the confirmation is applied once, however often it is resent.
func TestReserveThenConfirm(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	connect(t, q, hello("kiosk-1", "kiosk"))
	tk, err := q.Reserve("pension-age", "kiosk-1")
	if err != nil || tk.Number != "П001" || tk.State != proto.StateReserved {
		t.Fatalf("reserved %+v %v", tk, err)
	}
	if _, _, err := q.Next(9); err == nil {
		t.Fatal("a reserved ticket was called")
	}
	tk.State = proto.StateWaiting
	for range 3 { // resent after breaks
		if acked, _ := apply(t, q, "kiosk-1", 0, ticketEvent(1, tk)); acked != 1 {
			t.Fatalf("acked %d", acked)
		}
	}
	if l := q.Lengths(); l[1].Waiting != 1 {
		t.Fatalf("lengths %+v", l)
	}
	called, _, err := q.Next(9)
	if err != nil || called.Number != "П001" {
		t.Fatalf("next %+v %v", called, err)
	}
	all, _ := q.Tickets("2026-11-23")
	if len(all) != 1 {
		t.Errorf("tickets %+v", all)
	}
}

// Offline tickets join the queue at their issue time, measured on the
// server's clock.
func TestOfflineTicketsMergeByIssueTime(t *testing.T) {
	c := newClock() // 09:00 Kyiv
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	connect(t, q, hello("kiosk-1", "kiosk"))
	c.Advance(time.Hour)
	online := mustIssue(t, q, "pension-age") // 10:00, П001

	// The kiosk's clock is 5 minutes slow: it gave П1-001 at 09:55, when
	// its own clock said 09:50.
	terminalAt := c.Now().Add(-10 * time.Minute)
	off := proto.Ticket{Number: "П1-001", Service: "pension-age", Group: "pensions", IssuedAt: terminalAt,
		TerminalAt: &terminalAt, Offline: true}
	apply(t, q, "kiosk-1", 5*time.Minute, ticketEvent(1, off))

	first, _, _ := q.Next(9)
	second, _, _ := q.Next(9)
	if first.Number != "П1-001" || second.Number != online.Number {
		t.Fatalf("called %s then %s, want the offline П1-001 first", first.Number, second.Number)
	}
	if want := c.Now().Add(-5 * time.Minute); !first.IssuedAt.Equal(want) || !first.TerminalAt.Equal(terminalAt) {
		t.Errorf("issued %s (terminal %s), want %s", first.IssuedAt, first.TerminalAt, want)
	}
}

func TestKeypadAndCallsSeen(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	connect(t, q, hello("window-3", "window"))
	connect(t, q, hello("hall-1", "hall"))
	mustIssue(t, q, "pension-age")
	mustIssue(t, q, "pension-age")
	if _, err := q.SignIn(3, olena, false); err != nil {
		t.Fatal(err)
	}

	press := func(seq uint64, key string, at time.Time) Effects {
		_, eff := apply(t, q, "window-3", 0, &proto.Message{Type: proto.TypeKeypad, Seq: seq,
			Keypad: &proto.Keypad{Window: 3, Key: key, At: at}})
		return eff
	}
	call := callOf(t, press(1, proto.KeyNext, c.Now()))
	if call.Ticket != "П001" || call.Window != 3 {
		t.Fatalf("keypad next called %+v", call)
	}
	if eff := press(2, proto.KeyNext, c.Now().Add(-2*time.Minute)); len(eff.Pushes) != 0 {
		t.Errorf("a two-minute-old press acted: %+v", eff)
	}
	apply(t, q, "hall-1", 0,
		&proto.Message{Type: proto.TypeCallShown, Seq: 1, Seen: &proto.CallSeen{Call: call.ID}},
		&proto.Message{Type: proto.TypeCallAnnounced, Seq: 2, Seen: &proto.CallSeen{Call: call.ID}},
		&proto.Message{Type: proto.TypeCallShown, Seq: 3, Seen: &proto.CallSeen{Call: "nonsense"}})
	log, err := q.CallLog("2026-11-23")
	if err != nil || len(log) != 1 || len(log[0].ShownBy) != 1 || log[0].AnnouncedBy[0] != "hall-1" {
		t.Errorf("call log %+v %v", log, err)
	}
}

// A terminal that was away gets the pushes it missed; a new one starts
// from the current number.
func TestMissedPushes(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	w, missed := connect(t, q, hello("hall-1", "hall"))
	if len(missed) != 0 {
		t.Fatalf("new terminal got %d old pushes", len(missed))
	}
	seen := w.LastPush
	mustIssue(t, q, "pension-age")
	mustIssue(t, q, "pension-age")
	q.Next(1)
	q.Next(9)
	h := hello("hall-1", "hall")
	h.LastPush = seen + 1 // it acted on the first call only
	_, missed = connect(t, q, h)
	if len(missed) != 1 || missed[0].Call.Window != 9 || missed[0].Push != seen+2 {
		t.Fatalf("missed %+v", missed)
	}
	// Pushes older than two hours are not resent.
	c.Advance(3 * time.Hour)
	if _, missed = connect(t, q, h); len(missed) != 0 {
		t.Errorf("stale pushes resent: %d", len(missed))
	}
}

// A terminal with a new outbox (its data directory was replaced) counts its
// events from 1 again; they must not be taken for duplicates.
func TestNewEpoch(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	connect(t, q, hello("kiosk-1", "kiosk"))
	status := &proto.Message{Type: proto.TypeDeviceStatus, Seq: 1, Status: &proto.DeviceStatus{}}
	apply(t, q, "kiosk-1", 0, status, &proto.Message{Type: proto.TypeDeviceStatus, Seq: 2, Status: &proto.DeviceStatus{}})
	h := hello("kiosk-1", "kiosk")
	h.Epoch = "wiped"
	w, _ := connect(t, q, h)
	if w.Resume != 0 {
		t.Fatalf("resume %d after a new epoch", w.Resume)
	}
	if acked, _ := apply(t, q, "kiosk-1", 0, status); acked != 1 {
		t.Errorf("acked %d", acked)
	}
}

func TestReloadPushesUpdate(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	cfg := testOffice(t)
	cfg.Name.UK = "Новий офіс"
	eff, err := q.Reload(cfg, "v2")
	if err != nil || len(eff.Pushes) != 1 || eff.Pushes[0].Update.Office.Name.UK != "Новий офіс" {
		t.Fatalf("reload %+v %v", eff, err)
	}
	if q.Office().Name.UK != "Новий офіс" {
		t.Error("office not swapped")
	}
}
