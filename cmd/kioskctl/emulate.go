package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/i18n"
)

const defaultEmulator = "127.0.0.1:8095"

// bridgeEmulate plays bus devices on a pseudo-terminal linked at -link,
// with their control API and page on -http, until SIGINT or SIGTERM.
func bridgeEmulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge emulate", `bridge emulate -link PATH -devices 1:window-display,2:keypad,3:rating [-state DIR] [-line "19200 8N2"] [-http 127.0.0.1:8095] [-firmware 1.0.0]`, stderr)
	link := fs.String("link", "", "`path` of the symbolic link to the pseudo-terminal (a stale one is replaced); the host opens it as its port")
	devices := fs.String("devices", "", "the devices, ADDRESS:TYPE,…: types window-display, keypad, rating")
	state := fs.String("state", "", "`directory` of the devices' EEPROM and flash, one file each (empty: memory only, lost when the emulator stops)")
	var lineFlag lineFlags
	lineFlag.register(fs, modbus.PTYLine)
	httpAddr := fs.String("http", defaultEmulator, "loopback `address` of the control API and page")
	firmware := fs.String("firmware", "1.0.0", "the factory firmware `version` of new devices")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *link == "" || *devices == "" || fs.NArg() != 0 {
		return usageError(fs, "-link and -devices are required")
	}
	specs, err := emulator.ParseSpecs(*devices)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	line, err := lineFlag.value()
	if err != nil {
		return usageError(fs, "%v", err)
	}
	version, err := emulator.ParseVersion(*firmware)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if err := checkLoopback(*httpAddr); err != nil {
		return usageError(fs, "-http %s: %v", *httpAddr, err)
	}
	bus, err := emulator.NewBus(specs, emulator.Options{StateDir: *state, Line: line, Firmware: version})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("emulate: control API: %w", err)
	}
	defer ln.Close()
	pty, err := modbus.OpenPTY()
	if err != nil {
		return fmt.Errorf("emulate: %w", err)
	}
	defer pty.Close() // removes the link
	if err := pty.Link(*link); err != nil {
		return fmt.Errorf("emulate: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &http.Server{
		Handler:           emulator.NewControl(bus, ln.Addr().String(), *link, log),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	busCtx, stopBus := context.WithCancel(ctx)
	defer stopBus()
	busDone := make(chan error, 1)
	go func() { busDone <- bus.Serve(busCtx, pty) }()

	fmt.Fprintln(stdout, i18n.Both("emu.cli.serving", "n", len(specs), "link", *link, "pty", pty.Path(),
		"line", line, "url", "http://"+ln.Addr().String()+"/"))
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-busDone:
		busDone <- nil
	case err := <-httpDone:
		runErr = fmt.Errorf("emulate: control API: %w", err)
		httpDone <- nil
	}
	stopBus()
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	<-httpDone
	<-busDone
	fmt.Fprintln(stdout, i18n.Both("emu.cli.stopped"))
	return runErr
}

// checkLoopback: the control API moves keys and cuts power; it listens
// on this machine only.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("the control API listens on a loopback address only (127.0.0.1, [::1], localhost)")
	}
	return nil
}

// emuPost sends body to the emulator's API and decodes its answer into
// reply; an error answer becomes an error with the emulator's message.
func emuPost(ctx context.Context, base, path string, body, reply any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	u := "http://" + base + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("emulator at %s: %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("emulator at %s: %w", base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Code, Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("emulator at %s: %s (%s)", base, e.Error, e.Code)
		}
		return fmt.Errorf("emulator at %s: %s", base, resp.Status)
	}
	if err := json.Unmarshal(data, reply); err != nil {
		return fmt.Errorf("emulator at %s: answer: %w", base, err)
	}
	return nil
}

func bridgePress(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge press", "bridge press [-emulator 127.0.0.1:8095] -addr N -key next|recall|came|finish|no-show|transfer|pause|1-7 [-long]", stderr)
	base := fs.String("emulator", defaultEmulator, "the emulator's control `address`")
	unit := unitFlag(fs)
	key := fs.String("key", "", "the `key`: a keypad's name or 1–7, a rating panel's 1–5")
	long := fs.Bool("long", false, "a long press (held 1 s or more)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *key == "" || fs.NArg() != 0 {
		return usageError(fs, "-addr and -key are required")
	}
	if err := checkUnit(fs, *unit); err != nil {
		return err
	}
	var res emulator.PressResult
	if err := emuPost(ctx, *base, fmt.Sprintf("/api/v1/devices/%d/press", *unit), map[string]any{"key": *key, "long": *long}, &res); err != nil {
		return fmt.Errorf("press: %w", err)
	}
	outcome := i18n.T("uk", outcomeKey(res.Outcome), "seq", res.Seq)
	outcomeEn := i18n.T("en", outcomeKey(res.Outcome), "seq", res.Seq)
	msg := "emu.cli.pressed"
	if res.Long {
		msg = "emu.cli.pressed_long"
	}
	fmt.Fprintln(stdout, i18n.T("uk", msg, "addr", res.Addr, "key", res.Name, "outcome", outcome)+" / "+
		i18n.T("en", msg, "addr", res.Addr, "key", res.Name, "outcome", outcomeEn))
	return nil
}

