package terminal

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link"
)

// credentials reads the terminal's token and TLS files named in the
// configuration.
func credentials(c *configs.Terminal) (link.Config, error) {
	var lc link.Config
	if f := c.Server.TokenFile; f != "" {
		if err := privateFile(f); err != nil {
			return lc, fmt.Errorf("server.token_file: %w", err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return lc, fmt.Errorf("server.token_file: %w", err)
		}
		lc.Token = strings.TrimSpace(string(b))
		if lc.Token == "" {
			return lc, fmt.Errorf("server.token_file: %s is empty", f)
		}
	}
	if c.Server.CAFile == "" && c.Server.CertFile == "" {
		return lc, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f := c.Server.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return lc, fmt.Errorf("server.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return lc, fmt.Errorf("server.ca_file: %s has no PEM certificate", f)
		}
	}
	if c.Server.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.Server.CertFile, c.Server.KeyFile)
		if err != nil {
			return lc, fmt.Errorf("server.cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	lc.TLS = tc
	return lc, nil
}

// privateFile refuses a secret that the file's group or others may read
// or write, naming the chmod that fixes it.
func privateFile(path string) error { return configs.PrivateFile(path, "kioskd's user") }

// Credentials reads and checks the token and TLS files the configuration
// names, as kioskd does when it starts: kioskctl doctor reports the same
// problems without starting it.
func Credentials(c *configs.Terminal) (link.Config, error) { return credentials(c) }
