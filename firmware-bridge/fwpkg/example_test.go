package fwpkg_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
)

func Example() {
	// The release side: a key (Keygen writes it to files), then a package
	// of both links.
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := fwpkg.Manifest{Type: fwpkg.Keypad, Hardware: 1, Version: fwpkg.Version{Major: 1, Minor: 2},
		Created: created, Expires: created.AddDate(1, 0, 0)}
	data, err := fwpkg.Sign(key, m, []byte("image linked at 0x0000"), []byte("image linked at 0x3800"))
	if err != nil {
		panic(err)
	}

	// The host: verify with the trusted keys, then check against the
	// device before anything goes on the bus.
	p, err := fwpkg.Open(data, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, created.Add(time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println(p)
	display := fwpkg.DeviceInfo{Unit: 5, Type: fwpkg.WindowDisplay, Hardware: 1, Version: fwpkg.Version{Major: 1}}
	err = p.Check(display, false)
	fmt.Println(errors.Is(err, fwpkg.ErrWrongModel))
	fmt.Println(err)
	// Output:
	// keypad hw 1 firmware 1.2.0
	// true
	// fwpkg: wrong device model: package is for keypad (type 2), device 5 is a window-display (type 1)
}
