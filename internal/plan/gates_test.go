package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReplacementsGate(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	const timeout = 10 * time.Minute
	ready := Workload{Name: "ReplicaSet/shop/web", Drained: t0, Desired: 3, Ready: 3}
	short := Workload{Name: "StatefulSet/shop/db", Drained: t0.Add(time.Minute), Desired: 3, Ready: 2}
	older := Workload{Name: "ReplicaSet/shop/api", Drained: t0, Desired: 2, Ready: 0}
	gone := Workload{Name: "ReplicaSet/shop/old", Drained: t0, Desired: 2, Gone: true}
	unreadable := Workload{Name: "ReplicaSet/shop/x", Drained: t0.Add(2 * time.Minute), Err: errors.New("forbidden")}
	many := make([]Workload, 0, 7)
	for i := range 7 {
		many = append(many, Workload{Name: fmt.Sprintf("ReplicaSet/shop/w%d", i), Drained: t0, Desired: 1})
	}
	cases := []struct {
		name      string
		workloads []Workload
		now       time.Time
		closed    bool
		stalled   bool
		since     time.Time
		message   []string
	}{
		{name: "nothing evicted", now: t0},
		{name: "every workload ready, or gone", workloads: []Workload{ready, gone}, now: t0.Add(time.Hour)},
		{name: "one short: closed since its drain", workloads: []Workload{ready, short}, now: t0.Add(5 * time.Minute),
			closed: true, since: short.Drained, message: []string{"waiting for the replacements of evicted pods: StatefulSet/shop/db 2 of 3 ready"}},
		{name: "the earliest drain is the gate's since, and is named first", workloads: []Workload{short, older}, now: t0.Add(5 * time.Minute),
			closed: true, since: t0, message: []string{"ReplicaSet/shop/api 0 of 2 ready, StatefulSet/shop/db 2 of 3 ready"}},
		{name: "short for the timeout: stalled", workloads: []Workload{short}, now: short.Drained.Add(timeout),
			closed: true, stalled: true, since: short.Drained, message: []string{"not ready 10m0s after their drain", "StatefulSet/shop/db 2 of 3 ready"}},
		{name: "a workload that cannot be read is short, with why", workloads: []Workload{unreadable}, now: t0.Add(3 * time.Minute),
			closed: true, since: unreadable.Drained, message: []string{"ReplicaSet/shop/x (forbidden)"}},
		{name: "five named, the rest counted", workloads: many, now: t0,
			closed: true, since: t0, message: []string{"ReplicaSet/shop/w4 0 of 1 ready, 2 more"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := ReplacementsGate(c.workloads, timeout, c.now)
			if (g != nil) != c.closed {
				t.Fatalf("closed = %v, want %v (%+v)", g != nil, c.closed, g)
			}
			if g == nil {
				return
			}
			if g.Reason != ReplacementsNotReady || g.Stalled != c.stalled || !g.Since.Equal(c.since) {
				t.Fatalf("got %+v, want stalled %v since %s", g, c.stalled, c.since)
			}
			for _, m := range c.message {
				if !strings.Contains(g.Message, m) {
					t.Fatalf("message %q lacks %q", g.Message, m)
				}
			}
		})
	}
}
