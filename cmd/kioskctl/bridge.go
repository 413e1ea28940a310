package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/flash"
	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

const bridgeUsage = `usage:
  kioskctl bridge flash -port DEV -addr N -image FILE.fw [-pubkey DIR/firmware.pub | -config FILE]
                        [-line "19200 8E1"] [-force]
  kioskctl bridge scan  -port DEV [-line "19200 8E1"] [-from 1 -to 247] [-json]
  kioskctl bridge watch -port DEV -addr N [-line "19200 8E1"] [-interval 500ms] [-ack]
`

// bridgeCmd is kioskctl bridge: the technician's tools for the RS-485 bus
// of queue hardware (firmware-bridge/PROTOCOL.md).
func bridgeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, bridgeUsage)
		return errUsageShown
	}
	var err error
	switch args[0] {
	case "flash":
		err = bridgeFlash(ctx, args[1:], stdout, stderr)
	case "scan":
		err = bridgeScan(ctx, args[1:], stdout, stderr)
	case "watch":
		err = bridgeWatch(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, bridgeUsage)
	default:
		err = bridgeMore(ctx, args, stdout, stderr)
	}
	return helpIsDone(err)
}

// lineFlags are a bus's line settings: -line "19200 8E1" whole, or its
// parts -baud, -parity E|O|N and -stop 1|2, which override -line's.
type lineFlags struct {
	line, parity string
	baud, stop   int
}

func (l *lineFlags) register(fs *flag.FlagSet, def modbus.Line) {
	fs.StringVar(&l.line, "line", def.String(), "speed and format: \"19200 8E1\", 8O1, 8N2, 8N1 (pseudo-terminals: 8N2)")
	fs.IntVar(&l.baud, "baud", 0, "baud `rate` (overrides -line's): 9600, 19200, 38400, 57600, 115200")
	fs.StringVar(&l.parity, "parity", "", "parity E, O or N (overrides -line's)")
	fs.IntVar(&l.stop, "stop", 0, "stop `bits`, 1 or 2 (overrides -line's)")
}

// value is the line the flags name.
func (l *lineFlags) value() (modbus.Line, error) {
	line, err := modbus.ParseLine(l.line)
	if err != nil {
		return line, err
	}
	if l.baud != 0 {
		line.Baud = l.baud
	}
	switch strings.ToUpper(l.parity) {
	case "":
	case "E", "O", "N":
		line.Parity = modbus.Parity(strings.ToUpper(l.parity)[0])
	default:
		return line, fmt.Errorf("-parity %q: want E, O or N", l.parity)
	}
	if l.stop != 0 {
		line.StopBits = l.stop
	}
	if err := line.Validate(); err != nil {
		return line, fmt.Errorf("line %s: %w", line, err)
	}
	return line, nil
}

// busFlags are the port settings every bridge command takes.
type busFlags struct {
	port  string
	line  lineFlags
	slack time.Duration
}

func (b *busFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.port, "port", "", "the bus's serial `device`, like /dev/ttyUSB0")
	b.line.register(fs, modbus.DefaultLine)
	fs.DurationVar(&b.slack, "slack", 20*time.Millisecond, "extra answer time for USB adapters' latency")
}

// open opens the port and a master with attempts tries a request.
func (b *busFlags) open(attempts int) (*modbus.Master, io.Closer, error) {
	line, err := b.line.value()
	if err != nil {
		return nil, nil, err
	}
	port, err := modbus.OpenSerial(b.port, line)
	if err != nil {
		return nil, nil, err
	}
	rtu := modbus.NewRTU(port, modbus.RTUOptions{Line: line})
	return modbus.NewMaster(rtu, modbus.MasterOptions{Attempts: attempts, Slack: b.slack, OfflineAfter: 1 << 30}), port, nil
}

func unitFlag(fs *flag.FlagSet) *int {
	return fs.Int("addr", 0, "the device's bus `address`, 1–247")
}

func checkUnit(fs *flag.FlagSet, n int) error {
	if n < 1 || n > 247 {
		return usageError(fs, "-addr %d: an address is 1–247", n)
	}
	return nil
}

