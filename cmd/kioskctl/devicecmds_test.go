package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
	"github.com/cherga/kiosk/printer/simprinter"
)

// guard bounds every wait of these tests; nothing waits it out.
const guard = 20 * time.Second

// linePTY is a pseudo-terminal standing in for a device's serial line;
// the device's side is returned, the path is what kioskctl opens.
func linePTY(t *testing.T) (*modbus.PTY, string) {
	t.Helper()
	p, err := modbus.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, p.Path()
}

// simPrinterOn serves a simulated printer of profile on a new line. seen,
// if not nil, gets every command the printer reads.
func simPrinterOn(t *testing.T, profile string, seen chan escpos.Op) (*simprinter.Device, string) {
	t.Helper()
	prof, err := printer.LookupProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := simprinter.New(prof, 80, "")
	if err != nil {
		t.Fatal(err)
	}
	if seen != nil {
		dev.Observe = func(op escpos.Op) {
			select {
			case seen <- op:
			default:
				t.Error("observed commands not taken")
			}
		}
	}
	line, path := linePTY(t)
	go func() { _ = dev.Serve(line) }()
	return dev, path
}

// The probe of a printer that answers every question: its status, its
// identity, and the profile its name matches, with the paper it takes.
func TestPrinterProbeSuggestsProfile(t *testing.T) {
	_, path := simPrinterOn(t, "xprinter-80", nil)
	out, stderr, err := kioskctl(t, "printer", "probe", "-port", path, "-timeout", guard.String())
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	for _, want := range []string{
		"DLE EOT 1  online ", "DLE EOT 4  paper in ", `GS I 67    model                "Xprinter XP-80 / POS-80 clones"`,
		"GS I 2     type: autocutter ", "answered 11 of 11 questions",
		"Пропонований профіль: xprinter-80, папір 80 мм", "Suggested profile: xprinter-80, paper 80 mm",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}

	// A generic printer's name matches no profile: the generic one, and a
	// test ticket, are suggested. And -json says the same for a script.
	dev, path := simPrinterOn(t, "generic", nil)
	dev.SetCondition(simprinter.NearEnd)
	out, _, err = kioskctl(t, "printer", "probe", "-port", path, "-timeout", guard.String(), "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r probeReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Matched || r.Suggest != "generic" || r.PaperMM != 80 || r.State == nil || !r.State.Online || !r.State.PaperNearEnd || r.State.Fault != "" ||
		r.Unmatched != "Жоден профіль не підходить; спробуйте generic і kioskctl printer test / No profile matches; try generic and kioskctl printer test" {
		t.Errorf("%+v", r)
	}
}

// driveTimeouts runs the probe's per-question timeouts on fc: each time
// the printer has read a question it will not answer, and the probe waits
// for its answer, the wait is over.
func driveTimeouts(t *testing.T, ctx context.Context, fc *clockwork.FakeClock, seen chan escpos.Op, answers func(escpos.Op) bool, timeout time.Duration) {
	go func() {
		for {
			select {
			case op := <-seen:
				if answers(op) {
					continue
				}
				if err := fc.BlockUntilContext(ctx, 1); err != nil {
					return
				}
				fc.Advance(timeout)
			case <-ctx.Done():
				return
			}
		}
	}()
}

// A cheap printer answers its status and its model ID, nothing more: the
// probe says which questions went unanswered and suggests the generic
// profile. A printer that answers nothing is an error that says what to
// check.
func TestPrinterProbeUnanswered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	fc := clockwork.NewFakeClock()
	seen := make(chan escpos.Op, 64)
	dev, path := simPrinterOn(t, "generic", seen)
	dev.SetIdentity(simprinter.Identity{escpos.IDModel: {0x20}})
	driveTimeouts(t, ctx, fc, seen, func(op escpos.Op) bool {
		return op.Kind == escpos.OpStatusQuery || op.Kind == escpos.OpPrinterID && op.N == escpos.IDModel
	}, time.Second)
	r, err := probePort(ctx, printerTarget{Port: path, Baud: 19200, PaperMM: 80}, fc, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var answered []string
	for _, a := range r.Answers {
		if a.Answered {
			answered = append(answered, a.Question)
		}
	}
	if got := strings.Join(answered, ","); got != "DLE EOT 1,DLE EOT 2,DLE EOT 3,DLE EOT 4,GS I 1" {
		t.Errorf("answered %s", got)
	}
	if r.Matched || r.Suggest != "generic" || r.Model != "" {
		t.Errorf("%+v", r)
	}

	// Silent: nothing answers; the command says so and fails.
	seen2 := make(chan escpos.Op, 64)
	dev, path = simPrinterOn(t, "generic", seen2)
	dev.SetCondition(simprinter.Silent)
	driveTimeouts(t, ctx, fc, seen2, func(escpos.Op) bool { return false }, time.Second)
	defer func(c clockwork.Clock) { probeClock = c }(probeClock)
	probeClock = fc
	out, _, err := kioskctl(t, "printer", "probe", "-port", path, "-timeout", "1s")
	if err == nil || !strings.Contains(err.Error(), "answered nothing: check the cable, the power and the line speed (-baud)") {
		t.Errorf("silent printer: %v", err)
	}
	if !strings.Contains(out, "answered 0 of 11 questions") {
		t.Errorf("%s", out)
	}
}

// printer test prints through kioskd's driver; the simulated printer's
// reading of the bytes has every Ukrainian letter its code page holds,
// as text, and the rest as images.
func TestPrinterTest(t *testing.T) {
	for _, tc := range []struct {
		profile string
		page    string
		images  bool // the alphabet goes as images: the page lacks Ґ or І
	}{
		{"xprinter-80", "wpc1251", false},
		{"generic", "cp866", true},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			dev, path := simPrinterOn(t, tc.profile, nil)
			out, stderr, err := kioskctl(t, "printer", "test", "-port", path, "-baud", "19200", "-profile", tc.profile, "-number", "Б042")
			if err != nil {
				t.Fatalf("%v\n%s%s", err, out, stderr)
			}
			var p simprinter.Printed
			select {
			case p = <-dev.Printed():
			case <-time.After(guard):
				t.Fatal("nothing printed")
			}
			cp, _ := printer.LookupCodePage(tc.page)
			for _, r := range printer.UkrainianUpper + printer.UkrainianLower + "№" {
				if cp.Has(string(r)) && !strings.ContainsRune(p.Text, r) {
					t.Errorf("%c is in %s but not printed as text:\n%s", r, tc.page, p.Text)
				}
			}
			if strings.Contains(p.Text, printer.UkrainianUpper) == tc.images {
				t.Errorf("alphabet as text: %v, want %v", !tc.images, !tc.images)
			}
			for _, want := range []string{tc.page + " = ESC t ", "0123456789", tc.profile + " ("} {
				if tc.images && want != tc.page+" = ESC t " {
					continue // drawn: not text
				}
				if !strings.Contains(p.Text, want) {
					t.Errorf("no %q in\n%s", want, p.Text)
				}
			}
			if !strings.Contains(out, tc.profile+" (") || !strings.Contains(out, "s at 19200 baud") || !strings.Contains(out, "Тестовий квиток надруковано на ") {
				t.Errorf("said:\n%s", out)
			}
			if dev.Bad() != 0 {
				t.Errorf("%d commands the printer did not understand", dev.Bad())
			}
		})
	}
}

