// Package apitest is what tests of the project's HTTP APIs share: one
// request with a JSON body and headers (Host among them, as a browser on
// another site or a rebinding DNS name would send it), its answer read
// whole.
package apitest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Answer is a response read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends method to url with body (as application/json when not empty)
// and the headers in hdr; a "Host" entry sets the request's Host. A
// transport error fails the test.
func Do(t testing.TB, method, url, body string, hdr map[string]string) Answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}
