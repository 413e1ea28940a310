package link

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Store is the terminal's bbolt file: the last snapshot the server sent, so
// a terminal restarted while the server is away shows the catalogue and the
// last calls at once, and the outbox of events not yet acknowledged.
type Store struct {
	db *bolt.DB
}

var (
	bucketState  = []byte("state")
	bucketOutbox = []byte("outbox")
	keyWelcome   = []byte("welcome")
)

// ErrLocked means another process has the file open.
var ErrLocked = errors.New("link: store is locked by another process")

// OpenStore opens or creates the store at path. A second kioskd on the same
// data directory fails within a second instead of waiting forever.
func OpenStore(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (is another kioskd running with this data_dir?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("link: open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketState, bucketOutbox} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("link: init store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// SaveSnapshot keeps the server's latest snapshot.
func (s *Store) SaveSnapshot(w *proto.Welcome) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("link: encode snapshot: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).Put(keyWelcome, b)
	})
}

// Snapshot returns the saved snapshot, or nil if the server was never
// reached.
func (s *Store) Snapshot() (*proto.Welcome, error) {
	var w *proto.Welcome
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketState).Get(keyWelcome)
		if b == nil {
			return nil
		}
		w = new(proto.Welcome)
		return json.Unmarshal(b, w)
	})
	if err != nil {
		return nil, fmt.Errorf("link: read snapshot: %w", err)
	}
	return w, nil
}

// Buffered is the number of events waiting for the server's
// acknowledgement.
func (s *Store) Buffered() int {
	n := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n
}
