package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cherga/kiosk/i18n"
)

const defaultAddr = "127.0.0.1:8080"

type healthReply struct {
	Status  string   `json:"status"`
	Device  string   `json:"device"`
	Version string   `json:"version"`
	Roles   []string `json:"roles"`
	Devices []struct {
		Name, Kind, Driver, State, Detail string
	} `json:"devices"`
	Link struct {
		State     string `json:"state"`
		URL       string `json:"url"`
		Retries   int    `json:"retries"`
		LastError string `json:"last_error"`
	} `json:"link"`
	BufferedEvents int `json:"buffered_events"`
	Outbox         struct {
		Events int    `json:"events"`
		Acked  uint64 `json:"acked"`
		Alarm  string `json:"alarm"`
	} `json:"outbox"`
	Numbering *struct {
		Mode   string `json:"mode"`
		Series []struct {
			Prefix string `json:"prefix"`
			Last   string `json:"last"`
			Next   string `json:"next"`
		} `json:"series"`
	} `json:"numbering"`
	Alarms []string `json:"alarms"`
}

// health shows a kioskd's health; anything but "ok" (degraded, failing)
// is an error, so a script or a monitor sees it in the exit status.
func health(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("health", "health [-addr HOST:PORT] [-wait DURATION]   (exit 1 unless kioskd is ok)", stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	wait := fs.Duration("wait", 0, "keep asking this long until kioskd answers ok (a starting kioskd is degraded until its link is up)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	deadline := time.Now().Add(*wait)
	var h healthReply
	for {
		h = healthReply{}
		err := getJSON(ctx, "http://"+*addr+"/healthz", &h)
		if err == nil && (h.Status == "ok" || time.Now().After(deadline)) {
			break
		}
		if err != nil && time.Now().After(deadline) {
			return fmt.Errorf("kioskd at %s: %w", *addr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	fmt.Fprintf(stdout, "%s %s (%s), roles %s: %s\n", h.Device, h.Version, *addr, strings.Join(h.Roles, ", "), h.Status)
	fmt.Fprintf(stdout, "  link     %-8s %s retries=%d %s\n", h.Link.State, h.Link.URL, h.Link.Retries, h.Link.LastError)
	fmt.Fprintf(stdout, "  outbox   %d events waiting, acked up to %d\n", h.Outbox.Events, h.Outbox.Acked)
	if n := h.Numbering; n != nil {
		var given []string
		for _, sr := range n.Series {
			if sr.Last != "" {
				given = append(given, sr.Last)
			}
		}
		if len(given) == 0 {
			given = []string{"none"}
		}
		fmt.Fprintf(stdout, "  numbers  %s, last offline numbers today: %s\n", n.Mode, strings.Join(given, " "))
	}
	for _, a := range h.Alarms {
		fmt.Fprintf(stdout, "  ALARM    %s\n", a)
	}
	for _, d := range h.Devices {
		fmt.Fprintf(stdout, "  %-8s %-8s %-14s %s %s\n", d.Kind, d.State, d.Name, d.Driver, d.Detail)
	}
	if h.Status != "ok" {
		return errors.New(i18n.Both("ctl.health.not_ok", "device", h.Device, "status", h.Status))
	}
	return nil
}

func getJSON(ctx context.Context, u string, v any) error {
	resp, err := request(ctx, http.MethodGet, u, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// request does one HTTP request; any answer but 2xx is an error that
// carries what kioskd said.
func request(ctx context.Context, method, u, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s %s", method, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}

// press presses a simulated GPIO pin, or with -level holds it at a level.
func press(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("press", "press [-addr HOST:PORT] [-level low|high] PIN", stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	level := fs.String("level", "", "hold the pin `low` or high instead of pressing it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "expected one PIN, got %d arguments", fs.NArg())
	}
	if *level != "" && *level != "low" && *level != "high" {
		return usageError(fs, "-level: got %q, expected low or high", *level)
	}
	u := "http://" + *addr + (&url.URL{Path: "/api/v1/sim/gpio/" + fs.Arg(0)}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if *level != "" {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(`{"level":"`+*level+`"}`))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return fmt.Errorf("press: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("press: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("press: POST %s: %s %s", u, resp.Status, strings.TrimSpace(string(msg)))
	}
	if *level != "" {
		fmt.Fprintln(stdout, i18n.Both("ctl.press.level", "pin", fs.Arg(0), "addr", *addr, "level", *level))
	} else {
		fmt.Fprintln(stdout, i18n.Both("ctl.press.done", "pin", fs.Arg(0), "addr", *addr))
	}
	return nil
}

// scan feeds one code to a kioskd's simulated scanner.
func scan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scan", "scan [-addr HOST:PORT] CODE", stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "expected one CODE, got %d arguments", fs.NArg())
	}
	resp, err := request(ctx, http.MethodPost, "http://"+*addr+"/api/v1/sim/scan", fs.Arg(0))
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	resp.Body.Close()
	fmt.Fprintln(stdout, i18n.Both("ctl.scan.done", "code", fs.Arg(0), "addr", *addr))
	return nil
}
