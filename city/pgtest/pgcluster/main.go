// Command pgcluster makes and runs a PostgreSQL cluster for trying the
// city out on one machine (`make run-city`):
//
//	pgcluster -dir var/city-pg start   # init if new, start (detached), create the database, print its DSN
//	pgcluster -dir var/city-pg dsn     # print the DSN
//	pgcluster -dir var/city-pg stop
//
// As root, the cluster runs as the postgres user; every directory above
// -dir must be traversable by it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cherga/kiosk/city/pgtest"
)

func main() {
	dir := flag.String("dir", "var/city-pg", "cluster directory")
	db := flag.String("db", "city", "database to create and print the DSN of")
	tcp := flag.Bool("tcp", false, "print the TCP DSN (127.0.0.1) rather than the Unix socket one")
	fast := flag.Bool("fast", false, "start with fsync and synchronous_commit off (benchmark loads; not for crash tests)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: pgcluster [-dir DIR] [-db NAME] [-tcp] [-fast] start|stop|dsn\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, *db, *tcp, *fast, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "pgcluster:", err)
		os.Exit(1)
	}
}

func run(dir, db string, tcp, fast bool, cmd string) error {
	_, statErr := os.Stat(filepath.Join(dir, "port"))
	fresh := errors.Is(statErr, os.ErrNotExist)
	if cmd != "start" && fresh {
		return fmt.Errorf("no cluster in %s (pgcluster -dir %s start makes one)", dir, dir)
	}
	c, err := pgtest.Init(dir, pgtest.Options{Fast: fast})
	if err != nil {
		return err
	}
	dsn := c.DSN(db)
	if tcp {
		dsn = c.TCPDSN(db)
	}
	switch cmd {
	case "start":
		if !c.Running() {
			if err := c.StartDetached(); err != nil {
				return err
			}
		}
		if err := c.CreateDatabase(db); err != nil && !strings.Contains(err.Error(), "already exists") {
			return err
		}
		fmt.Println(dsn)
	case "stop":
		if c.Running() {
			return c.StopDetached()
		}
	case "dsn":
		fmt.Println(dsn)
	default:
		return fmt.Errorf("unknown command %q (start, stop, dsn)", cmd)
	}
	return nil
}
