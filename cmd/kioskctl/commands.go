package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
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

func health(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	wait := fs.Duration("wait", 0, "keep trying this long until kioskd answers")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	deadline := time.Now().Add(*wait)
	var h healthReply
	for {
		err := getJSON(ctx, "http://"+*addr+"/healthz", &h)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
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
func press(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("press", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	level := fs.String("level", "", "hold the pin `low` or high instead of pressing it")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || (*level != "" && *level != "low" && *level != "high") {
		return errUsage
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
	return nil
}

// simPost sends one value to a simulated device's endpoint.
func simPost(ctx context.Context, args []string, stderr io.Writer, name string, target func(string) (path, body string)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return errUsage
	}
	path, body := target(fs.Arg(0))
	resp, err := request(ctx, http.MethodPost, "http://"+*addr+(&url.URL{Path: path}).EscapedPath(), body)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	resp.Body.Close()
	return nil
}
