package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Journal is where the presses of keypads and rating panels go, durably.
// Commit must store the event and set key to value in one transaction (in
// kioskd: the link's outbox, link.Client.ReportMarked), so that after any
// crash the bus finds, with Mark, the sequence number of the last event it
// committed and recognises a repeat. Commit may decide an event means
// nothing (a key with no meaning there) and store neither; the bus then
// treats it as taken all the same.
type Journal interface {
	Mark(key string) ([]byte, error)
	Commit(ev Event, key string, value []byte) error
}

// Key is the code of a key (PROTOCOL.md 7.1, 8.1): the low byte of
// EVn_CODE.
type Key byte

// Keypad keys. On a rating panel the keys are the ratings 1 to 5.
const (
	KeyNext     Key = 0x01
	KeyRecall   Key = 0x02
	KeyCame     Key = 0x03
	KeyFinish   Key = 0x04
	KeyNoShow   Key = 0x05
	KeyTransfer Key = 0x06
	KeyPause    Key = 0x07 // pause / resume
	KeyDigit0   Key = 0x10 // 0x10–0x19: digits 0–9, on models with a digit row
)

var keyNames = map[Key]string{KeyNext: "next", KeyRecall: "recall", KeyCame: "came", KeyFinish: "finish",
	KeyNoShow: "no_show", KeyTransfer: "transfer", KeyPause: "pause"}

func (k Key) String() string {
	if n, ok := keyNames[k]; ok {
		return n
	}
	if d, ok := k.Digit(); ok {
		return fmt.Sprintf("digit %d", d)
	}
	return fmt.Sprintf("key %#02x", byte(k))
}

// Digit is the digit of a digit-row key.
func (k Key) Digit() (int, bool) {
	if k >= KeyDigit0 && k <= KeyDigit0+9 {
		return int(k - KeyDigit0), true
	}
	return 0, false
}

// validFor reports whether a device of type t has key k.
func (k Key) validFor(t Type) bool {
	if t == TypeRating {
		return k >= 1 && k <= 5
	}
	_, digit := k.Digit()
	return k >= KeyNext && k <= KeyPause || digit
}

// Event is one press on a keypad or rating panel, committed once.
type Event struct {
	Device string // the device's configured name
	Type   Type   // TypeKeypad or TypeRating
	Window int    // the device's window
	Unit   byte
	Serial uint32 // the device's instance number
	Seq    uint16 // the device's sequence number
	Key    Key    // on a rating panel, the rating 1–5
	Long   bool   // held ≥ 1 s
	// At is when the key was released, from the event's age; for an
	// event from before the device's last power-on (AgeKnown false), when
	// the bus read it.
	At       time.Time
	AgeKnown bool
}

// markKey is the Journal key of an instance's last committed sequence
// number: per instance, not per address, since a device moved to another
// address keeps its numbering and a replaced one has a new instance.
func markKey(serial uint32) string { return fmt.Sprintf("bus/%08x", serial) }

func markValue(seq uint16) []byte { return binary.BigEndian.AppendUint16(nil, seq) }

// parseMark reads a mark back; a mark of another shape is not ours.
func parseMark(b []byte) (uint16, bool, error) {
	switch len(b) {
	case 0:
		return 0, false, nil
	case 2:
		return binary.BigEndian.Uint16(b), true, nil
	}
	return 0, false, fmt.Errorf("mark of %d bytes, want 2", len(b))
}

// eventQueue is the host's side of one device's event queue
// (PROTOCOL.md 5.2): L, the sequence number of the last event taken for
// the device's instance.
type eventQueue struct {
	journal Journal
	serial  uint32 // the instance L belongs to; 0: not loaded
	last    uint16 // L
	haveL   bool
}

// load reads L for instance serial from the journal (step 1; step 5: a
// changed instance starts without L).
func (q *eventQueue) load(serial uint32) error {
	if q.serial == serial && serial != 0 {
		return nil
	}
	q.serial, q.haveL, q.last = 0, false, 0
	b, err := q.journal.Mark(markKey(serial))
	if err != nil {
		return fmt.Errorf("read the last event taken: %w", err)
	}
	last, ok, err := parseMark(b)
	if err != nil {
		return fmt.Errorf("read the last event taken: %w", err)
	}
	q.serial, q.last, q.haveL = serial, last, ok
	return nil
}

// isNew is step 3's test: no L yet, or seq after L.
func (q *eventQueue) isNew(seq uint16) bool { return !q.haveL || after(seq, q.last) }

// take runs steps 2–4 for a device whose poll showed p: read the pending
// events, commit the new ones with mk, acknowledge the last one looked
// at. Events a device of type t does not have are acknowledged and not
// committed (log says so).
func (q *eventQueue) take(ctx context.Context, m *modbus.Master, unit byte, p pollBlock,
	mk func(rawEvent) (Event, bool)) (taken int, err error) {
	if p.Pending == 0 || p.First.Seq == 0 {
		return 0, nil
	}
	if q.serial == 0 {
		return 0, errors.New("events before the device's instance is known")
	}
	evs := []rawEvent{p.First}
	if p.Pending > 1 {
		n := min(p.Pending, eventsAtMax)
		v, err := m.DoOnce(ctx, unit, modbus.ReadInput(inEvents, eventRegs*n))
		if err != nil {
			return 0, fmt.Errorf("read %d events: %w", n, err)
		}
		evs = parseEvents(v.Values)
	}
	var looked uint16
	var cerr error
	for _, re := range evs {
		if q.isNew(re.Seq) {
			ev, ok := mk(re)
			if ok {
				if err := q.journal.Commit(ev, markKey(q.serial), markValue(re.Seq)); err != nil {
					cerr = fmt.Errorf("commit event %d: %w", re.Seq, err)
					break
				}
				taken++
			}
			q.last, q.haveL = re.Seq, true
		}
		looked = re.Seq
	}
	if looked != 0 {
		if _, err := m.Do(ctx, unit, modbus.WriteRegister(regAck, looked)); err != nil {
			// The next poll shows the same events again: repeats.
			return taken, errors.Join(cerr, fmt.Errorf("acknowledge event %d: %w", looked, err))
		}
	}
	return taken, cerr
}
