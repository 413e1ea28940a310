package devices

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

func TestCleanScan(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"BK-7Q4M-2Z\r\n", "BK-7Q4M-2Z", nil},
		{"  https://q.example/t/А012 \n", "https://q.example/t/А012", nil},
		{"\r\n", "", ErrScanEmpty},
		{"AB\x00CD", "", ErrScanGarbage},
		{"AB\x1b[2J", "", ErrScanGarbage},
		{"\xff\xfe", "", ErrScanGarbage},
		{strings.Repeat("9", MaxScanBytes+1), "", ErrScanTooLong},
	}
	for _, tt := range tests {
		got, err := CleanScan([]byte(tt.in))
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("CleanScan(%.20q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzCleanScan(f *testing.F) {
	f.Add([]byte("BK-7Q4M-2Z\r\n"))
	f.Add([]byte("\x02]Q1ABC\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, err := CleanScan(b)
		if err != nil {
			return
		}
		if code == "" || len(code) > MaxScanBytes || strings.TrimSpace(code) != code {
			t.Fatalf("accepted %q", code)
		}
	})
}

func TestSimScannerHTTPAndStdin(t *testing.T) {
	s := NewSimScanner()
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, tc := range []struct {
		body, ctype string
		status      int
	}{
		{"BK-1\n", "text/plain", http.StatusAccepted},
		{`{"code":"BK-2"}`, "application/json", http.StatusAccepted},
		{"\x00\x01", "text/plain", http.StatusUnprocessableEntity},
		{`{"code":`, "application/json", http.StatusBadRequest},
	} {
		resp, err := http.Post(ts.URL, tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%q: %s, want %d", tc.body, resp.Status, tc.status)
		}
	}
	if err := s.ReadLines(context.Background(), strings.NewReader("BK-3\n\nBK-4\r\n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BK-1", "BK-2", "BK-3", "BK-4"} {
		if got := <-s.Scans(); got.Code != want {
			t.Errorf("scan %q, want %q", got.Code, want)
		}
	}
	if st := s.Status(); !strings.Contains(st.Detail, "4 codes read, 2 rejected") {
		t.Errorf("status %+v", st)
	}
}

func TestSimScannerNeverBlocks(t *testing.T) {
	s := NewSimScanner()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = s.Feed([]byte("BK-1"))
	}
	if !errors.Is(err, ErrScannerBusy) {
		t.Fatalf("got %v", err)
	}
}

func TestSimPinsPress(t *testing.T) {
	pins := NewSimPins()
	p, _ := pins.Pin("BUTTON")
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if err := pins.Press("BUTTON"); err != nil {
		t.Fatal(err)
	}
	if !p.WaitForEdge(10*time.Second) || p.Read() != gpio.Low {
		t.Fatal("no falling edge")
	}
	if !p.WaitForEdge(10*time.Second) || p.Read() != gpio.High {
		t.Fatal("no release")
	}
	light, _ := pins.Pin("LED")
	_ = light.Out(gpio.High)
	if lv := pins.Levels(); lv["LED"] != "High" || lv["BUTTON"] != "High" {
		t.Errorf("levels %v", lv)
	}
}
