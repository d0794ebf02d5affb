package plan

import (
	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Zones is spec.strategy.zones for the planner: a budget per zone, and
// whether zones go one at a time. A node's zone is Node.Zone (the value of
// zones.topologyKey, which the controller reads).
type Zones struct {
	// MaxUnavailable is the per-zone budget as the spec says it (a count,
	// or a percentage of each zone's nodes); nil for none.
	MaxUnavailable *intstr.IntOrString
	// OneAtATime: the nodes in flight are all of one zone.
	OneAtATime bool
}

// ZonesOf is spec.strategy.zones for the planner, nil without it.
func ZonesOf(z *upgradev1alpha1.ZoneStrategy) *Zones {
	if z == nil {
		return nil
	}
	return &Zones{MaxUnavailable: z.MaxUnavailable, OneAtATime: z.OneAtATime}
}

// zoneBudget is one pass's accounting per zone.
type zoneBudget struct {
	limits      *Zones
	caps        map[string]int // per zone; absent: no cap
	unavailable map[string]int
	inFlight    map[string]int
	// active is the zone whose nodes may start when OneAtATime: the zone
	// of the first node in flight in plan order, or of the first start;
	// "" (with activeSet false) when none is chosen yet.
	active    string
	activeSet bool
}

// newZoneBudget counts nodes (in plan order) per zone. Caps resolve as
// spec.strategy.maxUnavailable does, over each zone's nodes.
func newZoneBudget(z *Zones, nodes []Node) (*zoneBudget, error) {
	if z == nil {
		return nil, nil
	}
	b := &zoneBudget{limits: z, caps: map[string]int{}, unavailable: map[string]int{}, inFlight: map[string]int{}}
	totals := map[string]int{}
	for _, n := range nodes {
		totals[n.Zone]++
		if n.Unavailable() {
			b.unavailable[n.Zone]++
		}
		if Classify(n) == ClassInFlight {
			b.inFlight[n.Zone]++
			if !b.activeSet {
				b.active, b.activeSet = n.Zone, true
			}
		}
	}
	if z.MaxUnavailable != nil {
		for zone, total := range totals {
			c, err := MaxUnavailable(upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: z.MaxUnavailable}, total)
			if err != nil {
				return nil, err
			}
			b.caps[zone] = c
		}
	}
	return b, nil
}

// admits reports whether n may start as far as its zone goes, costing
// cost (0 for a node already unavailable) of its zone's budget.
func (b *zoneBudget) admits(n Node, cost int) bool {
	if b == nil {
		return true
	}
	if b.limits.OneAtATime && b.activeSet && n.Zone != b.active {
		return false
	}
	if c, ok := b.caps[n.Zone]; ok && (b.inFlight[n.Zone] >= c || b.unavailable[n.Zone]+cost > c) {
		return false
	}
	return true
}

// start takes n's share of its zone's budget.
func (b *zoneBudget) start(n Node, cost int) {
	if b == nil {
		return
	}
	b.inFlight[n.Zone]++
	b.unavailable[n.Zone] += cost
	if !b.activeSet {
		b.active, b.activeSet = n.Zone, true
	}
}
