package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/alpha"
)

// boardShow sends lines to an Alpha LED sign once: the technician's check
// that the port, the framing and the address are right.
func boardShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("board", "board -port /dev/ttyUSB1 [-baud 9600] [-framing 7E1] [-address 00] [-charset latin] [-lines 1] LINE...", stderr)
	port := fs.String("port", "", "the sign's serial `port`, like /dev/ttyUSB1")
	baud := fs.Int("baud", 9600, "line speed")
	framing := fs.String("framing", "7E1", "7E1, 7E2 or 8N1")
	address := fs.String("address", "00", "sign address, two hex digits; 00 every sign")
	charset := fs.String("charset", "latin", "latin (Ukrainian transliterated) or cp1251")
	lines := fs.Int("lines", 1, "text lines the sign shows at once")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *port == "" || fs.NArg() == 0 {
		return usageError(fs, "-port and at least one LINE are required")
	}
	cs, err := alpha.ParseCharset(*charset)
	if err != nil {
		return err
	}
	b, err := alpha.Open(alpha.Config{Name: "board", Port: *port, Baud: *baud, Framing: strings.ToUpper(*framing),
		Address: strings.ToUpper(*address), Charset: cs, Lines: *lines})
	if err != nil {
		return err
	}
	defer b.Close()
	b.Show(fs.Args())
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		st := b.Status()
		switch {
		// The driver's first send, as the line opens, may be the blank it
		// had before Show: wait for these lines.
		case st.State == devices.OK && strings.Contains(st.Detail, fmt.Sprintf("showing %q", fs.Args())):
			fmt.Fprintf(stdout, "sent to %s (%s, %d baud, address %s): %q\n", *port, strings.ToUpper(*framing), *baud,
				*address, alpha.Decode(alpha.Encode(fs.Args(), cs, *lines), cs))
			fmt.Fprintln(stdout, "Alpha signs do not answer: check that the sign shows it.")
			return nil
		case st.State == devices.Fault:
			return fmt.Errorf("%s", st.Detail)
		}
		select {
		case <-b.Changes():
		case <-ctx.Done():
			return fmt.Errorf("nothing sent to %s in 5 s: %s", *port, st.Detail)
		}
	}
}
