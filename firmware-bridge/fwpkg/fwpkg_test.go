package fwpkg

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// testKey is deterministic so that signed test packages are the same
// bytes every run (ed25519 signatures are deterministic too).
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	keypadM = Manifest{Type: Keypad, Hardware: 1, Version: Version{1, 2, 0}, Created: t0, Expires: t0.Add(365 * 24 * time.Hour)}
)

func images(n int) (a, b []byte) {
	a, b = make([]byte, n), make([]byte, n)
	for i := range a {
		a[i], b[i] = byte(i), byte(i*7+1)
	}
	return a, b
}

func signed(t testing.TB, m Manifest, n int) []byte {
	t.Helper()
	a, b := images(n)
	data, err := Sign(testKey(1), m, a, b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSignOpen(t *testing.T) {
	a, b := images(13496)
	data, err := Sign(testKey(1), keypadM, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != HeaderSize+2*13496+SignatureSize {
		t.Fatalf("package of %d bytes", len(data))
	}
	p, err := Open(data, []ed25519.PublicKey{pub(testKey(9)), pub(testKey(1))}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest != keypadM {
		t.Fatalf("manifest %+v, want %+v", p.Manifest, keypadM)
	}
	if !bytes.Equal(p.Image(SlotA), a) || !bytes.Equal(p.Image(SlotB), b) || p.Image(2) != nil {
		t.Fatal("images differ")
	}
	if p.Images[SlotB].SHA256 != sha256.Sum256(b) {
		t.Fatal("SHA-256 of B")
	}
	if p.KeyID != KeyIDOf(pub(testKey(1))) {
		t.Fatalf("key id %s", p.KeyID)
	}
	if got := p.String(); got != "keypad hw 1 firmware 1.2.0" {
		t.Fatalf("String %q", got)
	}
}

// TestLayout pins the byte layout PROTOCOL.md 10.8 documents.
func TestLayout(t *testing.T) {
	data := signed(t, keypadM, 200)
	be := binary.BigEndian
	if string(data[:8]) != "CHERGAFW" || be.Uint16(data[8:]) != 1 || be.Uint16(data[10:]) != 2 || be.Uint16(data[12:]) != 1 ||
		be.Uint16(data[14:]) != 1 || be.Uint16(data[16:]) != 2 || be.Uint16(data[18:]) != 0 ||
		int64(be.Uint64(data[20:])) != t0.Unix() || int64(be.Uint64(data[28:])) != keypadM.Expires.Unix() ||
		be.Uint32(data[44:]) != 200 || be.Uint32(data[80:]) != 200 {
		t.Fatalf("header % x", data[:HeaderSize])
	}
	id := KeyIDOf(pub(testKey(1)))
	if !bytes.Equal(data[36:44], id[:]) {
		t.Fatal("key id")
	}
	a, b := images(200)
	sa, sb := sha256.Sum256(a), sha256.Sum256(b)
	if !bytes.Equal(data[48:80], sa[:]) || !bytes.Equal(data[84:116], sb[:]) || !bytes.Equal(data[116:128], make([]byte, 12)) {
		t.Fatal("hashes or reserved bytes")
	}
	if !bytes.Equal(data[128:328], a) || !bytes.Equal(data[328:528], b) {
		t.Fatal("images")
	}
	if !ed25519.Verify(pub(testKey(1)), data[:528], data[528:]) || len(data) != 528+64 {
		t.Fatal("the signature is not over everything before it")
	}
}

func TestSignRefuses(t *testing.T) {
	a, b := images(100)
	for name, c := range map[string]struct {
		m    Manifest
		a, b []byte
		want string
	}{
		"no type":        {Manifest{Hardware: 1, Created: t0, Expires: t0.Add(time.Hour)}, a, b, "no device type"},
		"hw 0":           {Manifest{Type: Keypad, Created: t0, Expires: t0.Add(time.Hour)}, a, b, "hardware revision 0"},
		"no times":       {Manifest{Type: Keypad, Hardware: 1}, a, b, "required"},
		"expires before": {Manifest{Type: Keypad, Hardware: 1, Created: t0, Expires: t0}, a, b, "not after"},
		"empty image":    {keypadM, a, nil, "image B is 0 bytes"},
		"same images":    {keypadM, a, a, "identical"},
	} {
		if _, err := Sign(testKey(1), c.m, c.a, c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	good := signed(t, keypadM, 300)
	keys := []ed25519.PublicKey{pub(testKey(1))}
	now := t0.Add(time.Hour)
	edit := func(f func(d []byte) []byte) []byte { return f(bytes.Clone(good)) }
	body := len(good) - SignatureSize
	for _, c := range []struct {
		name string
		data []byte
		keys []ed25519.PublicKey
		now  time.Time
		want error
		text string
	}{
		{"empty", nil, keys, now, ErrNotPackage, `start with "CHERGAFW"`},
		{"a PNG", []byte("\x89PNG\r\n\x1a\n0000"), keys, now, ErrNotPackage, "does not start"},
		{"header cut", good[:100], keys, now, ErrNotPackage, "shorter than the 128-byte header"},
		{"images cut", good[:400], keys, now, ErrNotPackage, "cut short"},
		{"trailing bytes", append(bytes.Clone(good), 0), keys, now, ErrNotPackage, "want 792"},
		{"reserved", edit(func(d []byte) []byte { d[120] = 1; return d }), keys, now, ErrNotPackage, "reserved"},
		{"image size 0", edit(func(d []byte) []byte { binary.BigEndian.PutUint32(d[offSizeA:], 0); return d }), keys, now, ErrNotPackage, "image sizes 0"},
		{"huge image size", edit(func(d []byte) []byte { binary.BigEndian.PutUint32(d[offSizeB:], 0xFFFFFFFF); return d }), keys, now, ErrNotPackage, "image sizes"},
		{"format 2", edit(func(d []byte) []byte { d[9] = 2; return d }), keys, now, ErrFormat, "format version 2"},
		{"no signature", good[:body], keys, now, ErrUnsigned, "ends after the images"},
		{"zero signature", edit(func(d []byte) []byte { clear(d[body:]); return d }), keys, now, ErrUnsigned, "all zeros"},
		{"image byte", edit(func(d []byte) []byte { d[HeaderSize+5] ^= 1; return d }), keys, now, ErrTampered, "image A does not match its SHA-256"},
		{"image and hash", edit(func(d []byte) []byte {
			d[body-1] ^= 1
			sum := sha256.Sum256(d[HeaderSize+300 : body])
			copy(d[offSHAB:], sum[:])
			return d
		}), keys, now, ErrTampered, "signature does not verify with key " + KeyIDOf(keys[0]).String()},
		{"version", edit(func(d []byte) []byte { d[offVersion+1] = 9; return d }), keys, now, ErrTampered, "signature"},
		{"expiry moved", edit(func(d []byte) []byte { d[offExpires] = 0x01; return d }), keys, now, ErrTampered, "signature"},
		{"signature", edit(func(d []byte) []byte { d[body+3] ^= 0x40; return d }), keys, now, ErrTampered, "signature"},
		{"unknown key", good, []ed25519.PublicKey{pub(testKey(2)), pub(testKey(3))}, now, ErrUnknownKey,
			"key " + KeyIDOf(keys[0]).String() + "; trusted: " + KeyIDOf(pub(testKey(2))).String() + ", " + KeyIDOf(pub(testKey(3))).String()},
		{"no keys", good, nil, now, ErrUnknownKey, "no public key is configured"},
		{"expired", good, keys, keypadM.Expires.Add(time.Second), ErrExpired, "expired at 2027-03-01T12:00:00Z; it is now 2027-03-01T12:00:01Z"},
	} {
		p, err := Open(c.data, c.keys, c.now)
		if !errors.Is(err, c.want) || p != nil {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		for _, other := range []error{ErrNotPackage, ErrFormat, ErrUnsigned, ErrTampered, ErrUnknownKey, ErrExpired} {
			if other != c.want && errors.Is(err, other) {
				t.Errorf("%s: %v is also %v", c.name, err, other)
			}
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.text)
		}
	}
	// Expiry is inclusive of its second.
	if _, err := Open(good, keys, keypadM.Expires); err != nil {
		t.Fatalf("at the expiry second: %v", err)
	}
}

func TestParseThenVerify(t *testing.T) {
	good := signed(t, keypadM, 64)
	p, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(nil, t0); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify without keys: %v", err)
	}
	if err := p.Verify([]ed25519.PublicKey{pub(testKey(1))}, t0); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	p, err := Open(signed(t, keypadM, 13496), []ed25519.PublicKey{pub(testKey(1))}, t0)
	if err != nil {
		t.Fatal(err)
	}
	kp := DeviceInfo{Unit: 5, Type: Keypad, Hardware: 1, Version: Version{1, 1, 0}, ActiveSlot: SlotA}
	if err := p.Check(kp, false); err != nil {
		t.Fatalf("a newer package for the same keypad: %v", err)
	}
	with := func(f func(*DeviceInfo)) DeviceInfo { d := kp; f(&d); return d }
	for _, c := range []struct {
		name  string
		dev   DeviceInfo
		force bool
		want  error
		text  string
	}{
		{"wrong model", with(func(d *DeviceInfo) { d.Type = WindowDisplay }), false, ErrWrongModel,
			"package is for keypad (type 2), device 5 is a window-display (type 1)"},
		{"forced wrong model", with(func(d *DeviceInfo) { d.Type = Rating }), true, ErrWrongModel,
			"device 5 is a rating (type 3)"},
		{"unknown model", with(func(d *DeviceInfo) { d.Type = 9; d.Unit = 0 }), false, ErrWrongModel,
			"package is for keypad (type 2), the device is of unknown type 9"},
		{"wrong hardware", with(func(d *DeviceInfo) { d.Hardware = 2 }), true, ErrWrongHardware,
			"package is for hardware revision 1, device 5 is revision 2"},
		{"same version", with(func(d *DeviceInfo) { d.Version = Version{1, 2, 0} }), false, ErrNotNewer,
			"package version 1.2.0 is the same as the 1.2.0 device 5 runs"},
		{"older", with(func(d *DeviceInfo) { d.Version = Version{1, 10, 0} }), false, ErrNotNewer,
			"package version 1.2.0 is older than the 1.10.0 device 5 runs"},
		{"bad slot", with(func(d *DeviceInfo) { d.ActiveSlot = 7 }), false, ErrBadSlot, "active slot 7"},
		{"too big", with(func(d *DeviceInfo) { d.SlotBytes = 8192; d.ActiveSlot = SlotB }), false, ErrTooBig,
			"image A is 13496 bytes, slot A of device 5 holds 8192"},
	} {
		err := p.Check(c.dev, c.force)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.text)
		}
	}
	// force overrides the version only.
	if err := p.Check(with(func(d *DeviceInfo) { d.Version = Version{2, 0, 0} }), true); err != nil {
		t.Fatalf("forced downgrade: %v", err)
	}
	big, err := Open(signed(t, keypadM, SlotBytes+1), []ed25519.PublicKey{pub(testKey(1))}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Check(kp, true); !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "image B is 14337 bytes, slot B of device 5 holds 14336") {
		t.Fatalf("14,337 bytes: %v", err)
	}
}

func TestVersion(t *testing.T) {
	for s, want := range map[string]Version{"1.2.0": {1, 2, 0}, "v0.0.1": {0, 0, 1}, "65535.10.3": {65535, 10, 3}} {
		if v, err := ParseVersion(s); err != nil || v != want || (s[0] != 'v' && v.String() != s) {
			t.Errorf("%q: %v %v", s, v, err)
		}
	}
	for _, s := range []string{"", "1.2", "1.2.3.4", "1.-2.0", "1.02.0", "65536.0.0", "a.b.c"} {
		if _, err := ParseVersion(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if (Version{1, 2, 0}).Compare(Version{1, 10, 0}) != -1 || (Version{2, 0, 0}).Compare(Version{1, 9, 9}) != 1 ||
		(Version{1, 1, 1}).Compare(Version{1, 1, 1}) != 0 {
		t.Fatal("Compare")
	}
}

func TestDeviceType(t *testing.T) {
	for s, want := range map[string]DeviceType{"window-display": 1, "keypad": 2, "rating": 3, "2": Keypad} {
		if d, err := ParseDeviceType(s); err != nil || d != want {
			t.Errorf("%q: %v %v", s, d, err)
		}
	}
	if _, err := ParseDeviceType("printer"); err == nil {
		t.Fatal("printer accepted")
	}
	if DeviceType(7).String() != "type 7" {
		t.Fatal(DeviceType(7).String())
	}
}

func BenchmarkOpen(b *testing.B) {
	// A release as big as a slot allows: two 14 KB links.
	data := signed(b, keypadM, SlotBytes)
	keys := []ed25519.PublicKey{pub(testKey(1))}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(data, keys, t0); err != nil {
			b.Fatal(err)
		}
	}
}
