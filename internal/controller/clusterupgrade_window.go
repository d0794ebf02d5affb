package controller

import (
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/window"
)

// windowClosed reports whether spec.window keeps new nodes from starting
// at the pass's time: it is closed, or it cannot be read (fail closed). No
// window is always open.
func (s *scope) windowClosed() bool {
	switch {
	case s.windowErr != nil:
		return true
	case s.window == nil:
		return false
	default:
		return !s.window.Open(s.now)
	}
}

// windowWait is when the window next opens, if nodes wait for it: it is
// closed now, nodes are pending, and no halt stops them anyway.
func (s *scope) windowWait(p plan.Plan) (time.Time, bool) {
	if s.window == nil || p.Halted || p.Pending == 0 || s.window.Open(s.now) {
		return time.Time{}, false
	}
	next := s.window.NextOpen(s.now)
	return next, !next.IsZero()
}

// windowRequeue is when the window next changes in a way that matters to
// pending nodes: when it opens (they start), or, while it is open, when it
// closes (the status says so). Zero: no window, or nothing waits. Nothing
// polls in between.
func (s *scope) windowRequeue(p plan.Plan) time.Duration {
	if s.window == nil || p.Halted || p.Pending == 0 {
		return 0
	}
	if next, waiting := s.windowWait(p); waiting {
		return next.Sub(s.now)
	}
	return s.window.ClosesAt(s.now).Sub(s.now)
}

// checkWindow is the InvalidWindow blocker of a spec.window that passed
// admission but cannot be judged, such as a time zone the manager's time
// zone database does not know.
func checkWindow(s *scope) *blocker {
	if s.windowErr == nil {
		return nil
	}
	return &blocker{reason: upgradev1alpha1.ReasonInvalidWindow, message: s.windowErr.Error() +
		"; nothing new starts until spec.window is fixed"}
}

// parseWindow reads spec.window into the scope.
func (s *scope) parseWindow() {
	s.window, s.windowErr = window.Parse(s.cu.Spec.Window)
}
