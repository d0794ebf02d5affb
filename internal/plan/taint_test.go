package plan

import (
	"testing"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestPendingTaint(t *testing.T) {
	pending := Node{Name: "a", Ready: true}
	for _, tc := range []struct {
		name             string
		node             Node
		selected, adding bool
		want             TaintWant
	}{
		{"pending, may start", pending, true, true, TaintOn},
		{"pending, NotReady", Node{Name: "a"}, true, true, TaintOn},
		{"pending, paused or window closed", pending, true, false, TaintAsIs},
		{"retried", Node{Name: "a", State: upgradev1alpha1.NodeUpgraded, AtTarget: true, Retried: true}, true, true, TaintOn},
		{"in flight", Node{Name: "a", State: upgradev1alpha1.NodeDraining}, true, true, TaintAsIs},
		{"failed", Node{Name: "a", State: upgradev1alpha1.NodeFailed}, true, true, TaintAsIs},
		{"upgraded", Node{Name: "a", State: upgradev1alpha1.NodeUpgraded, AtTarget: true}, true, true, TaintOff},
		{"at the target untouched", Node{Name: "a", AtTarget: true}, true, true, TaintOff},
		{"skipped, newer", Node{Name: "a", Newer: true}, true, true, TaintOff},
		{"no longer selected", pending, false, true, TaintOff},
		{"no longer selected, in flight", Node{Name: "a", State: upgradev1alpha1.NodeVerifying}, false, false, TaintOff},
		{"held by another", Node{Name: "a", HeldElsewhere: upgradev1alpha1.NodeDraining}, true, true, TaintOff},
	} {
		if got := PendingTaint(tc.node, tc.selected, tc.adding); got != tc.want {
			t.Errorf("%s: PendingTaint = %v, want %v", tc.name, got, tc.want)
		}
	}
}
