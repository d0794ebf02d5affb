package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// simNode is one node of a simulated cluster: the facts the planner sees,
// plus what only the simulated world knows (how long its steps take, and
// whether its upgrade will fail).
type simNode struct {
	Node
	adminCordoned    bool // an admin cordoned it before the upgrade
	wasUnschedulable bool // what nodewave recorded when it cordoned it
	work             int  // ticks left in the current step
	willFail         bool
	willBlock        bool // its drain will not finish (drain.onTimeout Cordon)
	blockedHere      bool // blocked in this run (not given blocked by a fuzz input)
	starts           int
	downFor          int // ticks left NotReady, for injected outages
}

// simConfig shapes one simulated upgrade.
type simConfig struct {
	nodes, zones, maxUnavailable, maxFailed int
	failRate, outageRate, adminCordonRate   float64
	// windowOpen and windowClosed, when set, give the maintenance window:
	// open for windowOpen passes, then closed for windowClosed, and again.
	windowOpen, windowClosed int
	// canary, when set, is the canary: its invariant (the rest start only
	// once every canary node is upgraded and soaked, and not while it
	// pauses) is checked on every pass; a pass is a second of Now.
	canary *Canary
	// zoneRules, when set, is spec.strategy.zones: the per-zone budget and
	// the one-zone-at-a-time rule are checked on every pass.
	zoneRules *Zones
	// blockRate is the chance a node's drain does not finish, so it is
	// blocked (drain.onTimeout Cordon); maxBlocked is maxBlockedNodes.
	// Blocked nodes stay cordoned, take no slot, and more than maxBlocked
	// of them halt the starts.
	blockRate  float64
	maxBlocked int
	// gateRate is the chance a pass finds a gate of spec.health closed
	// (the workloads' replacements not ready); it stays closed for one to
	// four passes. No node may start while it is closed.
	gateRate float64
	// wantDone: no failure can block this configuration, so every run
	// must end with every node upgraded or skipped, unless nodes an admin
	// cordoned hold the whole budget (they count against it, by design).
	wantDone bool
}

// sim plays one upgrade to its end with the planner driving it, checking the
// invariants after every pass. The controller side keeps no memory between
// passes and sees the nodes in a fresh random order each time, as a
// restarted manager would.
type sim struct {
	t      *testing.T
	rng    *rand.Rand
	cfg    simConfig
	nodes  []*simNode
	byName map[string]*simNode
	order  []string // every start, in start order
	passes int
	// see, when set, is what the planner sees of the world instead of
	// view: a world edited under it, or a cache that lags.
	see func() []Node
	// unselected, when set, says which nodes the selector does not select.
	unselected func(name string) bool
	// gateUntil is the pass until which the gate stays closed.
	gateUntil int
}

func newSim(t *testing.T, seed uint64, cfg simConfig) *sim {
	s := &sim{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cfg: cfg, byName: map[string]*simNode{}}
	for i := range cfg.nodes {
		n := &simNode{Node: Node{
			Name:  fmt.Sprintf("node-%04d", s.rng.IntN(100000)*10+i%10),
			Zone:  fmt.Sprintf("zone-%c", 'a'+rune(s.rng.IntN(cfg.zones))),
			Ready: true,
		}}
		if _, dup := s.byName[n.Name]; dup {
			n.Name = fmt.Sprintf("%s-%d", n.Name, i)
		}
		n.willFail = s.rng.Float64() < cfg.failRate
		n.willBlock = s.rng.Float64() < cfg.blockRate
		n.Unschedulable = s.rng.Float64() < cfg.adminCordonRate
		n.adminCordoned = n.Unschedulable
		switch r := s.rng.Float64(); {
		case r < 0.05:
			n.AtTarget = true // already upgraded: never touched
		case r < 0.08:
			n.Newer = true // newer: skipped
		}
		s.nodes = append(s.nodes, n)
		s.byName[n.Name] = n
	}
	return s
}

