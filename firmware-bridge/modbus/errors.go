package modbus

import (
	"errors"
	"fmt"
)

// Sentinel errors. Wrapped errors keep them reachable with errors.Is.
var (
	// ErrTimeout: no valid answer arrived within the request's timeout.
	ErrTimeout = errors.New("modbus: timeout")
	// ErrMalformed: a PDU that does not follow the function's layout.
	ErrMalformed = errors.New("modbus: malformed PDU")
	// ErrCRC: a frame whose CRC does not match.
	ErrCRC = errors.New("modbus: bad CRC")
	// ErrFrameSize: a frame shorter than 4 or longer than 256 bytes.
	ErrFrameSize = errors.New("modbus: bad frame size")
	// ErrMismatch: an answer for our unit and function that does not match
	// the request (another address, quantity or echo).
	ErrMismatch = errors.New("modbus: answer does not match the request")
	// ErrOffline: the device is backed off; the request was not sent.
	ErrOffline = errors.New("modbus: device offline, backing off")
	// ErrInvalid: a request this package refuses to send (out of the
	// specification's limits).
	ErrInvalid = errors.New("modbus: invalid request")
)

// ExceptionCode is the one byte of an exception response.
type ExceptionCode byte

// The exception codes of the application protocol specification that our
// devices use (PROTOCOL.md section 3), and the ones other makers' devices
// may send.
const (
	IllegalFunction     ExceptionCode = 0x01
	IllegalDataAddress  ExceptionCode = 0x02
	IllegalDataValue    ExceptionCode = 0x03
	ServerDeviceFailure ExceptionCode = 0x04
	Acknowledge         ExceptionCode = 0x05
	ServerDeviceBusy    ExceptionCode = 0x06
	MemoryParityError   ExceptionCode = 0x08
	GatewayPathFailed   ExceptionCode = 0x0A
	GatewayNoResponse   ExceptionCode = 0x0B
)

var exceptionNames = map[ExceptionCode]string{
	IllegalFunction:     "illegal function",
	IllegalDataAddress:  "illegal data address",
	IllegalDataValue:    "illegal data value",
	ServerDeviceFailure: "server device failure",
	Acknowledge:         "acknowledge",
	ServerDeviceBusy:    "server device busy",
	MemoryParityError:   "memory parity error",
	GatewayPathFailed:   "gateway path unavailable",
	GatewayNoResponse:   "gateway target failed to respond",
}

func (c ExceptionCode) String() string {
	if n, ok := exceptionNames[c]; ok {
		return fmt.Sprintf("%02X %s", byte(c), n)
	}
	return fmt.Sprintf("%02X", byte(c))
}

// Exception is an exception response as an error. A server's decoder
// returns one for a request it must refuse; the master returns one for an
// exception answer.
type Exception struct {
	Function Function
	Code     ExceptionCode
}

func (e *Exception) Error() string {
	return fmt.Sprintf("modbus: exception %s to function %s", e.Code, e.Function)
}

// IsException reports whether err is (or wraps) an exception with code c.
func IsException(err error, c ExceptionCode) bool {
	var e *Exception
	return errors.As(err, &e) && e.Code == c
}
