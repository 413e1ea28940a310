package fwpkg

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The key files' first words (PROTOCOL.md 10.8): one line each,
// "<tag> v1 <base64>", with blank lines and # comments allowed around it.
const (
	publicTag  = "cherga-firmware-key"
	privateTag = "cherga-firmware-private-key"
	keyFormat  = "v1"
)

// Key file names Keygen writes.
const (
	PrivateKeyFile = "firmware.key"
	PublicKeyFile  = "firmware.pub"
)

// KeyID names a public key: the first 8 bytes of its SHA-256.
type KeyID [8]byte

func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// KeyIDOf returns the id of a public key.
func KeyIDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	var id KeyID
	copy(id[:], sum[:8])
	return id
}

// Keygen makes a new signing key pair and writes DIR/firmware.key (mode
// 0600, the 32-byte ed25519 seed) and DIR/firmware.pub (the public key,
// which terminals list in firmware_keys). It creates dir (0700) if
// needed and never overwrites a key.
func Keygen(dir string) (pubPath, keyPath string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("fwpkg: keygen: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("fwpkg: keygen: %w", err)
	}
	keyPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("fwpkg: keygen: %s exists; a key is never overwritten (move it away first)", p)
		}
	}
	id := KeyIDOf(pub)
	key := fmt.Sprintf("# cherga firmware signing key %s: keep it secret, never on a terminal\n%s %s %s\n",
		id, privateTag, keyFormat, base64.StdEncoding.EncodeToString(priv.Seed()))
	if err := writeNew(keyPath, key, 0o600); err != nil {
		return "", "", err
	}
	pubText := fmt.Sprintf("# cherga firmware public key %s: list it in a terminal's firmware_keys\n%s %s %s\n",
		id, publicTag, keyFormat, base64.StdEncoding.EncodeToString(pub))
	if err := writeNew(pubPath, pubText, 0o644); err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	return pubPath, keyPath, nil
}

func writeNew(path, text string, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("fwpkg: keygen: %w", err)
	}
	_, werr := f.WriteString(text)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return fmt.Errorf("fwpkg: keygen: %s: %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads a key file Keygen wrote. A file that group or
// others may read is refused (ErrKeyPermissions): a signing key that
// leaked signs firmware for every office.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("fwpkg: private key: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; make it private with chmod 600 %s",
			ErrKeyPermissions, path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fwpkg: private key: %w", err)
	}
	keys, err := parseKeyLines(path, data, privateTag, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: %s holds %d private keys, want 1", ErrKeyFile, path, len(keys))
	}
	return ed25519.NewKeyFromSeed(keys[0]), nil
}

// LoadPublicKeys reads public key files (firmware.pub, or several keys
// one a line in one file), in order.
func LoadPublicKeys(paths ...string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("fwpkg: public key: %w", err)
		}
		keys, err := ParsePublicKeys(p, data)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	return out, nil
}

// ParsePublicKeys reads the text of a public key file; name is for
// errors.
func ParsePublicKeys(name string, data []byte) ([]ed25519.PublicKey, error) {
	raw, err := parseKeyLines(name, data, publicTag, ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: %s holds no %q line", ErrKeyFile, name, publicTag)
	}
	out := make([]ed25519.PublicKey, len(raw))
	for i, k := range raw {
		out[i] = ed25519.PublicKey(k)
	}
	return out, nil
}

// FormatPublicKey is the line a public key file holds for pub.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s %s %s", publicTag, keyFormat, base64.StdEncoding.EncodeToString(pub))
}

func parseKeyLines(name string, data []byte, tag string, size int) ([][]byte, error) {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == tag && f[1] == keyFormat:
		case len(f) >= 1 && (f[0] == publicTag || f[0] == privateTag) && f[0] != tag:
			return nil, fmt.Errorf("%w: %s:%d is a %s, want a %s", ErrKeyFile, name, n, f[0], tag)
		default:
			return nil, fmt.Errorf("%w: %s:%d: want \"%s %s <base64>\"", ErrKeyFile, name, n, tag, keyFormat)
		}
		k, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil || len(k) != size {
			return nil, fmt.Errorf("%w: %s:%d: the key is not %d bytes of base64", ErrKeyFile, name, n, size)
		}
		out = append(out, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeyFile, name, err)
	}
	return out, nil
}
