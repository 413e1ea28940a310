package ship

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/cherga/kiosk/configs"
)

// DSN is the connection string queued uses for c: the configured DSN with
// the CA file as sslrootcert and the password read from password_file.
// The files are checked as every secret is: a password file the group or
// others may read, or a CA file they may change, is refused with the
// chmod that fixes it. The result holds the password: never log it
// (Config.DSN is logged, this is not).
func DSN(c configs.City) (string, error) {
	if !c.Enabled() {
		return "", fmt.Errorf("ship: city.dsn is empty")
	}
	if configs.DSNHasPassword(c.DSN) {
		return "", fmt.Errorf("ship: city.dsn holds a password: put it in the file named by city.password_file (mode 0600)")
	}
	params := map[string]string{}
	var order []string
	if c.CAFile != "" {
		if err := configs.UnwritableFile(c.CAFile, "queued's user"); err != nil {
			return "", fmt.Errorf("city.ca_file: %w", err)
		}
		if _, err := os.ReadFile(c.CAFile); err != nil {
			return "", fmt.Errorf("city.ca_file: %w", err)
		}
		params["sslrootcert"] = c.CAFile
		order = append(order, "sslrootcert")
	}
	if c.PasswordFile != "" {
		if err := configs.PrivateFile(c.PasswordFile, "queued's user"); err != nil {
			return "", fmt.Errorf("city.password_file: %w", err)
		}
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("city.password_file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" || strings.ContainsAny(pw, "\r\n") {
			return "", fmt.Errorf("city.password_file: %s must hold the password on one line", c.PasswordFile)
		}
		params["password"] = pw
		order = append(order, "password")
	}
	return withParams(c.DSN, params, order), nil
}

// withParams adds settings to a libpq URL (as query parameters) or
// keyword string (as quoted pairs).
func withParams(dsn string, params map[string]string, order []string) string {
	if len(order) == 0 {
		return dsn
	}
	var b strings.Builder
	b.WriteString(dsn)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		for _, k := range order {
			// %20, not +: drivers differ in whether + is a space.
			b.WriteString(sep + k + "=" + strings.ReplaceAll(url.QueryEscape(params[k]), "+", "%20"))
			sep = "&"
		}
		return b.String()
	}
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	for _, k := range order {
		b.WriteString(" " + k + "='" + q.Replace(params[k]) + "'")
	}
	return b.String()
}
