// Command queued is the reference central queue server: it numbers
// tickets, answers the operators' "call next", takes the terminals' events
// and pushes calls to the office's terminals over the link websocket.
//
//	queued -config configs/office.yaml
//	queued -check -config configs/office.yaml
//	queued -version
//	queued user add olena -role operator -windows 3 -display "Олена Коваль" [-config FILE]
//	queued token -name booking-site -scope bookings [-config FILE]
//	queued backup -config FILE -out /var/backups/cherga/2026-12-02
//
// -config defaults to /etc/queued/office.yaml where the cherga package
// installed it, else configs/office.yaml (the demo office of a checkout).
//
// SIGHUP reloads the configuration (catalogue, windows, names); terminals
// get the update at once. SIGINT and SIGTERM stop it.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	_ "time/tzdata" // the office's time zone without the host's zoneinfo

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/queue"
	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/ship"
	"github.com/cherga/kiosk/watchdog"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "user" || os.Args[1] == "token") {
		os.Exit(accessCommand(os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "backup" {
		os.Exit(backupCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	configPath := flag.String("config", defaultConfig(), "office configuration `file`")
	check := flag.Bool("check", false, "check the configuration and exit")
	logJSON := flag.Bool("log-json", false, "log one JSON object per line (overrides log.format)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("queued", version)
		return
	}

	cfg, err := configs.LoadOffice(*configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *check {
		// The city's password and CA files are checked as queued's start
		// checks them (mode, readable).
		if cfg.City.Enabled() {
			if _, err := ship.DSN(cfg.City); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
		fmt.Printf("%s: ok\n", *configPath)
		return
	}
	log := cfg.Log.NewLogger(os.Stderr, *logJSON)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *configPath, cfg, log); err != nil {
		log.Error("queued stopped", "err", err)
		os.Exit(1)
	}
}

// defaultConfig is -config's default: the installed configuration where
// the package put one, else the demo file of a source checkout.
func defaultConfig() string {
	return configs.DefaultPath("/etc/queued/office.yaml", "configs/office.yaml")
}

// accessCommand runs "queued user …" and "queued token …" on the office's
// accounts file; -config may come anywhere after the subcommand.
func accessCommand(args []string) int {
	configPath, rest := access.ConfigFlag(args, defaultConfig())
	cfg, err := configs.LoadOffice(configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return access.Command(rest, os.Stdin, os.Stdout, os.Stderr, filepath.Join(cfg.DataDir, "access.json"))
}

// configVersion names a configuration by its content, so terminals can
// tell which one they run on.
func configVersion(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func auth(cfg *configs.Office) queue.Auth {
	a := queue.Auth{Tokens: map[string]string{}, ClientCerts: cfg.TLS.ClientCAFile != ""}
	for _, t := range cfg.Terminals {
		a.Tokens[t.TokenSHA256] = t.Device
	}
	return a
}

func tlsConfig(cfg *configs.Office) (*tls.Config, error) {
	if cfg.TLS.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLS.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.TLS.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca_file: %s has no PEM certificate", cfg.TLS.ClientCAFile)
		}
		// Browsers (the operator page) have no certificate; terminals
		// without one must then bring a token.
		tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

func run(ctx context.Context, path string, cfg *configs.Office, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return err
	}
	var bookingKey []byte
	if cfg.Bookings.Enabled {
		keyFile := cfg.Bookings.KeyFile
		if keyFile == "" {
			keyFile = filepath.Join(cfg.DataDir, "booking.key")
		}
		if bookingKey, err = queue.LoadBookingKey(keyFile); err != nil {
			return err
		}
	}
	q, err := queue.Open(filepath.Join(cfg.DataDir, "queued.db"), cfg,
		queue.Options{Log: log, Version: configVersion(path), BookingKey: bookingKey})
	if err != nil {
		return err
	}
	defer q.Close()
	srv, err := queue.NewServer(q, queue.ServerOptions{Log: log, Terminals: auth(cfg),
		AccessFile: filepath.Join(cfg.DataDir, "access.json")})
	if err != nil {
		return err
	}
	if len(cfg.Terminals) == 0 && cfg.TLS.ClientCAFile == "" {
		log.Warn("terminals are not authenticated: any program that reaches " + cfg.Listen + " may connect")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Timeouts so that idle or slow clients cannot hold connections (and
	// descriptors) for ever. The link and the live streams lift the write
	// deadline for themselves.
	hs := srv.HTTPServer(tc, httpapi.Timeouts{})
	// So many connections at once; a flood beyond is refused, never
	// queued in front of the terminals' links.
	ln = srv.Limit(ln, cfg.MaxConnections, tc != nil)
	errc := make(chan error, 1)
	scheme := "http"
	if tc != nil {
		scheme = "https"
		go func() { errc <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	log.Info("queued started", "version", version, "office", cfg.ID, "listen", ln.Addr().String(),
		"operator", scheme+"://"+ln.Addr().String()+"/operator/")
	// systemd (Type=notify): ready now, and the watchdog fed only while the
	// committer, through which every change goes, answers.
	if _, err := watchdog.Ready(); err != nil {
		log.Warn("systemd", "err", err)
	}
	wdCtx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go func() {
		if err := watchdog.Run(wdCtx, q.Ping, watchdog.Options{Log: log}); err != nil {
			log.Warn("systemd watchdog", "err", err)
		}
	}()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("http: %w", err)
		case <-hup:
			reload(path, q, srv, log)
			continue
		case <-ctx.Done():
		}
		break
	}
	log.Info("queued stopping")
	watchdog.Stopping()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	srv.Close()
	// Hijacked link connections are not waited for by Shutdown; the close
	// frames above end them.
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// reload applies a changed office.yaml; a broken one is refused and the
// running configuration stays. Listen, data_dir, TLS and city need a
// restart.
func reload(path string, q *queue.Queue, srv *queue.Server, log *slog.Logger) {
	cfg, err := configs.LoadOffice(path)
	if err != nil {
		log.Error("reload refused: the running configuration stays", "err", err)
		return
	}
	v := configVersion(path)
	eff, err := q.Reload(cfg, v)
	if err != nil {
		log.Error("reload failed", "err", err)
		return
	}
	srv.SetAuth(auth(cfg))
	srv.SetNames(cfg.Names)
	srv.Publish(eff)
	log.Info("configuration reloaded", "version", v)
}