func (s *sim) unavailable() int {
	c := 0
	for _, n := range s.nodes {
		if s.unselected != nil && s.unselected(n.Name) && Classify(n.Node) != ClassInFlight && Classify(n.Node) != ClassFailed {
			continue // outside the pool: the budget does not count it
		}
		if n.Unavailable() {
			c++
		}
	}
	return c
}

func (s *sim) view() []Node {
	view := make([]Node, len(s.nodes))
	for i, n := range s.nodes {
		view[i] = n.Node
	}
	s.rng.Shuffle(len(view), func(i, j int) { view[i], view[j] = view[j], view[i] })
	return view
}

// outage reports whether any node is NotReady for a while yet.
func (s *sim) outage() bool {
	return slices.ContainsFunc(s.nodes, func(n *simNode) bool { return n.downFor > 0 })
}

// worldTick moves what the operator does not control: outages start and end.
func (s *sim) worldTick() {
	for _, n := range s.nodes {
		switch {
		case n.downFor > 0:
			n.downFor--
			if n.downFor == 0 {
				n.Ready = true
			}
		case s.rng.Float64() < s.cfg.outageRate:
			n.Ready, n.downFor = false, 1+s.rng.IntN(6)
		}
	}
}

// advance plays the controller's per-node steps for one in-flight node; the
// node agent upgrades the kubelet when its upgrading work runs out.
func (s *sim) advance(n *simNode) {
	if n.work > 0 {
		n.work--
		return
	}
	switch n.State {
	case upgradev1alpha1.NodeCordoned:
		n.State, n.work = upgradev1alpha1.NodeDraining, s.rng.IntN(4)
	case upgradev1alpha1.NodeDraining:
		if n.willBlock {
			n.State, n.blockedHere = upgradev1alpha1.NodeBlocked, true // stays cordoned
			return
		}
		n.State, n.work = upgradev1alpha1.NodeUpgrading, 1+s.rng.IntN(8)
	case upgradev1alpha1.NodeUpgrading:
		if n.willFail {
			n.State = upgradev1alpha1.NodeFailed // stays cordoned
			return
		}
		n.AtTarget = true
		if n.Ready {
			n.State, n.work = upgradev1alpha1.NodeVerifying, s.rng.IntN(3)
		}
	case upgradev1alpha1.NodeVerifying:
		if n.Ready {
			n.State, n.Unschedulable, n.Since = upgradev1alpha1.NodeUpgraded, n.wasUnschedulable, s.now()
		}
	}
}

// pass is one reconcile: advance nodes in flight, then plan with what that
// freed, then start. It returns the plan.
func (s *sim) pass(in Input) Plan {
	s.passes++
	for _, n := range s.nodes {
		if Classify(n.Node) == ClassInFlight {
			s.advance(n)
		}
	}
	before := s.unavailable()
	zonesBefore := s.zoneCounts()
	see := s.view
	if s.see != nil {
		see = s.see
	}
	in.Nodes = see()
	p := Compute(in)
	checkPlan(s.t, in, p)

	// The same world in another order must give the same plan.
	in.Nodes = see()
	s.rng.Shuffle(len(in.Nodes), func(i, j int) { in.Nodes[i], in.Nodes[j] = in.Nodes[j], in.Nodes[i] })
	if again := Compute(in); !slices.Equal(again.Start, p.Start) {
		s.t.Fatalf("pass %d: the plan depends on input order: %v vs %v", s.passes, p.Start, again.Start)
	}

	for _, name := range p.Start {
		n := s.byName[name]
		if c := Classify(n.Node); c != ClassPending || !n.Ready || (n.Reached() && !n.Retried) {
			s.t.Fatalf("pass %d: started %s which is %s (Ready=%v, at or past the target=%v)", s.passes, name, c, n.Ready, n.Reached())
		}
		n.starts++
		if n.starts > 1 {
			s.t.Fatalf("pass %d: node %s started twice", s.passes, name)
		}
		n.wasUnschedulable = n.Unschedulable
		n.State, n.Unschedulable = upgradev1alpha1.NodeCordoned, true
		s.order = append(s.order, name)
	}
	s.checkCanary(in, p.Start)
	s.checkZones(p.Start, zonesBefore)
	after := s.unavailable()
	if after > in.MaxUnavailable && after > before {
		s.t.Fatalf("pass %d: budget broken: %d unavailable after starting %v (max %d, %d before)",
			s.passes, after, p.Start, in.MaxUnavailable, before)
	}
	if after != p.UnavailableAfter {
		s.t.Fatalf("pass %d: planner said %d unavailable after, world has %d", s.passes, p.UnavailableAfter, after)
	}
	if p.Halted && len(p.Start) > 0 {
		s.t.Fatalf("pass %d: started nodes while halted", s.passes)
	}
	if blocked := s.blocked(); blocked > in.MaxBlockedNodes && len(p.Start) > 0 {
		s.t.Fatalf("pass %d: started %v with %d nodes blocked, more than maxBlockedNodes %d", s.passes, p.Start, blocked, in.MaxBlockedNodes)
	}
	if in.Gate != nil && len(p.Start) > 0 {
		s.t.Fatalf("pass %d: started %v while the gate %s was closed", s.passes, p.Start, in.Gate.Reason)
	}
	s.checkNoIdleSlot(in, p, after)
	return p
}

