package plan

import (
	"reflect"
	"slices"
	"testing"
)

// checkPlan checks every invariant of one Compute(in) = p that follows from
// the input alone, whatever the world is. The simulation checks it on
// every pass and FuzzCompute on every input.
//
//   - the counts add up to len(in.Nodes), class by class as Classify says;
//     Unavailable is the number of unavailable nodes; InFlightNodes,
//     FailedNodes and NotReadyPending list the right nodes in plan order;
//   - Halted is exactly "more failures than MaxFailedNodes", TooManyBlocked
//     exactly "more blocked nodes than MaxBlockedNodes", Done exactly
//     "nothing pending or in flight";
//   - every name in Start is a pending, Ready node, appears once, and Start
//     is in plan order;
//   - nothing starts while Halted, TooManyBlocked, Paused or Closed;
//   - UnavailableAfter is Unavailable plus the started nodes that were
//     available; and when anything starts, UnavailableAfter is within
//     MaxUnavailable (so it only exceeds the budget when Unavailable
//     already did, and then nothing starts);
//   - no slot is left idle: unless halted, paused or closed, a pending
//     Ready node that did not start would not have fit in the budget
//     (rolling, not batches);
//   - Blocked is exactly "pending nodes, none in flight, none started" when
//     neither halted, paused nor closed, and false otherwise.
func checkPlan(t testing.TB, in Input, p Plan) {
	t.Helper()
	w := newPlanWorld(in.Nodes)
	checkCounts(t, in, p, w)
	started := checkStart(t, in, p, w)
	checkNoIdleSlot(t, in, p, w, started)
}

// planWorld is the input of one plan in plan order, with each node's class.
type planWorld struct {
	ordered []Node
	classes []Class
	index   map[string]int // position in ordered, by name
}

func newPlanWorld(nodes []Node) planWorld {
	w := planWorld{ordered: Order(nodes), index: make(map[string]int, len(nodes))}
	w.classes = make([]Class, len(w.ordered))
	for i, n := range w.ordered {
		w.index[n.Name] = i
		w.classes[i] = Classify(n)
	}
	return w
}

// checkCounts checks the counts, the node lists, Halted and Done.
func checkCounts(t testing.TB, in Input, p Plan, w planWorld) {
	t.Helper()
	counts := map[Class]int{}
	var unavailable int
	var inFlight, failed, blocked, notReadyPending []string
	for i, n := range w.ordered {
		c := w.classes[i]
		counts[c]++
		if n.Unavailable() {
			unavailable++
		}
		switch {
		case c == ClassInFlight:
			inFlight = append(inFlight, n.Name)
		case c == ClassFailed:
			failed = append(failed, n.Name)
		case c == ClassBlocked:
			blocked = append(blocked, n.Name)
		case c == ClassPending && !n.Ready:
			notReadyPending = append(notReadyPending, n.Name)
		}
	}
	if sum := p.Pending + p.InFlight + p.Upgraded + p.Failed + p.Skipped + len(p.BlockedNodes); sum != len(in.Nodes) {
		t.Fatalf("counts add up to %d, not %d nodes: %+v", sum, len(in.Nodes), p)
	}
	if p.Pending != counts[ClassPending] || p.InFlight != counts[ClassInFlight] || p.Upgraded != counts[ClassUpgraded] ||
		p.Failed != counts[ClassFailed] || p.Skipped != counts[ClassSkipped] {
		t.Fatalf("counts %+v disagree with Classify: %v", p, counts)
	}
	if p.Unavailable != unavailable {
		t.Fatalf("Unavailable = %d, %d nodes are unavailable", p.Unavailable, unavailable)
	}
	if !slices.Equal(p.InFlightNodes, inFlight) || !slices.Equal(p.FailedNodes, failed) || !slices.Equal(p.BlockedNodes, blocked) ||
		!slices.Equal(p.NotReadyPending, notReadyPending) {
		t.Fatalf("node lists: in flight %v (want %v), failed %v (want %v), blocked %v (want %v), NotReady pending %v (want %v)",
			p.InFlightNodes, inFlight, p.FailedNodes, failed, p.BlockedNodes, blocked, p.NotReadyPending, notReadyPending)
	}
	if want := len(blocked) > in.MaxBlockedNodes; p.TooManyBlocked != want {
		t.Fatalf("TooManyBlocked = %v with %d blocked, max %d", p.TooManyBlocked, len(blocked), in.MaxBlockedNodes)
	}
	if want := p.Failed > in.MaxFailedNodes; p.Halted != want {
		t.Fatalf("Halted = %v with %d failed, max %d", p.Halted, p.Failed, in.MaxFailedNodes)
	}
	if want := p.Pending == 0 && p.InFlight == 0; p.Done != want {
		t.Fatalf("Done = %v with %d pending, %d in flight", p.Done, p.Pending, p.InFlight)
	}
}

