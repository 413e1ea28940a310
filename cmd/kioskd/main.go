// Command kioskd is the daemon on every terminal of the office. By its
// configuration it is a ticket kiosk (touch page, printer, scanner), a hall
// display (TV pages, LED boards, voice), a window display, or several of
// these at once: one terminal.Terminal, built from the configuration and
// run until SIGINT or SIGTERM.
//
//	kioskd -config /etc/kioskd/kioskd.yaml
//	kioskd -check -config /etc/kioskd/kioskd.yaml
//	kioskd -version
//
// Under systemd (Type=notify) it reports ready once its server answers and
// feeds WatchdogSec= only while the server and the outbox's committer keep
// answering (watchdog.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // local time on pages and tickets without the host's zoneinfo

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/terminal"
	"github.com/cherga/kiosk/watchdog"
)

var version = "dev"

func main() {
	configPath := flag.String("config", "/etc/kioskd/kioskd.yaml", "configuration `file`")
	check := flag.Bool("check", false, "check the configuration and the devices it names, and exit: 0 if both are good, 1 if a device is missing, 2 if the configuration is invalid")
	logJSON := flag.Bool("log-json", false, "log one JSON object per line (overrides log.format)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("kioskd", version)
		return
	}

	cfg, err := terminal.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *check {
		os.Exit(checkReport(os.Stdout, *configPath, cfg))
	}

	log := cfg.Log.NewLogger(os.Stderr, *logJSON)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The systemd watchdog checks the server where the terminal listens,
	// and the terminal's committer (watchdog.go). Run, which calls
	// listening, starts after term is set.
	superCtx, stopSupervising := context.WithCancel(ctx)
	var term *terminal.Terminal
	listening := func(addr net.Addr) { go superviseSystemd(superCtx, addr, term.Ping, log) }
	term, err = terminal.New(cfg, terminal.Env{Log: log, Version: version, Stdin: os.Stdin, Listening: listening})
	if err != nil {
		stopSupervising()
		log.Error("kioskd cannot start", "err", err)
		os.Exit(1)
	}
	context.AfterFunc(ctx, watchdog.Stopping) // SIGTERM: tell systemd at once
	err = term.Run(ctx)
	stopSupervising()
	if err != nil {
		log.Error("kioskd stopped", "err", err)
		os.Exit(1)
	}
}

// checkReport prints what -check found and returns the exit code: 0 when
// the configuration and every device it names are good, 1 when a device
// is missing.
func checkReport(w io.Writer, path string, cfg *configs.Terminal) int {
	roles := make([]string, len(cfg.Roles))
	for i, r := range cfg.Roles {
		roles[i] = string(r)
	}
	problems := deviceProblems(cfg)
	if len(problems) == 0 {
		fmt.Fprintf(w, "%s: ok (device %s, roles %s)\n", path, cfg.DeviceID, strings.Join(roles, ", "))
		return 0
	}
	fmt.Fprintf(w, "%s: configuration valid (device %s, roles %s), but %d device problem(s):\n", path, cfg.DeviceID, strings.Join(roles, ", "), len(problems))
	for _, p := range problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	return 1
}
