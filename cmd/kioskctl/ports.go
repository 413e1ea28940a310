package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/cherga/kiosk/devices/ports"
	"github.com/cherga/kiosk/i18n"
)

// hostRoots are the trees ports and doctor look at: the machine's own
// /sys, /dev, /proc and /etc; tests point them at trees of their own.
var hostRoots ports.Roots

// portsList lists the machine's serial and USB printer ports, with the
// names to put in kioskd.yaml and the group a user must be in.
func portsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ports", "ports [-json]", stderr)
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	found, err := ports.Scan(hostRoots)
	if err != nil {
		return err
	}
	if *asJSON {
		if found == nil {
			found = []ports.Port{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(found)
	}
	if len(found) == 0 {
		fmt.Fprintln(stdout, i18n.Both("ctl.ports.none"))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tKIND\tDRIVER\tUSB ID\tDEVICE\tSERIAL\tGROUP\tMODE")
	for _, p := range found {
		id, dev, serial := "-", "-", "-"
		if u := p.USB; u != nil {
			id = u.VendorID + ":" + u.ProductID
			dev = strings.TrimSpace(u.Manufacturer + " " + u.Product)
			if u.Serial != "" {
				serial = u.Serial
			}
		}
		group, mode := "(no node)", "-"
		if p.Node != nil {
			group, mode = p.Node.Group, p.Node.Perm
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Path, p.Kind, or(p.Driver, "-"), id, or(dev, "-"), serial, group, mode)
		for _, l := range p.Links {
			fmt.Fprintf(tw, "  ↳ %s\t\t\t\t\t\t\t\n", l)
		}
	}
	return tw.Flush()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
