package modbus

// crcTable is the byte-wise table of CRC-16/MODBUS (reflected polynomial
// 0xA001, initial value 0xFFFF, no final XOR).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC16 returns the CRC-16/MODBUS of b. On the wire it follows the frame
// low byte first. CRC16([]byte("123456789")) is 0x4B37.
func CRC16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, x := range b {
		crc = crc>>8 ^ crcTable[byte(crc)^x]
	}
	return crc
}

// crcOK reports whether frame (address … CRC) ends with its own CRC.
func crcOK(frame []byte) bool {
	n := len(frame)
	if n < 4 {
		return false
	}
	c := CRC16(frame[:n-2])
	return frame[n-2] == byte(c) && frame[n-1] == byte(c>>8)
}
