package queue

import (
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Device is what the server knows of one terminal.
type Device struct {
	ID      string   `json:"id"`
	Slot    int      `json:"slot"`
	Roles   []string `json:"roles"`
	Version string   `json:"version"`
	// Epoch and LastSeq identify the last event committed from this
	// terminal's outbox; events at or below it are duplicates.
	Epoch         string              `json:"epoch"`
	LastSeq       uint64              `json:"last_seq"`
	LastSeen      time.Time           `json:"last_seen"`
	ClockOffsetMS int64               `json:"clock_offset_ms"`
	Status        *proto.DeviceStatus `json:"status,omitempty"`
}

// HasRole reports whether the terminal said it plays role.
func (d *Device) HasRole(role string) bool {
	for _, r := range d.Roles {
		if r == role {
			return true
		}
	}
	return false
}

func saveDevice(tx *bolt.Tx, w *work, q *Queue, d *Device) error {
	if err := putJSON(tx.Bucket(bucketDevices), []byte(d.ID), d); err != nil {
		return err
	}
	return saveDeviceSeq(tx, w, q, d)
}

// saveDeviceSeq stores only how far a terminal's events are committed:
// the 8 bytes every batch of confirmations changes, instead of the whole
// record with its devices' status.
func saveDeviceSeq(tx *bolt.Tx, w *work, q *Queue, d *Device) error {
	if err := tx.Bucket(bucketDeviceSeq).Put([]byte(d.ID), u64(d.LastSeq)); err != nil {
		return err
	}
	cp := *d
	w.then(func() { q.devices[cp.ID] = &cp })
	return nil
}

// Connect registers a terminal's hello and returns its welcome, the pushes
// it missed, and what the server now knows of it. offset is how far the
// server's clock is ahead of the terminal's.
func (q *Queue) Connect(h *proto.Hello) (*proto.Welcome, []*proto.Message, Device, error) {
	var welcome *proto.Welcome
	var missed []*proto.Message
	var dev Device
	_, err := q.update(false, func(tx *bolt.Tx, w *work) error {
		if err := q.rollDay(tx); err != nil {
			return err
		}
		now := q.now()
		d := Device{ID: h.Device}
		if old := q.devices[h.Device]; old != nil {
			d = *old
		}
		if d.Slot == 0 {
			meta := tx.Bucket(bucketMeta)
			slot := getU64(meta, keyNextSlot) + 1
			if err := meta.Put(keyNextSlot, u64(slot)); err != nil {
				return err
			}
			d.Slot = int(slot)
		}
		if d.Epoch != h.Epoch {
			if d.Epoch != "" {
				q.log.Warn("terminal has a new outbox (data directory replaced?): its events count from 1 again",
					"device", d.ID, "old_epoch", d.Epoch, "new_epoch", h.Epoch, "old_last_seq", d.LastSeq)
			}
			d.Epoch, d.LastSeq = h.Epoch, 0
		}
		if h.LastAck > d.LastSeq {
			q.log.Error("terminal was acknowledged events this server does not have (database restored from a backup?); they are lost",
				"device", d.ID, "acknowledged", h.LastAck, "server_has", d.LastSeq)
		}
		d.Roles, d.Version, d.LastSeen = h.Roles, h.Version, now
		d.ClockOffsetMS = now.Sub(h.Time).Milliseconds()
		if err := saveDevice(tx, w, q, &d); err != nil {
			return err
		}
		last := tx.Bucket(bucketPushes).Sequence()
		if h.LastPush > 0 {
			// A terminal that was away gets what it missed of the last two
			// hours; its announcer drops calls too old to speak.
			missed, _ = pushesAfter(tx, h.LastPush, now.Add(-2*time.Hour))
		}
		welcome = &proto.Welcome{
			Office: q.o.info(), Catalogue: q.catalogue(), ConfigVersion: q.o.version,
			Queues: q.lengthsLocked(), RecentCalls: append([]proto.Call(nil), q.recent...),
			HallMessage: q.hallMsg, ServerTime: now, Resume: d.LastSeq, Slot: d.Slot,
			LastPush: last,
		}
		if d.HasRole("kiosk") {
			welcome.Series = seriesOf(tx, q.day, d.Slot, q.o.prefixes)
			welcome.Bookings = q.bookingRules()
		} else {
			welcome.Catalogue = q.briefCatalogue()
		}
		dev = d
		return nil
	})
	if err != nil {
		return nil, nil, Device{}, fmt.Errorf("queue: hello from %s: %w", h.Device, err)
	}
	return welcome, missed, dev, nil
}

// Devices lists every terminal the server has heard from.
func (q *Queue) Devices() []Device {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Device, 0, len(q.devices))
	for _, d := range q.devices {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Device returns one terminal's record.
func (q *Queue) Device(id string) (Device, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.devices[id]
	if d == nil {
		return Device{}, false
	}
	return *d, true
}
