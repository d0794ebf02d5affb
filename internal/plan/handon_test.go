package plan

import (
	"math/rand/v2"
	"slices"
	"testing"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// finishing is n in flight (upgrading, at the target); finishedAs is it
// upgraded and back in service.
func finishing(name string) Node {
	n := ready(name, "")
	n.State, n.Unschedulable, n.AtTarget = upgradev1alpha1.NodeUpgrading, true, true
	return n
}

func finishedAs(n Node) Node {
	n.State, n.Unschedulable = upgradev1alpha1.NodeUpgraded, false
	return n
}

func TestHandOnGivesOnePendingNodePerFinishingNode(t *testing.T) {
	a, b := finishing("a"), finishing("b")
	in := Input{Nodes: []Node{a, b, ready("c", ""), ready("d", ""), ready("e", "")}, MaxUnavailable: 2}
	if got, want := HandOn(in, []Node{finishedAs(a), finishedAs(b)}), []string{"c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("HandOn = %v, want %v", got, want)
	}
	if got, want := HandOn(in, []Node{finishedAs(b)}), []string{"c"}; !slices.Equal(got, want) {
		t.Fatalf("with one node finishing, HandOn = %v, want %v", got, want)
	}
}

func TestHandOnLeavesOutWhatComputeStartsNow(t *testing.T) {
	a := finishing("a")
	in := Input{Nodes: []Node{a, ready("c", ""), ready("d", ""), ready("e", "")}, MaxUnavailable: 2}
	if got := Compute(in).Start; !slices.Equal(got, []string{"c"}) {
		t.Fatalf("Compute starts %v, want [c]", got)
	}
	if got, want := HandOn(in, []Node{finishedAs(a)}), []string{"d"}; !slices.Equal(got, want) {
		t.Fatalf("HandOn = %v, want %v", got, want)
	}
}

func TestHandOnGivesNothing(t *testing.T) {
	a := finishing("a")
	stillCordoned := finishedAs(a)
	stillCordoned.Unschedulable = true // cordoned before nodewave took it: its cordon stays
	notReady := finishedAs(a)
	notReady.Ready = false
	failed := finishedAs(a)
	failed.State = upgradev1alpha1.NodeFailed
	pending := []Node{a, ready("c", "zone-a"), ready("d", "zone-a")}
	for _, tc := range []struct {
		name     string
		in       Input
		finished []Node
	}{
		{"nothing finishing", Input{Nodes: pending, MaxUnavailable: 1}, nil},
		{"zones: a slot is not any slot", Input{Nodes: pending, MaxUnavailable: 1, Zones: &Zones{OneAtATime: true}}, []Node{finishedAs(a)}},
		{"a canary", Input{Nodes: pending, MaxUnavailable: 1, Canary: &Canary{Size: 1}}, []Node{finishedAs(a)}},
		{"still cordoned once upgraded", Input{Nodes: pending, MaxUnavailable: 1}, []Node{stillCordoned}},
		{"NotReady once upgraded", Input{Nodes: pending, MaxUnavailable: 1}, []Node{notReady}},
		{"failed, not upgraded", Input{Nodes: pending, MaxUnavailable: 1}, []Node{failed}},
		{"not in flight now", Input{Nodes: []Node{ready("a", ""), ready("c", "")}, MaxUnavailable: 1}, []Node{finishedAs(a)}},
		{"not one of the nodes", Input{Nodes: pending[1:], MaxUnavailable: 1}, []Node{finishedAs(a)}},
		{"over the budget", Input{Nodes: []Node{a, finishing("b"), ready("c", "")}, MaxUnavailable: 1}, []Node{finishedAs(a)}},
		{"paused", Input{Nodes: pending, MaxUnavailable: 1, Paused: true}, []Node{finishedAs(a)}},
		{"a closed gate", Input{Nodes: pending, MaxUnavailable: 1, Gate: &Gate{Reason: "HealthCheckFailing"}}, []Node{finishedAs(a)}},
	} {
		if got := HandOn(tc.in, tc.finished); len(got) != 0 {
			t.Errorf("%s: HandOn = %v, want none", tc.name, got)
		}
	}
}

// FuzzHandOn plays, on the fuzzed worlds of FuzzCompute, the nodes in
// flight finishing one by one in a random order, HandOn told that all will
// finish back in service though some fail or stay cordoned, and the nodes
// HandOn gave starting one per node that did finish back in service. It
// checks that once one started, the nodes in flight and the unavailable
// nodes are within the budget at every moment, and that HandOn gave only
// pending, Ready nodes that Compute(in) did not start, each once, in plan
// order.
func FuzzHandOn(f *testing.F) {
	f.Add([]byte{2, 0x01, 0x00, 3, 7, 0, 3, 7, 1, 0, 1, 2, 0, 1, 3, 0, 1, 4})
	f.Add([]byte{3, 0x00, 0x05, 3, 0x27, 0, 4, 7, 1, 0, 3, 2, 0, 1, 3, 0, 0x41, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzLen {
			return
		}
		in, s := decodeWorld(t, data)
		rng := rand.New(rand.NewPCG(uint64(len(data)), 17))
		var expected, finished []Node
		for _, sn := range s.nodes {
			n := sn.Node
			if Classify(n) != ClassInFlight {
				continue
			}
			// The pass expects each to finish back in service; some fail,
			// and some stay cordoned (their cordon was not nodewave's).
			expected = append(expected, finishedAs(n))
			done := finishedAs(n)
			switch rng.IntN(4) {
			case 0:
				done.State = upgradev1alpha1.NodeFailed
				done.Unschedulable = true
			case 1:
				done.Unschedulable = sn.wasUnschedulable
			}
			finished = append(finished, done)
		}
		next := HandOn(in, expected)
		if len(next) == 0 {
			return
		}
		checkHandedOn(t, in, next)
		world := slices.Clone(in.Nodes)
		at := func(name string) int { return slices.IndexFunc(world, func(n Node) bool { return n.Name == name }) }
		handed := 0
		for _, i := range rng.Perm(len(finished)) {
			done := finished[i]
			world[at(done.Name)] = done
			if Classify(done) == ClassUpgraded && !done.Unavailable() && handed < len(next) {
				started := &world[at(next[handed])]
				started.State, started.Unschedulable = upgradev1alpha1.NodeDraining, true
				handed++
			}
			var inFlight, unavailable int
			for _, n := range world {
				if Classify(n) == ClassInFlight {
					inFlight++
				}
				if n.Unavailable() {
					unavailable++
				}
			}
			if handed > 0 && (inFlight > in.MaxUnavailable || unavailable > in.MaxUnavailable) {
				t.Fatalf("after %s finished (%s) and %d started (HandOn %v): %d in flight, %d unavailable, budget %d",
					done.Name, done.State, handed, next, inFlight, unavailable, in.MaxUnavailable)
			}
		}
	})
}

// checkHandedOn checks that next holds pending, Ready nodes of in that
// Compute(in) does not start, each once, in plan order.
func checkHandedOn(t *testing.T, in Input, next []string) {
	t.Helper()
	now := Compute(in).Start
	ordered := Order(in.Nodes)
	last := -1
	for _, name := range next {
		i := slices.IndexFunc(ordered, func(n Node) bool { return n.Name == name })
		if i < 0 || Classify(ordered[i]) != ClassPending || !ordered[i].Ready || slices.Contains(now, name) || i <= last {
			t.Fatalf("HandOn %v: %s is not a pending, Ready node after the last, that Compute (%v) does not start", next, name, now)
		}
		last = i
	}
}
