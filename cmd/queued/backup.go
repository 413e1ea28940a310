package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue"
	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/datafile"
)

const backupUsage = `usage: queued backup -config FILE -out DIR [-url https://HOST:PORT] [-token-file FILE]

Copies queued's state into DIR (made if missing, mode 0700): queued.db,
access.json and booking.key, each mode 0600. While queued runs, it hands
over a consistent copy of its database itself (GET /api/v1/admin/backup,
scope admin); while it is stopped the file is copied directly. The copy
is checked (every page, queued's buckets) before it replaces a file of
an earlier backup in DIR.

  -url         queued's address; default: from listen and tls in the
               configuration (loopback for a wildcard address)
  -token-file  a file holding an API token with scope admin; default: a
               token made for this backup in access.json and removed
               after it (needs the right to write access.json, as root)

The configuration (/etc/queued: office.yaml, forms, TLS key) is not
copied: keep it as well (docs/install.md, section 7).
`

// backupCommand runs "queued backup …" and returns the exit status: 0
// done, 1 failed, 2 bad usage or configuration.
func backupCommand(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("queued backup", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	configPath := flags.String("config", defaultConfig(), "office configuration `file`")
	out := flags.String("out", "", "the backup's `directory`")
	url := flags.String("url", "", "queued's `address` (https://host:port)")
	tokenFile := flags.String("token-file", "", "`file` with an API token of scope admin")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, backupUsage)
			return 0
		}
		fmt.Fprintf(stderr, "queued backup: %v\n%s", err, backupUsage)
		return 2
	}
	if *out == "" || flags.NArg() > 0 {
		fmt.Fprint(stderr, "queued backup: -out DIR is required and nothing else\n"+backupUsage)
		return 2
	}
	cfg, err := configs.LoadOffice(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	b := &backup{cfg: cfg, dir: *out, url: *url, tokenFile: *tokenFile, stdout: stdout, stderr: stderr}
	if err := b.run(); err != nil {
		fmt.Fprintln(stderr, "queued backup:", err)
		return 1
	}
	return 0
}

// backup is one run of queued backup.
type backup struct {
	cfg            *configs.Office
	dir            string
	url, tokenFile string
	stdout, stderr io.Writer
}

func (b *backup) run() error {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(b.cfg.DataDir, "queued.db")
	f, err := datafile.Create(filepath.Join(b.dir, "queued.db"))
	if err != nil {
		return err
	}
	defer f.Abort()
	var n int64
	from := ""
	if b.url == "" {
		n, err = queue.CopyDatabase(dbPath, f, nil)
		from = "copied from " + dbPath + ", queued not running"
	}
	if b.url != "" || errors.Is(err, queue.ErrDatabaseLocked) {
		// Nothing was written yet: the same temporary file takes the copy.
		var url string
		n, url, err = b.fetch(f)
		from = "handed over by the running queued at " + url
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s: is data_dir right in the configuration?", dbPath)
	}
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := queue.CheckDatabase(f.Name()); err != nil {
		return fmt.Errorf("the copy is not usable, the earlier backup in %s stays: %w", b.dir, err)
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(b.stdout, "queued.db    %d bytes (%s)\n", n, from)

	keyFile := b.cfg.Bookings.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(b.cfg.DataDir, "booking.key")
	}
	for _, c := range []struct{ name, src string }{
		{"access.json", filepath.Join(b.cfg.DataDir, "access.json")},
		{"booking.key", keyFile},
	} {
		// Both are replaced by rename when they change: one read is one
		// whole version.
		data, err := os.ReadFile(c.src)
		if errors.Is(err, fs.ErrNotExist) {
			if c.name == "access.json" || b.cfg.Bookings.Enabled {
				fmt.Fprintf(b.stdout, "%-12s none at %s (not made yet here; on another server, copy it from there)\n", c.name, c.src)
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := datafile.WriteFile(filepath.Join(b.dir, c.name), data); err != nil {
			return err
		}
		fmt.Fprintf(b.stdout, "%-12s %d bytes\n", c.name, len(data))
	}
	fmt.Fprintf(b.stdout, "backup in %s; keep the configuration (/etc/queued) too\n", b.dir)
	return nil
}

// fetch asks the running queued for a copy of its database and writes it
// to w; it returns the bytes written and the address asked.
func (b *backup) fetch(w io.Writer) (int64, string, error) {
	base, err := b.baseURL()
	if err != nil {
		return 0, "", err
	}
	token, done, err := b.token()
	if err != nil {
		return 0, base, err
	}
	defer done()
	client, err := backupClient(b.cfg, base)
	if err != nil {
		return 0, base, err
	}
	url := base + "/api/v1/admin/backup"
	// A token just made is seen by queued within a second (it rechecks
	// access.json at most that often): a 401 is asked again for a while.
	for try := 0; ; try++ {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, base, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, base, err
		}
		if resp.StatusCode == http.StatusUnauthorized && b.tokenFile == "" && try < 20 {
			resp.Body.Close()
			time.Sleep(250 * time.Millisecond)
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return 0, base, fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(msg))
		}
		n, err := io.Copy(w, resp.Body)
		if err != nil {
			return n, base, fmt.Errorf("%s: the copy broke off after %d bytes: %w", url, n, err)
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return n, base, fmt.Errorf("%s: %d bytes of %d", url, n, resp.ContentLength)
		}
		return n, base, nil
	}
}

