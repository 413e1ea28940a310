package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/terminal/doctor"
)

// doctorCmd checks everything a terminal's configuration names and says,
// for each thing that does not work, what to do; exit 1 when something
// fails (terminal/doctor).
func doctorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", "doctor -config FILE [-json] [-timeout 3s]   (exit 1 when a check fails)", stderr)
	configPath := fs.String("config", "/etc/kioskd/kioskd.yaml", "kioskd configuration `file`")
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	timeout := fs.Duration("timeout", 3*time.Second, "the longest any one check may take")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usageError(fs, "-timeout: got %s, expected a duration above zero", *timeout)
	}
	rs := doctor.Run(ctx, *configPath, doctor.Env{Roots: hostRoots, Timeout: *timeout})
	var fail, warn int
	for _, r := range rs {
		switch r.State {
		case doctor.Fail:
			fail++
		case doctor.Warn:
			warn++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Config  string          `json:"config"`
			OK      bool            `json:"ok"`
			Results []doctor.Result `json:"results"`
		}{*configPath, fail == 0, rs}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tSTATE\tDETAIL")
		for _, r := range rs {
			detail := r.Detail
			if r.DetailUK != "" {
				detail = r.DetailUK + " / " + r.Detail
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Check, r.State, detail)
		}
		tw.Flush()
		if fail+warn > 0 {
			fmt.Fprintf(stdout, "\n%s:\n", i18n.Both("ctl.doctor.fixes"))
			for _, r := range rs {
				if r.Fix == "" {
					continue
				}
				fix := r.Fix
				if r.FixUK != "" {
					fix = r.FixUK + " / " + r.Fix // Ukrainian first, as i18n.Both
				}
				fmt.Fprintf(stdout, "  %-4s %s: %s\n", r.State, r.Check, fix)
			}
		}
		if fail == 0 {
			fmt.Fprintf(stdout, "\n%s\n", i18n.Both("ctl.doctor.ok", "checks", len(rs), "warn", warn))
		}
	}
	if fail > 0 {
		return errors.New(i18n.Both("ctl.doctor.failed", "checks", len(rs), "fail", fail, "warn", warn))
	}
	return nil
}
