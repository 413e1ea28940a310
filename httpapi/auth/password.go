package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrBadHash: a password hash is not an argon2id PHC string this package
// can check.
var ErrBadHash = errors.New("auth: bad password hash")

// HashParams are argon2id's costs. Memory is in KiB.
type HashParams struct {
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultHashParams are OWASP's recommended argon2id costs (19 MiB, two
// passes, one lane): about 50 ms on an office PC, slow enough that a
// stolen hash is expensive to attack, fast enough for sign-in.
var DefaultHashParams = HashParams{Memory: 19456, Time: 2, Threads: 1}

// The salt and key lengths of new hashes, in bytes.
const (
	SaltLen = 16
	KeyLen  = 32
)

// Bounds on the costs read from a stored hash, so that a damaged or
// hostile file cannot make one sign-in take gigabytes or minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB
	maxTime    = 64
	maxThreads = 64
)

// HashPassword returns password's argon2id hash as a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, with a fresh random salt.
// Zero params: DefaultHashParams.
func HashPassword(password string, p HashParams) (string, error) {
	if p == (HashParams{}) {
		p = DefaultHashParams
	}
	if p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1 {
		return "", fmt.Errorf("%w: costs m=%d,t=%d,p=%d are too low", ErrBadHash, p.Memory, p.Time, p.Threads)
	}
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, KeyLen)
	return formatPHC(p, salt, key), nil
}

func formatPHC(p HashParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// PHC is a parsed argon2id PHC string.
type PHC struct {
	Params    HashParams
	Salt, Key []byte
}

// ParsePHC reads an argon2id PHC string. The costs come from the string,
// not from DefaultHashParams, so hashes made with older costs keep
// working after the defaults rise. Errors wrap ErrBadHash.
func ParsePHC(s string) (PHC, error) {
	bad := func(what string) (PHC, error) {
		return PHC{}, fmt.Errorf("%w: %s; expected $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", ErrBadHash, what)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not six $-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm " + strconv.Quote(clip(parts[1])))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version " + strconv.Quote(clip(parts[2])))
	}
	var m, t, p uint64
	costs := strings.Split(parts[3], ",")
	if len(costs) != 3 {
		return bad("costs " + strconv.Quote(clip(parts[3])))
	}
	for i, c := range costs {
		name, value, _ := strings.Cut(c, "=")
		dst, want, limit := []*uint64{&m, &t, &p}[i], "mtp"[i:i+1], []uint64{maxMemory, maxTime, maxThreads}[i]
		n, err := strconv.ParseUint(value, 10, 32)
		if name != want || err != nil || n < 1 || n > limit || value != strconv.FormatUint(n, 10) {
			return bad("cost " + strconv.Quote(clip(c)))
		}
		*dst = n
	}
	if m < 8*p {
		return bad("memory below 8 KiB per lane")
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return bad("salt")
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return bad("hash")
	}
	return PHC{Params: HashParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}, Salt: salt, Key: key}, nil
}

// clip bounds what of a bad hash an error repeats.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// VerifyPassword reports whether password matches the PHC string hash.
// The comparison takes the same time wherever the first difference is.
func VerifyPassword(hash, password string) (bool, error) {
	h, err := ParsePHC(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.Salt, h.Params.Time, h.Params.Memory, h.Params.Threads, uint32(len(h.Key)))
	return subtle.ConstantTimeCompare(key, h.Key) == 1, nil
}
