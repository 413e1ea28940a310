// Command kioskd is the daemon on every terminal of the office. By its
// configuration it is a ticket kiosk (touch page, printer, scanner), a hall
// display (TV pages, LED boards, voice), a window display, or several of
// these at once: one terminal.Terminal, built from the configuration and
// run until SIGINT or SIGTERM.
//
//	kioskd -config /etc/kioskd/kioskd.yaml
//	kioskd -check -config /etc/kioskd/kioskd.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // local time on pages and tickets without the host's zoneinfo

	"github.com/cherga/kiosk/terminal"
)

var version = "dev"

func main() {
	configPath := flag.String("config", "/etc/kioskd/kioskd.yaml", "configuration `file`")
	check := flag.Bool("check", false, "check the configuration and exit: 0 if it is valid")
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
		roles := make([]string, len(cfg.Roles))
		for i, r := range cfg.Roles {
			roles[i] = string(r)
		}
		fmt.Printf("%s: ok (device %s, roles %s)\n", *configPath, cfg.DeviceID, strings.Join(roles, ", "))
		return
	}

	log := cfg.Log.NewLogger(os.Stderr, *logJSON)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	term, err := terminal.New(cfg, terminal.Env{Log: log, Version: version, Stdin: os.Stdin})
	if err != nil {
		log.Error("kioskd cannot start", "err", err)
		os.Exit(1)
	}
	if err := term.Run(ctx); err != nil {
		log.Error("kioskd stopped", "err", err)
		os.Exit(1)
	}
}
