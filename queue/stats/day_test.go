package stats

import (
	"slices"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

// The hand-made day: Monday 2026-11-23 at a small centre, UTC+2.
//
//	operators olena (window 1 all day) and petro (window 2, then window 3 from 10:31)
//	groups    subsidies: subsidy-housing (S1), subsidy-utility (S2)
//	          passports: passport-id (S3), passport-foreign (S4)
//
// Its episodes, with wait = first call − start and service = end − (came,
// or the first call when nobody recorded came):
//
//	ep  ticket    ends with    operator win service group hour  wait  service rating
//	e1  А001      finished     olena    1   S1      subs   9     120   420     5
//	e2  А002      finished     petro    2   S1      subs   9     240   600     4   (no came: service from the call)
//	e3  Б001      finished     olena    1   S3      pass   9     420   900     -   (recalled: wait from the first call)
//	e4  Б002      no_show      olena    1   S3      pass   9     660   -       -   (recalled, then no-show)
//	e5  А003/1    transferred  petro    2   S1      subs   9     600   540     -   (to service S2)
//	e6  А003/2    finished     olena    1   S2      subs   9     900   840     3   (started 09:50, when transferred)
//	e7  Б003/1    transferred  petro    2   S3      pass   10    600   780     -   (to window 3)
//	e8  Б003/2    finished     petro    3   S3      pass   10    900   1140    5
//	e9  А004      cancelled    -        -   S2      subs   10    -     -       -   (cancelled by the API)
//	e10 А005      finished     olena    1   S1      subs   11    300   840     2
//	e11 Б004      finished     petro    3   S4      pass   11    120   720     -
//	e12 А006      finished     olena    1   S2      subs   11    600   840     -   (rated 1 at window 2: rates nothing)
//	e13 А007      finished     olena    1   S1      subs   11    300   540     4
//	    Б005      still waiting at the end (issued 11:50): open, not counted
//
// Besides: window events (ignored), a prioritized event (ignored), a
// rating with score 7 and a call for a ticket never issued (both
// counted in ignored_events), and an event of the day before (outside
// the range).
const testDay = "2026-11-23"

var testLoc = time.FixedZone("EET", 2*60*60)

var testNames = Names{
	Operators: map[string]string{"olena": "Олена Коваль", "petro": "Петро Шевченко"},
	Services: map[string]Name{
		"subsidy-housing":  {UK: "Житлова субсидія", EN: "Housing subsidy"},
		"subsidy-utility":  {UK: "Субсидія на комунальні послуги", EN: "Utility subsidy"},
		"passport-id":      {UK: "ID-картка", EN: "ID card"},
		"passport-foreign": {UK: "Закордонний паспорт", EN: "Passport for travel abroad"},
	},
	Groups: map[string]Name{
		"subsidies": {UK: "Субсидії", EN: "Subsidies"},
		"passports": {UK: "Паспорти", EN: "Passports"},
	},
}

// at is a time of the test day, "HH:MM:SS" office time.
func at(hms string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", testDay+" "+hms, testLoc)
	if err != nil {
		panic(err)
	}
	return t
}

var groupOf = map[string]string{
	"subsidy-housing": "subsidies", "subsidy-utility": "subsidies",
	"passport-id": "passports", "passport-foreign": "passports",
}

// dayEvents returns the test day's events in log order, Seq from 1.
func dayEvents() []record.Event {
	var evs []record.Event
	ev := func(typ, hms, ticket, service string, window int, operator string) *record.Event {
		evs = append(evs, record.Event{At: at(hms), Day: testDay, Type: typ, Ticket: ticket,
			Service: service, Group: groupOf[service], Window: window, Operator: operator})
		return &evs[len(evs)-1]
	}
	const (
		s1, s2, s3, s4 = "subsidy-housing", "subsidy-utility", "passport-id", "passport-foreign"
		o, p           = "olena", "petro"
	)
	win := func(typ, hms string, window int, operator string) {
		evs = append(evs, record.Event{At: at(hms), Day: testDay, Type: typ, Window: window, Operator: operator})
	}
	win(record.SignedIn, "08:55:00", 1, o)
	win(record.SignedIn, "08:58:00", 2, p)

	// А001: called 09:02, came 09:03, finished 09:10, rated 5.
	ev(record.Issued, "09:00:00", "А001", s1, 0, "")
	ev(record.Called, "09:02:00", "А001", s1, 1, o)
	ev(record.Came, "09:03:00", "А001", s1, 1, o)
	ev(record.Finished, "09:10:00", "А001", s1, 1, o)
	ev(record.Rated, "09:10:30", "А001", s1, 1, o).Score = 5
	// А002: no came; called 09:05, finished 09:15, rated 4.
	ev(record.Issued, "09:01:00", "А002", s1, 0, "")
	ev(record.Called, "09:05:00", "А002", s1, 2, p)
	ev(record.Finished, "09:15:00", "А002", s1, 2, p)
	ev(record.Rated, "09:15:20", "А002", s1, 2, p).Score = 4
	// Б001: called 09:12, recalled 09:14, came 09:15, finished 09:30.
	ev(record.Issued, "09:05:00", "Б001", s3, 0, "")
	ev(record.Called, "09:12:00", "Б001", s3, 1, o)
	ev(record.Recalled, "09:14:00", "Б001", s3, 1, o)
	ev(record.Came, "09:15:00", "Б001", s3, 1, o)
	ev(record.Finished, "09:30:00", "Б001", s3, 1, o)
	// Б002: called 09:31, recalled 09:33, no-show 09:35.
	ev(record.Issued, "09:20:00", "Б002", s3, 0, "")
	ev(record.Called, "09:31:00", "Б002", s3, 1, o)
	ev(record.Recalled, "09:33:00", "Б002", s3, 1, o)
	ev(record.NoShow, "09:35:00", "Б002", s3, 1, o)
	// А003: served at window 2 from 09:41, transferred to S2 at 09:50;
	// then called 10:05 at window 1, came 10:06, finished 10:20, rated 3.
	ev(record.Issued, "09:30:00", "А003", s1, 0, "")
	ev(record.Called, "09:40:00", "А003", s1, 2, p)
	ev(record.Came, "09:41:00", "А003", s1, 2, p)
	ev(record.Transferred, "09:50:00", "А003", s1, 2, p).ToService = s2
	ev(record.Called, "10:05:00", "А003", s2, 1, o)
	ev(record.Came, "10:06:00", "А003", s2, 1, o)
	ev(record.Finished, "10:20:00", "А003", s2, 1, o)
	ev(record.Rated, "10:21:00", "А003", s2, 1, o).Score = 3
	// Б003: served at window 2 from 10:12, transferred to window 3 at
	// 10:25; called there 10:40, came 10:41, finished 11:00, rated 5.
	ev(record.Issued, "10:00:00", "Б003", s3, 0, "")
	ev(record.Called, "10:10:00", "Б003", s3, 2, p)
	ev(record.Came, "10:12:00", "Б003", s3, 2, p)
	ev(record.Transferred, "10:25:00", "Б003", s3, 2, p).ToWindow = 3
	win(record.SignedOut, "10:30:00", 2, p)
	win(record.SignedIn, "10:31:00", 3, p)
	ev(record.Called, "10:40:00", "Б003", s3, 3, p)
	ev(record.Came, "10:41:00", "Б003", s3, 3, p)
	ev(record.Finished, "11:00:00", "Б003", s3, 3, p)
	ev(record.Rated, "11:00:30", "Б003", s3, 3, p).Score = 5
	// А004: cancelled by the API at 10:45, never called.
	ev(record.Issued, "10:30:00", "А004", s2, 0, "")
	c := ev(record.Cancelled, "10:45:00", "А004", s2, 0, "")
	c.Terminal, c.Reason = "api", "duplicate"
	// А005: called 11:05, came 11:06, finished 11:20, rated 2.
	ev(record.Issued, "11:00:00", "А005", s1, 0, "")
	ev(record.Prioritized, "11:01:00", "А005", s1, 0, "").Priority = 1
	ev(record.Called, "11:05:00", "А005", s1, 1, o)
	ev(record.Came, "11:06:00", "А005", s1, 1, o)
	ev(record.Finished, "11:20:00", "А005", s1, 1, o)
	ev(record.Rated, "11:20:30", "А005", s1, 1, o).Score = 2
	// Б004: called 11:12 at window 3, came 11:13, finished 11:25.
	ev(record.Issued, "11:10:00", "Б004", s4, 0, "")
	ev(record.Called, "11:12:00", "Б004", s4, 3, p)
	ev(record.Came, "11:13:00", "Б004", s4, 3, p)
	ev(record.Finished, "11:25:00", "Б004", s4, 3, p)
	// А006: called 11:25, came 11:26, finished 11:40 at window 1; rated
	// 1 at window 2, where it never ended an episode.
	ev(record.Issued, "11:15:00", "А006", s2, 0, "")
	ev(record.Called, "11:25:00", "А006", s2, 1, o)
	ev(record.Came, "11:26:00", "А006", s2, 1, o)
	ev(record.Finished, "11:40:00", "А006", s2, 1, o)
	ev(record.Rated, "11:41:00", "А006", s2, 2, p).Score = 1
	// А007: called 11:45, came 11:46, finished 11:55, rated 4; then a
	// second rating with score 7, which cannot be.
	ev(record.Issued, "11:40:00", "А007", s1, 0, "")
	ev(record.Called, "11:45:00", "А007", s1, 1, o)
	ev(record.Came, "11:46:00", "А007", s1, 1, o)
	ev(record.Finished, "11:55:00", "А007", s1, 1, o)
	ev(record.Rated, "11:55:10", "А007", s1, 1, o).Score = 4
	ev(record.Rated, "11:55:20", "А007", s1, 1, o).Score = 7
	// Б005: still waiting when the log ends.
	ev(record.Issued, "11:50:00", "Б005", s3, 0, "")
	// A call for a ticket that was never issued.
	ev(record.Called, "11:56:00", "В999", s3, 3, p)
	win(record.Paused, "11:57:00", 1, o)

	// The day before: outside the range, in no figure.
	evs = append(evs, record.Event{At: at("08:00:00").AddDate(0, 0, -1), Day: "2026-11-22", Type: record.Issued,
		Ticket: "А001", Service: s1, Group: "subsidies"})

	slices.SortStableFunc(evs, func(a, b record.Event) int { return a.At.Compare(b.At) })
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
	}
	return evs
}