// checkNoIdleSlot fails the run when, after a pass's starts, a Ready,
// schedulable pending node waits while a slot is free (rolling, not
// batches), unless the pass was halted, paused, closed, the canary holds
// the rest, or its zone has no room.
func (s *sim) checkNoIdleSlot(in Input, p Plan, after int) {
	canaryFull := p.Canary.Hold != "" || (p.Canary.Active && p.Canary.Limit >= 0 && len(p.Start) >= p.Canary.Limit)
	if !p.Halted && !p.TooManyBlocked && !in.Paused && !in.Closed && in.Gate == nil && !canaryFull && after < in.MaxUnavailable {
		zonesAfter := s.zoneCounts()
		for _, n := range s.nodes {
			if Classify(n.Node) == ClassPending && n.Ready && !n.Unschedulable && (s.unselected == nil || !s.unselected(n.Name)) &&
				zonesAfter.admits(s.cfg.zoneRules, n.Node) {
				s.t.Fatalf("pass %d: %s waits with %d of %d slots used", s.passes, n.Name, after, in.MaxUnavailable)
			}
		}
	}
}

// blocked counts the world's blocked nodes, checking that each blocked in
// this run stays cordoned.
func (s *sim) blocked() int {
	blocked := 0
	for _, n := range s.nodes {
		if n.State == upgradev1alpha1.NodeBlocked {
			blocked++
			if n.blockedHere && !n.Unschedulable {
				s.t.Fatalf("pass %d: blocked node %s was uncordoned", s.passes, n.Name)
			}
		}
	}
	return blocked
}

// gateClosed plays the gates of spec.health: closed, for one to four
// passes, at gateRate.
func (s *sim) gateClosed() *Gate {
	if s.passes >= s.gateUntil && s.cfg.gateRate > 0 && s.rng.Float64() < s.cfg.gateRate {
		s.gateUntil = s.passes + 1 + s.rng.IntN(4)
	}
	if s.passes < s.gateUntil {
		return &Gate{Reason: ReplacementsNotReady, Since: s.now()}
	}
	return nil
}

// now is the simulated time: a second per pass.
func (s *sim) now() time.Time { return time.Unix(int64(s.passes), 0) }

