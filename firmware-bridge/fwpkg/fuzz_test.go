package fwpkg

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

// FuzzOpen: Open never panics on any file; every refusal is one of its
// documented errors; what it accepts is exactly what Sign makes of the
// manifest and images it returns (so nothing is accepted that the key did
// not sign), and Check on it never panics.
func FuzzOpen(f *testing.F) {
	good := signed(f, keypadM, 300)
	f.Add(good)
	f.Add(good[:len(good)-SignatureSize])
	f.Add(good[:HeaderSize])
	f.Add([]byte(Magic))
	f.Add([]byte{})
	small := signed(f, Manifest{Type: WindowDisplay, Hardware: 2, Version: Version{0, 0, 1}, Created: t0, Expires: t0.Add(time.Minute)}, 1)
	f.Add(small)
	tampered := bytes.Clone(small)
	tampered[HeaderSize] ^= 0xFF
	f.Add(tampered)
	keys := []ed25519.PublicKey{pub(testKey(1))}
	documented := []error{ErrNotPackage, ErrFormat, ErrUnsigned, ErrTampered, ErrUnknownKey, ErrExpired}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Open(data, keys, t0)
		if err != nil {
			n := 0
			for _, e := range documented {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v is not exactly one documented refusal", err)
			}
			return
		}
		again, err := Sign(testKey(1), p.Manifest, p.Image(SlotA), p.Image(SlotB))
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a package Sign does not make: %v", err)
		}
		for _, slot := range []int{SlotA, SlotB, 5} {
			p.Check(DeviceInfo{Type: p.Type, Hardware: p.Hardware, ActiveSlot: slot}, false)
		}
	})
}
