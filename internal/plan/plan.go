package plan

import (
	"cmp"
	"slices"
	"time"
)

// Input is everything the planner needs for one pass.
type Input struct {
	// Nodes are the ClusterUpgrade's nodes (the selected ones and the ones
	// it still holds), in any order.
	Nodes []Node
	// MaxUnavailable is the resolved budget (see MaxUnavailable).
	MaxUnavailable int
	// MaxFailedNodes is spec.maxFailedNodes: more failures than this halt.
	MaxFailedNodes int
	// MaxBlockedNodes is spec.drain.maxBlockedNodes, resolved: more
	// blocked nodes than this halt.
	MaxBlockedNodes int
	// Paused is spec.paused: nothing new starts.
	Paused bool
	// Closed is spec.window being closed now (or unreadable): nothing new
	// starts, and waiting for it is not Blocked.
	Closed bool
	// Held is a pre-flight check holding every new start (a conflict, a
	// version skew, a refused Job template): nothing new starts.
	Held bool
	// Canary is spec.strategy.canary, resolved; nil without one (and for
	// the control plane's wave).
	Canary *Canary
	// Now is the pass's time, for the canary's soak.
	Now time.Time
	// Zones is spec.strategy.zones; nil without it.
	Zones *Zones
	// Gate is a closed gate of spec.health (see ReplacementsGate): nothing
	// new starts while it is set; nodes in flight go on. nil when open.
	Gate *Gate
}

// Plan is the planner's answer for one pass.
type Plan struct {
	// Start are the pending nodes to cordon now, in start order. Starting
	// them keeps the unavailable count, and the count of nodes in flight,
	// within the budget.
	Start []string
	// Counts of the nodes by class, before Start is applied.
	Pending, InFlight, Upgraded, Failed, Skipped int
	// InFlightNodes are the names of the nodes in flight, in plan order.
	InFlightNodes []string
	// FailedNodes are the names of the failed nodes, in plan order.
	FailedNodes []string
	// BlockedNodes are the names of the blocked nodes (drain.onTimeout
	// Cordon), in plan order; they count in no other class.
	BlockedNodes []string
	// HeldElsewhere are pending nodes that another ClusterUpgrade holds,
	// in plan order: they wait for it.
	HeldElsewhere []string
	// Unavailable is how many nodes are unavailable before Start is
	// applied; UnavailableAfter after it. UnavailableAfter never exceeds
	// the budget unless Unavailable already did.
	Unavailable, UnavailableAfter int
	// NotReadyPending are pending nodes that are NotReady: never started
	// while NotReady, shown in status.
	NotReadyPending []string
	// Halted is true when more nodes failed than MaxFailedNodes allows:
	// nothing new starts.
	Halted bool
	// TooManyBlocked is true when more nodes are blocked than
	// MaxBlockedNodes allows: nothing new starts.
	TooManyBlocked bool
	// Done is true when no node is pending or in flight.
	Done bool
	// Canary is where the canary stands (see CanaryStep); its zero value
	// without one.
	Canary CanaryGate
	// ZonesErr is Zones.MaxUnavailable not resolving (admission refuses
	// such a value): nothing starts.
	ZonesErr error
	// Blocked is true when nodes are pending but nothing is in flight and
	// nothing can start, and only a human can change that: every pending
	// node is NotReady, or nodes that are not in flight (failed, cordoned
	// by an admin, NotReady) use the whole budget. A node that another
	// ClusterUpgrade has in flight will come back by itself, so it never
	// blocks; nor does a pause, a closed window or a pre-flight hold, which
	// wait for a decision, for time, or for a check, not for a fix.
	Blocked bool
}

// Order sorts nodes into the documented, deterministic plan order: by
// priority (lower first; 0 without spec.priority), then zone by zone
// (nodes without a zone first), then by name. The same world always gives
// the same order, so a restarted manager resumes the same plan.
func Order(nodes []Node) []Node {
	sorted := slices.Clone(nodes)
	slices.SortStableFunc(sorted, compareOrder)
	return sorted
}

// compareOrder compares two nodes by plan order (see Order).
func compareOrder(a, b Node) int {
	return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Name, b.Name))
}

// inOrder is nodes in plan order: nodes itself when they already are (the
// controller's are, which spares a copy and a sort of every node on every
// pass), else a sorted copy. The caller only reads it.
func inOrder(nodes []Node) []Node {
	if slices.IsSortedFunc(nodes, compareOrder) {
		return nodes
	}
	return Order(nodes)
}

