package link

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Offline numbering. While the server is unreachable a kiosk numbers
// tickets itself, first from the blocks the server leased to it in advance
// (the numbers look like any other ticket, and no other kiosk has them),
// then, when those run out, from a fallback series that carries the
// kiosk's slot and a dash ("А3-007"), so it can never collide and is
// plainly not a normal number. The counter moves in the same transaction
// that puts the ticket in the outbox, before anything is printed: a number
// is never given twice, even across a power cut.

// dayNumbers is one office day's offline numbering.
type dayNumbers struct {
	Blocks   map[string][]*block `json:"blocks"`   // prefix → leased blocks, in lease order
	Fallback map[string]int      `json:"fallback"` // prefix → last fallback number given
}

type block struct {
	From int `json:"from"`
	To   int `json:"to"`
	Next int `json:"next"` // the next number to give; past To when used up
}

// Numbering modes of an issued ticket.
const (
	ModeOnline   = "online"   // numbered by the server
	ModeLease    = "lease"    // from a leased block
	ModeFallback = "fallback" // from the fallback series
)

func loadDay(tx *bolt.Tx, day string) (*dayNumbers, error) {
	d := &dayNumbers{Blocks: map[string][]*block{}, Fallback: map[string]int{}}
	if v := tx.Bucket(bucketNumbers).Get([]byte(day)); v != nil {
		if err := json.Unmarshal(v, d); err != nil {
			return nil, fmt.Errorf("link: numbers of %s: %w", day, err)
		}
	}
	return d, nil
}

func saveDay(tx *bolt.Tx, day string, d *dayNumbers) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketNumbers).Put([]byte(day), v)
}

// MergeLeases adds the blocks the server leased that this kiosk does not
// know yet, and forgets days before the oldest one leased.
func (s *Store) MergeLeases(leases []proto.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		byDay := map[string][]proto.Lease{}
		oldest := leases[0].Day
		for _, l := range leases {
			byDay[l.Day] = append(byDay[l.Day], l)
			oldest = min(oldest, l.Day)
		}
		for day, ls := range byDay {
			d, err := loadDay(tx, day)
			if err != nil {
				return err
			}
			for _, l := range ls {
				if l.From < 1 || l.To < l.From || l.To-l.From > 10_000 {
					continue // nonsense from the server is not a lease
				}
				known := false
				for _, b := range d.Blocks[l.Prefix] {
					if b.From == l.From && b.To == l.To {
						known = true
						b.Next = max(b.Next, l.Next) // numbers the server saw used are gone
					}
				}
				if !known {
					d.Blocks[l.Prefix] = append(d.Blocks[l.Prefix], &block{From: l.From, To: l.To, Next: max(l.From, l.Next)})
				}
			}
			if err := saveDay(tx, day, d); err != nil {
				return err
			}
		}
		// Days before the leases the server still gives are over.
		c := tx.Bucket(bucketNumbers).Cursor()
		var old [][]byte
		for k, _ := c.First(); k != nil && string(k) < oldest; k, _ = c.Next() {
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			if err := tx.Bucket(bucketNumbers).Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// nextOffline gives the next offline number for prefix on day, inside tx.
func nextOffline(tx *bolt.Tx, day, prefix string, slot int) (number, mode string, err error) {
	d, err := loadDay(tx, day)
	if err != nil {
		return "", "", err
	}
	for _, b := range d.Blocks[prefix] {
		if b.Next <= b.To {
			n := b.Next
			b.Next++
			return fmt.Sprintf("%s%03d", prefix, n), ModeLease, saveDay(tx, day, d)
		}
	}
	d.Fallback[prefix]++
	return fmt.Sprintf("%s%d-%03d", prefix, slot, d.Fallback[prefix]), ModeFallback, saveDay(tx, day, d)
}

// LeaseLeft is how many leased numbers of a prefix are left on a day.
type LeaseLeft struct {
	Prefix string `json:"prefix"`
	Left   int    `json:"left"`
	// Fallback counts the fallback numbers given, once the leases ran out.
	Fallback int `json:"fallback,omitempty"`
}

// Numbers reports the offline numbers left on day, by prefix.
func (s *Store) Numbers(day string) ([]LeaseLeft, error) {
	var out []LeaseLeft
	err := s.db.View(func(tx *bolt.Tx) error {
		d, err := loadDay(tx, day)
		if err != nil {
			return err
		}
		prefixes := map[string]bool{}
		for p := range d.Blocks {
			prefixes[p] = true
		}
		for p := range d.Fallback {
			prefixes[p] = true
		}
		for p := range prefixes {
			l := LeaseLeft{Prefix: p, Fallback: d.Fallback[p]}
			for _, b := range d.Blocks[p] {
				l.Left += max(0, b.To-b.Next+1)
			}
			out = append(out, l)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out, err
}
