package window

import "time"

// lookBack is how many days before an instant's local date an opening that
// still covers it may have started: one for a window past midnight, one
// more for a daylight-saving jump across midnight.
const lookBack = 2

// lookAhead is how many days NextOpen searches: a week, doubled for a
// zone that skips a listed date, plus the day before.
const lookAhead = 16

// Open reports whether the window is open at t: t is in an opening, from
// its start (inclusive) to its end (exclusive).
func (w *Window) Open(t time.Time) bool {
	_, open := w.covering(t)
	return open
}

// NextOpen is the first instant at or after t at which the window is open:
// t itself while it is open. It returns the zero time only if no opening
// falls in the next two weeks, which no valid window and real zone allows.
func (w *Window) NextOpen(t time.Time) time.Time {
	if w.Open(t) {
		return t
	}
	day := dateOf(t.In(w.loc))
	for i := -1; i <= lookAhead; i++ {
		d := day.add(i)
		if !w.days[d.weekday()] {
			continue
		}
		// Openings start later on later dates, so the first found is the next.
		if from, until := w.opening(d); from.After(t) && from.Before(until) {
			return from
		}
	}
	return time.Time{}
}

// ClosesAt is when the window open at t closes: the end of its opening, or
// of the next one if that starts the very instant this one ends (as a
// daylight-saving jump can make happen). It is t itself while the window is
// closed.
func (w *Window) ClosesAt(t time.Time) time.Time {
	until, open := w.covering(t)
	if !open {
		return t
	}
	for range lookAhead {
		next, open := w.covering(until)
		if !open {
			break
		}
		until = next
	}
	return until
}

// covering finds the opening that contains t, and returns its end.
func (w *Window) covering(t time.Time) (time.Time, bool) {
	day := dateOf(t.In(w.loc))
	for i := -lookBack; i <= 0; i++ {
		d := day.add(i)
		if !w.days[d.weekday()] {
			continue
		}
		if from, until := w.opening(d); !t.Before(from) && t.Before(until) {
			return until, true
		}
	}
	return time.Time{}, false
}

// opening is the opening that starts on date d, [from, until). It is empty
// (from == until) when the zone skips the whole of it.
func (w *Window) opening(d date) (from, until time.Time) {
	from = boundary(d, w.start, w.loc)
	if w.end > w.start {
		return from, boundary(d, w.end, w.loc)
	}
	return from, boundary(d.add(1), w.end, w.loc)
}