// checkCanary fails the run when nodes beyond the canary started before
// every canary node was upgraded and had soaked, or while it paused.
func (s *sim) checkCanary(in Input, started []string) {
	c := s.cfg.canary
	if c == nil || len(started) == 0 || len(s.order) <= c.Size {
		return
	}
	before := len(s.order) - len(started) // the starts of earlier passes
	if before > c.Size {
		return // the rest had begun already
	}
	var last time.Time
	for _, name := range s.order[:c.Size] {
		n := s.byName[name]
		if n.State != upgradev1alpha1.NodeUpgraded {
			s.t.Fatalf("pass %d: %v started beyond the canary while canary node %s is %s", s.passes, started, name, n.State)
		}
		if n.Since.After(last) {
			last = n.Since
		}
	}
	if in.Now.Before(last.Add(c.Soak)) {
		s.t.Fatalf("pass %d: %v started beyond the canary at %s, before its soak ended at %s", s.passes, started, in.Now, last.Add(c.Soak))
	}
	if c.Pause {
		s.t.Fatalf("pass %d: %v started beyond the canary while it pauses", s.passes, started)
	}
}

// zoneCount is the world's nodes of one zone: all, unavailable, in flight.
type zoneCount struct{ total, unavailable, inFlight int }

// zoneCounts counts the world's nodes per zone.
type zoneCounts map[string]*zoneCount

func (s *sim) zoneCounts() zoneCounts {
	nodes := make([]Node, len(s.nodes))
	for i, n := range s.nodes {
		nodes[i] = n.Node
	}
	return countZones(nodes, make([]bool, len(nodes)))
}

// zoneCap is the budget of a zone of total nodes, as the spec says it.
func zoneCap(z *Zones, total int) int {
	if z == nil || z.MaxUnavailable == nil {
		return total + 1
	}
	v, _ := MaxUnavailable(upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: z.MaxUnavailable}, total)
	return v
}

// admits reports whether the zones' rules leave room for n to start now.
func (c zoneCounts) admits(z *Zones, n Node) bool {
	if z == nil {
		return true
	}
	zc := c[n.Zone]
	cost := 1
	if n.Unavailable() {
		cost = 0
	}
	if zc.inFlight >= zoneCap(z, zc.total) || zc.unavailable+cost > zoneCap(z, zc.total) {
		return false
	}
	if z.OneAtATime {
		for zone, other := range c {
			if zone != n.Zone && other.inFlight > 0 {
				return false
			}
		}
	}
	return true
}

// zoneWouldAdmit reports whether a pending Ready node's zone has room
// for it.
func (s *sim) zoneWouldAdmit() bool {
	counts := s.zoneCounts()
	for _, n := range s.nodes {
		if Classify(n.Node) == ClassPending && n.Ready && counts.admits(s.cfg.zoneRules, n.Node) {
			return true
		}
	}
	return false
}

// checkZones fails the run when a pass's starts took a zone over its
// budget, or, one zone at a time, put nodes of two zones in flight.
func (s *sim) checkZones(started []string, before zoneCounts) {
	z := s.cfg.zoneRules
	if z == nil || len(started) == 0 {
		return
	}
	after := s.zoneCounts()
	busy := 0
	for zone, c := range after {
		if c.inFlight > 0 {
			busy++
		}
		limit := zoneCap(z, c.total)
		if b := before[zone]; c.unavailable > limit && c.unavailable > b.unavailable {
			s.t.Fatalf("pass %d: starting %v took zone %q to %d unavailable, over its %d", s.passes, started, zone, c.unavailable, limit)
		}
	}
	if z.OneAtATime && busy > 1 {
		s.t.Fatalf("pass %d: starting %v put nodes of %d zones in flight, one at a time", s.passes, started, busy)
	}
}

// windowClosed reports whether the maintenance window is closed on the
// coming pass (s.passes passes have been played).
func (s *sim) windowClosed() bool {
	cycle := s.cfg.windowOpen + s.cfg.windowClosed
	return s.cfg.windowClosed > 0 && s.passes%cycle >= s.cfg.windowOpen
}

