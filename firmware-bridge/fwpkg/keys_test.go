package fwpkg

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	pubPath, keyPath, err := Keygen(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pubPath != filepath.Join(dir, "firmware.pub") || keyPath != filepath.Join(dir, "firmware.key") {
		t.Fatalf("paths %s %s", pubPath, keyPath)
	}
	info, err := os.Stat(keyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", info.Mode(), err)
	}
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := LoadPublicKeys(pubPath)
	if err != nil || len(pubs) != 1 || !pubs[0].Equal(key.Public()) {
		t.Fatalf("public keys %v, %v", pubs, err)
	}
	text, _ := os.ReadFile(pubPath)
	if !strings.Contains(string(text), FormatPublicKey(pubs[0])+"\n") || !strings.Contains(string(text), KeyIDOf(pubs[0]).String()) {
		t.Fatalf("firmware.pub:\n%s", text)
	}
	if _, _, err := Keygen(dir); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Fatalf("second keygen in the same directory: %v", err)
	}
	again, _ := LoadPrivateKey(keyPath)
	if !again.Equal(key) {
		t.Fatal("the key changed")
	}

	// A key readable by others is refused, with the fix in the message.
	if err := os.Chmod(keyPath, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(keyPath); !errors.Is(err, ErrKeyPermissions) ||
		!strings.Contains(err.Error(), "mode 0640") || !strings.Contains(err.Error(), "chmod 600 "+keyPath) {
		t.Fatalf("group-readable key: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := pub(testKey(1)), pub(testKey(2))
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := write("two.pub", "# office keys\n\n"+FormatPublicKey(k1)+"\n  "+FormatPublicKey(k2)+"  \n", 0o644)
	one := write("one.pub", FormatPublicKey(k2), 0o644)
	keys, err := LoadPublicKeys(two, one)
	if err != nil || len(keys) != 3 || !keys[0].Equal(k1) || !keys[1].Equal(k2) || !keys[2].Equal(k2) {
		t.Fatalf("%d keys, %v", len(keys), err)
	}
	for name, c := range map[string]struct {
		text string
		want string
	}{
		"empty":       {"# nothing\n", "holds no"},
		"ssh key":     {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI x@y\n", `want "cherga-firmware-key v1 <base64>"`},
		"private":     {"cherga-firmware-private-key v1 AAAA\n", "is a cherga-firmware-private-key, want a cherga-firmware-key"},
		"short key":   {"cherga-firmware-key v1 AAAA\n", "not 32 bytes"},
		"not base64":  {"cherga-firmware-key v1 !!!!\n", "not 32 bytes"},
		"version two": {"cherga-firmware-key v2 AAAA\n", "want"},
	} {
		_, err := LoadPublicKeys(write(name+".pub", c.text, 0o644))
		if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if _, err := LoadPublicKeys(filepath.Join(dir, "missing.pub")); err == nil {
		t.Fatal("a missing file")
	}
	// A public key given as the private key.
	if _, err := LoadPrivateKey(write("wrong.key", FormatPublicKey(k1)+"\n", 0o600)); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("public key as private: %v", err)
	}
	if _, err := LoadPrivateKey(write("none.key", "# empty\n", 0o600)); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("empty private key file: %v", err)
	}
	var _ ed25519.PublicKey = keys[0]
}
