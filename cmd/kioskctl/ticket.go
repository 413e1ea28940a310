package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/kiosk"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/simprinter"
	"github.com/cherga/kiosk/terminal"
)

// ticketRender writes the exact bytes a kiosk would send its printer for
// one ticket, and the simulated printer's picture of those same bytes.
func ticketRender(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ticket render", "ticket render -config FILE -number А123 -service ID [-profile NAME] [-office FILE] -out DIR", stderr)
	configPath := fs.String("config", "/etc/kioskd/kioskd.yaml", "kioskd configuration `file` (printer and ticket layout)")
	officePath := fs.String("office", "configs/office.yaml", "queued's office `file` (centre name, catalogue, tracking address)")
	number := fs.String("number", "А001", "ticket `number`")
	service := fs.String("service", "", "service `id`")
	profile := fs.String("profile", "", "printer profile `id`, instead of the configured one")
	out := fs.String("out", ".", "output `directory`")
	offline := fs.Bool("offline", false, "mark the ticket as issued offline")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *service == "" || fs.NArg() != 0 {
		return usageError(fs, "-service is required and no arguments are taken")
	}
	cfg, err := terminal.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	office, err := configs.LoadOffice(*officePath)
	if err != nil {
		return err
	}
	p := cfg.Kiosk.Printer
	if *profile != "" {
		p.Profile = *profile
	}
	prof, err := printer.LookupProfile(p.Profile)
	if err != nil {
		return err
	}
	var svc *configs.OfficeService
	var ids []string
	for i := range office.Services {
		ids = append(ids, office.Services[i].ID)
		if office.Services[i].ID == *service {
			svc = &office.Services[i]
		}
	}
	if svc == nil {
		sort.Strings(ids)
		return fmt.Errorf("no service %q in %s; services: %s", *service, *officePath, strings.Join(ids, ", "))
	}
	var windows []int
	for _, w := range office.Windows {
		serves := len(w.Serves) == 0
		for _, g := range w.Serves {
			serves = serves || g == svc.Group
		}
		if serves {
			windows = append(windows, w.Number)
		}
	}
	sort.Ints(windows)
	now := time.Now().In(office.Location())
	t := &printer.Ticket{
		Centre: proto.Text(office.Name), Number: *number, Service: proto.Text(svc.Name), IssuedAt: now,
		Windows: windows, Offline: *offline,
		TrackURL: kiosk.TrackURL(proto.Office{ID: office.ID, Timezone: office.Timezone, TrackingURL: office.TrackingURL}, now, *number),
	}
	tpl := printer.Template{Blocks: cfg.Kiosk.Ticket.Blocks, Logo: cfg.Kiosk.Ticket.Logo, Footer: proto.Text(cfg.Kiosk.Ticket.Footer)}
	job, err := printer.Encode(t, tpl, prof, p.PaperMM)
	if err != nil {
		return err
	}
	imgs, err := simprinter.Render(prof, p.PaperMM, job.Bytes)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "ticket.bin"), job.Bytes, 0o644); err != nil {
		return err
	}
	if err := simprinter.WritePNG(filepath.Join(*out, "ticket.png"), imgs[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes (%d of them images), %.1f s at 9600 baud, %.0f mm of paper\n",
		prof.Name, len(job.Bytes), job.RasterBytes, float64(len(job.Bytes))*10/9600, job.LengthMM)
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*out, "ticket.bin"), filepath.Join(*out, "ticket.png"))
	return nil
}

// printerProfiles lists the shipped printer profiles.
func printerProfiles(stdout io.Writer) error {
	for _, id := range printer.ProfileIDs() {
		p, _ := printer.LookupProfile(id)
		var pages []string
		for _, name := range p.Prefer {
			if n, ok := p.CodePages[name]; ok {
				pages = append(pages, fmt.Sprintf("%s=%d", name, n))
			}
		}
		fmt.Fprintf(stdout, "%-15s %s\n  paper %s mm; pages %s; QR %v; cutter %s; status %s\n",
			id, p.Name, strings.Join(p.PaperWidths(), "/"), strings.Join(pages, " "), p.QR, p.Cutter, p.Status)
	}
	return nil
}

// newRoll tells a kiosk a fresh paper roll is in.
func newRoll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("printer new-roll", "printer new-roll [-addr HOST:PORT]", stderr)
	addr := fs.String("addr", defaultAddr, "kioskd's HTTP `address`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	resp, err := request(ctx, http.MethodPost, "http://"+*addr+"/api/v1/printer/new-roll", "")
	if err != nil {
		return fmt.Errorf("printer new-roll: %w", err)
	}
	resp.Body.Close()
	fmt.Fprintln(stdout, i18n.Both("ctl.new_roll.done", "addr", *addr))
	return nil
}
