package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
)

const firmwareUsage = `usage:
  kioskctl firmware keygen -out DIR
  kioskctl firmware sign -key DIR/firmware.key -image FILE-a.bin -image-b FILE-b.bin
                         -type window-display|keypad|rating -hw 1 -version 1.2.0 [-expires 8760h] -out FILE.fw
  kioskctl firmware show [-pubkey DIR/firmware.pub | -config FILE] FILE.fw
`

// firmwareCmd is kioskctl firmware: the release side of device firmware
// (firmware-bridge/PROTOCOL.md 10.8).
func firmwareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return helpIsDone(firmwareSub(ctx, args, stdout, stderr))
}

// helpIsDone: a subcommand's -h printed its usage; that is a success.
func helpIsDone(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func firmwareSub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, firmwareUsage)
		return errUsageShown
	}
	switch args[0] {
	case "keygen":
		return firmwareKeygen(args[1:], stdout, stderr)
	case "sign":
		return firmwareSign(args[1:], stdout, stderr)
	case "show":
		return firmwareShow(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, firmwareUsage)
		return nil
	}
	fmt.Fprint(stderr, firmwareUsage)
	return errUsageShown
}

// newFlags is a flag set whose -h prints the command's own usage line and
// flags and is not an error.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: kioskctl %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; -h is a clean exit (errHelp), anything wrong a
// usage error with the command's usage already printed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsageShown
	}
	return nil
}

// errHelp: the command printed its usage because it was asked to.
var errHelp = errors.New("help shown")

// usageError prints the command's usage after a message and returns
// errUsageShown.
func usageError(fs *flag.FlagSet, format string, a ...any) error {
	fmt.Fprintf(fs.Output(), "kioskctl %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return errUsageShown
}

func firmwareKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("firmware keygen", "firmware keygen -out DIR", stderr)
	out := fs.String("out", "", "`directory` for firmware.key (secret, mode 0600) and firmware.pub")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError(fs, "-out DIR is required")
	}
	pubPath, keyPath, err := fwpkg.Keygen(*out)
	if err != nil {
		return err
	}
	keys, err := fwpkg.LoadPublicKeys(pubPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key %s\n  secret  %s (keep it off terminals; sign with it)\n  public  %s (list it in the terminals' firmware_keys)\n",
		fwpkg.KeyIDOf(keys[0]), keyPath, pubPath)
	return nil
}

