package modbus

import (
	"encoding/binary"
	"fmt"
)

// Function is a Modbus function code.
type Function byte

// The functions of PROTOCOL.md section 2.
const (
	FuncReadHoldingRegisters   Function = 0x03
	FuncReadInputRegisters     Function = 0x04
	FuncWriteSingleRegister    Function = 0x06
	FuncWriteMultipleRegisters Function = 0x10
	FuncReadFileRecord         Function = 0x14
	FuncWriteFileRecord        Function = 0x15
	FuncEncapsulatedInterface  Function = 0x2B
)

// MEIReadDeviceID is the MEI type of Read Device Identification (0x2B/0x0E).
const MEIReadDeviceID = 0x0E

// Read Device Identification codes.
const (
	DeviceIDBasic      byte = 0x01
	DeviceIDRegular    byte = 0x02
	DeviceIDExtended   byte = 0x03
	DeviceIDIndividual byte = 0x04
)

// Limits from the application protocol specification.
const (
	MaxReadQuantity  = 125    // 03, 04
	MaxWriteQuantity = 123    // 0x10
	MaxFileRecordNum = 0x270F // 0x14, 0x15
	MaxPDU           = 253
	MaxADU           = 256
	fileRefType      = 6
)

func (f Function) String() string {
	switch f {
	case FuncReadHoldingRegisters:
		return "03 read holding registers"
	case FuncReadInputRegisters:
		return "04 read input registers"
	case FuncWriteSingleRegister:
		return "06 write single register"
	case FuncWriteMultipleRegisters:
		return "10 write multiple registers"
	case FuncReadFileRecord:
		return "14 read file record"
	case FuncWriteFileRecord:
		return "15 write file record"
	case FuncEncapsulatedInterface:
		return "2B encapsulated interface"
	}
	return fmt.Sprintf("%02X", byte(f))
}

// FileRecord is one sub-request or sub-response of functions 0x14 and
// 0x15. In a 0x14 request Data is empty and Length says how many
// registers to read; in a 0x14 response only Data is set; in 0x15 both
// ways Length equals len(Data).
type FileRecord struct {
	File   uint16
	Record uint16
	Length uint16
	Data   []uint16
}

// Request is one request PDU, decoded. Which fields matter depends on
// Function:
//
//	03, 04      Address, Quantity
//	06          Address, Values[0]
//	10          Address, Values (Quantity = len(Values))
//	14          Records (File, Record, Length)
//	15          Records (File, Record, Data)
//	2B          MEI; for 0x0E: IDCode, ObjectID
type Request struct {
	Function Function
	Address  uint16
	Quantity uint16
	Values   []uint16
	Records  []FileRecord
	MEI      byte
	IDCode   byte
	ObjectID byte
}

// ReadHolding is a 03 request.
func ReadHolding(addr, qty uint16) Request {
	return Request{Function: FuncReadHoldingRegisters, Address: addr, Quantity: qty}
}

// ReadInput is a 04 request.
func ReadInput(addr, qty uint16) Request {
	return Request{Function: FuncReadInputRegisters, Address: addr, Quantity: qty}
}

// WriteRegister is a 06 request.
func WriteRegister(addr, value uint16) Request {
	return Request{Function: FuncWriteSingleRegister, Address: addr, Quantity: 1, Values: []uint16{value}}
}

// WriteRegisters is a 0x10 request.
func WriteRegisters(addr uint16, values ...uint16) Request {
	return Request{Function: FuncWriteMultipleRegisters, Address: addr, Quantity: uint16(len(values)), Values: values}
}

// ReadFile is a 0x14 request of one record.
func ReadFile(file, record, length uint16) Request {
	return Request{Function: FuncReadFileRecord, Records: []FileRecord{{File: file, Record: record, Length: length}}}
}

// WriteFile is a 0x15 request of one record.
func WriteFile(file, record uint16, data []uint16) Request {
	return Request{Function: FuncWriteFileRecord, Records: []FileRecord{{File: file, Record: record, Length: uint16(len(data)), Data: data}}}
}

