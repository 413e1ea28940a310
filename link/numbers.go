package link

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Offline numbering. While the server is unreachable a kiosk numbers
// tickets itself from its own series, plainly marked and unique in the
// office: the group's prefix, the kiosk's slot, a dash and a counter
// ("П3-007", proto.OfflineNumber). It never uses numbers that look like
// the day's count: "П980" after "П003" would tell a visitor that 977
// people were ahead. The counter moves in the same transaction that puts
// the ticket in the outbox, before anything is printed, so a number is
// never given twice, even across a power cut; a kiosk whose file is older
// than what the server saw (restored from a copy) continues after the
// server's record (welcome.series).

// dayNumbers is one office day's offline numbering.
type dayNumbers struct {
	// Counter is the last counter given, by prefix. (Its JSON name is the
	// old fallback series', which had this same form, so a counter of the
	// day survives the upgrade.)
	Counter map[string]int `json:"fallback"`
}

// Numbering modes of an issued ticket.
const (
	ModeOnline  = "online"  // numbered by the server
	ModeOffline = "offline" // numbered by this kiosk, from its own series
)

func loadDay(tx *bolt.Tx, day string) (*dayNumbers, error) {
	d := &dayNumbers{Counter: map[string]int{}}
	if v := tx.Bucket(bucketNumbers).Get([]byte(day)); v != nil {
		if err := json.Unmarshal(v, d); err != nil {
			return nil, fmt.Errorf("link: numbers of %s: %w", day, err)
		}
		if d.Counter == nil {
			d.Counter = map[string]int{}
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

// maxSeriesCounter bounds what a server may say of a series: nonsense
// from the server must not push the counter past what a ticket can show.
const maxSeriesCounter = 99_999

// MergeSeries moves this kiosk's counters up to the server's record
// (never down), and forgets the days before today (office time).
func (s *Store) MergeSeries(today string, series []proto.Series) error {
	return s.update(func(tx *bolt.Tx) error {
		byDay := map[string][]proto.Series{}
		for _, sr := range series {
			if sr.Day == "" || sr.Prefix == "" || sr.Last < 1 || sr.Last > maxSeriesCounter {
				continue
			}
			byDay[sr.Day] = append(byDay[sr.Day], sr)
		}
		for day, ss := range byDay {
			d, err := loadDay(tx, day)
			if err != nil {
				return err
			}
			for _, sr := range ss {
				d.Counter[sr.Prefix] = max(d.Counter[sr.Prefix], sr.Last)
			}
			if err := saveDay(tx, day, d); err != nil {
				return err
			}
		}
		if today == "" {
			return nil
		}
		c := tx.Bucket(bucketNumbers).Cursor()
		var old [][]byte
		for k, _ := c.First(); k != nil && string(k) < today; k, _ = c.Next() {
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
func nextOffline(tx *bolt.Tx, day, prefix string, slot int) (string, error) {
	if slot < 1 {
		return "", fmt.Errorf("link: no slot from the server yet: cannot number offline")
	}
	d, err := loadDay(tx, day)
	if err != nil {
		return "", err
	}
	d.Counter[prefix]++
	return proto.OfflineNumber(prefix, slot, d.Counter[prefix]), saveDay(tx, day, d)
}

// SeriesState is one prefix of this kiosk's offline series on a day.
type SeriesState struct {
	Prefix string `json:"prefix"`
	// Last is the last number given ("П3-007"); empty when none was.
	Last string `json:"last,omitempty"`
	// Next is the number the next offline ticket of the prefix gets.
	Next string `json:"next"`
}

// Series reports this kiosk's offline series on day for prefixes, with
// slot its slot.
func (s *Store) Series(day string, slot int, prefixes []string) ([]SeriesState, error) {
	var out []SeriesState
	err := s.db.View(func(tx *bolt.Tx) error {
		d, err := loadDay(tx, day)
		if err != nil {
			return err
		}
		for _, p := range prefixes {
			st := SeriesState{Prefix: p, Next: proto.OfflineNumber(p, slot, d.Counter[p]+1)}
			if n := d.Counter[p]; n > 0 {
				st.Last = proto.OfflineNumber(p, slot, n)
			}
			out = append(out, st)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out, err
}
