package modbus

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.hex from the encoder")

func TestCRC16CheckValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint16
	}{
		{"123456789", 0x4B37},
		{"", 0xFFFF},
		// The specification's example: 02 07 → CRC 0x1241, sent 41 12.
		{"\x02\x07", 0x1241},
		// A read of 2 holding registers at 0 of unit 1: 01 03 00 00 00 02 C4 0B.
		{"\x01\x03\x00\x00\x00\x02", 0x0BC4},
	} {
		if got := CRC16([]byte(tc.in)); got != tc.want {
			t.Errorf("CRC16(%q) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
	// A frame with its own CRC appended has a CRC of zero.
	f := AppendADU(nil, 1, []byte{3, 0, 0, 0, 2})
	if CRC16(f) != 0 {
		t.Errorf("CRC over a whole frame = %#04x, want 0", CRC16(f))
	}
}

func regsOf(b []byte) []uint16 {
	v := make([]uint16, len(b)/2)
	for i := range v {
		v[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return v
}

// goldenFrames are the worked frames of PROTOCOL.md section 12, built with
// the encoders.
func goldenFrames(t *testing.T) map[string][]byte {
	t.Helper()
	req := func(unit byte, r Request) []byte {
		pdu, err := r.AppendPDU(nil)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		return AppendADU(nil, unit, pdu)
	}
	rsp := func(unit byte, r Response) []byte {
		pdu, err := r.AppendPDU(nil)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		return AppendADU(nil, unit, pdu)
	}
	text := make([]byte, 16)
	copy(text, []byte{0xC0, '1', '2', '3'}) // А123 in CHG-1
	call := append([]uint16{1}, regsOf(text)...)
	call = append(call, 3, 5, 0x0102)
	chunk := make([]byte, 128)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	sum := crc32.ChecksumIEEE(chunk)
	rec := append(regsOf(chunk), uint16(sum>>16), uint16(sum))
	w := WriteFile(2, 0, rec)
	return map[string][]byte{
		"03-req":   req(1, ReadHolding(0, 2)),
		"03-rsp":   rsp(1, Response{Function: FuncReadHoldingRegisters, Values: []uint16{0x1234, 7}}),
		"04-req":   req(2, ReadInput(0, 6)),
		"04-rsp":   rsp(2, Response{Function: FuncReadInputRegisters, Values: []uint16{0, 0x1234, 2, 42, 1, 3}}),
		"06-req":   req(2, WriteRegister(1, 42)),
		"06-rsp":   rsp(2, Response{Function: FuncWriteSingleRegister, Address: 1, Values: []uint16{42}}),
		"06-bcast": req(0, WriteRegister(2, 8)),
		"10-req":   req(1, WriteRegisters(0x0100, call...)),
		"10-rsp":   rsp(1, Response{Function: FuncWriteMultipleRegisters, Address: 0x0100, Quantity: 12}),
		"10-bcast": req(0, WriteRegisters(3, 0x6955, 0xB900, 120)),
		"2b-req":   req(1, ReadDeviceID(DeviceIDBasic, 0)),
		"2b-rsp": rsp(1, Response{Function: FuncEncapsulatedInterface, DeviceID: DeviceID{Code: 1, Conformity: 0x82, Objects: []DeviceObject{
			{0, []byte("cherga")}, {1, []byte("CHG-WD1")}, {2, []byte("1.2.0")}}}}),
		"14-req": req(1, ReadFile(1, 0, 2)),
		"14-rsp": rsp(1, Response{Function: FuncReadFileRecord, Records: []FileRecord{{Data: []uint16{0x4346, 1}}}}),
		"15-req": req(3, w),
		"15-rsp": rsp(3, Response{Function: FuncWriteFileRecord, Records: w.Records}),
		"exc-02": rsp(1, ExceptionResponse(FuncReadHoldingRegisters, IllegalDataAddress)),
		"exc-06": rsp(3, ExceptionResponse(FuncWriteFileRecord, ServerDeviceBusy)),
	}
}

func hexLine(b []byte) string {
	return strings.ToUpper(strings.Join(strings.Fields(strings.TrimSpace(spaced(b))), " "))
}

func spaced(b []byte) string {
	var s strings.Builder
	for i, x := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString([]byte{x}))
	}
	return s.String()
}

func parseHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// TestGoldenFrames checks the encoders against testdata/*.hex, and that
// every golden request and response decodes back to bytes that encode the
// same (the decoders and encoders agree).
func TestGoldenFrames(t *testing.T) {
	for name, frame := range goldenFrames(t) {
		path := filepath.Join("testdata", name+".hex")
		if *update {
			if err := os.WriteFile(path, []byte(hexLine(frame)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if want := parseHex(t, string(data)); !bytes.Equal(frame, want) {
			t.Errorf("%s:\n got % X\nwant % X", name, frame, want)
		}
		unit, pdu, err := SplitADU(frame)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var again []byte
		if strings.HasSuffix(name, "-rsp") || strings.HasPrefix(name, "exc") {
			r, err := DecodeResponse(pdu)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, _ = r.AppendPDU(nil)
		} else {
			r, err := DecodeRequest(pdu)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, _ = r.AppendPDU(nil)
		}
		if got := AppendADU(nil, unit, again); !bytes.Equal(got, frame) {
			t.Errorf("%s: decode+encode gives % X", name, got)
		}
	}
}

// TestProtocolDocFrames keeps PROTOCOL.md section 12 equal to the golden
// files: the emulator and the firmware are written from the document.
func TestProtocolDocFrames(t *testing.T) {
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- frames: name = hex -->\n```\n(.*?)```").FindSubmatch(doc)
	if block == nil {
		t.Fatal("PROTOCOL.md: no frames block")
	}
	golden := goldenFrames(t)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(block[1])), "\n") {
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok {
			t.Fatalf("PROTOCOL.md: frame line %q", line)
		}
		seen[name] = true
		want, ok := golden[name]
		if !ok {
			t.Errorf("PROTOCOL.md: frame %s has no golden file", name)
			continue
		}
		if strings.HasPrefix(value, "(") { // "(the same bytes as …)"
			continue
		}
		if got := parseHex(t, value); !bytes.Equal(got, want) {
			t.Errorf("PROTOCOL.md %s:\n doc % X\ncode % X", name, got, want)
		}
	}
	for name := range golden {
		if !seen[name] {
			t.Errorf("PROTOCOL.md lacks frame %s", name)
		}
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, r := range []Request{
		ReadHolding(0, 1),
		ReadHolding(0xFF83, 125),
		ReadInput(0x0020, 16),
		WriteRegister(0x0002, 15),
		WriteRegisters(0x0100, make([]uint16, 123)...),
		ReadFile(1, 0, 27),
		{Function: FuncReadFileRecord, Records: []FileRecord{{File: 4, Record: 1, Length: 2}, {File: 3, Record: 9, Length: 2}}},
		WriteFile(2, 111, make([]uint16, 66)),
		ReadDeviceID(DeviceIDIndividual, 5),
	} {
		pdu, err := r.AppendPDU(nil)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		got, err := DecodeRequest(pdu)
		if err != nil {
			t.Fatalf("% X: %v", pdu, err)
		}
		if r.Function == FuncWriteMultipleRegisters || r.Function == FuncWriteSingleRegister {
			r.Quantity = uint16(len(r.Values))
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

func TestRequestLimits(t *testing.T) {
	for _, r := range []Request{
		ReadHolding(0, 0),
		ReadHolding(0, 126),
		ReadInput(0xFFFF, 2),
		WriteRegisters(0),
		WriteRegisters(0, make([]uint16, 124)...),
		ReadFile(0, 0, 1),
		ReadFile(1, 10000, 1),
		ReadFile(1, 0, 125),
		WriteFile(1, 0, make([]uint16, 123)),
		ReadDeviceID(5, 0),
		{Function: 0x07},
	} {
		if _, err := r.AppendPDU(nil); err == nil {
			t.Errorf("%+v: encoded, want refused", r)
		}
	}
}

// TestDecodeRequestExceptions: what a device must answer to requests it
// refuses (application protocol specification, each function's state
// diagram).
func TestDecodeRequestExceptions(t *testing.T) {
	for _, tc := range []struct {
		pdu  string
		want ExceptionCode
	}{
		{"07", IllegalFunction},
		{"2B0D0100", IllegalFunction},
		{"0300000000", IllegalDataValue},   // quantity 0
		{"030000007E", IllegalDataValue},   // quantity 126
		{"03FFFF0002", IllegalDataAddress}, // past 0xFFFF
		{"04000000", IllegalDataValue},     // short
		{"1000000002030001", IllegalDataValue},
		{"140706000100000000", IllegalDataValue}, // record length 0
		{"140707000100000001", IllegalDataAddress},
		{"140706000027100001", IllegalDataAddress}, // record 10000
		{"2B0E0500", IllegalDataValue},
	} {
		_, err := DecodeRequest(parseHex(t, tc.pdu))
		if !IsException(err, tc.want) {
			t.Errorf("%s: %v, want exception %s", tc.pdu, err, tc.want)
		}
	}
}

func TestFrameLength(t *testing.T) {
	g := goldenFrames(t)
	for name, f := range g {
		kind := requests
		if strings.HasSuffix(name, "-rsp") || strings.HasPrefix(name, "exc") {
			kind = responses
		}
		for i := range len(f) {
			if n := frameLength(kind, f[:i]); n != 0 && n != len(f) {
				t.Errorf("%s: after %d bytes length %d, want 0 or %d", name, i, n, len(f))
			}
		}
		if n := frameLength(kind, f); n != len(f) {
			t.Errorf("%s: length %d, want %d", name, n, len(f))
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		in       string
		t15, t35 string
		str      string
	}{
		{"9600 8E1", "1.71875ms", "4.010416ms", "9600 8E1"},
		{"19200", "859.375µs", "2.005208ms", "19200 8E1"},
		{"19200,8N2", "859.375µs", "2.005208ms", "19200 8N2"},
		{"115200 8N1", "750µs", "1.75ms", "115200 8N1"},
	} {
		l, err := ParseLine(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if l.T15().String() != tc.t15 || l.T35().String() != tc.t35 || l.String() != tc.str {
			t.Errorf("%s: t1.5 %v t3.5 %v %q", tc.in, l.T15(), l.T35(), l)
		}
	}
	for _, bad := range []string{"", "fast", "19200 7E1", "19200 8X1", "19200 8E3"} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) accepted", bad)
		}
	}
}
