package city

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// eventDecoder turns Events' rows into OfficeEvents. A city's year is
// millions of rows, so when the rows come in PostgreSQL's binary format
// (pgx's default) it decodes the wire bytes itself and reuses the strings
// that repeat (offices, types, services, tickets…): a few times faster
// than Scan, and next to no garbage. Other formats (a DSN with
// default_query_exec_mode=simple_protocol) go through Scan.
type eventDecoder struct {
	binary  bool
	strings map[string]string
	days    map[int32]string
}

// eventsColumns is how many columns Events selects.
const eventsColumns = 19

func newEventDecoder(fds []pgconn.FieldDescription) *eventDecoder {
	d := &eventDecoder{binary: len(fds) == eventsColumns, strings: map[string]string{}, days: map[int32]string{}}
	// Text columns come as text either way (the bytes are the same); the
	// others must be binary.
	for _, i := range []int{1, 2, 3, 8, 13, 15, 16, 17, 18} {
		if d.binary && fds[i].Format != pgx.BinaryFormatCode {
			d.binary = false
		}
	}
	return d
}

// pgEpoch is PostgreSQL's time zero, in microseconds since Unix's.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

var errWire = errors.New("unexpected wire value")

func (d *eventDecoder) decode(rows pgx.Rows, oe *OfficeEvent) error {
	if !d.binary {
		return d.scan(rows, oe)
	}
	v := rows.RawValues()
	if len(v) != eventsColumns || len(v[1]) != 8 || len(v[2]) != 8 || len(v[3]) != 4 || v[0] == nil || v[4] == nil {
		return errWire
	}
	e := &oe.Event
	oe.Office = d.str(v[0])
	e.Seq = binary.BigEndian.Uint64(v[1])
	e.At = time.UnixMicro(pgEpoch + int64(binary.BigEndian.Uint64(v[2])))
	e.Day = d.day(int32(binary.BigEndian.Uint32(v[3])))
	e.Type = d.str(v[4])
	e.Ticket, e.Service, e.Group = d.str(v[5]), d.str(v[6]), d.str(v[7])
	e.Window = int32At(v[8])
	e.Operator, e.Terminal, e.ToService, e.ToGroup = d.str(v[9]), d.str(v[10]), d.str(v[11]), d.str(v[12])
	e.ToWindow = int32At(v[13])
	e.Reason = d.str(v[14])
	e.Score = 0
	if len(v[15]) == 2 {
		e.Score = int(int16(binary.BigEndian.Uint16(v[15])))
	}
	e.Priority = int32At(v[16])
	e.Booked = len(v[17]) == 1 && v[17][0] != 0
	e.Offline = len(v[18]) == 1 && v[18][0] != 0
	return nil
}

func int32At(b []byte) int {
	if len(b) != 4 {
		return 0 // NULL
	}
	return int(int32(binary.BigEndian.Uint32(b)))
}

// str is b as a string, the same string each time b's bytes repeat.
func (d *eventDecoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.strings[string(b)]; ok {
		return s
	}
	if len(d.strings) > 1<<16 { // a bound, for columns that do not repeat
		clear(d.strings)
	}
	s := string(b)
	d.strings[s] = s
	return s
}

func (d *eventDecoder) day(n int32) string {
	if s, ok := d.days[n]; ok {
		return s
	}
	s := time.UnixMicro(pgEpoch + int64(n)*86400e6).UTC().Format(time.DateOnly)
	d.days[n] = s
	return s
}

// scan is decode for rows in text format.
func (d *eventDecoder) scan(rows pgx.Rows, oe *OfficeEvent) error {
	var (
		seq                                                         int64
		day                                                         time.Time
		ticket, service, grp, operator, terminal, toSvc, toGrp, rsn *string
		win, tow, prio                                              *int32
		score                                                       *int16
		booked, offline                                             *bool
	)
	e := &oe.Event
	if err := rows.Scan(&oe.Office, &seq, &e.At, &day, &e.Type, &ticket, &service, &grp, &win, &operator, &terminal,
		&toSvc, &toGrp, &tow, &rsn, &score, &prio, &booked, &offline); err != nil {
		return err
	}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	i := func(p *int32) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	e.Seq, e.Day = uint64(seq), day.Format(time.DateOnly)
	e.Ticket, e.Service, e.Group, e.Operator, e.Terminal = s(ticket), s(service), s(grp), s(operator), s(terminal)
	e.ToService, e.ToGroup, e.Reason = s(toSvc), s(toGrp), s(rsn)
	e.Window, e.ToWindow, e.Priority = i(win), i(tow), i(prio)
	e.Score = 0
	if score != nil {
		e.Score = int(*score)
	}
	e.Booked = booked != nil && *booked
	e.Offline = offline != nil && *offline
	return nil
}
