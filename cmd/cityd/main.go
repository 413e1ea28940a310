// Command cityd is the city's service over the city's PostgreSQL database
// that every office's queued ships to: the public status page of every
// centre (/, GET /api/v1/city/status) and the supervisors' comparison of
// the centres (/city/reports/, GET /api/v1/city/stats) behind sign-in.
//
//	cityd -config configs/city.yaml
//	cityd -check -config configs/city.yaml
//	cityd -version
//	cityd user add olena -role supervisor -display "Олена Коваль" [-config FILE]
//	cityd token -name open-data -scope stats [-config FILE]
//
// -config defaults to /etc/cityd/city.yaml where the package installed
// it, else configs/city.yaml. SIGINT and SIGTERM stop it. Under systemd
// (Type=notify) it reports ready once it listens and feeds WatchdogSec=
// only while its server answers its own GET /healthz, whatever the
// database's state (watchdog.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	_ "time/tzdata" // the offices' time zones without the host's zoneinfo

	"github.com/cherga/kiosk/city/cityd"
	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/watchdog"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "user" || os.Args[1] == "token") {
		os.Exit(accessCommand(os.Args[1:]))
	}
	configPath := flag.String("config", defaultConfig(), "city service configuration `file`")
	check := flag.Bool("check", false, "check the configuration and exit")
	logJSON := flag.Bool("log-json", false, "log one JSON object per line (overrides log.format)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("cityd", version)
		return
	}
	cfg, err := configs.LoadCityServer(*configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *check {
		if _, err := cityd.DSN(cfg.Database); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", *configPath, err)
			os.Exit(2)
		}
		fmt.Printf("%s: ok\n", *configPath)
		return
	}
	log := cfg.Log.NewLogger(os.Stderr, *logJSON)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, watchdog.Stopping) // SIGTERM: tell systemd at once
	useTLS := cfg.TLS.CertFile != ""
	err = cityd.Run(ctx, cfg, cityd.RunOptions{Log: log, Version: version, Ready: func(addr net.Addr) {
		go superviseSystemd(ctx, addr, useTLS, log)
	}})
	if err != nil {
		log.Error("cityd stopped", "err", err)
		os.Exit(1)
	}
}

// defaultConfig is -config's default: the installed configuration where
// the package put one, else the demo file of a source checkout.
func defaultConfig() string {
	return configs.DefaultPath("/etc/cityd/city.yaml", "configs/city.yaml")
}

// accessCommand runs "cityd user …" and "cityd token …" on cityd's
// accounts file; -config may come anywhere after the subcommand.
func accessCommand(args []string) int {
	configPath, rest := access.ConfigFlag(args, defaultConfig())
	cfg, err := configs.LoadCityServer(configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return access.Command(rest, os.Stdin, os.Stdout, os.Stderr, filepath.Join(cfg.DataDir, "access.json"))
}