// checkStart checks Start, UnavailableAfter and the budget. It returns
// which nodes, by plan position, start.
func checkStart(t testing.TB, in Input, p Plan, w planWorld) []bool {
	t.Helper()
	after := p.Unavailable
	last := -1
	started := make([]bool, len(w.ordered))
	for _, name := range p.Start {
		i, ok := w.index[name]
		switch {
		case !ok:
			t.Fatalf("started %q, which is not a selected node", name)
		case started[i]:
			t.Fatalf("started %s twice in one plan: %v", name, p.Start)
		case w.classes[i] != ClassPending || !w.ordered[i].Ready:
			t.Fatalf("started %s which is %s (Ready=%v)", name, w.classes[i], w.ordered[i].Ready)
		case i < last:
			t.Fatalf("Start %v is not in plan order", p.Start)
		}
		started[i], last = true, i
		if !w.ordered[i].Unavailable() {
			after++
		}
	}
	if (p.Halted || p.TooManyBlocked || in.Paused || in.Closed) && len(p.Start) > 0 {
		t.Fatalf("started %v while halted=%v tooManyBlocked=%v paused=%v closed=%v", p.Start, p.Halted, p.TooManyBlocked, in.Paused, in.Closed)
	}
	if p.UnavailableAfter != after {
		t.Fatalf("UnavailableAfter = %d; %d unavailable + %v started gives %d", p.UnavailableAfter, p.Unavailable, p.Start, after)
	}
	if len(p.Start) > 0 && p.UnavailableAfter > in.MaxUnavailable {
		t.Fatalf("budget broken: started %v, %d unavailable after (max %d, %d before)",
			p.Start, p.UnavailableAfter, in.MaxUnavailable, p.Unavailable)
	}
	return started
}

// checkNoIdleSlot checks that no pending Ready node waits while it would
// fit in the budget, and what Blocked says.
func checkNoIdleSlot(t testing.TB, in Input, p Plan, w planWorld, started []bool) {
	t.Helper()
	canaryFull := p.Canary.Hold != "" || (p.Canary.Active && p.Canary.Limit >= 0 && len(p.Start) >= p.Canary.Limit)
	if !p.Halted && !p.TooManyBlocked && !in.Paused && !in.Closed && !in.Held && in.Gate == nil && !canaryFull {
		zones := countZones(w.ordered, started)
		for i, n := range w.ordered {
			if w.classes[i] != ClassPending || !n.Ready || started[i] || !zones.admits(in.Zones, n) {
				continue
			}
			cost := 1
			if n.Unavailable() {
				cost = 0
			}
			if p.UnavailableAfter+cost <= in.MaxUnavailable {
				t.Fatalf("%s waits with %d of %d slots used (it costs %d)", n.Name, p.UnavailableAfter, in.MaxUnavailable, cost)
			}
		}
	}
	wantBlocked := !p.Halted && !p.TooManyBlocked && !in.Paused && !in.Closed && !in.Held && in.Gate == nil && p.Canary.Hold == "" && p.Pending > 0 && p.InFlight == 0 && len(p.Start) == 0
	if p.Blocked != wantBlocked {
		t.Fatalf("Blocked = %v, want %v: %+v", p.Blocked, wantBlocked, p)
	}
}

// checkOrderIndependent checks that Compute gives the very same plan for
// the nodes in reverse order, and does not modify its input. (The
// simulation checks the Start of a shuffled order on every pass.)
func checkOrderIndependent(t testing.TB, in Input, p Plan) {
	t.Helper()
	reversed := slices.Clone(in.Nodes)
	slices.Reverse(reversed)
	saved := slices.Clone(reversed)
	in.Nodes = reversed
	again := Compute(in)
	if !reflect.DeepEqual(again, p) {
		t.Fatalf("the plan depends on input order:\n%+v\n%+v", p, again)
	}
	if !slices.Equal(reversed, saved) {
		t.Fatalf("Compute modified its input")
	}
}

// countZones counts nodes per zone, the started ones as in flight and
// unavailable.
func countZones(nodes []Node, started []bool) zoneCounts {
	out := zoneCounts{}
	for i, n := range nodes {
		c := out[n.Zone]
		if c == nil {
			c = &zoneCount{}
			out[n.Zone] = c
		}
		c.total++
		if n.Unavailable() || started[i] {
			c.unavailable++
		}
		if Classify(n) == ClassInFlight || started[i] {
			c.inFlight++
		}
	}
	return out
}
