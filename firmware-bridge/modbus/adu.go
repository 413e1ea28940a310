package modbus

import "fmt"

// BroadcastUnit is the address every device acts on and none answers.
const BroadcastUnit = 0

// AppendADU appends the RTU frame unit, pdu, CRC (low byte first) to dst.
func AppendADU(dst []byte, unit byte, pdu []byte) []byte {
	start := len(dst)
	dst = append(dst, unit)
	dst = append(dst, pdu...)
	c := CRC16(dst[start:])
	return append(dst, byte(c), byte(c>>8))
}

// SplitADU checks an RTU frame's size and CRC and returns its unit and
// PDU. The PDU aliases frame.
func SplitADU(frame []byte) (unit byte, pdu []byte, err error) {
	if len(frame) < 4 || len(frame) > MaxADU {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrFrameSize, len(frame))
	}
	if !crcOK(frame) {
		return 0, nil, ErrCRC
	}
	return frame[0], frame[1 : len(frame)-2], nil
}

// frameKind says which side's frames a byte stream carries: the length of
// a frame follows from its first bytes differently for requests and
// responses.
type frameKind int

const (
	requests frameKind = iota
	responses
)

// frameLength returns the length of the frame that starts at b[0], as far
// as b shows it: n > 0 the whole frame is n bytes; 0 more bytes are needed
// to tell; -1 this cannot start a frame of the kind (for requests: a
// function whose length only silence can tell).
func frameLength(kind frameKind, b []byte) int {
	if len(b) < 2 {
		return 0
	}
	fn := b[1]
	if kind == responses {
		if fn&0x80 != 0 {
			return 5
		}
		switch Function(fn) {
		case FuncReadHoldingRegisters, FuncReadInputRegisters, FuncReadFileRecord, FuncWriteFileRecord:
			if len(b) < 3 {
				return 0
			}
			return 5 + int(b[2])
		case FuncWriteSingleRegister, FuncWriteMultipleRegisters:
			return 8
		case FuncEncapsulatedInterface:
			// unit 2B 0E code conformity more next count {id len value}… crc
			if len(b) < 8 {
				return 0
			}
			if b[2] != MEIReadDeviceID {
				return -1
			}
			p := 8
			for range int(b[7]) {
				if len(b) < p+2 {
					return 0
				}
				p += 2 + int(b[p+1])
				if p > MaxADU {
					return -1
				}
			}
			return p + 2
		}
		return -1
	}
	switch Function(fn) {
	case FuncReadHoldingRegisters, FuncReadInputRegisters, FuncWriteSingleRegister:
		return 8
	case FuncWriteMultipleRegisters:
		if len(b) < 7 {
			return 0
		}
		return 9 + int(b[6])
	case FuncReadFileRecord, FuncWriteFileRecord:
		if len(b) < 3 {
			return 0
		}
		return 5 + int(b[2])
	case FuncEncapsulatedInterface:
		return 7
	}
	return -1
}
