package window

import "time"

// date is a calendar date, without a time zone.
type date struct {
	year  int
	month time.Month
	day   int
}

// dateOf is the date t shows in its own location.
func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// add is the date n days later (earlier for negative n).
func (d date) add(n int) date {
	return dateOf(time.Date(d.year, d.month, d.day+n, 0, 0, 0, 0, time.UTC))
}

// weekday is the day of the week of the date.
func (d date) weekday() time.Weekday {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Weekday()
}

// zoneSearch bounds, either side of a wall time read as UTC, the instants
// that can show it: offsets lie within -12h..+14h, and the widest
// daylight-saving or date-line jump is a day.
const zoneSearch = 40 * time.Hour

// period is a stretch of time during which a zone keeps one UTC offset.
// A zero start or end means the stretch is unbounded on that side.
type period struct {
	start, end time.Time
	offset     time.Duration
}

func (p period) contains(t time.Time) bool {
	return (p.start.IsZero() || !t.Before(p.start)) && (p.end.IsZero() || t.Before(p.end))
}

// boundary is the first instant at which loc's clock shows minute (minutes
// after midnight) on date d, or a later time. It is the instant that shows
// exactly that time, the first of two if the clock shows it twice, or, if
// the clock jumps over it, the instant of the jump.
func boundary(d date, minute int, loc *time.Location) time.Time {
	wall := time.Date(d.year, d.month, d.day, minute/60, minute%60, 0, 0, time.UTC)
	periods := periodsAround(wall, loc)
	var first time.Time
	consider := func(t time.Time) {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	for i, p := range periods {
		// The instant that shows wall under this period's offset, if it is
		// in the period.
		if t := wall.Add(-p.offset); p.contains(t) {
			consider(t)
		}
		// A jump forward from the previous period over wall: just before
		// the jump the clock shows less, from the jump on at least wall.
		if i > 0 {
			jump, before := p.start, periods[i-1].offset
			if !jump.Add(before).After(wall) && jump.Add(p.offset).After(wall) {
				consider(jump)
			}
		}
	}
	return first
}

// periodsAround lists loc's offset periods that overlap zoneSearch either
// side of wall (a wall time read as UTC), in order.
func periodsAround(wall time.Time, loc *time.Location) []period {
	var out []period
	for t := wall.Add(-zoneSearch); ; {
		local := t.In(loc)
		_, secs := local.Zone()
		start, end := local.ZoneBounds()
		out = append(out, period{start: start, end: end, offset: time.Duration(secs) * time.Second})
		if end.IsZero() || end.After(wall.Add(zoneSearch)) {
			return out
		}
		t = end
	}
}
