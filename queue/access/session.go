package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	// CookieName is the session cookie.
	CookieName = "cherga_session"
	// touchEvery bounds how often a session's last use is written: an
	// operator's page polls every few seconds, and one disk write a
	// minute is plenty for a two-hour idle limit.
	touchEvery = time.Minute
)

var sessionsBucket = []byte("sessions")

// sessionRecord is what the database keeps of a session, under the
// SHA-256 of its id: a stolen database file holds no usable session.
type sessionRecord struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

func sessionKey(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// validSessionID tells a cookie this package could have made from junk,
// so junk never reaches the database.
func validSessionID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 32
}

// createSession starts a session for user and returns its id, which only
// the cookie carries.
func (g *Guard) createSession(user string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("access: session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := g.now()
	v, _ := json.Marshal(sessionRecord{User: user, Created: now, LastSeen: now})
	err := g.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(sessionsBucket).Put(sessionKey(id), v)
	})
	if err != nil {
		return "", fmt.Errorf("access: sessions: %w", err)
	}
	return id, nil
}

// alive returns the session's account when the session may still be used.
func (g *Guard) alive(rec sessionRecord, now time.Time) (User, bool) {
	if now.Sub(rec.LastSeen) > g.idle || now.Sub(rec.Created) > g.maxAge {
		return User{}, false
	}
	u, ok := g.store.User(rec.User)
	// A new password ends the sessions made with the old one: that is
	// how an operator who lost a badge or shared a password gets
	// everyone else out.
	if !ok || u.Disabled || u.PasswordChanged.After(rec.Created) {
		return User{}, false
	}
	return u, true
}

// session returns the account of the live session id and notes its use.
func (g *Guard) session(id string) (User, error) {
	if !validSessionID(id) {
		return User{}, ErrSessionEnded
	}
	key := sessionKey(id)
	var rec sessionRecord
	var found bool
	err := g.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(sessionsBucket).Get(key)
		if v == nil {
			return nil
		}
		found = json.Unmarshal(v, &rec) == nil
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("access: sessions: %w", err)
	}
	if !found {
		return User{}, ErrSessionEnded
	}
	now := g.now()
	u, ok := g.alive(rec, now)
	if !ok {
		if err := g.deleteSession(key); err != nil {
			return User{}, err
		}
		return User{}, ErrSessionEnded
	}
	if now.Sub(rec.LastSeen) >= touchEvery {
		rec.LastSeen = now
		v, _ := json.Marshal(rec)
		err := g.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(sessionsBucket)
			// Signed out meanwhile: do not bring it back.
			if b.Get(key) == nil {
				return nil
			}
			return b.Put(key, v)
		})
		if err != nil {
			return User{}, fmt.Errorf("access: sessions: %w", err)
		}
	}
	return u, nil
}

func (g *Guard) deleteSession(key []byte) error {
	err := g.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(sessionsBucket).Delete(key)
	})
	if err != nil {
		return fmt.Errorf("access: sessions: %w", err)
	}
	return nil
}

// PruneSessions deletes every session that can no longer be used. The
// guard prunes when it is made and at every sign-in, which bounds the
// bucket by the sign-ins of one MaxAge; a caller may prune more often.
func (g *Guard) PruneSessions() error {
	now := g.now()
	err := g.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(sessionsBucket)
		// Keys are collected first: deleting under a moving cursor can
		// skip the next key.
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var rec sessionRecord
			if json.Unmarshal(v, &rec) == nil {
				if _, ok := g.alive(rec, now); ok {
					return nil
				}
			}
			dead = append(dead, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("access: sessions: %w", err)
	}
	return nil
}

// setSessionCookie hands the browser its session. Secure when the
// request came over TLS (or the server is behind a TLS proxy and says
// so), so the cookie never travels in the clear; no Max-Age, so closing
// the browser of a shared desk PC signs its user out.
func (g *Guard) setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || g.secure})
}

func (g *Guard) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || g.secure})
}
