package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cherga/kiosk/httpapi/auth"
	"github.com/cherga/kiosk/i18n"
)

// defaultAdmin is kioskd's admin listener (admin.listen's default).
const defaultAdmin = "127.0.0.1:8081"

// adminStdin is where admin hash-password reads the password; tests set it.
var adminStdin io.Reader = os.Stdin

// outboxReply is GET /api/v1/admin/outbox, as far as kioskctl prints it.
type outboxReply struct {
	Events           int     `json:"events"`
	MaxEvents        int     `json:"max_events"`
	Alarm            string  `json:"alarm"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Link             struct {
		State     string    `json:"state"`
		Since     time.Time `json:"since"`
		LastError string    `json:"last_error"`
	} `json:"link"`
	Shown int `json:"shown"`
	Items []struct {
		Seq        uint64    `json:"seq"`
		Type       string    `json:"type"`
		At         time.Time `json:"at"`
		AgeSeconds float64   `json:"age_seconds"`
		Reason     string    `json:"reason"`
		Since      time.Time `json:"since"`
		Detail     string    `json:"detail"`
	} `json:"items"`
}

// outbox prints what kioskd's outbox holds and why it is still there.
func outbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("outbox", "outbox [-admin 127.0.0.1:8081] [-json] [-n 20]", stderr)
	admin := fs.String("admin", defaultAdmin, "kioskd's admin listener `address` (admin.listen)")
	asJSON := fs.Bool("json", false, "print kioskd's answer as JSON")
	n := fs.Int("n", 20, "list at most this many of the oldest `events`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	if *n < 0 || *n > 500 {
		return usageError(fs, "-n: got %d, expected 0 to 500", *n)
	}
	base := *admin
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	resp, err := request(ctx, "GET", fmt.Sprintf("%s/api/v1/admin/outbox?n=%d", strings.TrimSuffix(base, "/"), *n), "")
	if err != nil {
		return fmt.Errorf("kioskd's admin listener at %s: %w", *admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(body)
		return err
	}
	var o outboxReply
	if err := json.Unmarshal(body, &o); err != nil {
		return fmt.Errorf("kioskd's admin listener at %s: %w", *admin, err)
	}
	link := o.Link.State
	if o.Link.State != "up" {
		link += " since " + o.Link.Since.Local().Format(time.DateTime)
		if o.Link.LastError != "" {
			link += ": " + o.Link.LastError
		}
	}
	fmt.Fprintf(stdout, "outbox  %d events waiting (limit %d)", o.Events, o.MaxEvents)
	if o.Events > 0 {
		fmt.Fprintf(stdout, ", the oldest for %s", age(o.OldestAgeSeconds))
	}
	fmt.Fprintf(stdout, "\nlink    %s\n", link)
	if o.Alarm != "" {
		fmt.Fprintf(stdout, "ALARM   %s\n", o.Alarm)
	}
	if o.Events == 0 {
		fmt.Fprintln(stdout, i18n.Both("ctl.outbox.none"))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTYPE\tAGE\tWHY")
	for _, it := range o.Items {
		why := "waiting for the server's ack"
		switch it.Reason {
		case "link_down":
			why = "link down since " + it.Since.Local().Format(time.TimeOnly)
		case "rejected":
			why = "rejected by the server: " + it.Detail + " (the next ack removes it)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", it.Seq, it.Type, age(it.AgeSeconds), why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if o.Events > o.Shown {
		fmt.Fprintf(stdout, "… and %d more (-n shows more)\n", o.Events-o.Shown)
	}
	return nil
}

func age(seconds float64) string {
	return (time.Duration(seconds) * time.Second).Round(time.Second).String()
}

// adminCmd is kioskctl admin hash-password: the password from stdin (one
// line), its argon2id hash for admin.password_hash on stdout.
func adminCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "hash-password" {
		return errUsage
	}
	fs := newFlags("admin hash-password", "admin hash-password < password.txt   (prints admin.password_hash)", stderr)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	line, err := bufio.NewReader(io.LimitReader(adminStdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if len([]rune(password)) < 10 {
		return errors.New("admin hash-password: give a password of at least 10 characters on stdin, like: kioskctl admin hash-password < file")
	}
	hash, err := auth.HashPassword(password, auth.HashParams{})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}
