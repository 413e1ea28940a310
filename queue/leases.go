package queue

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Number blocks for offline tickets. Each kiosk holds, for today and
// tomorrow, a block of numbers per prefix that only it may give out while
// the server is unreachable. Blocks are taken from the top of the number
// range (А999 downwards) and online numbering steps over them, so the two
// never meet in a normal day and offline tickets look like any other.

// leaseBlock is one block of a day and prefix.
type leaseBlock struct {
	Device string `json:"device"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	// Next is the first number of the block the kiosk has not reported
	// using; kiosks give a block's numbers in order.
	Next int `json:"next"`
}

const topNumber = 999

func loadBlocks(b *bolt.Bucket, prefix string) ([]leaseBlock, error) {
	var out []leaseBlock
	if v := b.Bucket(bucketLeases).Get([]byte(prefix)); v != nil {
		if err := json.Unmarshal(v, &out); err != nil {
			return nil, fmt.Errorf("leases of %s: %w", prefix, err)
		}
	}
	return out, nil
}

func saveBlocks(b *bolt.Bucket, prefix string, blocks []leaseBlock) error {
	return putJSON(b.Bucket(bucketLeases), []byte(prefix), blocks)
}

// nextOnline is the next number the server gives for prefix in day bucket
// b: one above the last, stepping over leased blocks.
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

// ensureLeases tops up a kiosk's blocks for today and tomorrow: a prefix
// with less than half a block left gets a new block.
func (q *Queue) ensureLeases(tx *bolt.Tx, w *work, device string) error {
	size := q.o.cfg.LeaseSize
	now := q.now()
	for _, day := range []string{q.dayOf(now), q.dayOf(now.Add(24 * time.Hour))} {
		b, err := createDayBucket(tx, day)
		if err != nil {
			return err
		}
		for _, prefix := range q.o.prefixes {
			blocks, err := loadBlocks(b, prefix)
			if err != nil {
				return err
			}
			left, lowest := 0, topNumber+1
			for _, bl := range blocks {
				lowest = min(lowest, bl.From)
				if bl.Device == device {
					left += bl.To - max(bl.Next, bl.From) + 1
				}
			}
			if left >= (size+1)/2 {
				continue
			}
			from := lowest - size
			if issued := int(getU64(b.Bucket(bucketCnt), []byte(prefix))); from <= issued {
				q.log.Warn("no numbers left to lease: offline tickets will use the fallback series",
					"day", day, "prefix", prefix, "device", device, "online_issued", issued)
				continue
			}
			blocks = append(blocks, leaseBlock{Device: device, From: from, To: from + size - 1, Next: from})
			if err := saveBlocks(b, prefix, blocks); err != nil {
				return err
			}
			w.leases[device] = true
		}
	}
	return nil
}

// leasesOf lists a device's blocks of today and later, for its welcome.
func leasesOf(tx *bolt.Tx, device, today string) ([]proto.Lease, error) {
	var out []proto.Lease
	days := tx.Bucket(bucketDays)
	c := days.Cursor()
	for k, _ := c.Seek([]byte(today)); k != nil; k, _ = c.Next() {
		b := days.Bucket(k)
		if b == nil || b.Bucket(bucketLeases) == nil {
			continue
		}
		err := b.Bucket(bucketLeases).ForEach(func(prefix, v []byte) error {
			var blocks []leaseBlock
			if err := json.Unmarshal(v, &blocks); err != nil {
				return err
			}
			for _, bl := range blocks {
				if bl.Device == device {
					out = append(out, proto.Lease{Day: string(k), Prefix: string(prefix), From: bl.From, To: bl.To, Next: bl.Next})
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		if out[i].Prefix != out[j].Prefix {
			return out[i].Prefix < out[j].Prefix
		}
		return out[i].From > out[j].From // in the order they were leased
	})
	return out, nil
}

// markUsed records that device gave out number n of prefix on day, so the
// block's remainder is known when topping up.
func markUsed(b *bolt.Bucket, device, prefix string, n int) (bool, error) {
	blocks, err := loadBlocks(b, prefix)
	if err != nil {
		return false, err
	}
	for i, bl := range blocks {
		if bl.Device == device && n >= bl.From && n <= bl.To {
			blocks[i].Next = max(bl.Next, n+1)
			return true, saveBlocks(b, prefix, blocks)
		}
	}
	return false, nil
}
