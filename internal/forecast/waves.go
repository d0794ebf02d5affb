package forecast

import (
	"slices"
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// simulation is what iterating the planner foresaw.
type simulation struct {
	// waves are the first waves; total counts them all.
	waves []Wave
	total int
	// started are the nodes the waves start, in start order.
	started []string
	// neverStarted are the pending nodes left when nothing more starts:
	// NotReady ones, and Ready ones the budget has no room for; in plan
	// order.
	neverStarted []string
	// halted: more nodes have failed than maxFailedNodes allows, so
	// nothing starts.
	halted bool
	// canaryFailed: a canary node failed, so nothing more starts,
	// whatever maxFailedNodes says (CanaryFailed).
	canaryFailed bool
	// canaryWaves is how many of the waves (kept or not) are the
	// canary's.
	canaryWaves int
	// passes is how many passes of the planner it took until nothing was
	// in flight and nothing more started.
	passes int
}

// finished reports whether every pending node started and nothing
// halted: with spec.controlPlane, the workers start after such a
// control-plane wave.
func (s simulation) finished() bool { return !s.halted && len(s.neverStarted) == 0 }

// simOptions shape one wave's simulation.
type simOptions struct {
	// first is how many waves come before these: they are numbered from
	// first+1.
	first int
	// limit bounds the number of the last wave kept (0: all).
	limit int
	// heldFor is how many passes hold every new start before the planner
	// may start any (the workers waiting for the control plane); -1
	// holds them all.
	heldFor int
	// controlPlane marks the waves as the control plane's.
	controlPlane bool
}

// waves are the simulations of the two waves of a ClusterUpgrade: the
// control plane's (empty without spec.controlPlane) and the workers'.
type waves struct {
	controlPlane, workers simulation
}

// simulate plays both waves as the controller does, pass for pass: the
// control-plane nodes one at a time; the workers held on every pass until
// the control-plane wave is done (every control-plane node at the target
// and none failed), and on every pass if it never is. Nodes the workers
// have in flight go on meanwhile. limit bounds how many waves are kept,
// of both (0: all).
func (w *world) simulate(limit int) waves {
	var s waves
	heldFor := 0
	if w.hasControlPlane() {
		s.controlPlane = simulate(w.planInput(true, false), w.wasUnschedulable, simOptions{limit: limit, controlPlane: true})
		heldFor = s.controlPlane.passes
		if !s.controlPlane.finished() {
			heldFor = -1
		}
	}
	s.workers = simulate(w.planInput(false, false), w.wasUnschedulable,
		simOptions{first: s.controlPlane.total, limit: limit, heldFor: heldFor})
	return s
}

// simulate plays the upgrade with the planner itself: each pass is
// plan.Compute on a world in which every node that was in flight or
// started in the pass before has finished (upgraded, Ready, and cordoned
// again only if an admin had cordoned it), and every node another
// ClusterUpgrade had in flight is released by it (pending here, cordoned
// only if an admin had cordoned it). The nodes a pass starts are one
// wave. It stops when nothing is in flight and nothing starts: every node
// is done, or what is left cannot start. Pause is ignored: the waves are
// what happens once the upgrade runs. opts.limit bounds how many waves
// are kept; the simulation always runs to the end. The first
// opts.heldFor passes (every pass for -1) start nothing, as a pre-flight
// hold would: the nodes in flight finish and those of other
// ClusterUpgrades are released meanwhile.
//
// With a canary (in.Canary), the planner's own gate limits the first
// waves to the canary's nodes. The simulation keeps a clock, in.Now at
// first: a node finishes at the clock of the pass that finished it, and a
// pass that the canary's soak holds (CanarySoaking) moves the clock to the
// soak's end, so the next pass goes on; a pass that canary.pause holds
// (CanaryPaused) plays that a person sets it to false. The next wave
// carries these holds (Wave.WaitsFor). A failed canary node stops it
// (canaryFailed), as a halt does.
//
// So that a Sequential upgrade of thousands of nodes does not cost
// thousands of passes over every node, each pass shows the planner only
// the nodes that can change its answer: every node that is unavailable,
// in flight or failed, and the first maxUnavailable pending nodes that are
// available, in plan order (the planner starts available nodes in plan
// order, one slot each, so no later one could start in this pass). Nodes
// that are done and available only add to a count. While the canary
// gates the upgrade, the nodes this ClusterUpgrade has upgraded are shown
// too (the gate counts them); once more nodes than the canary's size have
// started, the gate holds nothing on any later pass (nodes only ever
// start), so the planner is asked without it. TestWavesFollowThePlanner
// checks the waves against passes over the whole world.
//
// wasUnschedulable says whether a node stays cordoned once upgraded.
func simulate(in plan.Input, wasUnschedulable func(name string) bool, opts simOptions) simulation {
	var s simulation
	in.Paused = false
	cc := newCanaryClock(in)
	nodes := plan.Order(in.Nodes)
	// With spec.strategy.zones the planner may pass over a pending node
	// whose zone is full for a later one, and resolves each zone's budget
	// over all its nodes: it is shown the whole world on every pass.
	whole := in.Zones != nil
	shown := func(n plan.Node) bool { return whole || cc.shown(n) }
	var queue, others []*plan.Node // queue: pending and available, in plan order
	for i := range nodes {
		n := &nodes[i]
		switch {
		case plan.Classify(*n) == plan.ClassPending && !n.Unavailable():
			queue = append(queue, n)
		case shown(*n):
			others = append(others, n)
		}
	}
	window := max(in.MaxUnavailable, 0)
	if whole {
		window = len(queue)
	}
	var buf []plan.Node // this pass's input; never the caller's slice
	for pass := 0; ; pass++ {
		in.Held = opts.heldFor < 0 || pass < opts.heldFor
		head := queue[:min(window, len(queue))]
		buf = buf[:0]
		for _, n := range others {
			buf = append(buf, *n)
		}
		for _, n := range head {
			buf = append(buf, *n)
		}
		in.Nodes, in.Canary, in.Now = buf, cc.canary, cc.now
		p := plan.Compute(in)
		if p.Halted || p.Canary.Hold == plan.CanaryFailed {
			s.halted, s.canaryFailed = p.Halted, !p.Halted
			break
		}
		waited, canaryWave := cc.judge(p.Canary)
		// The nodes another ClusterUpgrade has in flight are done with by
		// the next pass: released, cordoned only if an admin had cordoned
		// them, and pending here.
		released := false
		for _, n := range others {
			if plan.InFlight(n.HeldElsewhere) {
				n.HeldElsewhere, n.Ready, n.Unschedulable = "", true, wasUnschedulable(n.Name)
				released = true
			}
		}
		if len(p.Start) == 0 && p.InFlight == 0 && !released && !waited && pass >= opts.heldFor {
			break
		}
		s.passes++
		byName := make(map[string]*plan.Node, len(others)+len(head))
		inHead := make(map[string]bool, len(head))
		for _, n := range others {
			byName[n.Name] = n
		}
		for _, n := range head {
			byName[n.Name] = n
			inHead[n.Name] = true
		}
		for _, name := range p.InFlightNodes {
			finish(byName[name], wasUnschedulable(name), cc.now)
		}
		if len(p.Start) > 0 {
			s.record(p.Start, byName, opts, canaryWave, cc.takeHolds())
			started := map[string]bool{}
			for _, name := range p.Start {
				if inHead[name] {
					started[name] = true
					if cc.canary != nil || whole {
						others = append(others, byName[name]) // the canary's gate, or the zones, count it
					}
				}
				finish(byName[name], wasUnschedulable(name), cc.now)
			}
			// Without zones the planner starts them in order, a prefix of
			// the queue; with zones, any of it.
			queue = slices.DeleteFunc(queue, func(n *plan.Node) bool { return started[n.Name] })
		}
		others = slices.DeleteFunc(others, func(n *plan.Node) bool { return !shown(*n) })
	}
	for _, n := range nodes {
		if plan.Classify(n) == plan.ClassPending {
			s.neverStarted = append(s.neverStarted, n.Name)
		}
	}
	return s
}

// record counts the wave of the nodes started in a pass, and keeps it
// unless opts.limit says otherwise: a wave of the canary (canaryWave) or
// not, that waits out holds first.
func (s *simulation) record(started []string, byName map[string]*plan.Node, opts simOptions, canaryWave bool, holds []string) {
	s.total++
	if canaryWave {
		s.canaryWaves++
	}
	if opts.limit == 0 || opts.first+s.total <= opts.limit {
		wv := wave(opts.first+s.total, started, byName)
		wv.ControlPlane, wv.Canary, wv.WaitsFor = opts.controlPlane, canaryWave, holds
		s.waves = append(s.waves, wv)
	}
	s.started = append(s.started, started...)
}

// canaryClock is the canary's part of a simulation: the canary while it
// gates the upgrade, the simulation's time, and the canary's holds the
// next wave waits out.
type canaryClock struct {
	// canary is the planner's input; nil without one, and once the rest
	// have begun.
	canary *plan.Canary
	// now is the simulation's time: in.Now at first.
	now   time.Time
	holds []string
}

// newCanaryClock starts the canary's part of a simulation of in, with a
// copy of its canary.
func newCanaryClock(in plan.Input) *canaryClock {
	cc := &canaryClock{now: in.Now}
	if in.Canary != nil {
		c := *in.Canary
		cc.canary = &c
	}
	return cc
}

// shown reports whether the planner must be shown n, a node that is not a
// pending, available one: it matters, or the canary's gate counts it.
func (cc *canaryClock) shown(n plan.Node) bool {
	return matters(n) || (cc.canary != nil && canaryCounts(n))
}

// judge reads the canary's gate g of a pass. A soak holding the rest
// (CanarySoaking) moves the clock to its end; a pause (CanaryPaused) is
// lifted, as a person would; each is a hold the next wave waits out, and
// waited reports either, so that the simulation goes on. canaryWave
// reports whether the nodes the pass starts are the canary's. Once the
// rest have begun, the canary is dropped.
func (cc *canaryClock) judge(g plan.CanaryGate) (waited, canaryWave bool) {
	switch g.Hold {
	case plan.CanarySoaking:
		cc.now, waited = g.Until, true
		cc.holds = append(cc.holds, plan.CanarySoaking)
	case plan.CanaryPaused:
		cc.canary.Pause, waited = false, true
		cc.holds = append(cc.holds, plan.CanaryPaused)
	}
	if cc.canary != nil && !g.Active {
		cc.canary = nil // the rest have begun
	}
	return waited, g.Active && g.Limit > 0
}

// takeHolds returns the holds recorded since the last wave, for the wave
// that starts now.
func (cc *canaryClock) takeHolds() []string {
	holds := cc.holds
	cc.holds = nil
	return holds
}

// matters reports whether a node that is not a pending, available one
// can change the planner's answer: it is unavailable (it holds a slot),
// in flight, or failed or blocked (it counts toward a halt).
func matters(n plan.Node) bool {
	c := plan.Classify(n)
	return n.Unavailable() || c == plan.ClassInFlight || c == plan.ClassFailed || c == plan.ClassBlocked || c == plan.ClassPending
}

// canaryCounts reports whether the canary's gate counts a node that is
// neither pending nor in flight nor failed: one this ClusterUpgrade has
// upgraded (plan.CanaryStep).
func canaryCounts(n plan.Node) bool {
	return plan.Classify(n) == plan.ClassUpgraded && n.State == upgradev1alpha1.NodeUpgraded
}

// finish makes n a node that has been upgraded, at time at: at the
// target, Ready, and cordoned only if it was before nodewave took it.
func finish(n *plan.Node, wasUnschedulable bool, at time.Time) {
	n.State = upgradev1alpha1.NodeUpgraded
	n.AtTarget, n.Newer, n.Ready = true, false, true
	n.Unschedulable = wasUnschedulable
	n.Since = at
}

// wave is wave number of the nodes started, with their zones.
func wave(number int, started []string, byName map[string]*plan.Node) Wave {
	w := Wave{Number: number, Nodes: slices.Clone(started)}
	for _, name := range started {
		if z := byName[name].Zone; len(w.Zones) == 0 || w.Zones[len(w.Zones)-1] != z {
			w.Zones = append(w.Zones, z)
		}
	}
	return w
}