func firmwareSign(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("firmware sign", "firmware sign -key DIR/firmware.key -image FILE-a.bin -image-b FILE-b.bin -type TYPE -hw N -version M.m.p [-expires 8760h] -out FILE.fw", stderr)
	keyPath := fs.String("key", "", "the signing key `file` (firmware.key from keygen)")
	imageA := fs.String("image", "", "the image linked for slot A (cherga-TYPE-a.bin)")
	imageB := fs.String("image-b", "", "the same release linked for slot B (cherga-TYPE-b.bin)")
	typ := fs.String("type", "", "device type: window-display, keypad or rating")
	hw := fs.Uint("hw", 0, "hardware revision the images are for (1…)")
	version := fs.String("version", "", "firmware version, major.minor.patch")
	expires := fs.Duration("expires", 365*24*time.Hour, "how long the package may be installed")
	out := fs.String("out", "", "the package `file` to write (.fw)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var missing []string
	for name, v := range map[string]string{"-key": *keyPath, "-image": *imageA, "-image-b": *imageB, "-type": *typ, "-version": *version, "-out": *out} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if *hw == 0 {
		missing = append(missing, "-hw")
	}
	if len(missing) > 0 || fs.NArg() != 0 {
		return usageError(fs, "missing %s", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	if *hw > 0xFFFF {
		return usageError(fs, "-hw %d: a revision is 1–65535", *hw)
	}
	t, err := fwpkg.ParseDeviceType(*typ)
	if err != nil {
		return err
	}
	v, err := fwpkg.ParseVersion(*version)
	if err != nil {
		return err
	}
	key, err := fwpkg.LoadPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	a, err := os.ReadFile(*imageA)
	if err != nil {
		return fmt.Errorf("image A: %w", err)
	}
	b, err := os.ReadFile(*imageB)
	if err != nil {
		return fmt.Errorf("image B: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	m := fwpkg.Manifest{Type: t, Hardware: uint16(*hw), Version: v, Created: now, Expires: now.Add(*expires)}
	data, err := fwpkg.Sign(key, m, a, b)
	if err != nil {
		return err
	}
	for slot, img := range [][]byte{a, b} {
		if len(img) > fwpkg.SlotBytes {
			fmt.Fprintf(stderr, "warning: image %s is %d bytes, more than the %d a slot of our ATmega328P devices holds: they will refuse it\n",
				fwpkg.SlotName(slot), len(img), fwpkg.SlotBytes)
		}
	}
	if err := writeFileAtomic(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s hw %d firmware %s, %d + %d bytes, signed by key %s, expires %s\n", *out, m.Type, m.Hardware, m.Version,
		len(a), len(b), fwpkg.KeyIDOf(key.Public().(ed25519.PublicKey)), m.Expires.Format(time.RFC3339))
	return nil
}

// writeFileAtomic writes data to path through a temporary file, so a
// half-written package never has the final name.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr, os.Chmod(tmp.Name(), mode)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// keyFlags are -pubkey (repeatable) and -config, the two places trusted
// public keys come from.
type keyFlags struct {
	pubkeys []string
	config  string
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.Func("pubkey", "a trusted public key `file` (firmware.pub); may be repeated", func(s string) error {
		k.pubkeys = append(k.pubkeys, s)
		return nil
	})
	fs.StringVar(&k.config, "config", "", "take the trusted keys from the firmware_keys of this kioskd configuration `file`")
}

func (k *keyFlags) given() bool { return len(k.pubkeys) > 0 || k.config != "" }

// load returns the trusted keys. firmware_keys paths are relative to the
// configuration file's directory.
func (k *keyFlags) load() ([]ed25519.PublicKey, error) {
	paths := k.pubkeys
	if k.config != "" {
		c, err := configs.LoadTerminal(k.config)
		if err != nil {
			return nil, err
		}
		if len(c.FirmwareKeys) == 0 {
			return nil, fmt.Errorf("%s lists no firmware_keys", k.config)
		}
		for _, p := range c.FirmwareKeys {
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(k.config), p)
			}
			paths = append(paths, p)
		}
	}
	return fwpkg.LoadPublicKeys(paths...)
}

func firmwareShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("firmware show", "firmware show [-pubkey DIR/firmware.pub | -config FILE] FILE.fw", stderr)
	var kf keyFlags
	kf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "one package file, please")
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	p, err := fwpkg.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stdout, "%s: package format %d, %d bytes\n", path, fwpkg.FormatVersion, len(data))
	fmt.Fprintf(stdout, "  device   %s (type %d), hardware revision %d\n", p.Type, uint16(p.Type), p.Hardware)
	fmt.Fprintf(stdout, "  version  %s\n", p.Version)
	fmt.Fprintf(stdout, "  created  %s\n", p.Created.Format(time.RFC3339))
	fmt.Fprintf(stdout, "  expires  %s\n", p.Expires.Format(time.RFC3339))
	fmt.Fprintf(stdout, "  key      %s\n", p.KeyID)
	for slot, img := range p.Images {
		fmt.Fprintf(stdout, "  image %s  %d bytes, %d chunks, SHA-256 %x\n", fwpkg.SlotName(slot), len(img.Data),
			(len(img.Data)+127)/128, img.SHA256)
	}
	if !kf.given() {
		fmt.Fprintln(stdout, "  signature not checked: give -pubkey or -config")
		return nil
	}
	keys, err := kf.load()
	if err != nil {
		return err
	}
	if err := p.Verify(keys, time.Now()); err != nil {
		fmt.Fprintf(stdout, "  signature REFUSED: %v\n", err)
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stdout, "  signature good, key %s is trusted; not expired\n", p.KeyID)
	return nil
}
