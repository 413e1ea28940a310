// Command kioskctl is the technician's tool: it asks a running kioskd how
// it is, and drives its simulated devices.
//
//	kioskctl version
//	kioskctl health [-addr 127.0.0.1:8080] [-wait 10s]   (exit 1 unless kioskd is ok)
//	kioskctl scan   [-addr 127.0.0.1:8080] CODE
//	kioskctl press  [-addr 127.0.0.1:8080] [-level low|high] PIN
//	kioskctl token  -device ID
//	kioskctl outbox [-admin 127.0.0.1:8081] [-json] [-n 20]
//	kioskctl admin hash-password < password.txt
//	kioskctl ports  [-json]
//	kioskctl doctor -config FILE [-json]                  (exit 1 when a check fails)
//	kioskctl ticket render -config FILE -number А123 -service ID [-profile NAME] -out DIR
//	kioskctl printer profiles | new-roll [-addr 127.0.0.1:8080]
//	kioskctl printer probe | test [-config FILE | -port P …]   (talk to the printer itself)
//	kioskctl scanner watch [-config FILE | -port P] [-json]
//	kioskctl speaker test [-config FILE] [-lang uk|en]
//	kioskctl gpio [-config FILE] [list | set PIN high|low | watch PIN]
//	kioskctl voice build -lang uk -out DIR [-force]
//	kioskctl announce -config FILE -ticket А123 -window 5 [-at HH:MM] -out call.wav
//	kioskctl board -port /dev/ttyUSB1 [-baud 9600] [-framing 7E1] [-address 00] LINE...
//	kioskctl firmware keygen | sign | show
//	kioskctl bridge flash | scan | watch -port /dev/ttyUSB0 …
//	kioskctl bridge emulate -link PATH -devices 1:window-display,2:keypad | press | fault | power-cut
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  kioskctl version                                     print kioskctl's version
  kioskctl health [-addr HOST:PORT] [-wait DURATION]   show a kioskd's health; exit 1 unless it is ok
  kioskctl scan   [-addr HOST:PORT] CODE               feed a code to its simulated scanner
  kioskctl press  [-addr HOST:PORT] PIN                press a simulated GPIO button
  kioskctl press  [-addr HOST:PORT] -level low|high PIN
                                                       hold a simulated GPIO input at a level (a paper sensor)
  kioskctl token  -device ID                           make a terminal's link token
  kioskctl outbox [-admin HOST:PORT] [-json] [-n 20]   what waits in kioskd's outbox for the server, and why
  kioskctl admin hash-password                         read a password on stdin, print its admin.password_hash
  kioskctl ports  [-json]                              list the serial and USB printer ports, their stable names and groups
  kioskctl doctor -config FILE [-json] [-timeout 3s]   check what the configuration names (devices, access, server,
                                                       clock, disk, kioskd) with a fix for each problem; exit 1 on a failure
  kioskctl ticket render -config FILE -number А123 -service ID [-profile NAME] [-office FILE] -out DIR
                                                       write a ticket's exact printer bytes and their picture
  kioskctl printer profiles                            list the printer profiles
  kioskctl printer new-roll [-addr HOST:PORT]          a fresh paper roll is in (counted printers)
  kioskctl printer probe [-config FILE | -port P [-baud N]] [-timeout 500ms] [-json]
                                                       ask the printer its status and identity; suggest a profile
  kioskctl printer test [-config FILE | -port P [-baud N] -profile NAME [-paper MM]] [-number А123]
                                                       print a test ticket: number, alphabet, code page table
  kioskctl scanner watch [-config FILE | -port P [-driver serial|evdev] [-baud N]] [-json]
                                                       print every code the scanner reads, and what kioskd makes of it
  kioskctl speaker test [-config FILE] [-lang uk|en] [-ticket А123] [-window 5]
                                                       play a test call through the hall's audio output
  kioskctl gpio [-config FILE] [-json] [list | set PIN high|low [-hold] | watch PIN]
                                                       the configured pins: roles and levels; set an output; watch an input
                 (printer, scanner, speaker and gpio talk to the devices themselves: stop kioskd first)
  kioskctl voice build -lang uk|en -out DIR [-force]   make a phrase pack with espeak-ng
  kioskctl announce -config FILE -ticket А123 -window 5 [-at HH:MM] -out call.wav
                                                       write the exact audio kioskd plays for a call
  kioskctl board -port /dev/ttyUSB1 [-baud 9600] [-framing 7E1|7E2|8N1] [-address 00]
                 [-charset latin|cp1251] [-lines 1] LINE...
                                                       show lines on an Alpha LED sign, to check its wiring
  kioskctl firmware keygen -out DIR                    make the key pair that signs device firmware
  kioskctl firmware sign -key DIR/firmware.key -image FILE-a.bin -image-b FILE-b.bin
                 -type window-display|keypad|rating -hw 1 -version 1.2.0 [-expires 8760h] -out FILE.fw
                                                       sign both links of a release as a package
  kioskctl firmware show [-pubkey DIR/firmware.pub] FILE.fw
                                                       a package's manifest and whether its signature holds
  kioskctl bridge flash -port DEV -addr N -image FILE.fw [-pubkey FILE | -config FILE] [-line "19200 8E1"] [-force]
                                                       update a bus device's firmware
  kioskctl bridge scan -port DEV [-line "19200 8E1"] [-from 1 -to 247] [-json]
                                                       list the devices on a bus
  kioskctl bridge watch -port DEV -addr N [-line "19200 8E1"] [-ack]
                                                       poll a device and print its status and events
  kioskctl bridge emulate -link PATH -devices 1:window-display,2:keypad,3:rating
                 [-state DIR] [-line "19200 8N2"] [-http 127.0.0.1:8095] [-firmware 1.0.0]
                                                       play bus devices on a pseudo-terminal, with a page to press their keys
                 (every bridge command's -line may be given by parts: -baud N -parity E|O|N -stop 1|2)
  kioskctl bridge press [-emulator HOST:PORT] -addr N -key next|1-7 [-long]
                                                       press a key of an emulated keypad or rating panel
  kioskctl bridge fault [-emulator HOST:PORT] -addr N -kind silent|corrupt|slow|garbage|none [-count N]
                                                       make an emulated device misbehave on the bus
  kioskctl bridge power-cut [-emulator HOST:PORT] -addr N [-for 2s] [-after-chunk K]
                                                       cut an emulated device's power, now or mid-update
`

// version is set by the Makefile: -ldflags "-X main.version=…".
var version = "dev"

var errUsage = errors.New("bad usage")

// errUsageShown is errUsage after the command printed its own usage:
// main does not add the whole usage to it.
var errUsageShown = fmt.Errorf("%w (usage shown)", errUsage)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsageShown):
		os.Exit(2)
	case errors.Is(err, errUsage):
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "kioskctl:", err)
		os.Exit(1)
	}
}

// run runs one command; a subcommand's -h is its own usage, and success.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return helpIsDone(runCmd(ctx, args, stdout, stderr))
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "kioskctl", version)
		return nil
	case "health":
		return health(ctx, args[1:], stdout, stderr)
	case "scan":
		return scan(ctx, args[1:], stdout, stderr)
	case "press":
		return press(ctx, args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "outbox":
		return outbox(ctx, args[1:], stdout, stderr)
	case "admin":
		return adminCmd(args[1:], stdout, stderr)
	case "ports":
		return portsList(args[1:], stdout, stderr)
	case "doctor":
		return doctorCmd(ctx, args[1:], stdout, stderr)
	case "ticket":
		if len(args) > 1 && args[1] == "render" {
			return ticketRender(args[2:], stdout, stderr)
		}
	case "printer":
		if len(args) > 1 && args[1] == "profiles" {
			return printerProfiles(stdout)
		}
		if len(args) > 1 && args[1] == "new-roll" {
			return newRoll(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "probe" {
			return printerProbe(ctx, args[2:], stdout, stderr)
		}
		if len(args) > 1 && args[1] == "test" {
			return printerTest(ctx, args[2:], stdout, stderr)
		}
	case "scanner":
		if len(args) > 1 && args[1] == "watch" {
			return scannerWatch(ctx, args[2:], stdout, stderr)
		}
	case "speaker":
		if len(args) > 1 && args[1] == "test" {
			return speakerTest(ctx, args[2:], stdout, stderr)
		}
	case "gpio":
		return gpioCmd(ctx, args[1:], stdout, stderr)
	case "voice":
		if len(args) > 1 && args[1] == "build" {
			return voiceBuild(args[2:], stdout, stderr)
		}
	case "announce":
		return announceCall(ctx, args[1:], stdout, stderr)
	case "board":
		return boardShow(ctx, args[1:], stdout, stderr)
	case "firmware":
		return firmwareCmd(ctx, args[1:], stdout, stderr)
	case "bridge":
		return bridgeCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage
}
