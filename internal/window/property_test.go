package window

import (
	"math/rand/v2"
	"testing"
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// propertyZones are zones with and without daylight saving, whole-hour,
// half-hour and 45-minute offsets, a half-hour DST shift (Lord Howe) and a
// shift at midnight (Santiago).
var propertyZones = []string{
	"UTC", "Asia/Kolkata", "Asia/Tokyo", "Europe/Berlin", "America/New_York",
	"Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago",
}

// reference is the plain reading of a window where nothing shifts: open
// when the local clock is inside [start, end) on a listed day, or, for a
// window past midnight, before end on the day after a listed day.
func reference(w *Window, t time.Time) bool {
	local := t.In(w.loc)
	minute := local.Hour()*60 + local.Minute()
	today, yesterday := local.Weekday(), (local.Weekday()+6)%7
	if w.start < w.end {
		return w.days[today] && minute >= w.start && minute < w.end
	}
	return (w.days[today] && minute >= w.start) || (w.days[yesterday] && minute < w.end)
}

// steadyAround reports whether loc keeps one offset for two days either
// side of t, where the reference reading holds.
func steadyAround(loc *time.Location, t time.Time) bool {
	start, end := t.In(loc).ZoneBounds()
	return (start.IsZero() || t.Sub(start) > 50*time.Hour) && (end.IsZero() || end.Sub(t) > 50*time.Hour)
}

func randomWindow(t *testing.T, rng *rand.Rand) *Window {
	s := &upgradev1alpha1.MaintenanceWindow{TimeZone: propertyZones[rng.IntN(len(propertyZones))]}
	if rng.IntN(4) > 0 {
		for name := range weekdays {
			if rng.IntN(2) == 0 {
				s.Days = append(s.Days, name)
			}
		}
		if len(s.Days) == 0 {
			s.Days = []upgradev1alpha1.Weekday{upgradev1alpha1.Sunday}
		}
	}
	start := rng.IntN(24 * 60)
	end := (start + 1 + rng.IntN(24*60-1)) % (24 * 60)
	s.Start = time.Date(0, 1, 1, start/60, start%60, 0, 0, time.UTC).Format("15:04")
	s.End = time.Date(0, 1, 1, end/60, end%60, 0, 0, time.UTC).Format("15:04")
	return mustParse(t, s)
}

// randomInstant is a time in 2020..2035 to the second; half of them near a
// change of the zone's offset.
func randomInstant(rng *rand.Rand, loc *time.Location) time.Time {
	t := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(15*365*24*time.Hour))) / time.Second * time.Second)
	if rng.IntN(2) == 0 {
		if _, end := t.In(loc).ZoneBounds(); !end.IsZero() {
			t = end.Add(time.Duration(rng.Int64N(int64(72*time.Hour))) - 36*time.Hour).Truncate(time.Second)
		}
	}
	return t
}

// TestWindowProperties checks, for random windows and instants:
//
//   - away from offset changes, Open agrees with the plain reading of the
//     window (reference);
//   - NextOpen(t) is at or after t, open, and the first such instant: the
//     window is closed just before it (when it is after t) and at sampled
//     instants between t and it;
//   - while open, ClosesAt(t) is after t, the window is open just before it
//     and closed at it; while closed, ClosesAt(t) is t.
func TestWindowProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 3000 {
		w := randomWindow(t, rng)
		now := randomInstant(rng, w.loc)
		open := w.Open(now)
		if steadyAround(w.loc, now) && open != reference(w, now) {
			t.Fatalf("%+v at %s: Open = %v, the plain reading says %v", w, now.In(w.loc), open, !open)
		}

		next := w.NextOpen(now)
		switch {
		case next.IsZero() || next.Before(now):
			t.Fatalf("%+v at %s: NextOpen = %s", w, now.In(w.loc), next)
		case !w.Open(next):
			t.Fatalf("%+v at %s: closed at NextOpen %s", w, now.In(w.loc), next.In(w.loc))
		case open != next.Equal(now):
			t.Fatalf("%+v at %s: open=%v but NextOpen = %s", w, now.In(w.loc), open, next.In(w.loc))
		case !open && w.Open(next.Add(-time.Nanosecond)):
			t.Fatalf("%+v at %s: already open just before NextOpen %s", w, now.In(w.loc), next.In(w.loc))
		}
		for range 8 {
			if between := now.Add(time.Duration(rng.Int64N(int64(next.Sub(now)) + 1))); between.Before(next) && w.Open(between) {
				t.Fatalf("%+v at %s: open at %s, before NextOpen %s", w, now.In(w.loc), between.In(w.loc), next.In(w.loc))
			}
		}

		closes := w.ClosesAt(now)
		switch {
		case !open && !closes.Equal(now):
			t.Fatalf("%+v at %s: closed, but ClosesAt = %s", w, now.In(w.loc), closes.In(w.loc))
		case open && (!closes.After(now) || w.Open(closes) || !w.Open(closes.Add(-time.Nanosecond))):
			t.Fatalf("%+v at %s: ClosesAt = %s is not where the opening ends", w, now.In(w.loc), closes.In(w.loc))
		}
	}
}
