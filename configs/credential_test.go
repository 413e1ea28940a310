package configs

import (
	"strings"
	"testing"
)

// A credential in server.url would be logged and shown in /healthz with
// the URL: the check refuses it, points at token_file and never echoes it.
func TestServerURLCredentialRefused(t *testing.T) {
	for _, u := range []string{
		"wss://queue.example:8090/api/v1/link?token=s3cr3tvalue",
		"wss://queue.example:8090/api/v1/link?access_token=s3cr3tvalue",
		"wss://kiosk:s3cr3tvalue@queue.example:8090/api/v1/link",
		"wss://s3cr3tvalue@queue.example:8090/api/v1/link",
		"ws://kiosk:s3cr3tvalue@127.0.0.1:8090/api/v1/link",
		"wss://kiosk:s3cr3tvalue@[bad/api/v1/link",
	} {
		yaml := strings.Replace(minimal, "ws://127.0.0.1:8090/api/v1/link", u, 1)
		_, err := ParseTerminal("t.yaml", []byte(yaml))
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		if !strings.Contains(err.Error(), "server.url") || !strings.Contains(err.Error(), "server.token_file") {
			t.Errorf("%s: %v, want server.url and server.token_file named", u, err)
		}
		if strings.Contains(err.Error(), "s3cr3tvalue") {
			t.Errorf("%s: the error shows the secret: %v", u, err)
		}
	}
	// A query without a credential stays allowed.
	yaml := strings.Replace(minimal, "/api/v1/link", "/api/v1/link?v=2", 1)
	if _, err := ParseTerminal("t.yaml", []byte(yaml)); err != nil {
		t.Errorf("plain query refused: %v", err)
	}
}
