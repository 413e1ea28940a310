package modbus

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// scriptPort plays a script of reads: each entry is a chunk of bytes, or
// nil for a silence (a Read that times out, moving the clock by the
// timeout). After the script, every Read times out.
type scriptPort struct {
	clock   *clockwork.FakeClock
	script  [][]byte
	timeout time.Duration
	written []byte
}

func (p *scriptPort) Read(b []byte) (int, error) {
	if len(p.script) == 0 || p.script[0] == nil {
		if len(p.script) > 0 {
			p.script = p.script[1:]
		}
		p.clock.Advance(p.timeout)
		return 0, nil
	}
	n := copy(b, p.script[0])
	if n < len(p.script[0]) {
		p.script[0] = p.script[0][n:]
	} else {
		p.script = p.script[1:]
	}
	p.clock.Advance(time.Duration(n) * 500 * time.Microsecond)
	return n, nil
}

func (p *scriptPort) Write(b []byte) (int, error) {
	p.written = append(p.written, b...)
	return len(b), nil
}
func (p *scriptPort) SetReadTimeout(t time.Duration) error { p.timeout = t; return nil }
func (p *scriptPort) Drain() error                         { return nil }

func readAll(t *testing.T, r *FrameReader, clock clockwork.Clock) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		f, err := r.ReadFrame(clock.Now().Add(time.Second))
		if errors.Is(err, ErrTimeout) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
}

func TestFrameReaderResync(t *testing.T) {
	g := goldenFrames(t)
	rsp, rsp2, exc := g["03-rsp"], g["04-rsp"], g["exc-02"]
	bad := bytes.Clone(rsp)
	bad[4] ^= 0xFF
	for _, tc := range []struct {
		name   string
		script [][]byte
		want   [][]byte
	}{
		{"clean", [][]byte{rsp}, [][]byte{rsp}},
		{"byte by byte", split(rsp, 1), [][]byte{rsp}},
		{"two frames back to back", [][]byte{append(bytes.Clone(rsp), rsp2...)}, [][]byte{rsp, rsp2}},
		{"noise byte before", [][]byte{append([]byte{0x00}, rsp...)}, [][]byte{rsp}},
		{"transceiver glitch 0xFF before", [][]byte{append([]byte{0xFF, 0xFF}, exc...)}, [][]byte{exc}},
		{"corrupt then good after silence", [][]byte{bad, nil, rsp}, [][]byte{rsp}},
		{"corrupt then good without silence", [][]byte{append(bytes.Clone(bad), rsp...)}, [][]byte{rsp}},
		// Garbage that looks like the start of a long answer (byte count
		// 0xFA), then silence, then the real answer: the frame that starts
		// at the silence wins.
		{"false long start", [][]byte{{0x01, 0x03, 0xFA, 0x00}, nil, rsp}, [][]byte{rsp}},
		// A USB adapter's gap inside a frame: kept together.
		{"gap inside a frame", [][]byte{rsp[:4], nil, rsp[4:]}, [][]byte{rsp}},
		{"only noise", [][]byte{{1, 2, 3, 4, 5, 6, 7, 8, 9}, nil}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := clockwork.NewFakeClock()
			p := &scriptPort{clock: clock, script: tc.script}
			r := NewResponseReader(p, DefaultLine, clock)
			got := readAll(t, r, clock)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d frames % X, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Errorf("frame %d: % X, want % X", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func split(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

func TestRequestReaderUnknownFunction(t *testing.T) {
	// A request for a function we do not know ends only at silence; the
	// device must still see it to answer exception 01.
	unknown := AppendADU(nil, 1, []byte{0x07})
	next := goldenFrames(t)["03-req"]
	clock := clockwork.NewFakeClock()
	p := &scriptPort{clock: clock, script: [][]byte{unknown, nil, next}}
	r := NewRequestReader(p, DefaultLine, clock)
	got := readAll(t, r, clock)
	if len(got) != 2 || !bytes.Equal(got[0], unknown) || !bytes.Equal(got[1], next) {
		t.Fatalf("got % X", got)
	}
}

func TestFrameReaderCountsGarbage(t *testing.T) {
	clock := clockwork.NewFakeClock()
	rsp := goldenFrames(t)["03-rsp"]
	p := &scriptPort{clock: clock, script: [][]byte{{0xAA, 0xBB, 0xCC}, nil, rsp}}
	r := NewResponseReader(p, DefaultLine, clock)
	readAll(t, r, clock)
	st := r.Stats()
	if st.Frames != 1 || st.GarbageBytes != 3 {
		t.Errorf("stats %+v, want 1 frame and 3 garbage bytes", st)
	}
}
