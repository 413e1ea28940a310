// Command queued is the reference central queue server: it issues tickets,
// answers the operators' "call next" and pushes calls to the office's
// terminals over the link websocket.
//
//	queued -config configs/office.yaml
//	queued -check -config configs/office.yaml
package main

import (
	"context"
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
	"github.com/cherga/kiosk/queue"
)

var version = "dev"

func main() {
	configPath := flag.String("config", "configs/office.yaml", "office configuration `file`")
	check := flag.Bool("check", false, "check the configuration and exit")
	logJSON := flag.Bool("log-json", false, "log one JSON object per line (overrides log.format)")
	flag.Parse()

	cfg, err := configs.LoadOffice(*configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *check {
		fmt.Printf("%s: ok\n", *configPath)
		return
	}
	log := cfg.Log.NewLogger(os.Stderr, *logJSON)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("queued stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *configs.Office, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	q, err := queue.Open(filepath.Join(cfg.DataDir, "queued.db"), cfg, nil)
	if err != nil {
		return err
	}
	defer q.Close()
	srv := queue.NewServer(q, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("queued started", "version", version, "office", cfg.ID, "listen", ln.Addr().String(),
		"operator", "http://"+ln.Addr().String()+"/operator/")

	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("queued stopping")
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
