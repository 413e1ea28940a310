package auth

import (
	"errors"
	"testing"
	"time"
)

func TestHashAndVerify(t *testing.T) {
	cheap := HashParams{Memory: 64, Time: 1, Threads: 1}
	h, err := HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePHC(h)
	if err != nil || p.Params != cheap || len(p.Salt) != SaltLen || len(p.Key) != KeyLen {
		t.Fatalf("%q: %+v %v", h, p, err)
	}
	if ok, err := VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Errorf("right password: %v %v", ok, err)
	}
	if ok, err := VerifyPassword(h, "correct horse batteryx"); ok || err != nil {
		t.Errorf("wrong password: %v %v", ok, err)
	}
	if _, err := VerifyPassword("hunter2", "hunter2"); !errors.Is(err, ErrBadHash) {
		t.Errorf("a clear password as the hash: %v", err)
	}
}

func TestLimiterLocksOut(t *testing.T) {
	l := NewLimiter(MaxLimited)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range MaxFailures - 1 {
		if d := l.Fail("10.0.0.9", now.Add(time.Duration(i)*time.Second)); d != 0 {
			t.Fatalf("failure %d locked out for %v", i+1, d)
		}
	}
	if d := l.Fail("10.0.0.9", now.Add(time.Minute)); d != FirstLockout {
		t.Fatalf("lockout %v, expected %v", d, FirstLockout)
	}
	if d := l.LockedFor("10.0.0.9", now.Add(90*time.Second)); d != 30*time.Second {
		t.Errorf("still locked for %v", d)
	}
	if l.LockedFor("10.0.0.8", now) != 0 || !l.Has("10.0.0.9") || l.Len() != 1 {
		t.Error("another key is locked out, or the key is not kept")
	}
	l.Clear("10.0.0.9")
	if l.Has("10.0.0.9") {
		t.Error("cleared key kept")
	}
}

// FuzzParsePHC: a hash read from a configuration file or an accounts file
// never crashes the parser, and what parses formats back the same.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=99999999,t=1,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if again := formatPHC(p.Params, p.Salt, p.Key); again != s {
			t.Fatalf("%q formats back as %q", s, again)
		}
	})
}
