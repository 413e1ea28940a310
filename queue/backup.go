package queue

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/queue/access"
)

// Backups. queued holds queued.db under bbolt's exclusive lock and writes
// pages in place, so no other process can copy the file consistently
// while it runs. The copy is therefore made by queued itself, from one
// read transaction (GET /api/v1/admin/backup, which `queued backup`
// fetches), or, with queued stopped, by CopyDatabase.

// ErrDatabaseLocked is CopyDatabase's answer when a running queued holds
// the database: ask it for the copy instead (GET /api/v1/admin/backup).
var ErrDatabaseLocked = errors.New("queue: the database is held by a running queued")

// coreBuckets are the top-level buckets Open makes; a backup without any
// of them is not a queued database.
var coreBuckets = [][]byte{bucketDays, bucketDevices, bucketPushes, bucketMeta, bucketWindows, bucketLog,
	bucketLogIndex, bucketRejected, bucketDeviceSeq}

// Backup writes a consistent copy of the database to w: everything
// committed before it began, nothing committed after, from one read
// transaction. Commits go on meanwhile (bbolt readers do not block the
// writer; only a growth of the file's memory map waits for the copy to
// end, so a copy should not be left stalled). begin, if not nil, is told
// the copy's size in bytes before the first byte is written.
func (q *Queue) Backup(w io.Writer, begin func(size int64)) (int64, error) {
	return copyTx(q.db, w, begin)
}

func copyTx(db *bolt.DB, w io.Writer, begin func(size int64)) (n int64, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		if begin != nil {
			begin(tx.Size())
		}
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("queue: backup: %w", err)
	}
	return n, nil
}

// openReadOnly opens the database at path for reading, with a short wait
// for the lock: a running queued holds it for as long as it runs.
func openReadOnly(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrDatabaseLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	return db, nil
}

// CopyDatabase writes a consistent copy of the database file at path to
// w, as Backup does, for a queued that is not running; while one runs it
// returns ErrDatabaseLocked. The file is only read.
func CopyDatabase(path string, w io.Writer, begin func(size int64)) (int64, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return copyTx(db, w, begin)
}

// CheckDatabase reads the database file at path (not held by a running
// queued) and checks that it is whole, by bbolt's check of every page,
// and that it is queued's: it has the buckets queued makes.
func CheckDatabase(path string) error {
	db, err := openReadOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			if len(errs) < 5 { // enough to say it is broken
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("queue: %s is damaged: %w", path, errors.Join(errs...))
		}
		var missing []string
		for _, b := range coreBuckets {
			if tx.Bucket(b) == nil {
				missing = append(missing, string(b))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("queue: %s is not a queued database: no bucket %s", path, strings.Join(missing, ", "))
		}
		return nil
	})
}

// backupMinRate is the slowest a backup client may read: the copy's
// write deadline is a minute plus its size at this rate, so that a
// stalled client cannot hold the read transaction (and the file's old
// pages) for ever.
const backupMinRate = 256 << 10 // bytes a second

// handleBackup streams a consistent copy of queued.db (GET
// /api/v1/admin/backup, scope admin).
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	who := "?"
	if p := access.FromContext(r.Context()); p != nil {
		who = p.Kind + " " + p.Name
	}
	began := false
	started := s.q.clock.Now()
	name := backupName(s.q.Office().ID, started)
	var size int64
	var body io.Writer = w
	if r.Method == http.MethodHead {
		body = io.Discard
	}
	n, err := s.q.Backup(body, func(sz int64) {
		began, size = true, sz
		// A big file takes longer than the server's 30 s write timeout;
		// the read deadline's end would cancel the request meanwhile.
		// Network deadlines are wall-clock time.
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute + time.Duration(sz/backupMinRate)*time.Second))
		_ = rc.SetReadDeadline(time.Time{})
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Content-Length", strconv.FormatInt(sz, 10))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
	if r.Method == http.MethodHead {
		return
	}
	if err != nil {
		if !began {
			s.internal(w, err)
			return
		}
		// The answer is cut short of its Content-Length: the client
		// sees an incomplete copy, never a short one taken for whole.
		s.log.Error("backup failed", "by", who, "sent", n, "size", size, "err", err)
		return
	}
	s.log.Info("backup sent", "by", who, "size", n, "file", name, "took", s.q.clock.Since(started).Round(time.Millisecond))
}

// backupName is the file name a backup is offered under:
// queued-<office>-<UTC time>.db.
func backupName(office string, t time.Time) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, office)
	if clean == "" {
		clean = "office"
	}
	return "queued-" + clean + "-" + t.UTC().Format("20060102T150405Z") + ".db"
}