// ReadDeviceID is a 0x2B/0x0E request.
func ReadDeviceID(code, object byte) Request {
	return Request{Function: FuncEncapsulatedInterface, MEI: MEIReadDeviceID, IDCode: code, ObjectID: object}
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// AppendPDU appends the request's PDU to dst. It refuses requests outside
// the specification's limits, so nothing malformed goes on the bus.
func (r Request) AppendPDU(dst []byte) ([]byte, error) {
	switch r.Function {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		if r.Quantity < 1 || r.Quantity > MaxReadQuantity {
			return dst, invalid("quantity %d, want 1–%d", r.Quantity, MaxReadQuantity)
		}
		if int(r.Address)+int(r.Quantity) > 0x10000 {
			return dst, invalid("registers %#04x+%d pass 0xFFFF", r.Address, r.Quantity)
		}
		dst = append(dst, byte(r.Function))
		dst = binary.BigEndian.AppendUint16(dst, r.Address)
		return binary.BigEndian.AppendUint16(dst, r.Quantity), nil
	case FuncWriteSingleRegister:
		if len(r.Values) != 1 {
			return dst, invalid("06 takes one value, got %d", len(r.Values))
		}
		dst = append(dst, byte(r.Function))
		dst = binary.BigEndian.AppendUint16(dst, r.Address)
		return binary.BigEndian.AppendUint16(dst, r.Values[0]), nil
	case FuncWriteMultipleRegisters:
		n := len(r.Values)
		if n < 1 || n > MaxWriteQuantity {
			return dst, invalid("quantity %d, want 1–%d", n, MaxWriteQuantity)
		}
		if int(r.Address)+n > 0x10000 {
			return dst, invalid("registers %#04x+%d pass 0xFFFF", r.Address, n)
		}
		dst = append(dst, byte(r.Function))
		dst = binary.BigEndian.AppendUint16(dst, r.Address)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
		dst = append(dst, byte(2*n))
		return appendRegs(dst, r.Values), nil
	case FuncReadFileRecord:
		n := len(r.Records)
		if n < 1 || 7*n > 0xF5 {
			return dst, invalid("%d file sub-requests, want 1–35", n)
		}
		answer := 2
		for _, f := range r.Records {
			if err := checkRecord(f); err != nil {
				return dst, err
			}
			if f.Length < 1 {
				return dst, invalid("file %d record %d: length 0", f.File, f.Record)
			}
			answer += 2 + 2*int(f.Length)
		}
		if answer > MaxPDU {
			return dst, invalid("the answer would be %d bytes, more than a PDU", answer)
		}
		dst = append(dst, byte(r.Function), byte(7*n))
		for _, f := range r.Records {
			dst = appendRecordHeader(dst, f.File, f.Record, f.Length)
		}
		return dst, nil
	case FuncWriteFileRecord:
		size, err := fileWriteSize(r.Records)
		if err != nil {
			return dst, err
		}
		dst = append(dst, byte(r.Function), byte(size))
		for _, f := range r.Records {
			dst = appendRecordHeader(dst, f.File, f.Record, uint16(len(f.Data)))
			dst = appendRegs(dst, f.Data)
		}
		return dst, nil
	case FuncEncapsulatedInterface:
		if r.MEI != MEIReadDeviceID {
			return dst, invalid("MEI type %#02x, only 0x0E", r.MEI)
		}
		if r.IDCode < DeviceIDBasic || r.IDCode > DeviceIDIndividual {
			return dst, invalid("device ID code %d, want 1–4", r.IDCode)
		}
		return append(dst, byte(r.Function), r.MEI, r.IDCode, r.ObjectID), nil
	}
	return dst, invalid("function %s not supported", r.Function)
}

func checkRecord(f FileRecord) error {
	if f.File == 0 {
		return invalid("file number 0")
	}
	if f.Record > MaxFileRecordNum {
		return invalid("record %d above %d", f.Record, MaxFileRecordNum)
	}
	return nil
}

func fileWriteSize(recs []FileRecord) (int, error) {
	if len(recs) < 1 {
		return 0, invalid("no file sub-request")
	}
	size := 0
	for _, f := range recs {
		if err := checkRecord(f); err != nil {
			return 0, err
		}
		if len(f.Data) < 1 || int(f.Length) != len(f.Data) {
			return 0, invalid("file %d record %d: length %d with %d registers", f.File, f.Record, f.Length, len(f.Data))
		}
		size += 7 + 2*len(f.Data)
	}
	if size < 9 || size > 0xFB {
		return 0, invalid("file write of %d bytes, want 9–251", size)
	}
	return size, nil
}

func appendRecordHeader(dst []byte, file, record, length uint16) []byte {
	dst = append(dst, fileRefType)
	dst = binary.BigEndian.AppendUint16(dst, file)
	dst = binary.BigEndian.AppendUint16(dst, record)
	return binary.BigEndian.AppendUint16(dst, length)
}

func appendRegs(dst []byte, v []uint16) []byte {
	for _, x := range v {
		dst = binary.BigEndian.AppendUint16(dst, x)
	}
	return dst
}

func regs(b []byte) []uint16 {
	v := make([]uint16, len(b)/2)
	for i := range v {
		v[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return v
}

// DecodeRequest decodes a request PDU as a device must (the server side).
// A request the device has to refuse comes back as an *[Exception] with
// the code the specification prescribes, for the server to answer with;
// an empty PDU is ErrMalformed (there is nothing to answer).
func DecodeRequest(pdu []byte) (Request, error) {
	if len(pdu) == 0 {
		return Request{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	fn := Function(pdu[0])
	r := Request{Function: fn}
	exc := func(c ExceptionCode) (Request, error) { return r, &Exception{Function: fn, Code: c} }
	be := binary.BigEndian
	switch fn {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		if len(pdu) != 5 {
			return exc(IllegalDataValue)
		}
		r.Address, r.Quantity = be.Uint16(pdu[1:]), be.Uint16(pdu[3:])
		if r.Quantity < 1 || r.Quantity > MaxReadQuantity {
			return exc(IllegalDataValue)
		}
		if int(r.Address)+int(r.Quantity) > 0x10000 {
			return exc(IllegalDataAddress)
		}
		return r, nil
	case FuncWriteSingleRegister:
		if len(pdu) != 5 {
			return exc(IllegalDataValue)
		}
		r.Address, r.Quantity, r.Values = be.Uint16(pdu[1:]), 1, []uint16{be.Uint16(pdu[3:])}
		return r, nil
	case FuncWriteMultipleRegisters:
		if len(pdu) < 6 {
			return exc(IllegalDataValue)
		}
		r.Address, r.Quantity = be.Uint16(pdu[1:]), be.Uint16(pdu[3:])
		n := int(pdu[5])
		if r.Quantity < 1 || r.Quantity > MaxWriteQuantity || n != 2*int(r.Quantity) || len(pdu) != 6+n {
			return exc(IllegalDataValue)
		}
		if int(r.Address)+int(r.Quantity) > 0x10000 {
			return exc(IllegalDataAddress)
		}
		r.Values = regs(pdu[6:])
		return r, nil
	case FuncReadFileRecord:
		if len(pdu) < 2 {
			return exc(IllegalDataValue)
		}
		n := int(pdu[1])
		if n < 7 || n > 0xF5 || n%7 != 0 || len(pdu) != 2+n {
			return exc(IllegalDataValue)
		}
		answer := 2
		for p := pdu[2:]; len(p) > 0; p = p[7:] {
			f := FileRecord{File: be.Uint16(p[1:]), Record: be.Uint16(p[3:]), Length: be.Uint16(p[5:])}
			if p[0] != fileRefType || checkRecord(f) != nil {
				return exc(IllegalDataAddress)
			}
			if f.Length < 1 {
				return exc(IllegalDataValue)
			}
			answer += 2 + 2*int(f.Length)
			r.Records = append(r.Records, f)
		}
		if answer > MaxPDU {
			return exc(IllegalDataValue)
		}
		return r, nil
	case FuncWriteFileRecord:
		if len(pdu) < 2 {
			return exc(IllegalDataValue)
		}
		n := int(pdu[1])
		if n < 9 || n > 0xFB || len(pdu) != 2+n {
			return exc(IllegalDataValue)
		}
		for p := pdu[2:]; len(p) > 0; {
			if len(p) < 7 {
				return exc(IllegalDataValue)
			}
			f := FileRecord{File: be.Uint16(p[1:]), Record: be.Uint16(p[3:]), Length: be.Uint16(p[5:])}
			size := 7 + 2*int(f.Length)
			if f.Length < 1 || len(p) < size {
				return exc(IllegalDataValue)
			}
			if p[0] != fileRefType || checkRecord(f) != nil {
				return exc(IllegalDataAddress)
			}
			f.Data = regs(p[7:size])
			r.Records = append(r.Records, f)
			p = p[size:]
		}
		return r, nil
	case FuncEncapsulatedInterface:
		if len(pdu) < 2 {
			return exc(IllegalDataValue)
		}
		r.MEI = pdu[1]
		if r.MEI != MEIReadDeviceID {
			return exc(IllegalFunction)
		}
		if len(pdu) != 4 {
			return exc(IllegalDataValue)
		}
		r.IDCode, r.ObjectID = pdu[2], pdu[3]
		if r.IDCode < DeviceIDBasic || r.IDCode > DeviceIDIndividual {
			return exc(IllegalDataValue)
		}
		return r, nil
	}
	return exc(IllegalFunction)
}

// DeviceObject is one object of a Read Device Identification answer.
type DeviceObject struct {
	ID    byte
	Value []byte
}

// DeviceID is the body of a 0x2B/0x0E answer.
type DeviceID struct {
	Code        byte
	Conformity  byte
	MoreFollows bool
	NextObject  byte
	Objects     []DeviceObject
}

// Response is one response PDU, decoded. Exception is non-zero for an
// exception response (Function is then the request's function, without
// bit 7). Otherwise, by Function:
//
//	03, 04      Values
//	06          Address, Values[0] (the echo)
//	10          Address, Quantity (the echo)
//	14          Records (Data only)
//	15          Records (the echo)
//	2B/0E       DeviceID
type Response struct {
	Function  Function
	Exception ExceptionCode
	Address   uint16
	Quantity  uint16
	Values    []uint16
	Records   []FileRecord
	DeviceID  DeviceID
}

// Err returns the response's exception as an error, or nil.
func (r Response) Err() error {
	if r.Exception == 0 {
		return nil
	}
	return &Exception{Function: r.Function, Code: r.Exception}
}

// ExceptionResponse is the answer refusing req with code c.
func ExceptionResponse(fn Function, c ExceptionCode) Response {
	return Response{Function: fn, Exception: c}
}

// AppendPDU appends the response's PDU to dst (the server side's encoder).
func (r Response) AppendPDU(dst []byte) ([]byte, error) {
	if r.Exception != 0 {
		if r.Function >= 0x80 {
			return dst, invalid("function %#02x has bit 7 set", byte(r.Function))
		}
		return append(dst, byte(r.Function)|0x80, byte(r.Exception)), nil
	}
	switch r.Function {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		if len(r.Values) < 1 || len(r.Values) > MaxReadQuantity {
			return dst, invalid("%d registers in an answer", len(r.Values))
		}
		dst = append(dst, byte(r.Function), byte(2*len(r.Values)))
		return appendRegs(dst, r.Values), nil
	case FuncWriteSingleRegister:
		if len(r.Values) != 1 {
			return dst, invalid("06 echo takes one value, got %d", len(r.Values))
		}
		dst = append(dst, byte(r.Function))
		dst = binary.BigEndian.AppendUint16(dst, r.Address)
		return binary.BigEndian.AppendUint16(dst, r.Values[0]), nil
	case FuncWriteMultipleRegisters:
		dst = append(dst, byte(r.Function))
		dst = binary.BigEndian.AppendUint16(dst, r.Address)
		return binary.BigEndian.AppendUint16(dst, r.Quantity), nil
	case FuncReadFileRecord:
		size := 0
		for _, f := range r.Records {
			if len(f.Data) < 1 || 1+2*len(f.Data) > 0xFF {
				return dst, invalid("file record answer of %d registers", len(f.Data))
			}
			size += 2 + 2*len(f.Data)
		}
		if len(r.Records) < 1 || size+2 > MaxPDU {
			return dst, invalid("file record answer of %d bytes", size)
		}
		dst = append(dst, byte(r.Function), byte(size))
		for _, f := range r.Records {
			dst = append(dst, byte(1+2*len(f.Data)), fileRefType)
			dst = appendRegs(dst, f.Data)
		}
		return dst, nil
	case FuncWriteFileRecord:
		size, err := fileWriteSize(r.Records)
		if err != nil {
			return dst, err
		}
		dst = append(dst, byte(r.Function), byte(size))
		for _, f := range r.Records {
			dst = appendRecordHeader(dst, f.File, f.Record, uint16(len(f.Data)))
			dst = appendRegs(dst, f.Data)
		}
		return dst, nil
	case FuncEncapsulatedInterface:
		d := r.DeviceID
		more := byte(0)
		if d.MoreFollows {
			more = 0xFF
		}
		if len(d.Objects) > 0xFF {
			return dst, invalid("%d objects", len(d.Objects))
		}
		start := len(dst)
		dst = append(dst, byte(r.Function), MEIReadDeviceID, d.Code, d.Conformity, more, d.NextObject, byte(len(d.Objects)))
		for _, o := range d.Objects {
			if len(o.Value) > 0xFF {
				return dst[:start], invalid("object %d of %d bytes", o.ID, len(o.Value))
			}
			dst = append(dst, o.ID, byte(len(o.Value)))
			dst = append(dst, o.Value...)
		}
		if len(dst)-start > MaxPDU {
			return dst[:start], invalid("identification of %d bytes, more than a PDU", len(dst)-start)
		}
		return dst, nil
	}
	return dst, invalid("function %s not supported", r.Function)
}

func malformed(fn Function, format string, a ...any) error {
	return fmt.Errorf("%w: function %s: %s", ErrMalformed, fn, fmt.Sprintf(format, a...))
}

// DecodeResponse decodes a response PDU (the master side). It checks the
// layout only; whether the answer fits the request is the master's check.
func DecodeResponse(pdu []byte) (Response, error) {
	if len(pdu) == 0 {
		return Response{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	fn := Function(pdu[0])
	be := binary.BigEndian
	if fn&0x80 != 0 {
		fn &^= 0x80
		if len(pdu) != 2 || pdu[1] == 0 {
			return Response{}, malformed(fn, "exception of %d bytes", len(pdu))
		}
		return Response{Function: fn, Exception: ExceptionCode(pdu[1])}, nil
	}
	r := Response{Function: fn}
	switch fn {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		if len(pdu) < 2 {
			return r, malformed(fn, "no byte count")
		}
		n := int(pdu[1])
		if n < 2 || n%2 != 0 || n > 2*MaxReadQuantity || len(pdu) != 2+n {
			return r, malformed(fn, "byte count %d in %d bytes", n, len(pdu))
		}
		r.Values = regs(pdu[2:])
		return r, nil
	case FuncWriteSingleRegister:
		if len(pdu) != 5 {
			return r, malformed(fn, "%d bytes", len(pdu))
		}
		r.Address, r.Quantity, r.Values = be.Uint16(pdu[1:]), 1, []uint16{be.Uint16(pdu[3:])}
		return r, nil
	case FuncWriteMultipleRegisters:
		if len(pdu) != 5 {
			return r, malformed(fn, "%d bytes", len(pdu))
		}
		r.Address, r.Quantity = be.Uint16(pdu[1:]), be.Uint16(pdu[3:])
		return r, nil
	case FuncReadFileRecord:
		if len(pdu) < 2 || int(pdu[1]) != len(pdu)-2 {
			return r, malformed(fn, "byte count")
		}
		for p := pdu[2:]; len(p) > 0; {
			n := int(p[0])
			if n < 3 || n%2 != 1 || len(p) < 1+n || p[1] != fileRefType {
				return r, malformed(fn, "sub-response")
			}
			r.Records = append(r.Records, FileRecord{Data: regs(p[2 : 1+n])})
			p = p[1+n:]
		}
		if len(r.Records) == 0 {
			return r, malformed(fn, "no sub-response")
		}
		return r, nil
	case FuncWriteFileRecord:
		req, err := DecodeRequest(pdu)
		if err != nil {
			return r, malformed(fn, "echo: %v", err)
		}
		r.Records = req.Records
		return r, nil
	case FuncEncapsulatedInterface:
		if len(pdu) < 7 || pdu[1] != MEIReadDeviceID {
			return r, malformed(fn, "header")
		}
		d := DeviceID{Code: pdu[2], Conformity: pdu[3], NextObject: pdu[5]}
		switch pdu[4] {
		case 0x00:
		case 0xFF:
			d.MoreFollows = true
		default:
			return r, malformed(fn, "more-follows %#02x", pdu[4])
		}
		p := pdu[7:]
		for range int(pdu[6]) {
			if len(p) < 2 || len(p) < 2+int(p[1]) {
				return r, malformed(fn, "object list")
			}
			d.Objects = append(d.Objects, DeviceObject{ID: p[0], Value: append([]byte(nil), p[2:2+int(p[1])]...)})
			p = p[2+int(p[1]):]
		}
		if len(p) != 0 {
			return r, malformed(fn, "%d bytes after the objects", len(p))
		}
		r.DeviceID = d
		return r, nil
	}
	return r, malformed(fn, "unknown function")
}
