package fwpkg

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The byte layout of a package, format version 1 (PROTOCOL.md 10.8). All
// integers big-endian.
const (
	// Magic opens every package.
	Magic = "CHERGAFW"
	// FormatVersion is the layout this package writes and reads.
	FormatVersion = 1
	// HeaderSize: the fixed manifest before the images.
	HeaderSize = 128
	// SignatureSize: the ed25519 signature that ends the file.
	SignatureSize = ed25519.SignatureSize
	// MaxImage bounds each image in the format (1 MiB), whatever the
	// device; Check applies the device's slot size.
	MaxImage = 1 << 20

	offFormat   = 8
	offType     = 10
	offHardware = 12
	offVersion  = 14 // major, minor, patch
	offCreated  = 20
	offExpires  = 28
	offKeyID    = 36
	offSizeA    = 44
	offSHAA     = 48
	offSizeB    = 80
	offSHAB     = 84
	offReserved = 116
)

// Sign makes a package of the two links (imageA linked for slot A at
// 0x0000, imageB for slot B at 0x3800) with m's fields, signed by key.
func Sign(key ed25519.PrivateKey, m Manifest, imageA, imageB []byte) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("fwpkg: sign: not an ed25519 private key")
	}
	switch {
	case m.Type == 0:
		return nil, errors.New("fwpkg: sign: no device type")
	case m.Hardware == 0:
		return nil, errors.New("fwpkg: sign: hardware revision 0: revisions start at 1")
	case m.Created.IsZero() || m.Expires.IsZero():
		return nil, errors.New("fwpkg: sign: created and expiry times are required")
	case !m.Expires.After(m.Created):
		return nil, fmt.Errorf("fwpkg: sign: expires %s, not after created %s",
			m.Expires.UTC().Format(time.RFC3339), m.Created.UTC().Format(time.RFC3339))
	}
	for i, img := range [][]byte{imageA, imageB} {
		if len(img) == 0 || len(img) > MaxImage {
			return nil, fmt.Errorf("fwpkg: sign: image %s is %d bytes, want 1–%d", SlotName(i), len(img), MaxImage)
		}
	}
	if bytes.Equal(imageA, imageB) {
		// Both slots execute in place: the same bytes cannot run in both.
		return nil, errors.New("fwpkg: sign: image A and image B are identical; each must be linked for its own slot (cherga-TYPE-a.bin, cherga-TYPE-b.bin)")
	}
	pub := key.Public().(ed25519.PublicKey)
	out := make([]byte, HeaderSize, HeaderSize+len(imageA)+len(imageB)+SignatureSize)
	copy(out, Magic)
	be := binary.BigEndian
	be.PutUint16(out[offFormat:], FormatVersion)
	be.PutUint16(out[offType:], uint16(m.Type))
	be.PutUint16(out[offHardware:], m.Hardware)
	be.PutUint16(out[offVersion:], m.Version.Major)
	be.PutUint16(out[offVersion+2:], m.Version.Minor)
	be.PutUint16(out[offVersion+4:], m.Version.Patch)
	be.PutUint64(out[offCreated:], uint64(m.Created.Unix()))
	be.PutUint64(out[offExpires:], uint64(m.Expires.Unix()))
	id := KeyIDOf(pub)
	copy(out[offKeyID:], id[:])
	be.PutUint32(out[offSizeA:], uint32(len(imageA)))
	sumA, sumB := sha256.Sum256(imageA), sha256.Sum256(imageB)
	copy(out[offSHAA:], sumA[:])
	be.PutUint32(out[offSizeB:], uint32(len(imageB)))
	copy(out[offSHAB:], sumB[:])
	out = append(out, imageA...)
	out = append(out, imageB...)
	return append(out, ed25519.Sign(key, out)...), nil
}