// isTerminal: progress bars for people, plain lines for logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func bridgeFlash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge flash", `bridge flash -port DEV -addr N -image FILE.fw [-pubkey DIR/firmware.pub | -config FILE] [-line "19200 8E1"] [-force]`, stderr)
	var bus busFlags
	bus.register(fs)
	var kf keyFlags
	kf.register(fs)
	unit := unitFlag(fs)
	image := fs.String("image", "", "the signed package `file` (.fw)")
	force := fs.Bool("force", false, "install even if the version is not newer than the running one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case bus.port == "" || *image == "" || fs.NArg() != 0:
		return usageError(fs, "-port, -addr and -image are required")
	case !kf.given():
		return usageError(fs, "no trusted keys: give -pubkey DIR/firmware.pub or -config with firmware_keys")
	}
	if err := checkUnit(fs, *unit); err != nil {
		return err
	}
	keys, err := kf.load()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*image)
	if err != nil {
		return err
	}
	// The package's own checks come first: nothing is opened, let alone
	// sent, for a package that is not genuine.
	p, err := fwpkg.Open(data, keys, time.Now())
	if err != nil {
		return fmt.Errorf("%s: %w", *image, err)
	}
	m, port, err := bus.open(3)
	if err != nil {
		return err
	}
	defer port.Close()

	bar := newProgressBar(stderr, isTerminal(stderr))
	start := time.Now()
	res, err := flash.Update(ctx, m, byte(*unit), p, flash.Options{Force: *force, Progress: bar.update})
	bar.end()
	if err != nil {
		return err
	}
	how := fmt.Sprintf("%d chunks sent", res.Sent)
	switch {
	case res.Resumed && res.Sent == 0:
		how = "the device already held the image"
	case res.Resumed:
		how = fmt.Sprintf("resumed at chunk %d of %d, %d sent", res.ResumedAt, res.Chunks, res.Sent)
	}
	if res.Retries > 0 {
		how += fmt.Sprintf(", %d repeated", res.Retries)
	}
	fmt.Fprintf(stdout, "unit %d: %s firmware %s → %s, slot %s, confirmed (%s; %v)\n", *unit, p.Type,
		res.From, res.To, fwpkg.SlotName(res.Slot), how, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// progressBar draws flash.Progress: one redrawn line on a terminal,
// otherwise a line per phase and every 16 chunks.
type progressBar struct {
	w     io.Writer
	tty   bool
	phase flash.Phase
	drawn bool
	lastN int
}

func newProgressBar(w io.Writer, tty bool) *progressBar {
	return &progressBar{w: w, tty: tty, lastN: -1}
}

func (b *progressBar) update(p flash.Progress) {
	if b.tty {
		const width = 30
		fill := 0
		if p.Total > 0 {
			fill = p.Done * width / p.Total
		}
		fmt.Fprintf(b.w, "\r[%s%s] %3d/%d chunks  %-9s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), p.Done, p.Total, p.Phase)
		b.drawn = true
		return
	}
	if p.Phase != b.phase {
		b.phase = p.Phase
		fmt.Fprintf(b.w, "%s: %d/%d chunks\n", p.Phase, p.Done, p.Total)
		b.lastN = p.Done
		return
	}
	if p.Phase == flash.PhaseTransfer && (p.Done%16 == 0 || p.Done == p.Total) && p.Done != b.lastN {
		fmt.Fprintf(b.w, "transfer: %d/%d chunks\n", p.Done, p.Total)
		b.lastN = p.Done
	}
}

func (b *progressBar) end() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

// scanEntry is one device that answered the scan.
type scanEntry struct {
	Address  int    `json:"address"`
	Vendor   string `json:"vendor"`
	Product  string `json:"product"`
	Revision string `json:"revision"`
	Model    string `json:"model,omitempty"`
	// Ours (vendor cherga) also say, from I 0x0020 ×8:
	Type     string `json:"type,omitempty"`
	Hardware int    `json:"hardware,omitempty"`
	Serial   string `json:"serial,omitempty"`
	Firmware string `json:"firmware,omitempty"`
}

func bridgeScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge scan", `bridge scan -port DEV [-line "19200 8E1"] [-from 1 -to 247] [-json]`, stderr)
	var bus busFlags
	bus.register(fs)
	from := fs.Int("from", 1, "first `address` to ask")
	to := fs.Int("to", 247, "last `address` to ask")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if bus.port == "" || fs.NArg() != 0 {
		return usageError(fs, "-port is required")
	}
	if *from < 1 || *to > 247 || *from > *to {
		return usageError(fs, "-from %d -to %d: addresses are 1–247, from ≤ to", *from, *to)
	}
	// One attempt per address, the normal short timeout: a scan of the
	// whole bus takes seconds, and a device that missed it answers the next.
	m, port, err := bus.open(1)
	if err != nil {
		return err
	}
	defer port.Close()
	found := []scanEntry{}
	for a := *from; a <= *to; a++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Discovery is the basic stream (PROTOCOL.md 9), which every
		// Modbus device with identification has; who answers is then asked
		// for the regular stream, for the model name.
		r, err := m.Do(ctx, byte(a), modbus.ReadDeviceID(modbus.DeviceIDBasic, 0))
		if err != nil {
			if !errors.Is(err, modbus.ErrTimeout) {
				fmt.Fprintf(stderr, "address %d: %v\n", a, err)
			}
			continue
		}
		objs := map[byte]string{}
		for _, o := range r.DeviceID.Objects {
			objs[o.ID] = string(o.Value)
		}
		e := scanEntry{Address: a, Vendor: objs[0], Product: objs[1], Revision: objs[2]}
		if id, err := m.ReadIdentification(ctx, byte(a)); err == nil {
			e.Model = id.Model
		}
		if e.Vendor == "cherga" {
			if dev, _, err := flash.ReadDevice(ctx, m, byte(a)); err == nil {
				e.Type, e.Hardware, e.Firmware = dev.Type.String(), int(dev.Hardware), dev.Version.String()
				e.Serial = fmt.Sprintf("%08X", dev.Serial)
			} else {
				fmt.Fprintf(stderr, "address %d: identity: %v\n", a, err)
			}
		}
		found = append(found, e)
	}
	fmt.Fprintf(stderr, "%d of %d addresses answered\n", len(found), *to-*from+1)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(found)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDR\tVENDOR\tPRODUCT\tREVISION\tMODEL\tTYPE\tHW\tSERIAL\tFIRMWARE")
	for _, e := range found {
		hw := ""
		if e.Hardware != 0 {
			hw = fmt.Sprint(e.Hardware)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Address, dash(e.Vendor), dash(e.Product), dash(e.Revision),
			dash(e.Model), dash(e.Type), dash(hw), dash(e.Serial), dash(e.Firmware))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusBits name STATUS (I 0x0000), PROTOCOL.md 4.3.
var statusBits = []string{"config fault", "EEPROM fault", "update in progress", "unconfirmed trial",
	"watchdog reset", "brown-out reset", "event queue overflowed", "host timeout"}

func statusText(v uint16) string {
	var on []string
	for i, n := range statusBits {
		if v&(1<<i) != 0 {
			on = append(on, n)
		}
	}
	if len(on) == 0 {
		return "ok"
	}
	return strings.Join(on, ", ")
}

var keypadKeys = map[uint16]string{1: "next", 2: "recall", 3: "came", 4: "finish", 5: "no-show", 6: "transfer", 7: "pause"}

// keyText names an event code for the device type (PROTOCOL.md 7.1, 8.1).
func keyText(t fwpkg.DeviceType, code uint16) string {
	key, long := code&0xFF, code>>8 == 1
	var s string
	switch {
	case t == fwpkg.Keypad && keypadKeys[key] != "":
		s = keypadKeys[key]
	case t == fwpkg.Keypad && key >= 0x10 && key <= 0x19:
		s = fmt.Sprintf("digit %d", key-0x10)
	case t == fwpkg.Rating && key >= 1 && key <= 5:
		s = fmt.Sprintf("rating %d", key)
	default:
		s = fmt.Sprintf("key 0x%02X", key)
	}
	if long {
		s += " (long)"
	}
	return s
}

func ageText(age uint16) string {
	switch age {
	case 0xFFFF:
		return "before the last power-on"
	case 0xFFFE:
		return "≥ 6553 s ago"
	}
	return fmt.Sprintf("%.1f s ago", float64(age)/10)
}

func bridgeWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge watch", `bridge watch -port DEV -addr N [-line "19200 8E1"] [-interval 500ms] [-ack]`, stderr)
	var bus busFlags
	bus.register(fs)
	unit := unitFlag(fs)
	interval := fs.Duration("interval", 500*time.Millisecond, "time between polls")
	ack := fs.Bool("ack", false, "acknowledge events (EV_ACK), taking them off the device: only when no kioskd polls this bus")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if bus.port == "" || fs.NArg() != 0 {
		return usageError(fs, "-port and -addr are required")
	}
	if err := checkUnit(fs, *unit); err != nil {
		return err
	}
	m, port, err := bus.open(1)
	if err != nil {
		return err
	}
	defer port.Close()
	u := byte(*unit)

	var typ fwpkg.DeviceType
	if dev, _, err := flash.ReadDevice(ctx, m, u); err == nil {
		typ = dev.Type
		fmt.Fprintf(stdout, "unit %d: %s hw %d firmware %s, serial %08X; polling I 0x0000 ×6 every %v (Ctrl-C stops)\n",
			u, dev.Type, dev.Hardware, dev.Version, dev.Serial, *interval)
	} else {
		fmt.Fprintf(stdout, "unit %d: identity not read (%v); polling I 0x0000 ×6 every %v (Ctrl-C stops)\n", u, err, *interval)
	}
	var (
		last   []uint16
		seen   = map[uint16]bool{}
		online = true
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		timer.Reset(*interval)
		v, err := m.ReadInputRegisters(ctx, u, 0x0000, 6)
		now := time.Now().Format("15:04:05.0")
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if online {
				fmt.Fprintf(stdout, "%s no answer: %v\n", now, err)
				online = false
			}
			continue
		}
		if !online {
			fmt.Fprintf(stdout, "%s answering again\n", now)
			online = true
		}
		if last == nil || v[0] != last[0] || v[1] != last[1] || v[2] != last[2] {
			fmt.Fprintf(stdout, "%s status %s, sync 0x%04X, %d pending\n", now, statusText(v[0]), v[1], v[2])
		}
		if last != nil && last[1] != 0 && v[1] == 0 {
			fmt.Fprintf(stdout, "%s SYNC went to 0: the device lost power or restarted\n", now)
		}
		// The oldest event is in the poll; the next seven, when pending,
		// in one more read of the block.
		evs := v[3:6]
		if n := min(int(v[2]), 8); n > 1 {
			more, err := m.ReadInputRegisters(ctx, u, 0x0006, uint16(3*(n-1)))
			if err == nil {
				evs = append(slices.Clone(evs), more...)
			}
		}
		var newest uint16
		for i := 0; i+2 < len(evs) && v[2] > 0; i += 3 {
			seq := evs[i]
			if seq == 0 || seen[seq] {
				continue
			}
			seen[seq] = true
			newest = seq
			fmt.Fprintf(stdout, "%s event %d: %s, %s\n", now, seq, keyText(typ, evs[i+1]), ageText(evs[i+2]))
		}
		if len(seen) > 4096 {
			clear(seen) // sequence numbers wrap; a few repeats after 4096 events do not matter
		}
		if *ack && newest != 0 {
			if err := m.WriteRegister(ctx, u, 0x0001, newest); err != nil {
				fmt.Fprintf(stdout, "%s ack %d: %v\n", now, newest, err)
			} else {
				fmt.Fprintf(stdout, "%s acknowledged up to %d\n", now, newest)
			}
		}
		last = v
	}
}
