package window

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests name zones; do not depend on the machine's zoneinfo

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// spec builds a spec.window; days are given as "Mon,Fri" (empty: absent).
func spec(days, start, end, zone string) *upgradev1alpha1.MaintenanceWindow {
	s := &upgradev1alpha1.MaintenanceWindow{Start: start, End: end, TimeZone: zone}
	for d := range strings.SplitSeq(days, ",") {
		if d == "" {
			continue
		}
		for name := range weekdays {
			if strings.HasPrefix(string(name), d) {
				s.Days = append(s.Days, name)
			}
		}
	}
	return s
}

// mustParse parses s or fails the test.
func mustParse(t *testing.T, s *upgradev1alpha1.MaintenanceWindow) *Window {
	t.Helper()
	w, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%+v): %v", s, err)
	}
	return w
}

// at reads "2006-01-02 15:04:05" in zone.
func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation(time.DateTime, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// utc reads "2006-01-02 15:04:05" in UTC.
func utc(t *testing.T, s string) time.Time { return at(t, "UTC", s) }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    *upgradev1alpha1.MaintenanceWindow
		wantErr string // "" for success
	}{
		{"every day, default zone", spec("", "22:00", "04:00", ""), ""},
		{"listed days in a zone", spec("Mon,Wed", "00:00", "23:59", "America/New_York"), ""},
		{"a day listed twice is harmless", &upgradev1alpha1.MaintenanceWindow{
			Days: []upgradev1alpha1.Weekday{"Monday", "Monday"}, Start: "01:00", End: "02:00"}, ""},
		{"unknown day", &upgradev1alpha1.MaintenanceWindow{Days: []upgradev1alpha1.Weekday{"Monday", "Funday"}, Start: "01:00", End: "02:00"},
			`spec.window.days[1]: "Funday" is not a day of the week`},
		{"lower-case day", &upgradev1alpha1.MaintenanceWindow{Days: []upgradev1alpha1.Weekday{"monday"}, Start: "01:00", End: "02:00"},
			`spec.window.days[0]: "monday"`},
		{"start 24:00", spec("", "24:00", "04:00", ""), `spec.window.start: "24:00" is not a time of day`},
		{"start without a leading zero", spec("", "9:00", "17:00", ""), `spec.window.start: "9:00"`},
		{"start with seconds", spec("", "09:00:00", "17:00", ""), `spec.window.start: "09:00:00"`},
		{"end 12:60", spec("", "09:00", "12:60", ""), `spec.window.end: "12:60" is not a time of day`},
		{"end empty", spec("", "09:00", "", ""), `spec.window.end: ""`},
		{"start equals end", spec("", "09:00", "09:00", ""), "spec.window.end: must differ from spec.window.start (both are 09:00)"},
		{"unknown zone", spec("", "09:00", "17:00", "Mars/Olympus"), `spec.window.timeZone: unknown time zone "Mars/Olympus"`},
		{"zone with dots", spec("", "09:00", "17:00", "../etc/passwd"), `spec.window.timeZone: unknown time zone "../etc/passwd"`},
		{"Local", spec("", "09:00", "17:00", "Local"), `spec.window.timeZone: "Local" is not an IANA time zone name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Parse(tc.spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.wantErr == "" && w == nil:
				t.Fatal("Parse returned no window")
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Parse accepted it: %+v", w)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
	if w, err := Parse(nil); w != nil || err != nil {
		t.Fatalf("Parse(nil) = %v, %v; want no window and no error", w, err)
	}
	if w := mustParse(t, spec("", "01:00", "02:00", "")); w.Location() != time.UTC {
		t.Fatalf("the default zone is %v, want UTC", w.Location())
	}
}

// probe is one instant and whether the window is open then.
type probe struct {
	when string // "2006-01-02 15:04:05" in the window's zone, or with a Z suffix in UTC
	open bool
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   *upgradev1alpha1.MaintenanceWindow
		probes []probe
	}{
		{"office hours on weekdays: start inclusive, end exclusive", spec("Mon,Tue,Wed,Thu,Fri", "09:00", "17:00", "Europe/Berlin"), []probe{
			{"2030-01-07 08:59:59", false}, // Monday
			{"2030-01-07 09:00:00", true},
			{"2030-01-07 12:00:00", true},
			{"2030-01-07 16:59:59", true},
			{"2030-01-07 17:00:00", false},
			{"2030-01-07 08:00:00Z", true}, // 09:00 CET
			{"2030-01-07 16:00:00Z", false},
			{"2030-01-11 16:30:00", true},  // Friday
			{"2030-01-12 12:00:00", false}, // Saturday
			{"2030-01-13 12:00:00", false}, // Sunday
		}},
		{"past midnight belongs to the day it starts", spec("Fri", "22:00", "04:00", "UTC"), []probe{
			{"2030-01-11 21:59:59", false}, // Friday
			{"2030-01-11 22:00:00", true},
			{"2030-01-11 23:59:59", true},
			{"2030-01-12 00:00:00", true}, // Saturday, still Friday's opening
			{"2030-01-12 03:59:59", true},
			{"2030-01-12 04:00:00", false},
			{"2030-01-12 22:00:00", false}, // Saturday is not listed
			{"2030-01-11 03:00:00", false}, // Thursday's would-be opening
			{"2030-01-10 22:00:00", false},
		}},
		{"an end of 00:00 is midnight", spec("Mon", "22:00", "00:00", "UTC"), []probe{
			{"2030-01-07 21:59:59", false},
			{"2030-01-07 22:00:00", true},
			{"2030-01-07 23:59:59", true},
			{"2030-01-08 00:00:00", false},
		}},
		{"a start of 00:00", spec("Tue", "00:00", "01:00", "UTC"), []probe{
			{"2030-01-07 23:59:59", false},
			{"2030-01-08 00:00:00", true},
			{"2030-01-08 00:59:59", true},
			{"2030-01-08 01:00:00", false},
		}},
		{"nearly all day, every day: one minute closed", spec("", "00:00", "23:59", "Asia/Kolkata"), []probe{
			{"2030-01-07 23:58:59", true},
			{"2030-01-07 23:59:00", false},
			{"2030-01-07 18:29:30Z", false}, // 23:59:30 IST
			{"2030-01-08 00:00:00", true},
		}},
		// Europe/Berlin, Sunday 30 March 2025: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
		{"spring forward: a start the clock skips falls on the jump", spec("", "02:30", "04:00", "Europe/Berlin"), []probe{
			{"2025-03-30 00:59:59Z", false}, // 01:59:59 CET
			{"2025-03-30 01:00:00Z", true},  // 03:00 CEST
			{"2025-03-30 01:59:59Z", true},
			{"2025-03-30 02:00:00Z", false}, // 04:00 CEST
			{"2025-03-29 01:30:00Z", true},  // 02:30 CET the day before
			{"2025-03-31 00:30:00Z", true},  // 02:30 CEST the day after
			{"2025-03-31 00:29:59Z", false},
		}},
		{"spring forward: an end the clock skips falls on the jump", spec("", "01:00", "02:30", "Europe/Berlin"), []probe{
			{"2025-03-29 23:59:59Z", false},
			{"2025-03-30 00:00:00Z", true},  // 01:00 CET
			{"2025-03-30 00:59:59Z", true},  // 01:59:59 CET
			{"2025-03-30 01:00:00Z", false}, // 03:00 CEST
		}},
		// Europe/Berlin, Sunday 26 October 2025: 03:00 CEST falls back to 02:00 CET (01:00 UTC).
		{"fall back: a start shown twice is its first showing, and the opening is one stretch", spec("", "02:30", "03:30", "Europe/Berlin"), []probe{
			{"2025-10-26 00:29:59Z", false},
			{"2025-10-26 00:30:00Z", true}, // first 02:30, CEST
			{"2025-10-26 01:00:00Z", true}, // 02:00 CET: the clock shows less than the start again
			{"2025-10-26 01:15:00Z", true},
			{"2025-10-26 02:29:59Z", true},  // 03:29:59 CET
			{"2025-10-26 02:30:00Z", false}, // 03:30 CET: two hours after it opened
		}},
		{"fall back: an end shown twice is its first showing, and the window does not reopen", spec("", "01:00", "02:30", "Europe/Berlin"), []probe{
			{"2025-10-25 23:00:00Z", true},  // 01:00 CEST
			{"2025-10-26 00:29:59Z", true},  // 02:29:59 CEST
			{"2025-10-26 00:30:00Z", false}, // first 02:30
			{"2025-10-26 01:00:00Z", false}, // 02:00 CET, shown again
			{"2025-10-26 01:29:59Z", false},
		}},
		// America/New_York, Sunday 9 March 2025: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
		{"spring forward: an opening entirely in the skipped hour does not open", spec("Sun", "02:00", "02:30", "America/New_York"), []probe{
			{"2025-03-09 06:59:59Z", false},
			{"2025-03-09 07:00:00Z", false},
			{"2025-03-09 07:30:00Z", false},
			{"2025-03-16 06:00:00Z", true}, // 02:00 EDT the next Sunday
		}},
		// America/Santiago, Sunday 7 September 2025: 00:00 -04 jumps to 01:00 -03 (04:00 UTC).
		{"spring forward at midnight: an end past midnight falls on the jump", spec("Sat", "23:00", "00:30", "America/Santiago"), []probe{
			{"2025-09-07 02:59:59Z", false},
			{"2025-09-07 03:00:00Z", true}, // Saturday 23:00 -04
			{"2025-09-07 03:59:59Z", true},
			{"2025-09-07 04:00:00Z", false}, // Sunday 01:00 -03
		}},
		{"spring forward at midnight: a start the clock skips opens on that date", spec("Sun", "00:30", "02:00", "America/Santiago"), []probe{
			{"2025-09-07 03:30:00Z", false}, // Saturday 23:30 -04 (time.Date would put 00:30 here)
			{"2025-09-07 04:00:00Z", true},  // Sunday 01:00 -03
			{"2025-09-07 04:59:59Z", true},
			{"2025-09-07 05:00:00Z", false}, // 02:00 -03
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mustParse(t, tc.spec)
			for _, p := range tc.probes {
				when := probeTime(t, w, p.when)
				if got := w.Open(when); got != p.open {
					t.Errorf("Open(%s = %s) = %v, want %v", p.when, when.In(w.loc).Format(time.RFC3339), got, p.open)
				}
			}
		})
	}
}

// probeTime reads a probe's instant: in UTC with a Z suffix, else in the
// window's zone.
func probeTime(t *testing.T, w *Window, s string) time.Time {
	t.Helper()
	if strings.HasSuffix(s, "Z") {
		return utc(t, strings.TrimSuffix(s, "Z"))
	}
	return at(t, w.loc.String(), s)
}

func TestEveryWeekday(t *testing.T) {
	// 2030-01-07 is a Monday.
	names := []upgradev1alpha1.Weekday{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	for i, name := range names {
		w := mustParse(t, &upgradev1alpha1.MaintenanceWindow{Days: []upgradev1alpha1.Weekday{name}, Start: "10:00", End: "11:00", TimeZone: "Europe/Paris"})
		for j := range names {
			day := at(t, "Europe/Paris", "2030-01-07 10:30:00").AddDate(0, 0, j)
			if got, want := w.Open(day), i == j; got != want {
				t.Errorf("days [%s]: Open(%s) = %v, want %v", name, day.Format("Monday"), got, want)
			}
		}
		// From Monday 00:00 the next opening is that day at 10:00.
		monday := at(t, "Europe/Paris", "2030-01-07 00:00:00")
		if got, want := w.NextOpen(monday), at(t, "Europe/Paris", "2030-01-07 10:00:00").AddDate(0, 0, i); !got.Equal(want) {
			t.Errorf("days [%s]: NextOpen(Monday 00:00) = %s, want %s", name, got, want)
		}
	}
}

func TestNextOpenAndClosesAt(t *testing.T) {
	for _, tc := range []struct {
		name             string
		spec             *upgradev1alpha1.MaintenanceWindow
		now              string // each as probe.when reads it
		nextOpen, closes string // closes: "" when closed at now (ClosesAt is now)
	}{
		{"closed: later today", spec("", "22:00", "04:00", "UTC"), "2030-01-07 12:00:00", "2030-01-07 22:00:00", ""},
		{"closed: one second before the start", spec("", "22:00", "04:00", "UTC"), "2030-01-07 21:59:59", "2030-01-07 22:00:00", ""},
		{"open at the start", spec("", "22:00", "04:00", "UTC"), "2030-01-07 22:00:00", "2030-01-07 22:00:00", "2030-01-08 04:00:00"},
		{"open past midnight", spec("", "22:00", "04:00", "UTC"), "2030-01-08 01:00:00", "2030-01-08 01:00:00", "2030-01-08 04:00:00"},
		{"closed at the end: tonight", spec("", "22:00", "04:00", "UTC"), "2030-01-08 04:00:00", "2030-01-08 22:00:00", ""},
		{"closed on Saturday: next Friday", spec("Fri", "22:00", "04:00", "UTC"), "2030-01-12 04:00:00", "2030-01-18 22:00:00", ""},
		{"closed on Friday morning: tonight", spec("Fri", "22:00", "04:00", "UTC"), "2030-01-11 09:00:00", "2030-01-11 22:00:00", ""},
		{"closed after this week's only opening: in a week", spec("Wed", "09:00", "10:00", "Asia/Tokyo"), "2030-01-09 10:00:00", "2030-01-16 09:00:00", ""},
		{"in a zone: the opening is local", spec("Mon", "22:00", "23:00", "Europe/Berlin"), "2030-01-07 12:00:00", "2030-01-07 22:00:00", ""},
		{"across spring forward: a skipped start opens at the jump", spec("", "02:30", "04:00", "Europe/Berlin"),
			"2025-03-30 00:00:00", "2025-03-30 03:00:00", ""},
		{"across spring forward: a skipped end closes at the jump", spec("", "01:00", "02:30", "Europe/Berlin"),
			"2025-03-30 01:30:00", "2025-03-30 01:30:00", "2025-03-30 03:00:00"},
		// 02:30 is shown twice; time.ParseInLocation reads it as the second.
		{"across fall back: opens at the first 02:30", spec("", "02:30", "03:30", "Europe/Berlin"),
			"2025-10-26 00:00:00", "2025-10-26 00:30:00Z", ""},
		{"across fall back: open two hours", spec("", "02:30", "03:30", "Europe/Berlin"),
			"2025-10-26 00:30:00Z", "2025-10-26 00:30:00Z", "2025-10-26 03:30:00"},
		{"an opening the clock skips entirely is passed over", spec("Sun", "02:00", "02:30", "America/New_York"),
			"2025-03-08 12:00:00", "2025-03-16 02:00:00", ""},
		// Pacific/Apia skipped Friday 30 December 2011, going from -10 to +14.
		{"a skipped date has no opening", spec("Fri", "09:00", "17:00", "Pacific/Apia"),
			"2011-12-29 12:00:00", "2012-01-06 09:00:00", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mustParse(t, tc.spec)
			now := probeTime(t, w, tc.now)
			if got, want := w.NextOpen(now), probeTime(t, w, tc.nextOpen); !got.Equal(want) {
				t.Errorf("NextOpen(%s) = %s, want %s", tc.now, got.In(w.loc), want)
			}
			want := now
			if tc.closes != "" {
				want = probeTime(t, w, tc.closes)
			}
			if got := w.ClosesAt(now); !got.Equal(want) {
				t.Errorf("ClosesAt(%s) = %s, want %s", tc.now, got.In(w.loc), want)
			}
		})
	}
}

func TestClosesAtJoinsOpeningsThatTouch(t *testing.T) {
	// Every day 02:30 to 02:15 the next day: a quarter of an hour closed,
	// except across Berlin's spring forward, where Saturday's opening ends
	// (02:15 skipped) at the jump, the very instant Sunday's opens (02:30
	// skipped): one stretch until Monday 02:15.
	w := mustParse(t, spec("", "02:30", "02:15", "Europe/Berlin"))
	now := at(t, "Europe/Berlin", "2025-03-29 12:00:00")
	if got, want := w.ClosesAt(now), at(t, "Europe/Berlin", "2025-03-31 02:15:00"); !got.Equal(want) {
		t.Fatalf("ClosesAt = %s, want %s", got, want)
	}
	if got, want := w.ClosesAt(at(t, "Europe/Berlin", "2025-03-27 12:00:00")), at(t, "Europe/Berlin", "2025-03-28 02:15:00"); !got.Equal(want) {
		t.Fatalf("on an ordinary day ClosesAt = %s, want %s", got, want)
	}
}

func TestFormat(t *testing.T) {
	berlin := mustParse(t, spec("", "22:00", "04:00", "Europe/Berlin"))
	if got, want := berlin.Format(utc(t, "2030-01-07 21:00:00")), "Mon 2030-01-07 22:00 CET (21:00 UTC)"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if got, want := berlin.Format(utc(t, "2030-01-07 23:30:00")), "Tue 2030-01-08 00:30 CET (2030-01-07 23:30 UTC)"; got != want {
		t.Errorf("Format across midnight = %q, want %q", got, want)
	}
	if got, want := mustParse(t, spec("", "22:00", "04:00", "")).Format(utc(t, "2030-01-07 22:00:00")), "Mon 2030-01-07 22:00 UTC"; got != want {
		t.Errorf("Format in UTC = %q, want %q", got, want)
	}
}