// Compute decides which pending nodes start now. Nodes in flight keep going
// (the controller advances each through its step); a freed slot is refilled
// in the same pass. A pending node starts only when it is Ready and no
// other ClusterUpgrade holds it, nothing halts, pauses or holds the
// upgrade, its maintenance window is open, the canary (if any) lets it,
// and both counts stay within the
// budget: the nodes in flight (every start takes a slot, whatever the node
// was before) and the nodes unavailable (a node that is already
// unavailable, cordoned by an admin or by a retry, adds none; while the
// count is over the budget, nothing starts).
func Compute(in Input) Plan {
	var p Plan
	nodes := inOrder(in.Nodes)
	var pending []*Node
	elsewhereInFlight := false
	for i := range nodes {
		n := &nodes[i]
		if n.Unavailable() {
			p.Unavailable++
		}
		switch Classify(*n) {
		case ClassPending:
			p.Pending++
			pending = append(pending, n)
			if n.HeldElsewhere != "" {
				p.HeldElsewhere = append(p.HeldElsewhere, n.Name)
				elsewhereInFlight = elsewhereInFlight || InFlight(n.HeldElsewhere)
			} else if !n.Ready {
				p.NotReadyPending = append(p.NotReadyPending, n.Name)
			}
		case ClassInFlight:
			p.InFlight++
			p.InFlightNodes = append(p.InFlightNodes, n.Name)
		case ClassUpgraded:
			p.Upgraded++
		case ClassFailed:
			p.Failed++
			p.FailedNodes = append(p.FailedNodes, n.Name)
		case ClassSkipped:
			p.Skipped++
		case ClassBlocked:
			p.BlockedNodes = append(p.BlockedNodes, n.Name)
		}
	}
	p.Halted = p.Failed > in.MaxFailedNodes
	p.TooManyBlocked = len(p.BlockedNodes) > in.MaxBlockedNodes
	p.Done = p.Pending == 0 && p.InFlight == 0
	p.UnavailableAfter = p.Unavailable
	if in.Canary != nil {
		p.Canary = CanaryStep(*in.Canary, nodes, in.Now)
	}
	if p.Halted || p.TooManyBlocked || in.Paused || in.Closed || in.Held || p.Canary.Hold != "" || in.Gate != nil {
		return p
	}
	zones, err := newZoneBudget(in.Zones, nodes)
	if err != nil {
		p.ZonesErr = err
		return p
	}
	p.start(in, pending, zones)
	p.Blocked = p.Pending > 0 && p.InFlight == 0 && len(p.Start) == 0 && !elsewhereInFlight
	return p
}

// start fills Start from pending, in plan order: each node that is
// startable and fits the canary, the budget (both counts) and its zone's.
func (p *Plan) start(in Input, pending []*Node, zones *zoneBudget) {
	for _, n := range pending {
		if p.Canary.Active && p.Canary.Limit >= 0 && len(p.Start) >= p.Canary.Limit {
			return // the canary's nodes go alone
		}
		if !n.Startable() || p.InFlight+len(p.Start) >= in.MaxUnavailable {
			continue
		}
		cost := 1
		if n.Unavailable() {
			cost = 0
		}
		if p.UnavailableAfter+cost > in.MaxUnavailable || !zones.admits(*n, cost) {
			continue
		}
		zones.start(*n, cost)
		p.UnavailableAfter += cost
		p.Start = append(p.Start, n.Name)
	}
}

// After is the plan's counts once the pass has acted on it: started are
// the nodes of Start that were started (now in flight), and refused the
// ones that failed before any disruption (a check before the cordon).
func (p Plan) After(started, refused []string) Plan {
	p.Pending -= len(started) + len(refused)
	p.InFlight += len(started)
	p.InFlightNodes = append(slices.Clone(p.InFlightNodes), started...)
	p.Failed += len(refused)
	p.FailedNodes = append(slices.Clone(p.FailedNodes), refused...)
	p.Done = p.Pending == 0 && p.InFlight == 0
	return p
}

// WaveInput is in for one wave of a ClusterUpgrade with spec.controlPlane:
// the nodes of nodes that are control-plane nodes (controlPlane true) or
// that are not, by isControlPlane. The control plane's wave goes one node
// at a time and its first failure halts it, whatever in's budget and
// maxFailedNodes say; the other wave keeps them.
func WaveInput(in Input, nodes []Node, controlPlane bool, isControlPlane func(name string) bool) Input {
	if controlPlane {
		in.MaxUnavailable, in.MaxFailedNodes, in.MaxBlockedNodes = 1, 0, 0
	}
	count := 0
	for _, n := range nodes {
		if isControlPlane(n.Name) == controlPlane {
			count++
		}
	}
	in.Nodes = make([]Node, 0, count)
	for _, n := range nodes {
		if isControlPlane(n.Name) == controlPlane {
			in.Nodes = append(in.Nodes, n)
		}
	}
	return in
}

// OfWave is the names among names that are control-plane nodes
// (controlPlane true) or that are not, by isControlPlane, in their order.
func OfWave(names []string, controlPlane bool, isControlPlane func(name string) bool) []string {
	var out []string
	for _, name := range names {
		if isControlPlane(name) == controlPlane {
			out = append(out, name)
		}
	}
	return out
}
