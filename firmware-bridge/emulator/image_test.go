package emulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
)

// manifest is the 27 registers of file 1 (PROTOCOL.md 10.2) for image,
// hardware revision 1.
func manifest(t emulator.Type, slot int, v emulator.Version, image []byte) []uint16 {
	m := make([]uint16, 27)
	m[0], m[1], m[2], m[3] = 0x4346, 1, uint16(t), 1
	m[4], m[5], m[6] = v[0], v[1], v[2]
	m[7], m[8] = uint16(len(image)>>16), uint16(len(image))
	m[9], m[10] = 128, uint16(slot)
	sum := sha256.Sum256(image)
	for i := range 16 {
		m[11+i] = binary.BigEndian.Uint16(sum[2*i:])
	}
	return m
}

// chunk is file 2 record k: 128 bytes (the last padded with 0xFF) and
// their CRC-32.
func chunk(image []byte, k int) []uint16 {
	page := bytes.Repeat([]byte{0xFF}, 128)
	copy(page, image[min(128*k, len(image)):min(128*(k+1), len(image))])
	out := make([]uint16, 66)
	for i := range 64 {
		out[i] = binary.BigEndian.Uint16(page[2*i:])
	}
	c := crc32.ChecksumIEEE(page)
	out[64], out[65] = uint16(c>>16), uint16(c)
	return out
}

func chunks(image []byte) int { return (len(image) + 127) / 128 }

// testImage is n bytes that look like an image (first word not 0xFFFF),
// with marker inside if given.
func testImage(n int, marker string) []byte {
	b := make([]byte, n)
	var x uint32 = 2463534242
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	b[0], b[1] = 0x0C, 0x94 // an AVR jmp
	copy(b[n/2:], marker)
	return b
}