// run plays passes until the planner says done or halted with nothing in
// flight, and fails if that takes unreasonably long.
func (s *sim) run() Plan {
	in := Input{MaxUnavailable: s.cfg.maxUnavailable, MaxFailedNodes: s.cfg.maxFailed, MaxBlockedNodes: s.cfg.maxBlocked,
		Canary: s.cfg.canary, Zones: s.cfg.zoneRules}
	limit := 200 + 40*len(s.nodes)
	if s.cfg.canary != nil {
		limit += int(s.cfg.canary.Soak / time.Second)
	}
	for range limit {
		s.worldTick()
		in.Closed = s.windowClosed()
		in.Now = s.now()
		in.Gate = s.gateClosed()
		p := s.pass(in)
		if p.Done || ((p.Halted || p.TooManyBlocked) && p.InFlight == 0) {
			return p
		}
		if (p.Canary.Hold == CanaryFailed || p.Canary.Hold == CanaryPaused) && p.InFlight == 0 {
			return p // for a person now
		}
		if p.Blocked && !s.outage() {
			// Nothing is in flight, nothing can start, and no outage will
			// end: the nodes out of service must be holding the whole budget,
			// or the budget of every zone with a node to start.
			if s.unavailable() < in.MaxUnavailable && len(p.NotReadyPending) < p.Pending && s.zoneWouldAdmit() {
				s.t.Fatalf("pass %d: blocked with %d of %d slots used", s.passes, s.unavailable(), in.MaxUnavailable)
			}
			return p
		}
	}
	s.t.Fatalf("no convergence after %d passes", limit)
	return Plan{}
}