// baseURL is -url, or queued's own address from the configuration.
func (b *backup) baseURL() (string, error) {
	if b.url != "" {
		return strings.TrimSuffix(strings.TrimSuffix(b.url, "/"), "/api/v1/admin/backup"), nil
	}
	host, port, err := net.SplitHostPort(b.cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("listen %q: %w", b.cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if b.cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// token is the admin token to ask with: -token-file's, or one made in
// access.json now and removed by done.
func (b *backup) token() (token string, done func(), err error) {
	if b.tokenFile != "" {
		t, err := os.ReadFile(b.tokenFile)
		if err != nil {
			return "", nil, fmt.Errorf("-token-file: %w", err)
		}
		if token = strings.TrimSpace(string(t)); token == "" {
			return "", nil, fmt.Errorf("-token-file: %s is empty", b.tokenFile)
		}
		return token, func() {}, nil
	}
	path := filepath.Join(b.cfg.DataDir, "access.json")
	store, err := access.OpenStore(path, access.StoreOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("%w (or pass -token-file with a token of scope admin)", err)
	}
	name := fmt.Sprintf("backup-%s-%d", time.Now().UTC().Format("20060102t150405"), os.Getpid()%100000)
	token, err = store.AddToken(name, []string{access.ScopeAdmin})
	if err != nil {
		return "", nil, fmt.Errorf("a token for the backup: %w (run as root, or pass -token-file with a token of scope admin)", err)
	}
	return token, func() {
		if err := store.RemoveToken(name); err != nil {
			fmt.Fprintf(b.stderr, "queued backup: remove the token %s by hand (queued token -remove %s): %v\n", name, name, err)
		}
	}, nil
}

// backupClient is an HTTP client for queued. With tls.cert_file readable
// (the backup runs on the server) it accepts exactly that certificate
// whatever the address asked (loopback is not in its names), and
// otherwise what the system's roots and that file's certificates verify.
func backupClient(cfg *configs.Office, base string) (*http.Client, error) {
	u, err := neturl.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("-url %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("-url %q: expected https://host:port", base)
	}
	host := u.Hostname() // checked here: for an address the handshake names no server
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	if cfg.TLS.CertFile != "" {
		pemBytes, err := os.ReadFile(cfg.TLS.CertFile)
		if err == nil {
			var own []byte
			if blk, _ := pem.Decode(pemBytes); blk != nil && blk.Type == "CERTIFICATE" {
				own = blk.Bytes
			}
			roots, err := x509.SystemCertPool()
			if err != nil {
				roots = x509.NewCertPool()
			}
			roots.AppendCertsFromPEM(pemBytes)
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12,
				// Verified below, in VerifyConnection, by the same rules
				// plus the pinned certificate.
				InsecureSkipVerify: true,
				VerifyConnection: func(cs tls.ConnectionState) error {
					if len(cs.PeerCertificates) == 0 {
						return errors.New("tls: the server sent no certificate")
					}
					leaf := cs.PeerCertificates[0]
					if own != nil && bytes.Equal(leaf.Raw, own) {
						return nil // the server's own certificate, as tls.cert_file names it
					}
					inter := x509.NewCertPool()
					for _, c := range cs.PeerCertificates[1:] {
						inter.AddCert(c)
					}
					_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
					return err
				}}
		}
	}
	return &http.Client{Transport: tr}, nil
}
