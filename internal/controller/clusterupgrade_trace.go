package controller

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// slowPass is how long a reconcile pass may take before its trace is
// logged. A pass that takes longer leaves the nodes that finish meanwhile
// waiting for the next one to refill their slots.
const slowPass = time.Second

// passTrace times the steps of one reconcile pass, and logs them when the
// pass was slow: what it waited on (reading the cache, writing Nodes,
// writing its status) is then in the log. It measures wall time, not the
// reconciler's Clock. (k8s.io/utils/trace does this for the API server,
// but logs through klog and only at -v=2; the manager logs through logr.)
type passTrace struct {
	start, last time.Time
	steps       strings.Builder
}

func newPassTrace() *passTrace {
	now := time.Now()
	return &passTrace{start: now, last: now}
}

// step records that the step named what just ended, and how long it took;
// format and args, if any, add what it did ("5 started").
func (t *passTrace) step(what string, format string, args ...any) {
	if t == nil {
		return
	}
	now := time.Now()
	if t.steps.Len() > 0 {
		t.steps.WriteString(", ")
	}
	fmt.Fprintf(&t.steps, "%s %s", what, now.Sub(t.last).Round(time.Millisecond))
	if format != "" {
		t.steps.WriteString(" (")
		fmt.Fprintf(&t.steps, format, args...)
		t.steps.WriteString(")")
	}
	t.last = now
}

// logIfSlow logs the pass's steps if it took longer than threshold.
func (t *passTrace) logIfSlow(log logr.Logger, threshold time.Duration) {
	if total := time.Since(t.start); total > threshold {
		log.Info("slow reconcile pass", "took", total.Round(time.Millisecond).String(), "steps", t.steps.String())
	}
}