func TestSimulationKeepsTheBudgetAndConverges(t *testing.T) {
	configs := []simConfig{
		{nodes: 10, zones: 1, maxUnavailable: 1, wantDone: true},
		{nodes: 20, zones: 3, maxUnavailable: 5, adminCordonRate: 0.1, wantDone: true},
		{nodes: 50, zones: 3, maxUnavailable: 7, outageRate: 0.01, adminCordonRate: 0.05, wantDone: true},
		{nodes: 50, zones: 2, maxUnavailable: 3, failRate: 0.1, maxFailed: 2, outageRate: 0.02},
		{nodes: 200, zones: 3, maxUnavailable: 20, failRate: 0.02, maxFailed: 10, outageRate: 0.005},
		{nodes: 1000, zones: 3, maxUnavailable: 100, outageRate: 0.002, adminCordonRate: 0.01, wantDone: true},
		{nodes: 200, zones: 3, maxUnavailable: 1, failRate: 0.005, maxFailed: 5},
		// Maintenance windows shorter and longer than a node's upgrade.
		{nodes: 50, zones: 3, maxUnavailable: 5, outageRate: 0.01, windowOpen: 2, windowClosed: 9, wantDone: true},
		{nodes: 60, zones: 2, maxUnavailable: 6, failRate: 0.05, maxFailed: 3, adminCordonRate: 0.02, windowOpen: 12, windowClosed: 30},
		// A canary: its nodes alone, then a soak; with failures, a failed
		// canary node holds the rest.
		{nodes: 50, zones: 3, maxUnavailable: 5, outageRate: 0.01, canary: &Canary{Size: 3, Soak: 10 * time.Second}, wantDone: true},
		{nodes: 30, zones: 3, maxUnavailable: 2, canary: &Canary{Size: 5, Soak: 2 * time.Second}, adminCordonRate: 0.05, wantDone: true},
		{nodes: 40, zones: 2, maxUnavailable: 4, failRate: 0.1, maxFailed: 3, canary: &Canary{Size: 4, Soak: 5 * time.Second}},
		// A gate closing often, with failures, outages, a canary, zones.
		{nodes: 50, zones: 3, maxUnavailable: 5, outageRate: 0.01, gateRate: 0.3, wantDone: true},
		{nodes: 40, zones: 3, maxUnavailable: 4, failRate: 0.05, maxFailed: 3, gateRate: 0.2, canary: &Canary{Size: 2, Soak: 3 * time.Second},
			zoneRules: &Zones{MaxUnavailable: ptrTo(intstr.FromInt32(2))}},
		// Undrainable nodes left cordoned and blocked (drain.onTimeout
		// Cordon): they take no slot, and more than maxBlocked halt.
		{nodes: 60, zones: 3, maxUnavailable: 4, blockRate: 0.05, maxBlocked: 6, outageRate: 0.01},
		{nodes: 100, zones: 3, maxUnavailable: 10, blockRate: 0.1, maxBlocked: 3, failRate: 0.02, maxFailed: 5, gateRate: 0.1},
		{nodes: 40, zones: 3, maxUnavailable: 1, blockRate: 0.1, maxBlocked: 40, zoneRules: &Zones{MaxUnavailable: ptrTo(intstr.FromInt32(1))}},
		// Zones: a budget per zone, one zone at a time, both.
		{nodes: 60, zones: 3, maxUnavailable: 9, outageRate: 0.01, adminCordonRate: 0.03, zoneRules: &Zones{MaxUnavailable: ptrTo(intstr.FromInt32(2))}, wantDone: true},
		{nodes: 60, zones: 3, maxUnavailable: 6, failRate: 0.03, maxFailed: 5, zoneRules: &Zones{MaxUnavailable: ptrTo(intstr.FromString("10%"))}},
		{nodes: 45, zones: 3, maxUnavailable: 5, outageRate: 0.01, zoneRules: &Zones{OneAtATime: true}, wantDone: true},
		{nodes: 45, zones: 3, maxUnavailable: 8, outageRate: 0.01, zoneRules: &Zones{OneAtATime: true, MaxUnavailable: ptrTo(intstr.FromString("20%"))}, canary: &Canary{Size: 2}, wantDone: true},
	}
	for ci, cfg := range configs {
		seeds := 40
		if cfg.nodes*cfg.nodes/cfg.maxUnavailable > 5000 { // passes x nodes per pass
			seeds = 5 // long runs: fewer seeds keep the suite fast
		}
		for seed := range seeds {
			t.Run(fmt.Sprintf("config%d/%dnodes/max%d/seed%d", ci, cfg.nodes, cfg.maxUnavailable, seed), func(t *testing.T) {
				s := newSim(t, uint64(seed*1000+ci), cfg)
				p := s.run()
				if cfg.wantDone && !p.Done {
					held := 0
					for _, n := range s.nodes {
						if n.adminCordoned {
							held++
						}
					}
					if !p.Blocked || (held < cfg.maxUnavailable && s.zoneWouldAdmit()) {
						t.Fatalf("did not finish, and admin cordons hold only %d of %d slots (and no zone's budget): %+v", held, cfg.maxUnavailable, p)
					}
				}
				failed := 0
				for _, n := range s.nodes {
					if n.State == upgradev1alpha1.NodeFailed {
						failed++
						if !n.Unschedulable {
							t.Fatalf("failed node %s was uncordoned", n.Name)
						}
					}
				}
				if p.Halted {
					if failed <= cfg.maxFailed {
						t.Fatalf("halted with %d failures, max %d", failed, cfg.maxFailed)
					}
					return
				}
				if blocked := s.blocked(); p.TooManyBlocked != (blocked > cfg.maxBlocked) {
					t.Fatalf("ended with %d blocked nodes, max %d, TooManyBlocked %v", blocked, cfg.maxBlocked, p.TooManyBlocked)
				}
				if p.TooManyBlocked {
					return
				}
				if p.Blocked {
					return // checked in run: the budget is held by nodes out of service
				}
				if p.Canary.Hold == CanaryFailed {
					if len(s.order) > cfg.canary.Size {
						t.Fatalf("the canary failed, yet %d nodes started", len(s.order))
					}
					return
				}
				for _, n := range s.nodes {
					c := Classify(n.Node)
					if c != ClassUpgraded && c != ClassSkipped && c != ClassFailed && c != ClassBlocked {
						t.Fatalf("finished with %s %s", n.Name, c)
					}
					if c == ClassUpgraded && n.Unschedulable != n.adminCordoned {
						t.Fatalf("%s ends cordoned=%v, admin had it cordoned=%v", n.Name, n.Unschedulable, n.adminCordoned)
					}
					if n.Newer && n.starts > 0 {
						t.Fatalf("newer node %s was touched", n.Name)
					}
				}
			})
		}
	}
}

