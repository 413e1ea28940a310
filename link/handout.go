package link

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Hand-out records. A ticket is committed to the outbox (ticket_issued)
// before its first byte goes to the printer, so its number is never given
// twice; but it is the visitor's only once it is printed (or its number
// is on the screen). kioskd can die in between: a crash, kill -9, a power
// cut. So every ticket issued carries a hand-out record, written in the
// ticket's own transaction and kept until the kiosk says it was handed
// out (HandedOut); Printing marks, durably, that its bytes started for
// the printer. At its next start the kiosk settles what is still recorded
// (SettleUnhanded): each such ticket is withdrawn with a ticket_withdrawn
// event, and the server takes it out of the queue, so no operator calls
// a number nobody holds.

var bucketHandout = []byte("handout")

// handout is a ticket issued and not yet handed out, by its event's seq.
type handout struct {
	Ticket proto.Ticket `json:"ticket"`
	// Printing: its bytes started for the printer.
	Printing bool `json:"printing,omitempty"`
	// Checkin is the check-in record (bucketCheckins) the ticket made, freed
	// when it is withdrawn so the visitor can check in again.
	Checkin string `json:"checkin,omitempty"`
}

// putHandout records, inside the ticket's transaction, that t (event
// seq) is not handed out yet.
func putHandout(tx *bolt.Tx, seq uint64, t *proto.Ticket, checkin []byte) error {
	v, err := json.Marshal(handout{Ticket: *t, Checkin: string(checkin)})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketHandout).Put(u64(seq), v)
}

func getHandout(tx *bolt.Tx, seq uint64) (*handout, error) {
	v := tx.Bucket(bucketHandout).Get(u64(seq))
	if v == nil {
		return nil, nil
	}
	h := new(handout)
	if err := json.Unmarshal(v, h); err != nil {
		return nil, fmt.Errorf("link: hand-out record %d: %w", seq, err)
	}
	return h, nil
}

// ErrNotPending: the ticket has no hand-out record (handed out or
// withdrawn already, or never issued here).
var ErrNotPending = errors.New("link: ticket not waiting to be handed out")

// Printing records, on disk, that ticket seq's bytes start for the
// printer now: if kioskd stops before HandedOut, the withdrawal says the
// paper may have come out.
func (c *Client) Printing(seq uint64) error {
	err := c.store.update(func(tx *bolt.Tx) error {
		h, err := getHandout(tx, seq)
		if err != nil {
			return err
		}
		if h == nil {
			return ErrNotPending
		}
		h.Printing = true
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketHandout).Put(u64(seq), v)
	})
	if err != nil {
		return fmt.Errorf("link: printing ticket %d: %w", seq, err)
	}
	return nil
}

// HandedOut records, on disk, that ticket seq is the visitor's: printed,
// or its number shown on the screen. It is then never withdrawn.
func (c *Client) HandedOut(seq uint64) error {
	err := c.store.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketHandout).Get(u64(seq)) == nil {
			return ErrNotPending
		}
		return tx.Bucket(bucketHandout).Delete(u64(seq))
	})
	if err != nil {
		return fmt.Errorf("link: ticket %d handed out: %w", seq, err)
	}
	return nil
}

// Withdrawn is a ticket taken back because nobody holds it.
type Withdrawn struct {
	proto.Ticket
	// Printing: its bytes had started for the printer.
	Printing bool
	// Seq is its ticket_issued event; WithdrawnSeq the ticket_withdrawn.
	Seq, WithdrawnSeq uint64
}

// Withdraw takes back ticket seq, which was not handed out (its printer
// refused it and no screen shows its number): a ticket_withdrawn event
// in the outbox, in the transaction that drops its hand-out record.
func (c *Client) Withdraw(seq uint64) (*Withdrawn, error) {
	var out *Withdrawn
	err := c.store.update(func(tx *bolt.Tx) error {
		h, err := getHandout(tx, seq)
		if err != nil {
			return err
		}
		if h == nil {
			return ErrNotPending
		}
		out, err = c.withdrawTx(tx, seq, h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("link: withdraw ticket %d: %w", seq, err)
	}
	c.uncount(out)
	return out, nil
}

// SettleUnhanded withdraws every ticket issued and not handed out: called
// when the kiosk starts, before it issues any, it settles the tickets a
// kioskd that stopped (crash, kill -9, power cut) left between the outbox
// commit and the end of printing. Nobody can hold them now: the server
// takes them out of the queue. They are withdrawn in one transaction.
func (c *Client) SettleUnhanded() ([]Withdrawn, error) {
	var out []Withdrawn
	err := c.store.update(func(tx *bolt.Tx) error {
		out = out[:0]
		cur := tx.Bucket(bucketHandout).Cursor()
		var seqs []uint64
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			if len(k) == 8 {
				seqs = append(seqs, binary.BigEndian.Uint64(k))
			}
		}
		for _, seq := range seqs {
			h, err := getHandout(tx, seq)
			if err != nil {
				// A record nobody can read names no ticket: drop it, loudly.
				c.log.Error("unreadable hand-out record dropped", "seq", seq, "err", err)
				if err := tx.Bucket(bucketHandout).Delete(u64(seq)); err != nil {
					return err
				}
				continue
			}
			w, err := c.withdrawTx(tx, seq, h)
			if err != nil {
				return err
			}
			out = append(out, *w)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("link: settle tickets not handed out: %w", err)
	}
	for i := range out {
		c.uncount(&out[i])
	}
	return out, nil
}

// withdrawTx commits the withdrawal of ticket seq (record h) inside tx.
func (c *Client) withdrawTx(tx *bolt.Tx, seq uint64, h *handout) (*Withdrawn, error) {
	t := h.Ticket
	m := &proto.Message{Type: proto.TypeTicketWithdrawn, Ticket: &t, Withdrawal: &proto.Withdrawal{
		Reason: proto.WithdrawNotHandedOut, Printing: h.Printing, At: c.clock.Now(),
	}}
	wseq, err := c.store.appendTx(tx, m)
	if err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketHandout).Delete(u64(seq)); err != nil {
		return nil, err
	}
	if h.Checkin != "" {
		// The visitor has no paper: the booking may check in again here.
		if b := tx.Bucket(bucketCheckins); b != nil && string(b.Get([]byte(h.Checkin))) == t.Number {
			if err := b.Delete([]byte(h.Checkin)); err != nil {
				return nil, err
			}
		}
	}
	return &Withdrawn{Ticket: t, Printing: h.Printing, Seq: seq, WithdrawnSeq: wseq}, nil
}

// uncount takes a withdrawn ticket out of the offline count of its group
// (the visitors ahead that offline tickets show).
func (c *Client) uncount(w *Withdrawn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offline[w.Group] > 0 {
		c.offline[w.Group]--
	}
}