func outcomeKey(o emulator.Outcome) string {
	return "emu.outcome." + strings.ReplaceAll(string(o), "-", "_")
}

func bridgeFault(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge fault", "bridge fault [-emulator 127.0.0.1:8095] -addr N -kind silent|corrupt|slow|garbage|none [-delay 250ms] [-bytes 16] [-count N]", stderr)
	base := fs.String("emulator", defaultEmulator, "the emulator's control `address`")
	unit := unitFlag(fs)
	kind := fs.String("kind", "", "silent (hears nothing), corrupt (bad CRC in its answers), slow (answers late), garbage (noise around answers), none")
	delay := fs.Duration("delay", 0, "slow: how late (default 250ms)")
	n := fs.Int("bytes", 0, "garbage: noise bytes per answer (default 16)")
	count := fs.Int("count", 0, "only this many frames (0: until -kind none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *kind == "" || fs.NArg() != 0 {
		return usageError(fs, "-addr and -kind are required")
	}
	if err := checkUnit(fs, *unit); err != nil {
		return err
	}
	f := emulator.Fault{Kind: emulator.FaultKind(*kind), Delay: *delay, Bytes: *n, Count: *count}
	if err := f.Validate(); err != nil {
		return usageError(fs, "%v", err)
	}
	var reply struct {
		Addr  byte           `json:"addr"`
		Fault emulator.Fault `json:"fault"`
	}
	if err := emuPost(ctx, *base, fmt.Sprintf("/api/v1/devices/%d/fault", *unit), f, &reply); err != nil {
		return fmt.Errorf("fault: %w", err)
	}
	if reply.Fault.Kind == emulator.FaultNone {
		fmt.Fprintln(stdout, i18n.Both("emu.cli.fault_none", "addr", reply.Addr))
		return nil
	}
	desc := string(reply.Fault.Kind)
	switch {
	case reply.Fault.Delay != 0:
		desc += " " + reply.Fault.Delay.String()
	case reply.Fault.Bytes != 0:
		desc += fmt.Sprintf(" %d B", reply.Fault.Bytes)
	}
	if reply.Fault.Count != 0 {
		desc += fmt.Sprintf(" ×%d", reply.Fault.Count)
	}
	fmt.Fprintln(stdout, i18n.Both("emu.cli.fault", "addr", reply.Addr, "kind", desc))
	return nil
}

func bridgePowerCut(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge power-cut", "bridge power-cut [-emulator 127.0.0.1:8095] -addr N [-for 2s] [-after-chunk K]", stderr)
	base := fs.String("emulator", defaultEmulator, "the emulator's control `address`")
	unit := unitFlag(fs)
	dur := fs.Duration("for", 2*time.Second, "how long the power stays off")
	after := fs.Int("after-chunk", -1, "cut the power only once chunk `K` of an update is written (0–111)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected arguments %q", fs.Args())
	}
	if err := checkUnit(fs, *unit); err != nil {
		return err
	}
	if *dur <= 0 {
		return usageError(fs, "-for must be positive")
	}
	body := emulator.PowerCutRequest{For: dur.String()}
	if *after >= 0 {
		body.AfterChunk = after
	}
	var reply emulator.PowerCutReply
	if err := emuPost(ctx, *base, fmt.Sprintf("/api/v1/devices/%d/power-cut", *unit), body, &reply); err != nil {
		return fmt.Errorf("power-cut: %w", err)
	}
	if reply.AfterChunk != nil {
		fmt.Fprintln(stdout, i18n.Both("emu.cli.power_cut_chunk", "addr", reply.Addr, "for", reply.For, "chunk", *reply.AfterChunk))
	} else {
		fmt.Fprintln(stdout, i18n.Both("emu.cli.power_cut", "addr", reply.Addr, "for", reply.For))
	}
	return nil
}
