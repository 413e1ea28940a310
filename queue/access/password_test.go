package access

import (
	"errors"
	"strings"
	"testing"
)

func TestHashRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		params   HashParams
	}{
		{"ascii", "correct horse battery", testHash},
		{"ukrainian", "Слава-Україні-2026", testHash},
		{"two lanes", "correct horse battery", HashParams{Memory: 128, Time: 2, Threads: 2}},
		// One hash at the real cost, to check the string production makes.
		{"production costs", "correct horse battery", HashParams{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := HashPassword(tc.password, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.params
			if want == (HashParams{}) {
				want = DefaultHashParams
			}
			p, err := parsePHC(h)
			if err != nil {
				t.Fatal(err)
			}
			if p.params != want || len(p.salt) != saltLen || len(p.key) != keyLen {
				t.Errorf("parsed %+v from %q", p, h)
			}
			if tc.params == (HashParams{}) {
				// Checking takes as long again; the cheap cases check.
				if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
					t.Errorf("hash %q lacks OWASP's costs", h)
				}
				return
			}
			if ok, err := VerifyPassword(h, tc.password); !ok || err != nil {
				t.Errorf("right password: %v, %v", ok, err)
			}
			if ok, err := VerifyPassword(h, tc.password+"x"); ok || err != nil {
				t.Errorf("wrong password: %v, %v", ok, err)
			}
			again, _ := HashPassword(tc.password, tc.params)
			if again == h {
				t.Error("two hashes of one password are equal: the salt is not random")
			}
		})
	}
}

func TestParsePHC(t *testing.T) {
	good := "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	if _, err := parsePHC(good); err != nil {
		t.Fatalf("good: %v", err)
	}
	for _, bad := range []string{
		"",
		"plain password",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g$",
	} {
		if _, err := parsePHC(bad); !errors.Is(err, ErrBadHash) {
			t.Errorf("%q: got %v, expected ErrBadHash", bad, err)
		}
		if ok, err := VerifyPassword(bad, "x"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v", bad, ok, err)
		}
	}
}

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		password string
		ok       bool
	}{
		{"123456789", false},
		{"1234567890", true},
		{"пароль-ок!", true}, // ten characters, more bytes
		{"пароль", false},
		{strings.Repeat("x", MaxPasswordLen), true},
		{strings.Repeat("x", MaxPasswordLen+1), false},
		{"\xff\xfe234567890", false},
	} {
		if err := checkNewPassword(tc.password); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.password, err)
		}
	}
}
