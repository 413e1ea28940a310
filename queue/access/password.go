package access

import (
	"fmt"
	"unicode/utf8"

	"github.com/cherga/kiosk/httpapi/auth"
)

// HashParams are argon2id's costs (package auth, shared with kioskd's
// admin listener).
type HashParams = auth.HashParams

// DefaultHashParams are OWASP's recommended argon2id costs (see
// auth.DefaultHashParams).
var DefaultHashParams = auth.DefaultHashParams

// Password length bounds, in characters. Long passphrases are welcome;
// the upper bound only keeps a pasted file out.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

const (
	saltLen = auth.SaltLen
	keyLen  = auth.KeyLen
)

// checkNewPassword refuses a password too short or too long to set.
func checkNewPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: it is not valid UTF-8 text", ErrBadPassword)
	case n < MinPasswordLen:
		return fmt.Errorf("%w: it has %d characters; use at least %d", ErrBadPassword, n, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: it has %d characters; use at most %d", ErrBadPassword, n, MaxPasswordLen)
	}
	return nil
}

// HashPassword returns password's argon2id hash as a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, with a fresh random salt.
func HashPassword(password string, p HashParams) (string, error) {
	return auth.HashPassword(password, p)
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    HashParams
	salt, key []byte
}

// parsePHC reads an argon2id PHC string (auth.ParsePHC).
func parsePHC(s string) (phc, error) {
	p, err := auth.ParsePHC(s)
	return phc{params: p.Params, salt: p.Salt, key: p.Key}, err
}

// VerifyPassword reports whether password matches the PHC string hash, in
// the same time wherever the first difference is.
func VerifyPassword(hash, password string) (bool, error) { return auth.VerifyPassword(hash, password) }