// Parse reads a package without verifying it: for showing what a file
// claims. Open is Parse plus Verify. Parse fails with ErrNotPackage,
// ErrFormat or ErrUnsigned. The images of the Package share data.
func Parse(data []byte) (*Package, error) {
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return nil, refuse(ErrNotPackage, "the file does not start with %q", Magic)
	}
	if len(data) < HeaderSize {
		return nil, refuse(ErrNotPackage, "%d bytes, shorter than the %d-byte header", len(data), HeaderSize)
	}
	be := binary.BigEndian
	if f := be.Uint16(data[offFormat:]); f != FormatVersion {
		return nil, refuse(ErrFormat, "format version %d; this program reads version %d", f, FormatVersion)
	}
	for _, b := range data[offReserved:HeaderSize] {
		if b != 0 {
			return nil, refuse(ErrNotPackage, "reserved header bytes %d–%d are not zero", offReserved, HeaderSize-1)
		}
	}
	p := &Package{Manifest: Manifest{
		Type:     DeviceType(be.Uint16(data[offType:])),
		Hardware: be.Uint16(data[offHardware:]),
		Version:  Version{be.Uint16(data[offVersion:]), be.Uint16(data[offVersion+2:]), be.Uint16(data[offVersion+4:])},
		Created:  time.Unix(int64(be.Uint64(data[offCreated:])), 0).UTC(),
		Expires:  time.Unix(int64(be.Uint64(data[offExpires:])), 0).UTC(),
	}}
	copy(p.KeyID[:], data[offKeyID:])
	sizeA, sizeB := be.Uint32(data[offSizeA:]), be.Uint32(data[offSizeB:])
	if sizeA == 0 || sizeB == 0 || sizeA > MaxImage || sizeB > MaxImage {
		return nil, refuse(ErrNotPackage, "image sizes %d and %d bytes, want 1–%d each", sizeA, sizeB, MaxImage)
	}
	body := HeaderSize + int(sizeA) + int(sizeB)
	switch {
	case len(data) == body:
		return nil, refuse(ErrUnsigned, "the file ends after the images, where the %d-byte signature should be", SignatureSize)
	case len(data) < body:
		return nil, refuse(ErrNotPackage, "%d bytes, cut short: the header announces images of %d and %d bytes and a signature, %d bytes in all",
			len(data), sizeA, sizeB, body+SignatureSize)
	case len(data) != body+SignatureSize:
		return nil, refuse(ErrNotPackage, "%d bytes, want %d (header, images of %d and %d bytes, signature)",
			len(data), body+SignatureSize, sizeA, sizeB)
	}
	p.Images[SlotA] = Image{Data: data[HeaderSize : HeaderSize+sizeA : HeaderSize+sizeA]}
	p.Images[SlotB] = Image{Data: data[HeaderSize+sizeA : body : body]}
	copy(p.Images[SlotA].SHA256[:], data[offSHAA:])
	copy(p.Images[SlotB].SHA256[:], data[offSHAB:])
	copy(p.Signature[:], data[body:])
	p.signed = data[:body:body]
	if p.Signature == ([SignatureSize]byte{}) {
		return nil, refuse(ErrUnsigned, "the signature is all zeros")
	}
	return p, nil
}

// Open parses and verifies a package: the images against their SHA-256,
// the signature against the trusted keys (the key the package names must
// be among them), and the expiry against now. The error names the check
// that failed (ErrNotPackage, ErrFormat, ErrUnsigned, ErrTampered,
// ErrUnknownKey, ErrExpired). The Package's images are slices of data,
// not copies.
func Open(data []byte, keys []ed25519.PublicKey, now time.Time) (*Package, error) {
	p, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(keys, now); err != nil {
		return nil, err
	}
	return p, nil
}

// Verify makes Open's checks on a package from Parse.
func (p *Package) Verify(keys []ed25519.PublicKey, now time.Time) error {
	for slot, img := range p.Images {
		if sha256.Sum256(img.Data) != img.SHA256 {
			return refuse(ErrTampered, "image %s does not match its SHA-256 in the manifest", SlotName(slot))
		}
	}
	var known []string
	for _, k := range keys {
		id := KeyIDOf(k)
		known = append(known, id.String())
		if id != p.KeyID {
			continue
		}
		if !ed25519.Verify(k, p.signed, p.Signature[:]) {
			return refuse(ErrTampered, "the signature does not verify with key %s, which the package names", id)
		}
		if now.After(p.Expires) {
			return refuse(ErrExpired, "the package expired at %s; it is now %s",
				p.Expires.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		return nil
	}
	if len(keys) == 0 {
		return refuse(ErrUnknownKey, "key %s, and no public key is configured", p.KeyID)
	}
	return refuse(ErrUnknownKey, "key %s; trusted: %s", p.KeyID, strings.Join(known, ", "))
}
