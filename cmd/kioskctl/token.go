package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// token makes a random bearer token for one terminal and prints where each
// half goes: the token on the terminal, its hash in queued's office.yaml.
func token(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token", "token -device ID", stderr)
	device := fs.String("device", "", "the terminal's device_id")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *device == "" || fs.NArg() != 0 {
		return usageError(fs, "-device is required and no arguments are taken")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(tok))
	fmt.Fprintf(stdout, `# On the terminal %[1]s, as server.token_file (mode 0600):
%[2]s
# In queued's office.yaml, under terminals:
  - {device: %[1]s, token_sha256: %[3]s}
`, *device, tok, hex.EncodeToString(sum[:]))
	return nil
}
