package window

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Window is a parsed spec.window. The zero value is not useful; use Parse.
type Window struct {
	// days are the weekdays on which the window opens, by time.Weekday.
	days [7]bool
	// start and end are minutes after midnight.
	start, end int
	loc        *time.Location
}

// weekdays maps the API's day names to Go's weekdays.
var weekdays = map[upgradev1alpha1.Weekday]time.Weekday{
	upgradev1alpha1.Sunday:    time.Sunday,
	upgradev1alpha1.Monday:    time.Monday,
	upgradev1alpha1.Tuesday:   time.Tuesday,
	upgradev1alpha1.Wednesday: time.Wednesday,
	upgradev1alpha1.Thursday:  time.Thursday,
	upgradev1alpha1.Friday:    time.Friday,
	upgradev1alpha1.Saturday:  time.Saturday,
}

// clockPattern is HH:MM on a 24-hour clock, as admission checks it.
var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Parse reads spec.window. A nil spec is no window: Parse returns nil, and
// the caller treats the upgrade as always inside its window. The error
// names the field at fault. Admission refuses most bad values; what it
// cannot judge is the time zone, which must be known to the time zone
// database (the manager embeds one), and must not be "Local", which would
// mean wherever the manager happens to run.
func Parse(spec *upgradev1alpha1.MaintenanceWindow) (*Window, error) {
	if spec == nil {
		return nil, nil
	}
	w := &Window{}
	if len(spec.Days) == 0 {
		w.days = [7]bool{true, true, true, true, true, true, true}
	}
	for i, d := range spec.Days {
		wd, ok := weekdays[d]
		if !ok {
			return nil, fmt.Errorf("spec.window.days[%d]: %q is not a day of the week: use Monday, Tuesday, ... Sunday", i, d)
		}
		w.days[wd] = true
	}
	var err error
	if w.start, err = parseClock("start", spec.Start); err != nil {
		return nil, err
	}
	if w.end, err = parseClock("end", spec.End); err != nil {
		return nil, err
	}
	if w.start == w.end {
		return nil, fmt.Errorf("spec.window.end: must differ from spec.window.start (both are %s)", spec.Start)
	}
	if w.loc, err = loadZone(spec.TimeZone); err != nil {
		return nil, err
	}
	return w, nil
}

// parseClock reads HH:MM as minutes after midnight.
func parseClock(field, s string) (int, error) {
	if !clockPattern.MatchString(s) {
		return 0, fmt.Errorf("spec.window.%s: %q is not a time of day as HH:MM on a 24-hour clock (00:00 to 23:59)", field, s)
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m, nil
}

// loadZone loads an IANA time zone; "" is UTC (the API's default).
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf(`spec.window.timeZone: "Local" is not an IANA time zone name; name the zone, such as Europe/Berlin or UTC`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("spec.window.timeZone: unknown time zone %q: use an IANA time zone name such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

// Location is the window's time zone.
func (w *Window) Location() *time.Location { return w.loc }

// Format writes t as the window's zone shows it and in UTC, for messages:
// "Mon 2030-01-07 22:00 CET (21:00 UTC)"; the UTC date is given when it
// differs. Times are shown to the minute, as windows are set.
func (w *Window) Format(t time.Time) string {
	local := t.In(w.loc).Format("Mon 2006-01-02 15:04 MST")
	if w.loc == time.UTC {
		return local
	}
	utc := t.UTC()
	if utc.Format(time.DateOnly) == t.In(w.loc).Format(time.DateOnly) {
		return local + " (" + utc.Format("15:04 UTC") + ")"
	}
	return local + " (" + utc.Format("2006-01-02 15:04 UTC") + ")"
}
