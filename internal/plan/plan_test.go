package plan

import (
	"slices"
	"testing"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func ready(name, zone string) Node { return Node{Name: name, Zone: zone, Ready: true} }

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		node Node
		want Class
	}{
		{"untouched and old", Node{}, ClassPending},
		{"untouched and at target", Node{AtTarget: true}, ClassUpgraded},
		{"untouched and newer", Node{Newer: true}, ClassSkipped},
		{"upgraded to an older target", Node{State: upgradev1alpha1.NodeUpgraded}, ClassPending},
		{"upgraded at target", Node{State: upgradev1alpha1.NodeUpgraded, AtTarget: true}, ClassUpgraded},
		{"cordoned", Node{State: upgradev1alpha1.NodeCordoned}, ClassInFlight},
		{"draining", Node{State: upgradev1alpha1.NodeDraining}, ClassInFlight},
		{"upgrading", Node{State: upgradev1alpha1.NodeUpgrading}, ClassInFlight},
		{"verifying at target", Node{State: upgradev1alpha1.NodeVerifying, AtTarget: true}, ClassInFlight},
		{"failed stays failed even at target", Node{State: upgradev1alpha1.NodeFailed, AtTarget: true}, ClassFailed},
		{"unknown label value: the version decides", Node{State: "bogus", Newer: true}, ClassSkipped},
	} {
		if got := Classify(tc.node); got != tc.want {
			t.Errorf("%s: Classify = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestComputeFillsEverySlotInZoneThenNameOrder(t *testing.T) {
	nodes := []Node{ready("c", "zone-b"), ready("a", "zone-b"), ready("z", "zone-a"), ready("b", "zone-a"), ready("m", "")}
	p := Compute(Input{Nodes: nodes, MaxUnavailable: 3})
	if want := []string{"m", "b", "z"}; !slices.Equal(p.Start, want) {
		t.Fatalf("Start = %v, want %v", p.Start, want)
	}
	if p.UnavailableAfter != 3 || p.Unavailable != 0 || p.Pending != 5 {
		t.Fatalf("plan = %+v", p)
	}
}

func TestComputeCountsAlreadyUnavailableNodesAgainstTheBudget(t *testing.T) {
	notReady := ready("down", "a")
	notReady.Ready = false
	adminCordoned := ready("admin", "a")
	adminCordoned.Unschedulable = true
	adminCordoned.AtTarget = true // upgraded, but still out of service
	nodes := []Node{notReady, adminCordoned, ready("n1", "a"), ready("n2", "a"), ready("n3", "a")}

	p := Compute(Input{Nodes: nodes, MaxUnavailable: 3})
	if want := []string{"n1"}; !slices.Equal(p.Start, want) {
		t.Fatalf("with 2 of 3 slots taken by unavailable nodes, Start = %v, want %v", p.Start, want)
	}
	if !slices.Equal(p.NotReadyPending, []string{"down"}) {
		t.Fatalf("NotReadyPending = %v", p.NotReadyPending)
	}

	p = Compute(Input{Nodes: nodes, MaxUnavailable: 2})
	if len(p.Start) != 0 {
		t.Fatalf("with the budget already used, Start = %v, want none", p.Start)
	}
}

func TestComputeCountsAnUncordonedNodeInFlightAgainstTheBudget(t *testing.T) {
	uncordoned := ready("mid-upgrade", "a") // an admin uncordoned it while upgrading
	uncordoned.State = upgradev1alpha1.NodeUpgrading
	p := Compute(Input{Nodes: []Node{uncordoned, ready("n1", "a"), ready("n2", "a")}, MaxUnavailable: 2})
	if want := []string{"n1"}; !slices.Equal(p.Start, want) {
		t.Fatalf("Start = %v, want %v: the node in flight still holds a slot", p.Start, want)
	}
	if p.Unavailable != 1 || p.UnavailableAfter != 2 {
		t.Fatalf("plan = %+v", p)
	}
}

func TestComputeNeverStartsNotReadyNodes(t *testing.T) {
	a, b := ready("a", ""), ready("b", "")
	a.Ready = false
	p := Compute(Input{Nodes: []Node{a, b}, MaxUnavailable: 5})
	if !slices.Equal(p.Start, []string{"b"}) {
		t.Fatalf("Start = %v, want [b]", p.Start)
	}
}

func TestComputeStartsAnAdminCordonedNodeWithoutASlot(t *testing.T) {
	cordoned := ready("a-cordoned", "")
	cordoned.Unschedulable = true
	p := Compute(Input{Nodes: []Node{cordoned, ready("b", ""), ready("c", "")}, MaxUnavailable: 2})
	if want := []string{"a-cordoned", "b"}; !slices.Equal(p.Start, want) {
		t.Fatalf("Start = %v, want %v", p.Start, want)
	}
	if p.UnavailableAfter != 2 {
		t.Fatalf("UnavailableAfter = %d, want 2", p.UnavailableAfter)
	}
}

func TestComputeHaltsAfterTooManyFailures(t *testing.T) {
	failed := ready("f", "")
	failed.State, failed.Unschedulable = upgradev1alpha1.NodeFailed, true
	nodes := []Node{failed, ready("a", ""), ready("b", "")}

	p := Compute(Input{Nodes: nodes, MaxUnavailable: 3, MaxFailedNodes: 1})
	if p.Halted || len(p.Start) != 2 {
		t.Fatalf("one failure within maxFailedNodes 1: halted=%v start=%v", p.Halted, p.Start)
	}
	p = Compute(Input{Nodes: nodes, MaxUnavailable: 3, MaxFailedNodes: 0})
	if !p.Halted || len(p.Start) != 0 {
		t.Fatalf("one failure over maxFailedNodes 0: halted=%v start=%v", p.Halted, p.Start)
	}
	if !slices.Equal(p.FailedNodes, []string{"f"}) {
		t.Fatalf("FailedNodes = %v", p.FailedNodes)
	}
}

func TestComputePausedStartsNothing(t *testing.T) {
	inFlight := ready("x", "")
	inFlight.State, inFlight.Unschedulable = upgradev1alpha1.NodeDraining, true
	p := Compute(Input{Nodes: []Node{inFlight, ready("a", "")}, MaxUnavailable: 2, Paused: true})
	if len(p.Start) != 0 || p.InFlight != 1 || p.Done {
		t.Fatalf("paused plan = %+v", p)
	}
}

func TestComputeClosedWindowStartsNothingAndIsNotBlocked(t *testing.T) {
	inFlight := ready("x", "")
	inFlight.State, inFlight.Unschedulable = upgradev1alpha1.NodeUpgrading, true
	p := Compute(Input{Nodes: []Node{inFlight, ready("a", "")}, MaxUnavailable: 2, Closed: true})
	if len(p.Start) != 0 || p.InFlight != 1 || p.Pending != 1 || p.Done {
		t.Fatalf("closed plan with a node in flight = %+v", p)
	}
	p = Compute(Input{Nodes: []Node{ready("a", ""), ready("b", "")}, MaxUnavailable: 2, Closed: true})
	if len(p.Start) != 0 || p.Blocked {
		t.Fatalf("closed plan = %+v: waiting for the window is not Blocked", p)
	}
	if p = Compute(Input{Nodes: []Node{ready("a", ""), ready("b", "")}, MaxUnavailable: 2}); !slices.Equal(p.Start, []string{"a", "b"}) {
		t.Fatalf("open plan Start = %v, want [a b]", p.Start)
	}
}

func TestComputeDone(t *testing.T) {
	up := ready("a", "")
	up.AtTarget = true
	newer := ready("b", "")
	newer.Newer = true
	p := Compute(Input{Nodes: []Node{up, newer}, MaxUnavailable: 1})
	if !p.Done || p.Upgraded != 1 || p.Skipped != 1 || len(p.Start) != 0 {
		t.Fatalf("plan = %+v", p)
	}
}

func TestComputeCountsEveryStartAgainstTheBudget(t *testing.T) {
	// Sequential with a retried node (cordoned by nodewave, so already
	// unavailable): its start "at cost 0" still takes the one slot.
	a := ready("a", "")
	a.Retried, a.Unschedulable, a.AtTarget = true, true, true
	p := Compute(Input{Nodes: []Node{a, ready("b", "")}, MaxUnavailable: 1})
	if !slices.Equal(p.Start, []string{"a"}) {
		t.Fatalf("Start = %v, want [a]: one node at a time", p.Start)
	}
	inFlight := ready("x", "")
	inFlight.State, inFlight.Unschedulable = upgradev1alpha1.NodeVerifying, true
	cordoned := ready("c", "")
	cordoned.Unschedulable = true
	if p := Compute(Input{Nodes: []Node{inFlight, cordoned}, MaxUnavailable: 2}); !slices.Equal(p.Start, []string{"c"}) {
		t.Fatalf("Start = %v, want [c]", p.Start)
	}
	if p := Compute(Input{Nodes: []Node{inFlight, cordoned}, MaxUnavailable: 1}); len(p.Start) != 0 {
		t.Fatalf("Start = %v, want none: the slot is the node in flight's", p.Start)
	}
}

func TestComputeNeverStartsANodeHeldElsewhere(t *testing.T) {
	other := ready("a", "")
	other.HeldElsewhere, other.Unschedulable = upgradev1alpha1.NodeUpgrading, true
	p := Compute(Input{Nodes: []Node{other, ready("b", ""), ready("c", "")}, MaxUnavailable: 2})
	if !slices.Equal(p.Start, []string{"b"}) {
		t.Fatalf("Start = %v, want [b]: a is another's, and counts against the budget", p.Start)
	}
	if !slices.Equal(p.HeldElsewhere, []string{"a"}) || p.Pending != 3 {
		t.Fatalf("HeldElsewhere = %v, Pending = %d", p.HeldElsewhere, p.Pending)
	}
	// Sequential: the other's node uses the slot; waiting for it is not Blocked.
	p = Compute(Input{Nodes: []Node{other, ready("b", "")}, MaxUnavailable: 1})
	if len(p.Start) != 0 || p.Blocked {
		t.Fatalf("plan = %+v: want nothing started and not Blocked", p)
	}
	// A node the other has failed stays cordoned until a human acts: Blocked.
	other.HeldElsewhere = upgradev1alpha1.NodeFailed
	if p = Compute(Input{Nodes: []Node{other, ready("b", "")}, MaxUnavailable: 1}); !p.Blocked {
		t.Fatalf("plan = %+v: want Blocked", p)
	}
}

func TestClassifyRetriedAndLowered(t *testing.T) {
	retried := ready("r", "")
	retried.Retried, retried.AtTarget = true, true
	if c := Classify(retried); c != ClassPending {
		t.Fatalf("a retried node at the target is %s, want pending (verified and uncordoned again)", c)
	}
	lowered := ready("l", "")
	lowered.State, lowered.Newer = upgradev1alpha1.NodeUpgraded, true
	if c := Classify(lowered); c != ClassUpgraded {
		t.Fatalf("a node upgraded past a lowered target is %s, want upgraded", c)
	}
	if !lowered.Reached() || ready("x", "").Reached() {
		t.Fatal("Reached is at or past the target")
	}
}

func TestComputeNeverStartsANodeOnItsWayOut(t *testing.T) {
	leaving := ready("a", "")
	leaving.Leaving, leaving.Unschedulable = true, true
	p := Compute(Input{Nodes: []Node{leaving, ready("b", "")}, MaxUnavailable: 2})
	if !slices.Equal(p.Start, []string{"b"}) || p.Unavailable != 1 {
		t.Fatalf("plan = %+v: want b started and a counted, never started", p)
	}
}

// The control plane's wave goes one node at a time and halts on its first
// failure, whatever the workers' budget says; each wave holds its own
// nodes only, in their order.
func TestWaveInput(t *testing.T) {
	cp := map[string]bool{"cp-1": true, "cp-0": true}
	isCP := func(name string) bool { return cp[name] }
	nodes := []Node{{Name: "w-1"}, {Name: "cp-1"}, {Name: "w-0"}, {Name: "cp-0"}}
	in := Input{MaxUnavailable: 5, MaxFailedNodes: 3, Paused: true, Held: true}

	got := WaveInput(in, nodes, true, isCP)
	if got.MaxUnavailable != 1 || got.MaxFailedNodes != 0 || !got.Paused || !got.Held {
		t.Errorf("control-plane wave input %+v: want MaxUnavailable 1, MaxFailedNodes 0, the rest kept", got)
	}
	if names := nodeNames(got.Nodes); !slices.Equal(names, []string{"cp-1", "cp-0"}) {
		t.Errorf("control-plane wave nodes %v, want [cp-1 cp-0]", names)
	}
	got = WaveInput(in, nodes, false, isCP)
	if got.MaxUnavailable != 5 || got.MaxFailedNodes != 3 {
		t.Errorf("workers' wave input %+v: want the budget and maxFailedNodes kept", got)
	}
	if names := nodeNames(got.Nodes); !slices.Equal(names, []string{"w-1", "w-0"}) {
		t.Errorf("workers' wave nodes %v, want [w-1 w-0]", names)
	}
	if got := OfWave([]string{"w-1", "cp-0", "w-0"}, true, isCP); !slices.Equal(got, []string{"cp-0"}) {
		t.Errorf("OfWave(control plane) = %v, want [cp-0]", got)
	}
	if got := OfWave([]string{"w-1", "cp-0", "w-0"}, false, isCP); !slices.Equal(got, []string{"w-1", "w-0"}) {
		t.Errorf("OfWave(workers) = %v, want [w-1 w-0]", got)
	}
}

func nodeNames(nodes []Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names
}
