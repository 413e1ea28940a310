package modbus

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func seedFrames(f *testing.F, responses bool) {
	for name, fr := range goldenFramesForFuzz() {
		isResp := name[len(name)-3:] == "rsp" || name[:3] == "exc"
		if isResp == responses {
			f.Add(fr[1 : len(fr)-2])
		}
	}
}

// goldenFramesForFuzz is goldenFrames without a *testing.T.
func goldenFramesForFuzz() map[string][]byte {
	t := &testing.T{}
	return goldenFrames(t)
}

// FuzzDecodeRequest: the device-side decoder never panics; what it
// accepts encodes back to the same bytes, and what it refuses is an
// exception (which the device answers) or, for an empty PDU, malformed.
func FuzzDecodeRequest(f *testing.F) {
	seedFrames(f, false)
	f.Add([]byte{0x07})
	f.Add([]byte{0x2B, 0x0D})
	f.Fuzz(func(t *testing.T, pdu []byte) {
		r, err := DecodeRequest(pdu)
		if err != nil {
			var e *Exception
			if !errors.As(err, &e) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("% X: error %v is neither exception nor malformed", pdu, err)
			}
			return
		}
		again, err := r.AppendPDU(nil)
		if err != nil {
			t.Fatalf("% X decoded to %+v, which does not encode: %v", pdu, r, err)
		}
		if !bytes.Equal(again, pdu) {
			t.Fatalf("% X decoded and encoded to % X", pdu, again)
		}
	})
}

// FuzzDecodeResponse: the master-side decoder never panics, and what it
// accepts encodes back to the same bytes.
func FuzzDecodeResponse(f *testing.F) {
	seedFrames(f, true)
	f.Fuzz(func(t *testing.T, pdu []byte) {
		r, err := DecodeResponse(pdu)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("% X: error %v is not ErrMalformed", pdu, err)
			}
			return
		}
		again, err := r.AppendPDU(nil)
		if err != nil {
			t.Fatalf("% X decoded to %+v, which does not encode: %v", pdu, r, err)
		}
		if !bytes.Equal(again, pdu) {
			t.Fatalf("% X decoded and encoded to % X", pdu, again)
		}
	})
}

// FuzzRTUReader feeds a byte stream, cut into reads and silences by the
// fuzzer, to both readers: they never panic, end, and every frame they
// return has a good CRC and is a substring of the stream; a good frame
// placed after a silence at the end is always found.
func FuzzRTUReader(f *testing.F) {
	for _, fr := range goldenFramesForFuzz() {
		f.Add(fr, []byte{3, 0, 5})
		f.Add(append([]byte{0, 0xFF}, fr...), []byte{1})
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		if len(stream) > 4096 {
			return
		}
		tail := AppendADU(nil, 7, []byte{0x03, 0x02, 0xBE, 0xEF})
		tailReq := AppendADU(nil, 7, []byte{0x03, 0x00, 0x10, 0x00, 0x01})
		for _, kind := range []frameKind{requests, responses} {
			want := tail
			if kind == requests {
				want = tailReq
			}
			var script [][]byte
			rest := stream
			for i := 0; len(rest) > 0; i++ {
				n := len(rest)
				if len(cuts) > 0 {
					c := cuts[i%len(cuts)]
					if c == 0 {
						script = append(script, nil)
						if i > 4*len(stream)+8 {
							break
						}
						continue
					}
					n = min(int(c), len(rest))
				}
				script = append(script, rest[:n])
				rest = rest[n:]
			}
			// Our closing frame, after two silences (the second forces
			// out whatever the first kept as a possible USB burst).
			script = append(script, nil, nil, want)
			clock := clockwork.NewFakeClock()
			p := &scriptPort{clock: clock, script: script}
			r := newFrameReader(p, kind, DefaultLine.T35(), 10*time.Millisecond, clock)
			var frames [][]byte
			for range 2*len(script) + 8 {
				fr, err := r.ReadFrame(clock.Now().Add(50 * time.Millisecond))
				if errors.Is(err, ErrTimeout) {
					if len(p.script) == 0 {
						break
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if !crcOK(fr) || len(fr) > MaxADU {
					t.Fatalf("frame % X: bad CRC or size", fr)
				}
				all := append(bytes.Clone(stream), want...)
				if !bytes.Contains(all, fr) {
					t.Fatalf("frame % X is not in the stream", fr)
				}
				frames = append(frames, fr)
			}
			if len(frames) == 0 || !bytes.Equal(frames[len(frames)-1], want) {
				// The closing frame may only be lost if the stream's tail
				// swallowed it into a longer good frame.
				if len(frames) == 0 || !bytes.HasSuffix(frames[len(frames)-1], want) {
					t.Fatalf("kind %d: closing frame not found in stream % X cuts % X; frames % X", kind, stream, cuts, frames)
				}
			}
		}
	})
}
