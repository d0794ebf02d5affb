// Package window is nodewave's pure maintenance-window arithmetic: from a
// spec.window and an instant it says whether the window is open, when it
// next opens and when it closes. It does no I/O and reads no clock; the
// controller passes it the time of its (injectable) clock.
//
// A window is a start and an end time of day on some days of the week, in
// one IANA time zone. Each listed day has one opening, from its start
// (inclusive) to its end (exclusive); an end before the start is on the
// next day, so a window that runs past midnight belongs to the day it
// starts. A boundary is the first instant at which the zone's clock shows
// that time of day on that date, or a later one. So on a daylight-saving
// day:
//
//   - a time the clock skips (02:30 when 02:00 jumps to 03:00) falls on the
//     jump: a window from 02:30 opens at 03:00 that day, one ending at 02:30
//     closes at 03:00;
//   - a time the clock shows twice (02:30 when 03:00 falls back to 02:00)
//     is its first showing, so an opening is one continuous stretch that
//     never closes and reopens in the repeated hour; it may last an hour
//     longer or shorter than on other days;
//   - a date the zone skips altogether (Pacific/Apia, 30 December 2011)
//     has no opening.
//
// Go's time.Date leaves the instant of a skipped or repeated wall time
// unspecified (and picks differently in different zones), so this package
// finds boundaries from the zone's offset periods itself.
package window
