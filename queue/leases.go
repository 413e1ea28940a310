package queue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Offline numbers. A kiosk that cannot reach the server numbers tickets
// from its own series: the prefix, its slot (given once, never reused),
// a dash and a counter ("П3-007", proto.OfflineNumber). No online number
// has a dash, and no two kiosks share a slot, so every number of the day
// is unique without any numbers set aside in advance, and a visitor never
// holds a number that looks far down the day's count ("П980" after
// "П003"). The server merges those tickets into the queue by issue time
// and tells a kiosk, in its welcome, the highest counter of its series it
// holds (seriesOf), so a kiosk whose file is older continues after it.
//
// Servers before this numbered offline tickets from leased blocks at the
// top of the range (А999 downwards); online numbering still steps over
// the blocks such a server recorded for a day.

// leaseBlock is one block of a day and prefix, as older servers leased.
type leaseBlock struct {
	Device string `json:"device"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Next   int    `json:"next"`
}

const topNumber = 999

func loadBlocks(b *bolt.Bucket, prefix string) ([]leaseBlock, error) {
	var out []leaseBlock
	if lb := b.Bucket(bucketLeases); lb != nil {
		if v := lb.Get([]byte(prefix)); v != nil {
			if err := json.Unmarshal(v, &out); err != nil {
				return nil, fmt.Errorf("leases of %s: %w", prefix, err)
			}
		}
	}
	return out, nil
}

// nextOnline is the next number the server gives for prefix in day bucket
// b: one above the last, stepping over blocks an older server leased.
func nextOnline(b *bolt.Bucket, prefix string) (int, error) {
	blocks, err := loadBlocks(b, prefix)
	if err != nil {
		return 0, err
	}
	n := int(getU64(b.Bucket(bucketCnt), []byte(prefix))) + 1
	for moved := true; moved; {
		moved = false
		for _, bl := range blocks {
			if n >= bl.From && n <= bl.To {
				n, moved = bl.To+1, true
			}
		}
	}
	return n, nil
}

// seriesOf is what day's tickets hold of the offline series of the kiosk
// in slot: for each prefix with any, the highest counter. The tickets are
// keyed by number, so each prefix is one seek ("П3-") and a short scan.
func seriesOf(tx *bolt.Tx, day string, slot int, prefixes []string) []proto.Series {
	b := dayBucket(tx, day)
	if b == nil || slot < 1 {
		return nil
	}
	var out []proto.Series
	for _, p := range prefixes {
		start := []byte(p + strconv.Itoa(slot) + "-")
		last := 0
		c := b.Bucket(bucketTix).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, start); k, _ = c.Next() {
			number, _, _ := strings.Cut(string(k), "~") // number~device: a collision's key
			if s, n, ok := proto.ParseOfflineNumber(number, p); ok && s == slot {
				last = max(last, n)
			}
		}
		if last > 0 {
			out = append(out, proto.Series{Day: day, Prefix: p, Last: last})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out
}