func TestSimulationStartsInZoneThenNameOrder(t *testing.T) {
	for seed := range 20 {
		s := newSim(t, uint64(seed), simConfig{nodes: 60, zones: 3, maxUnavailable: 4})
		s.run()
		var want []string
		for _, n := range Order(s.view()) {
			if s.byName[n.Name].starts > 0 {
				want = append(want, n.Name)
			}
		}
		if !slices.Equal(s.order, want) {
			t.Fatalf("seed %d: start order\n got %v\nwant %v", seed, s.order, want)
		}
	}
}

func TestSimulationWindowClosingMidFlightFinishesInFlightAndStartsNothing(t *testing.T) {
	for seed := range 20 {
		s := newSim(t, uint64(seed), simConfig{nodes: 30, zones: 3, maxUnavailable: 5})
		in := Input{MaxUnavailable: 5, MaxFailedNodes: 30}

		// Open for one pass: a first wave starts.
		first := s.pass(in)
		if len(first.Start) == 0 {
			t.Fatalf("seed %d: nothing started while open", seed)
		}
		// Closed: every node in flight is carried through, nothing starts,
		// and waiting for the window is never Blocked.
		in.Closed = true
		var p Plan
		for range 40 {
			p = s.pass(in)
			if len(p.Start) > 0 || p.Blocked {
				t.Fatalf("seed %d: while closed: started %v, blocked %v", seed, p.Start, p.Blocked)
			}
		}
		if p.InFlight != 0 {
			t.Fatalf("seed %d: %d nodes still in flight after 40 closed passes", seed, p.InFlight)
		}
		if len(s.order) != len(first.Start) {
			t.Fatalf("seed %d: %d nodes started, only the first wave of %d was allowed", seed, len(s.order), len(first.Start))
		}
		for _, name := range first.Start {
			if c := Classify(s.byName[name].Node); c != ClassUpgraded && c != ClassFailed {
				t.Fatalf("seed %d: %s, started before the window closed, ends %s", seed, name, c)
			}
		}
		// Open again: the rest goes on.
		in.Closed = false
		if p = s.pass(in); len(p.Start) == 0 {
			t.Fatalf("seed %d: nothing started when the window opened again: %+v", seed, p)
		}
	}
}

func TestSimulationCanaryPausesAfterItsSoak(t *testing.T) {
	for seed := range 20 {
		c := &Canary{Size: 3, Soak: 4 * time.Second, Pause: true}
		s := newSim(t, uint64(seed), simConfig{nodes: 40, zones: 3, maxUnavailable: 5, canary: c})
		p := s.run()
		if p.Canary.Hold != CanaryPaused {
			t.Fatalf("seed %d: ended %+v, want the canary paused", seed, p.Canary)
		}
		if len(s.order) != c.Size || !slices.Equal(p.Canary.Nodes, nodeList(Order(s.nodesNamed(s.order))).names()) {
			t.Fatalf("seed %d: started %v, canary %v; want the %d canary nodes alone", seed, s.order, p.Canary.Nodes, c.Size)
		}
		if soaked := p.Canary.Upgraded.Add(c.Soak); s.now().Before(soaked) {
			t.Fatalf("seed %d: paused at %s, before the soak ended at %s", seed, s.now(), soaked)
		}

		// Unpaused: the rest go, and the upgrade finishes.
		c.Pause = false
		if p = s.run(); !p.Done {
			t.Fatalf("seed %d: after the pause, ended %+v", seed, p)
		}
	}
}

// nodesNamed is the planner's view of the named nodes.
func (s *sim) nodesNamed(names []string) nodeList {
	out := make(nodeList, 0, len(names))
	for _, name := range names {
		out = append(out, s.byName[name].Node)
	}
	return out
}

// nodeList is nodes with their names at hand.
type nodeList []Node

func (l nodeList) names() []string {
	out := make([]string, 0, len(l))
	for _, n := range l {
		out = append(out, n.Name)
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }
