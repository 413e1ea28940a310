package proto

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// docs/protocol.md has an example of every message type, and every
// example is a message Decode takes.
func TestProtocolDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, block := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1) {
		if bytes.Contains(block[1], []byte("{ ... }")) {
			continue // the envelope's outline
		}
		dec := json.NewDecoder(bytes.NewReader(block[1]))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("example is not JSON: %v\n%s", err, block[1])
			}
			m, err := Decode(raw)
			if err != nil {
				t.Errorf("example does not decode: %v\n%s", err, raw)
				continue
			}
			seen[m.Type]++
		}
	}
	for _, typ := range []string{TypeHello, TypeOutbox, TypeReserve, TypeCheckin, TypeTicketIssued, TypeDeviceStatus, TypeCallShown,
		TypeCallAnnounced, TypeKeypad, TypeRating, TypeTicketWithdrawn, TypeWelcome, TypeAck, TypeRejected, TypeReserved, TypeLease, TypeQueues,
		TypeWindow, TypeCall, TypeRecall, TypeCancel, TypeHallMessage, TypeUpdate, TypeError} {
		if seen[typ] == 0 {
			t.Errorf("docs/protocol.md has no example of %q", typ)
		}
	}
	// The fields the bus terminals use have theirs.
	for _, field := range []string{`"windows": [3, 4]`, `"key": "transfer", "to": 9`, `"refused": "nobody_waiting"`, `"finished": "А011"`} {
		if !strings.Contains(string(doc), field) {
			t.Errorf("docs/protocol.md shows no %s", field)
		}
	}
}
