package terminal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/cherga/kiosk/kiosk"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// serverForms fetches sample forms from queued's HTTP API, which listens
// where the link does: server.url with http:// for ws:// and https:// for
// wss://, the terminal's token as a bearer and its TLS settings (server
// CA, client certificate), as the link uses them. It is the kiosk's only
// use of that API.
type serverForms struct {
	base   *url.URL // queued's root, http(s)://host:port/prefix/
	token  string
	client *http.Client
}

// formDownloadTimeout bounds the wait for queued's answer to start.
const formDownloadTimeout = 30 * time.Second

// apiBase is queued's HTTP root for a link address: the scheme made
// http(s), the path up to the link's own (/api/v1/link) kept, for a
// queued behind a proxy at a prefix.
func apiBase(linkURL string) (*url.URL, error) {
	u, err := url.Parse(linkURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("server.url %q: expected ws:// or wss://", linkURL)
	}
	path := strings.TrimSuffix(u.Path, "/")
	if i := strings.LastIndex(path, "/api/v1/"); i >= 0 {
		path = path[:i]
	} else {
		path = ""
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path+"/", "", "", ""
	return u, nil
}

func newServerForms(lc link.Config) (*serverForms, error) {
	if err := link.CheckURL(lc.URL); err != nil {
		return nil, fmt.Errorf("server.url: %w", err)
	}
	base, err := apiBase(lc.URL)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = lc.TLS
	tr.Proxy = nil // queued is on the office's network, never behind the kiosk's proxy settings
	tr.ResponseHeaderTimeout = formDownloadTimeout
	return &serverForms{base: base, token: lc.Token, client: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// OpenForm starts the download of f's file; the caller checks what it
// reads against f's hash and size.
func (s *serverForms) OpenForm(ctx context.Context, f proto.Form) (io.ReadCloser, error) {
	u := s.base.JoinPath("api/v1/forms", f.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct {
			Code  string `json:"code"`
			Error string `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&e)
		return nil, fmt.Errorf("GET %s: %s %s %s", u.Redacted(), resp.Status, e.Code, e.Error)
	}
	return resp.Body, nil
}

// openForms makes the kiosk's sample forms: kept in data_dir/forms,
// downloaded from queued, named by the link's snapshot (which the link
// keeps across restarts, so the forms show offline after one too).
func (p *kioskPart) openForms() (*kiosk.Forms, error) {
	lc, err := credentials(p.t.cfg) // read again: New checked them already
	if err != nil {
		return nil, err
	}
	lc.URL = p.t.cfg.Server.URL
	src, err := newServerForms(lc)
	if err != nil {
		return nil, err
	}
	l := p.t.link
	return kiosk.NewForms(kiosk.FormsConfig{
		Dir: filepath.Join(p.t.cfg.DataDir, "forms"), Source: src, Clock: p.t.clock, Log: p.t.log,
		Catalogue: func() *proto.Catalogue {
			if snap := l.Snapshot(); snap != nil {
				return &snap.Catalogue
			}
			return nil
		},
	})
}

// Welcome and Update may name other forms: the download starts in the
// background, so the link's reader is never held up.
func (p *kioskPart) Welcome(*proto.Welcome) { p.forms.Changed() }
func (p *kioskPart) Update(*proto.Update)   { p.forms.Changed() }