// lines reads what a running command writes, a line at a time.
func lines(t *testing.T) (io.Writer, <-chan string) {
	r, w := io.Pipe()
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
	}()
	t.Cleanup(func() { w.Close() })
	return w, ch
}

func nextLine(t *testing.T, ch <-chan string, contains string) string {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("output ended before %q", contains)
			}
			if strings.Contains(l, contains) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line with %q", contains)
		}
	}
}

// scanner watch reads codes as kioskd does and says what each is;
// Ctrl-C (the context) ends it.
func TestScannerWatch(t *testing.T) {
	line, path := linePTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	out, ch := lines(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"scanner", "watch", "-port", path, "-baud", "9600"}, out, io.Discard)
	}()
	nextLine(t, ch, "scanner ok: "+path+" at 9600 baud")
	for _, code := range []string{"0011-0003-0000", "https://track.example/t/А123", "HELLO"} {
		if _, err := line.Write([]byte(code + "\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	l := nextLine(t, ch, "0011-0003-0000")
	if !strings.Contains(l, " 14 bytes  booking ") {
		t.Errorf("%q", l)
	}
	if l := nextLine(t, ch, "booking code"); !strings.Contains(l, "(service 1, 08:20)") {
		t.Errorf("%q", l)
	}
	if l := nextLine(t, ch, "https://"); !strings.Contains(l, "tracking") {
		t.Errorf("%q", l)
	}
	if l := nextLine(t, ch, "HELLO"); !strings.Contains(l, "unknown") {
		t.Errorf("%q", l)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// A scanner another process holds (kioskd) is refused with the fix.
func TestScannerBusy(t *testing.T) {
	_, path := linePTY(t)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	holder := exec.Command("sleep", "600")
	holder.Stdin = f
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	_, _, err = kioskctl(t, "scanner", "watch", "-port", path)
	if err == nil || !strings.Contains(err.Error(), "systemctl stop kioskd") || !strings.Contains(err.Error(), "sleep (pid ") {
		t.Errorf("busy port: %v", err)
	}
}

const kioskYAML = `device_id: test-01
data_dir: DATA
roles: [kiosk, hall]
server:
  url: ws://127.0.0.1:1/api/v1/link
kiosk:
  button:
    pin: BUTTON
    service: certificate-income
  lights:
    ready: READY
    active_low: true
  paper_sensor:
    pin: PAPER
hall:
  audio:
    driver: AUDIO
    device: "null"
  voice:
    languages: [uk, en]
    pack_dir: VOICE
gpio:
  driver: host
`

func writeConfig(t *testing.T, audio string) string {
	dir := t.TempDir()
	y := strings.NewReplacer("DATA", filepath.Join(dir, "data"), "VOICE", filepath.Join(dir, "voice"), "AUDIO", audio).Replace(kioskYAML)
	path := filepath.Join(dir, "kioskd.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// gpio lists the configured pins with roles and levels, sets an output,
// refuses to drive an input, and watches the button's edges.
func TestGPIO(t *testing.T) {
	config := writeConfig(t, "wav")
	fc := clockwork.NewFakeClock() // edge waits never time out
	sim := devices.NewSimPins(fc)
	defer func(f func() (devices.Pins, error)) { openGPIO = f }(openGPIO)
	openGPIO = func() (devices.Pins, error) { return sim, nil }

	out, _, err := kioskctl(t, "gpio", "-config", config, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BUTTON     button                 input, active low    kiosk.button.pin             high (released)",
		"READY      ready light            output, active low   kiosk.lights.ready           high (dark)",
		"PAPER      paper sensor           input, active low    kiosk.paper_sensor.pin       high (paper in)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	out, _, err = kioskctl(t, "gpio", "-config", config, "set", "READY", "low")
	if err != nil || !strings.Contains(out, "Output READY (ready light) set low: lit") {
		t.Errorf("%v %q", err, out)
	}
	if sim.Levels()["READY"] != gpio.Low.String() {
		t.Errorf("READY is %s", sim.Levels()["READY"])
	}
	if _, _, err := kioskctl(t, "gpio", "-config", config, "set", "BUTTON", "low"); err == nil || !strings.Contains(err.Error(), "an input") {
		t.Errorf("set an input: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	w, ch := lines(t)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"gpio", "-config", config, "watch", "BUTTON"}, w, io.Discard) }()
	nextLine(t, ch, "watching BUTTON (button): high (released)")
	if err := sim.Press("BUTTON"); err != nil {
		t.Fatal(err)
	}
	nextLine(t, ch, "BUTTON low  pressed")
	nextLine(t, ch, "BUTTON high released")
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// On a machine without GPIO, gpio says so in one line and fails.
func TestGPIOMissing(t *testing.T) {
	if _, err := host.Init(); err == nil && len(gpioreg.All()) > 0 {
		t.Skip("this machine has GPIO pins")
	}
	_, _, err := kioskctl(t, "gpio", "-config", writeConfig(t, "wav"), "list")
	if err == nil || !strings.HasPrefix(err.Error(), "На цій машині немає GPIO") || strings.Contains(err.Error(), "\n") {
		t.Errorf("%v", err)
	}
}

// speaker test builds the packs as kioskd does and plays a call through
// the configured output: WAV files, and aplay to ALSA's null device.
func TestSpeakerTest(t *testing.T) {
	if _, ok := announce.FindEspeak(); !ok {
		t.Fatal("espeak-ng not found: make test installs it (apt-get install espeak-ng)")
	}
	config := writeConfig(t, "wav")
	out, stderr, err := kioskctl(t, "speaker", "test", "-config", config, "-lang", "uk")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	if !strings.Contains(out, "voice: ok: speaking uk") || !strings.Contains(out, "Test announcement played through wav files in ") {
		t.Errorf("%s", out)
	}
	wavs, _ := filepath.Glob(filepath.Join(filepath.Dir(config), "data", "announcements", "*.wav"))
	if len(wavs) != 1 {
		t.Fatalf("announcements %v", wavs)
	}
	f, err := os.Open(wavs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	clip, err := announce.ReadWAV(f)
	if err != nil || clip.Seconds() < 1 {
		t.Errorf("%v: %v", wavs[0], err)
	}

	if _, err := exec.LookPath("aplay"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("aplay not found: make test installs it (apt-get install alsa-utils)")
		}
		t.Skip("no aplay")
	}
	config = writeConfig(t, "aplay")
	out, stderr, err = kioskctl(t, "speaker", "test", "-config", config, "-lang", "uk")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	if !strings.Contains(out, "Test announcement played through aplay, ALSA device null") {
		t.Errorf("%s", out)
	}
}

// The device commands' -h is their own usage.
func TestDeviceCommandsHelp(t *testing.T) {
	for _, args := range [][]string{{"printer", "probe"}, {"printer", "test"}, {"scanner", "watch"}, {"speaker", "test"}, {"gpio"}} {
		_, stderr, err := kioskctl(t, append(args, "-h")...)
		if err != nil || strings.Count(stderr, "usage: kioskctl "+strings.Join(args, " ")) != 1 {
			t.Errorf("%v: %v\n%s", args, err, stderr)
		}
	}
	if _, _, err := kioskctl(t, "gpio", "-config", "x", "blink"); !errors.Is(err, errUsageShown) {
		t.Errorf("gpio blink: %v", err)
	}
}
