// Package stats computes the service statistics a centre's supervisors
// are judged by, from the queue's event log (package record), and serves
// them: the reports page at /reports/, GET /api/v1/stats as JSON or CSV,
// and server-rendered SVG charts.
//
// The definitions below are the contract; every figure on the page, in
// the JSON and in the CSV means exactly this.
//
// # Tickets and episodes
//
// A ticket is (Day, Ticket). Its life is a sequence of episodes. An
// episode starts when the ticket starts waiting, at Issued.At or, for the
// continuation after a transfer, at Transferred.At; it ends with the
// ticket's next Finished, NoShow, Transferred or Cancelled.
//
//   - wait = the episode's first Called.At − its start; Recalled does not
//     reset it (a Recalled with no Called before it in the episode counts
//     as the first call).
//   - service starts at the episode's first Came.At, or at its first
//     Called.At when no Came was recorded; service time = end.At − service
//     start, for episodes ending Finished or Transferred that had one.
//   - A negative duration (clocks of terminals disagreeing) counts as 0.
//
// # Attribution
//
// An episode belongs to the window and operator of the event that ends it
// (Window 0 and Operator "" are rows of their own, key "": a ticket
// cancelled at the kiosk or by the API has neither), to the service and
// group of that event (for a transfer: before it; when the event has none,
// the service the ticket was issued or transferred to), and to the
// office-local hour of day (0–23) of the episode's start.
//
// A Rated event rates the last episode of that ticket that ended at
// Rated.Window at or before Rated.At, and counts in that episode's row; a
// rating with no such episode counts only in the total. A score outside
// 1..5 is not counted.
//
// # Figures
//
// Per row, and in the total over the whole range:
//
//   - visitors: episodes ended Finished or Transferred (served);
//   - no_shows, transfers (episodes ended Transferred), cancelled;
//   - wait {count, mean_s, median_s, p90_s} over episodes that were called,
//     except those Cancelled with reason not_handed_out (a ticket its
//     kiosk never handed out: nobody waited for it);
//   - service {the same} over served episodes;
//   - ratings {count, mean, dist}: dist[i] is the number of scores i+1.
//
// The median is the middle value, or the mean of the two middle ones; p90
// is the nearest rank (sorted ascending, index ⌈0.9·n⌉−1). Seconds are
// rounded to 0.1, the mean rating to 0.01; with count 0 they are 0.
// Episodes still open when the events end are not counted (open_episodes
// says how many there were), nor are events that contradict what the log
// said before, like a call for a ticket never issued or already finished,
// or a second Issued (ignored_events counts them).
//
// The total adds tickets (distinct tickets issued in the range) and
// served_tickets (distinct tickets with at least one Finished). Every row
// figure sums to the total's, except the ratings that rated nothing; the
// means, medians and percentiles of the total are computed over all the
// range's episodes, not from the rows'.
//
// top_services lists services by the number of Issued events in the range
// (transferred_in: transfers into the service from another one), most
// first, ties by id, at most 20.
//
// # Range and rows
//
// A report covers the events whose Day is within [from, to], both
// inclusive, at most 366 days. Rows are by operator, window, service,
// group or hour, sorted by key: windows and hours numerically, the others
// as strings, the empty key first. A row's name is the operator's display
// name, the window's number, the service's or group's Ukrainian name
// (name_en: the English one), or the hour as "09:00–10:00".
//
// # CSV
//
// WriteCSV writes UTF-8 with a byte order mark, so that Excel opens the
// Cyrillic names correctly rather than guessing a Windows code page; CRLF
// line ends, one header row, one row per key, then the "total" row. A text cell that
// would start with = + - @ is prefixed with ' so a spreadsheet never runs
// it as a formula.
//
// # Page and API
//
// Handler serves GET /reports/ (Ukrainian, English with lang=en), its
// stylesheet /reports/reports.css, and GET /api/v1/stats (the Report as
// JSON, or format=csv as an attachment). A missing from or to is today;
// by defaults to operator. A parameter that cannot be used is 400: on the
// API {"code":"bad_query","error":"by: got \"x\", expected one of …"}, on
// the page the form again with that message. A failing Source is 500
// ("internal", no detail; the cause goes to the log). The page has no
// script and no inline style: its charts are inline SVG with presentation
// attributes, each role="img" with a summary as aria-label, and every
// figure is also in the table. By hour, the visitors chart is columns for
// the hours of day, gaps included, instead of bars.
//
// # A city
//
// ComputeOffices is Compute over several offices' events (a city's
// database): a ticket is (office, Day, Ticket), the hour of day is the
// office's own, rows may be by office, and by operator they are keyed
// "office/account". An office's rows and figures there are exactly its own
// Compute's, and the city's counts are the sums of its offices'.
// CityHandler serves the same page and API at a city service's paths, by
// office by default, with office=id (repeatable, or comma-separated) to
// keep to some offices; an unknown office is 400.
//
// # Memory
//
// Compute reads the events once. A ticket's state is kept while its day
// is one of the two latest days seen (a rating may follow the end of
// service, and an offline kiosk's tickets may arrive after midnight), then
// dropped: memory grows with the tickets of two days and with one 4-byte
// sample per duration, never with the events of the range.
//
// This package never writes the log, and its handler never answers with
// an internal error's text; authentication is its caller's.
package stats
